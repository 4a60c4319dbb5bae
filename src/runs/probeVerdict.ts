// The verdict of "Probe this Model…": the same model trained as written and with the suggested
// regularizer on noisy labels; did the regularizer help? It helped when the regularized run
// fits fewer of the corrupted training labels (memorizes less noise) and tests better. Pure:
// the two runs' final numbers in, one sentence out.
import type { Accuracy } from '../protocol/engineMessages';
import { percent } from './runDescriptions';

/** Differences smaller than this (one percentage point) are read as no difference. */
export const VERDICT_MARGIN = 0.01;

export type VerdictOutcome = 'helped' | 'hurt' | 'mixed' | 'no-difference' | 'undecided';

export interface ProbeRun {
  name: string;
  status: string;
  final?: Accuracy | null;
}

/**
 * Which of the compared runs are a probe's pair: names "Probe: <title>" and
 * "Probe: <title> + <regularizer>" (probeExperiment.ts). undefined when they are not.
 */
export function probePair(runs: readonly { name: string }[]): { plain: number; regularized: number; regularizer: string } | undefined {
  if (runs.length !== 2) return undefined;
  for (const [p, r] of [
    [0, 1],
    [1, 0],
  ] as const) {
    const plain = runs[p].name;
    const reg = runs[r].name;
    if (plain.startsWith('Probe: ') && reg.startsWith(`${plain} + `)) return { plain: p, regularized: r, regularizer: reg.slice(plain.length + 3) };
  }
  return undefined;
}

const points = (d: number) => `${(Math.abs(d) * 100).toFixed(1)} points`;

export function probeVerdict(plain: ProbeRun, regularized: ProbeRun, regularizer = 'the regularizer'): { outcome: VerdictOutcome; text: string } {
  const a = plain.final;
  const b = regularized.final;
  if (plain.status !== 'finished' || regularized.status !== 'finished' || !a || !b) {
    const waiting = [plain, regularized].filter((r) => r.status !== 'finished').length;
    return { outcome: 'undecided', text: `No verdict yet: ${waiting === 0 ? 'a run recorded no final numbers' : `${waiting === 2 ? 'both runs have' : 'one run has'} not finished`}. It compares the final fit of the corrupted labels and the test accuracy.` };
  }
  const dTest = b.test - a.test;
  const testText =
    Math.abs(dTest) < VERDICT_MARGIN
      ? `test accuracy stayed about the same (${percent(a.test)} → ${percent(b.test)})`
      : `test accuracy ${dTest > 0 ? 'rose' : 'fell'} ${points(dTest)} (${percent(a.test)} → ${percent(b.test)})`;
  if (a.corruptedTrain === null || b.corruptedTrain === null) {
    // Clean labels: only the test accuracy speaks.
    const outcome: VerdictOutcome = Math.abs(dTest) < VERDICT_MARGIN ? 'no-difference' : dTest > 0 ? 'helped' : 'hurt';
    return { outcome, text: `With ${regularizer}, ${testText}; there were no corrupted labels to fit.` };
  }
  const dFit = b.corruptedTrain - a.corruptedTrain;
  const fitText =
    Math.abs(dFit) < VERDICT_MARGIN
      ? `it fitted about as many corrupted training labels (${percent(a.corruptedTrain)} → ${percent(b.corruptedTrain)})`
      : `it fitted ${points(dFit)} ${dFit < 0 ? 'fewer' : 'more'} corrupted training labels (${percent(a.corruptedTrain)} → ${percent(b.corruptedTrain)})`;
  const fitDown = dFit <= -VERDICT_MARGIN;
  const fitUp = dFit >= VERDICT_MARGIN;
  const testUp = dTest >= VERDICT_MARGIN;
  const testDown = dTest <= -VERDICT_MARGIN;
  let outcome: VerdictOutcome;
  let lead: string;
  if (testUp && !fitUp) (outcome = 'helped'), (lead = `${cap(regularizer)} helped`);
  else if (testDown && !fitDown) (outcome = 'hurt'), (lead = `${cap(regularizer)} did not help`);
  else if (!testUp && !testDown && !fitDown && !fitUp) (outcome = 'no-difference'), (lead = `${cap(regularizer)} made no clear difference`);
  else (outcome = 'mixed'), (lead = `${cap(regularizer)} had a mixed effect`);
  return { outcome, text: `${lead}: ${fitText}, and ${testText}.` };
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
