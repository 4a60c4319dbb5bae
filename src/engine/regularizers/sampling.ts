// Per-batch random choices of the loop-level regularizers, in JS from the seeded
// streams, so they are reproducible and testable without tensors.
import type { Rng } from '../prng';

/** Co-teaching forget rate R(T) = min(T tau / T_k, tau), T = epochs completed (0 in the first). */
export function forgetRate(epochsCompleted: number, tau: number, tk: number): number {
  return Math.min((epochsCompleted * tau) / tk, tau);
}

/** Indices of the floor((1 - rate) n) smallest losses (ties by index), ascending by loss. */
export function smallLossIndices(losses: ArrayLike<number>, rate: number): Int32Array {
  const n = losses.length;
  const keep = Math.max(1, Math.floor((1 - rate) * n));
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => losses[a] - losses[b] || a - b);
  return Int32Array.from(idx.slice(0, keep));
}

/**
 * Feature-group (modality) dropout mask [n, d]: per sample and group, with probability
 * rate, every column of the group is zeroed (all-or-none); other columns stay 1. No
 * rescaling: a dropped modality is "absent" (a null token), not noise to compensate.
 */
export function featureGroupMask(rng: Rng, n: number, d: number, groups: readonly Int32Array[], rate: number): Float32Array {
  const m = new Float32Array(n * d).fill(1);
  for (let i = 0; i < n; i++) {
    for (const cols of groups) {
      if (rng() < rate) for (const j of cols) m[i * d + j] = 0;
    }
  }
  return m;
}

/**
 * Candidate (vocabulary) dropout: a 0/1 mask over the classes with ceil(keep * K) ones,
 * always including the batch's targets (a hard label must stay scorable), the rest a
 * uniform random subset. Adding log(mask) to the logits is exactly a softmax over the kept
 * subset with the targets re-indexed into it, without a gather (no wasm gradient for it).
 */
export function candidateMask(rng: Rng, classes: number, keep: number, targets: ArrayLike<number>): Float32Array {
  const m = new Float32Array(classes);
  let kept = 0;
  for (let i = 0; i < targets.length; i++) {
    if (!m[targets[i]]) {
      m[targets[i]] = 1;
      kept++;
    }
  }
  const want = Math.max(kept, Math.ceil(keep * classes));
  const rest: number[] = [];
  for (let c = 0; c < classes; c++) if (!m[c]) rest.push(c);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  for (let k = 0; k < want - kept && k < rest.length; k++) m[rest[k]] = 1;
  return m;
}
