// Training dynamics read off the per-epoch series (pure).
// - Unlearning (Doshi et al. 2024, METHODS §1): with enough regularization the network
//   first fits the corrupted labels, then groks and unlearns them. The epoch reported is
//   the peak of corrupted-train accuracy before its 5-epoch moving average has fallen
//   10 points below its running maximum (a steady fall, not a one-epoch dip).
// - Multi-epoch degradation (Xue et al. 2023, METHODS §8): held-out loss rising epoch
//   over epoch while training loss keeps falling. Reported: the epoch after the minimum
//   of the smoothed test loss, once the smoothed test loss has risen 2% above that
//   minimum while the smoothed training loss is below its value at the minimum.

export interface DynamicsPoint {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  corruptedTrain: number | null;
}

const WINDOW = 5;
const UNLEARN_DROP = 0.1;
const RISE = 0.02;

function trailingMean(v: number[]): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i];
    if (i >= WINDOW) sum -= v[i - WINDOW];
    out.push(sum / Math.min(i + 1, WINDOW));
  }
  return out;
}

export function detectDynamics(points: DynamicsPoint[]): { unlearningEpoch: number | null; degradationEpoch: number | null } {
  let unlearningEpoch: number | null = null;
  const corrupted = points.map((p) => p.corruptedTrain);
  if (corrupted.length && corrupted.every((c) => c !== null)) {
    const raw = corrupted as number[];
    const s = trailingMean(raw);
    let runMax = -Infinity;
    for (let i = 0; i < s.length; i++) {
      runMax = Math.max(runMax, s[i]);
      if (s[i] <= runMax - UNLEARN_DROP) {
        let peak = 0;
        for (let j = 1; j <= i; j++) if (raw[j] > raw[peak]) peak = j;
        unlearningEpoch = points[peak].epoch;
        break;
      }
    }
  }
  let degradationEpoch: number | null = null;
  const test = trailingMean(points.map((p) => p.testLoss));
  const trainS = trailingMean(points.map((p) => p.trainLoss));
  let minAt = 0;
  for (let i = 1; i < test.length; i++) {
    if (test[i] < test[minAt]) minAt = i;
    else if (test[i] > test[minAt] * (1 + RISE) && trainS[i] < trainS[minAt] && minAt + 1 < points.length) {
      degradationEpoch = points[minAt + 1].epoch;
      break;
    }
  }
  return { unlearningEpoch, degradationEpoch };
}
