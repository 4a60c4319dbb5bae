// CutMix (Yun et al. 2019, METHODS §5) on a batch held in JS: rows are HWC images.
// Done on the host side because the box is data-dependent per batch and tiny to copy.
import type { ImageShape } from '../data/dataset';
import { randNormal, Rng } from '../prng';

/** Gamma(shape, 1) by Marsaglia-Tsang (with the shape < 1 boost). */
function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(rng() || 1e-12, 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = randNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x / (x + y);
}

export interface CutmixResult {
  x: Float32Array;
  /** Mixed targets: lambda * onehot(y_a) + (1 - lambda) * onehot(y_b), [n, classes]. */
  y: Float32Array;
  /** Recomputed from the clipped box: 1 - box area / image area. */
  lambda: number;
  /** The sampled lambda, before clipping. */
  sampledLambda: number;
  box: { x1: number; y1: number; x2: number; y2: number };
  perm: Int32Array;
}

/**
 * Pastes the same box from a permuted copy of the batch into every image, and mixes
 * the labels by the pasted area. labels: [n] class indices; targets may already be
 * smoothed (pass them as yBase [n, classes]) so smoothing and CutMix compose.
 */
export function cutmixBatch(x: Float32Array, yBase: Float32Array, n: number, classes: number, image: ImageShape, beta: number, rng: Rng): CutmixResult {
  const { height: H, width: W, channels: C } = image;
  const sampledLambda = sampleBeta(rng, beta, beta);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const cut = Math.sqrt(1 - sampledLambda);
  const rw = Math.floor(W * cut);
  const rh = Math.floor(H * cut);
  const cx = Math.floor(rng() * W);
  const cy = Math.floor(rng() * H);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const box = { x1: clip(cx - (rw >> 1), W), y1: clip(cy - (rh >> 1), H), x2: clip(cx + (rw >> 1), W), y2: clip(cy + (rh >> 1), H) };
  const lambda = 1 - ((box.x2 - box.x1) * (box.y2 - box.y1)) / (W * H);
  const out = Float32Array.from(x);
  const d = H * W * C;
  for (let i = 0; i < n; i++) {
    const src = perm[i] * d;
    const dst = i * d;
    for (let r = box.y1; r < box.y2; r++) {
      const off = (r * W + box.x1) * C;
      out.set(x.subarray(src + off, src + off + (box.x2 - box.x1) * C), dst + off);
    }
  }
  const y = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) y[i * classes + c] = lambda * yBase[i * classes + c] + (1 - lambda) * yBase[perm[i] * classes + c];
  }
  return { x: out, y, lambda, sampledLambda, box, perm };
}
