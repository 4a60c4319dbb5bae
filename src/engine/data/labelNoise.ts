// Label corruption for noisy-label experiments. The mask is kept so every metric
// can be reported separately on clean and corrupted training examples.
import { deriveRng, randInt, shuffle } from '../prng';

export type NoiseKind = 'symmetric' | 'pairflip';

export interface NoisyLabels {
  /** Labels the model trains on (corrupted where mask is 1). */
  labels: Int32Array;
  /** 1 where the label was corrupted. Always differs from the true label there. */
  corrupted: Uint8Array;
  count: number;
}

/**
 * Corrupts exactly round(rate * n) labels, chosen uniformly without replacement.
 * symmetric: a uniformly random *wrong* class (so "corrupted" always means wrong,
 * which is what the corrupted-train accuracy measures); pairflip: c -> (c + 1) mod K.
 */
export function corruptLabels(
  trueLabels: Int32Array,
  classes: number,
  noise: { kind: NoiseKind; rate: number } | undefined,
  seed: number,
): NoisyLabels {
  const n = trueLabels.length;
  const labels = Int32Array.from(trueLabels);
  const corrupted = new Uint8Array(n);
  if (!noise || noise.rate === 0 || classes < 2) return { labels, corrupted, count: 0 };
  const rng = deriveRng(seed, 'label-noise');
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffle(rng, order);
  const count = Math.round(noise.rate * n);
  for (let k = 0; k < count; k++) {
    const i = order[k];
    const y = trueLabels[i];
    // Draw from the K-1 wrong classes by skipping over the true one.
    labels[i] = noise.kind === 'pairflip' ? (y + 1) % classes : (y + 1 + randInt(rng, classes - 1)) % classes;
    corrupted[i] = 1;
  }
  return { labels, corrupted, count };
}
