// Pure view-model code for the dashboard (no DOM), unit-tested in mocha.
import type { z } from 'zod';
import type { Accuracy, EpochEvent, PruningProbeSchema } from '../../src/protocol/engineMessages';
import type { RunStatusName } from '../../src/protocol/webviewMessages';

export interface AccuracySeries {
  epoch: number[];
  cleanTrain: number[];
  corruptedTrain: (number | null)[];
  test: number[];
  loss: number[];
}

export function accuracySeries(epochs: readonly EpochEvent[]): AccuracySeries {
  const s: AccuracySeries = { epoch: [], cleanTrain: [], corruptedTrain: [], test: [], loss: [] };
  for (const e of epochs) {
    s.epoch.push(e.epoch);
    s.cleanTrain.push(e.accuracy.cleanTrain);
    s.corruptedTrain.push(e.accuracy.corruptedTrain);
    s.test.push(e.accuracy.test);
    s.loss.push(e.loss);
  }
  return s;
}

/** One sentence a newcomer can read without the docs: is the model memorizing the noise? */
export function verdict(acc: Accuracy | undefined, status: RunStatusName, epoch?: number): string {
  if (!acc) return status === 'running' ? 'Starting: waiting for the first epoch…' : 'No epochs were recorded.';
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  // A run that ended says how it ended; a running one what it shows so far.
  const ended = status !== 'running';
  const when = ended
    ? `${status === 'finished' ? 'finished' : status === 'cancelled' ? 'stopped' : 'ended'}${epoch ? ` at epoch ${epoch}` : ''}`
    : `so far${epoch ? `, epoch ${epoch}` : ''}`;
  if (acc.corruptedTrain === null) {
    return `No corrupted labels in this dataset (${when}): test accuracy ${pct(acc.test)}.`;
  }
  if (acc.corruptedTrain >= 0.5) {
    return `Memorizing (${when}): the model reproduces ${pct(acc.corruptedTrain)} of the corrupted (wrong) training labels; test accuracy is ${pct(acc.test)}.`;
  }
  if (acc.test >= 0.9 && acc.corruptedTrain <= 0.1) {
    return `Generalizing (${when}): test accuracy ${pct(acc.test)} while only ${pct(acc.corruptedTrain)} of the corrupted labels are fitted — the model learned the rule, not the noise.`;
  }
  if (ended) {
    return `Neither memorizing nor generalizing (${when}): ${pct(acc.corruptedTrain)} of the corrupted labels fitted (memorizing means 50% or more) and test accuracy ${pct(acc.test)} (generalizing means 90% or more with at most 10% fitted).`;
  }
  return `Undecided (${when}): ${pct(acc.corruptedTrain)} of the corrupted labels fitted, test accuracy ${pct(acc.test)}.`;
}

/**
 * The pruning section's summary in numbers: what pruning the memorizing mode (the units
 * on the memorizing side of the score histogram's split) does, against pruning as many
 * generalizing units; without a mode split, the first step past none.
 */
export function pruningSummary(p: z.infer<typeof PruningProbeSchema>, epoch: number): string {
  const pctOf = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const head = `${p.units} units in ${p.layer} (scored by ${p.method === 'ipr' ? 'Fourier IPR' : p.method}, epoch ${epoch}).`;
  const a = p.memorizingFirst;
  const b = p.generalizingFirst;
  const target = p.modeSplit?.pruned ?? p.pruned.find((k) => k > 0);
  if (target === undefined) return head;
  // The curve point nearest the split (the engine includes it among the steps).
  let i = 0;
  for (let j = 0; j < p.pruned.length; j++) if (Math.abs(p.pruned[j] - target) < Math.abs(p.pruned[i] - target)) i = j;
  const k = p.pruned[i];
  const what = p.modeSplit ? `the memorizing mode of the score histogram (${p.modeSplit.pruned} of ${p.units} units)` : `the ${k} most memorizing units`;
  return (
    `${head} Pruning ${what}: corrupted-train ${pctOf(a.corruptedTrain[0])} → ${pctOf(a.corruptedTrain[i])}, clean-train ${pctOf(a.cleanTrain[0])} → ${pctOf(a.cleanTrain[i])}, test ${pctOf(a.test[0])} → ${pctOf(a.test[i])}. ` +
    `The control, ${k} most generalizing units pruned: corrupted-train ${pctOf(b.corruptedTrain[i])}, test ${pctOf(b.test[i])}.`
  );
}

/**
 * What the probes cost, for choosing `every` and `layers` knowingly: their wall time as a
 * share of the run's (the epochs' own seconds plus the probes'). Undefined when no probe
 * recorded its time (the engines' probes do not; the recorder's do).
 */
export function probeCostLine(probeSeconds: number, timedProbes: number, epochs: readonly Pick<EpochEvent, 'seconds'>[]): string | undefined {
  if (timedProbes === 0) return undefined;
  const epochSeconds = epochs.reduce((s, e) => s + e.seconds, 0);
  const total = epochSeconds + probeSeconds;
  const share = total > 0 ? (100 * probeSeconds) / total : 0;
  const each = probeSeconds / timedProbes;
  const fmt = (x: number) => (x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));
  return `Probes: ${share.toFixed(share >= 10 ? 0 : 1)}% of the run's time (${fmt(probeSeconds)} s of ${fmt(total)} s; ${timedProbes} call${timedProbes === 1 ? '' : 's'}, ${fmt(each)} s each).`;
}

/**
 * The pruning section's save control: the button only when the engine saved a model
 * (`savedModel`, a folder in the run folder); otherwise a hint naming the field that saves
 * one, or the engine's reason (`saveNote`) when saving was asked for and did not happen.
 * The exported report has no extension behind it: it only says where the model was saved.
 */
export function prunedModelUi(
  p: Pick<z.infer<typeof PruningProbeSchema>, 'savedModel' | 'saveNote'>,
  mode: 'vscode' | 'report',
): { button: boolean; hint: string } {
  if (p.savedModel) {
    return mode === 'vscode'
      ? { button: true, hint: `Pruned model saved in the run folder: ${p.savedModel}. "Save Pruned Model…" copies it to a folder you choose.` }
      : { button: false, hint: `Pruned model saved in the run folder: ${p.savedModel}.` };
  }
  if (p.saveNote) return { button: false, hint: `Pruned model: ${p.saveNote.replace(/\.?$/, '.')}` };
  return { button: false, hint: 'No pruned model saved. Set "probes.pruning.save": true in the experiment file to save the pruned model with the run.' };
}

/**
 * Legend labels of compared runs: each run's name from its spec, with the host's label (the
 * spec fields that differ, "weightDecay=0") when it sent one; otherwise runs sharing a name
 * (the same experiment run twice) get their run id appended so every line stays identifiable.
 */
export function runLabels(runs: readonly { id: string; name: string; label?: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  // The host's label names what differs in the spec ("weightDecay=0"): clearer than the id.
  return runs.map((r) => (r.label ? `${r.name} · ${r.label}` : (counts.get(r.name) ?? 0) > 1 ? `${r.name} (${r.id})` : r.name));
}

/**
 * Labels short enough for a chart legend that still tell the runs apart: the words every
 * label starts with are replaced by "…" (two runs of "Modular addition, 30% corrupted
 * labels, weight decay 5 / 0" read "…weight decay 5" and "…weight decay 0"; cutting both at 28 characters
 * would print the same prefix twice). Two words of the shared part stay for context.
 */
export function distinctLabels(labels: readonly string[]): string[] {
  if (labels.length < 2) return [...labels];
  const words = labels.map((l) => l.split(/(?<=[\s,;:])/));
  let common = 0;
  while (words.every((w) => common < w.length - 1 && w[common] === words[0][common])) common++;
  // Drop the shared words but two (else but one) when that removes at least 8 characters.
  const dropped = (keep: number) => words[0].slice(0, keep).join('').length;
  const keep = [common - 2, common - 1].find((k) => k > 0 && dropped(k) >= 8);
  return keep === undefined ? [...labels] : words.map((w) => `…${w.slice(keep).join('')}`);
}

/** Sorted by run id (ids start with the start time): a run keeps its colour whatever order it was picked in. */
export function stableRunOrder<T extends { view: { id: string } }>(runs: readonly T[]): T[] {
  return [...runs].sort((a, b) => (a.view.id < b.view.id ? -1 : a.view.id > b.view.id ? 1 : 0));
}
