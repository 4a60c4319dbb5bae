// Pure view-model code for the dashboard (no DOM), unit-tested in mocha.
import type { Accuracy, EpochEvent } from '../../src/protocol/engineMessages';
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
