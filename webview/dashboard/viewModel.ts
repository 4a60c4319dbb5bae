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
export function verdict(acc: Accuracy | undefined, status: RunStatusName): string {
  if (!acc) return status === 'running' ? 'Waiting for the first epoch…' : 'No epochs were recorded.';
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  if (acc.corruptedTrain === null) {
    return `No corrupted labels in this dataset: test accuracy ${pct(acc.test)}.`;
  }
  if (acc.corruptedTrain >= 0.5) {
    return `Memorizing: the model reproduces ${pct(acc.corruptedTrain)} of the corrupted (wrong) training labels; test accuracy is ${pct(acc.test)}.`;
  }
  if (acc.test >= 0.9 && acc.corruptedTrain <= 0.1) {
    return `Generalizing: test accuracy ${pct(acc.test)} while only ${pct(acc.corruptedTrain)} of the corrupted labels are fitted — the model learned the rule, not the noise.`;
  }
  return `Undecided so far: ${pct(acc.corruptedTrain)} of the corrupted labels fitted, test accuracy ${pct(acc.test)}.`;
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
 * Legend labels of compared runs: each run's name from its spec; runs sharing a name (the
 * same experiment run twice) get their run id appended so every line stays identifiable.
 */
export function runLabels(runs: readonly { id: string; name: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  return runs.map((r) => ((counts.get(r.name) ?? 0) > 1 ? `${r.name} (${r.id})` : r.name));
}
