// Accuracy of a model with hidden units masked out, for every mask of a list at once.
// Used by the ablation score (METHODS §1: corrupted-train accuracy drop minus clean
// accuracy drop when a unit is zeroed), cumulative pruning and the nested-dropout
// truncation curve (METHODS §2).
//
// Three ways to get per-unit ablations, all exact:
// - rank1: the layer feeds the output dense directly, so logits without unit j are
//   logits - h_j * W_out[j,:]; the argmax for all units comes from one forward pass plus
//   an O(N H C) scan in JS (no N x H x C tensor is ever materialised).
// - batched: B masks per pass: h is tiled to [B*N, H], masked, and the rest of the
//   network runs once on the stack (large matmuls, which XNNPACK is good at).
// - loop: one masked pass per unit; the baseline the benchmark compares against.
import * as tf from '@tensorflow/tfjs-core';
import type { HiddenLayer, ProbeNetwork } from './network';

/** 0 = clean train, 1 = corrupted train, 2 = test. */
export const CLEAN = 0;
export const CORRUPTED = 1;
export const TEST = 2;

export interface EvalData {
  /** Train examples first, then test. */
  x: tf.Tensor2D;
  /** Label each example is scored against: the (possibly corrupted) training label, or the test label. */
  labels: Int32Array;
  group: Uint8Array;
  counts: [number, number, number];
}

export interface GroupAccuracy {
  cleanTrain: number;
  corruptedTrain: number | null;
  test: number;
}

export function toAccuracy(hits: ArrayLike<number>, counts: [number, number, number], offset = 0): GroupAccuracy {
  return {
    cleanTrain: counts[CLEAN] ? hits[offset + CLEAN] / counts[CLEAN] : 0,
    corruptedTrain: counts[CORRUPTED] ? hits[offset + CORRUPTED] / counts[CORRUPTED] : null,
    test: counts[TEST] ? hits[offset + TEST] / counts[TEST] : 0,
  };
}

/** Hits per group from row-major logits [n, classes]; argmax ties go to the first class, as tf.argMax. */
export function hitsOfLogits(logits: ArrayLike<number>, classes: number, labels: Int32Array, group: Uint8Array): number[] {
  const hits = [0, 0, 0];
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    let bestV = logits[i * classes];
    for (let c = 1; c < classes; c++) {
      const v = logits[i * classes + c];
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    if (best === labels[i]) hits[group[i]]++;
  }
  return hits;
}

/** Widest activation in the network: bounds the rows one batched pass may stack. */
function maxWidth(net: ProbeNetwork, layer: HiddenLayer, classes: number): number {
  return Math.max(classes, layer.units, ...net.hidden.map((l) => l.units));
}

/**
 * About 16 MB of float32 per intermediate in a pass: wasm memory never shrinks, so the
 * largest pass sets the engine's RSS (budget 400 MiB). At p = 97 (9,409 examples, 512
 * units) this means one mask per pass in example chunks: measured, larger stacks were
 * not faster on wasm (bench-results/bench-probes.json).
 */
const FLOATS_PER_PASS = 4e6;

/**
 * Hits per group for each mask row (masks: row-major [M, units], 1 = keep):
 * returns Int32Array [M * 3]. `masksPerPass` 1 gives the per-unit loop.
 */
export function maskedHits(
  net: ProbeNetwork,
  layer: HiddenLayer,
  data: EvalData,
  masks: Float32Array,
  /** h: a precomputed maskSource(data.x, layer). */
  opts: { masksPerPass?: number; h?: tf.Tensor2D } = {},
): Int32Array {
  const H = layer.units;
  const M = masks.length / H;
  const N = data.labels.length;
  const out = new Int32Array(M * 3);
  const rowBudget = Math.max(1, Math.floor(FLOATS_PER_PASS / maxWidth(net, layer, 1)));
  const exampleChunk = Math.min(N, rowBudget);
  const B = opts.masksPerPass ?? Math.max(1, Math.floor(rowBudget / exampleChunk));
  const src = opts.h ?? net.maskSource(data.x, layer);
  const width = src.shape[1];
  const groupOneHot = new Float32Array(N * 3);
  for (let i = 0; i < N; i++) groupOneHot[i * 3 + data.group[i]] = 1;
  try {
    for (let s = 0; s < N; s += exampleChunk) {
      const n = Math.min(exampleChunk, N - s);
      const sc = tf.slice(src, [s, 0], [n, width]);
      const labels = tf.tensor1d(data.labels.subarray(s, s + n), 'int32');
      const g = tf.tensor2d(groupOneHot.subarray(s * 3, (s + n) * 3), [n, 3]);
      try {
        for (let m0 = 0; m0 < M; m0 += B) {
          const b = Math.min(B, M - m0);
          // One tidy per pass: the stacked activations are freed before the next pass (RSS budget).
          const counts = tf.tidy(() => {
            const mk = tf.tensor3d(masks.subarray(m0 * H, (m0 + b) * H), [b, 1, H]);
            const pred = tf.reshape(tf.argMax(net.maskedLogits(sc, layer, mk), 1), [b, n]);
            const hit = tf.cast(tf.equal(pred, tf.expandDims(labels, 0)), 'float32') as tf.Tensor2D;
            return tf.matMul(hit, g);
          });
          const v = counts.dataSync();
          counts.dispose();
          for (let i = 0; i < b * 3; i++) out[m0 * 3 + i] += Math.round(v[i]);
        }
      } finally {
        sc.dispose();
        labels.dispose();
        g.dispose();
      }
    }
  } finally {
    if (!opts.h) src.dispose();
  }
  return out;
}

/** Reads h and logits once (inference mode). */
function baseline(net: ProbeNetwork, layer: HiddenLayer, data: EvalData): { h: Float32Array; logits: Float32Array; classes: number } {
  const [h, logits] = tf.tidy(() => {
    // The per-unit activations are read only by the rank-1 path (a layer feeding the output).
    const ht = layer.feedsOutput ? net.hiddenOf(data.x, layer) : tf.zeros([1, 1]);
    return [ht, net.logits(data.x)];
  });
  const classes = logits.shape[1];
  const out = { h: h.dataSync() as Float32Array, logits: logits.dataSync() as Float32Array, classes };
  h.dispose();
  logits.dispose();
  return out;
}

/**
 * Rank-1 ablation of every unit of a layer that feeds the output: Int32Array [units * 3]
 * hits per group with unit j zeroed. logits_without_j = logits - h_j W_out[j,:].
 */
export function rank1Hits(h: Float32Array, logits: Float32Array, w: Float32Array, units: number, classes: number, data: EvalData): Int32Array {
  const N = data.labels.length;
  const out = new Int32Array(units * 3);
  for (let i = 0; i < N; i++) {
    const t = data.labels[i];
    const g = data.group[i];
    const L = i * classes;
    // The unablated prediction answers every unit whose activation is exactly 0 (ReLU).
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[L + c] > logits[L + best]) best = c;
    const baseHit = best === t ? 1 : 0;
    for (let j = 0; j < units; j++) {
      const a = h[i * units + j];
      if (a === 0) {
        out[j * 3 + g] += baseHit;
        continue;
      }
      const W = j * classes;
      const vt = logits[L + t] - a * w[W + t];
      // Hit iff the label is the first argmax: strictly above earlier classes, not below later ones.
      let hit = 1;
      for (let c = 0; c < classes; c++) {
        if (c === t) continue;
        const v = logits[L + c] - a * w[W + c];
        if (c < t ? v >= vt : v > vt) {
          hit = 0;
          break;
        }
      }
      out[j * 3 + g] += hit;
    }
  }
  return out;
}

export type AblationStrategy = 'auto' | 'rank1' | 'batched' | 'loop';

export interface AblationResult {
  base: GroupAccuracy;
  /** Per unit: accuracy drops when that unit alone is zeroed (base - ablated). */
  cleanDrop: number[];
  corruptedDrop: number[];
  testDrop: number[];
  /** corruptedDrop - cleanDrop (high = the unit carries the corrupted labels). Without corrupted examples: -testDrop... see below. */
  score: number[];
  strategy: Exclude<AblationStrategy, 'auto'>;
}

/**
 * Ablation score of every unit in `layer`. The "clean" term is the clean-train drop;
 * without corrupted examples the score is minus the test drop (units whose removal
 * hurts held-out accuracy are the least memorizing).
 */
export function ablationScores(net: ProbeNetwork, layer: HiddenLayer, data: EvalData, strategy: AblationStrategy = 'auto'): AblationResult {
  const H = layer.units;
  const chosen: Exclude<AblationStrategy, 'auto'> = strategy === 'auto' ? (layer.feedsOutput ? 'rank1' : 'batched') : strategy;
  if (chosen === 'rank1' && !layer.feedsOutput) throw new Error(`rank-1 ablation needs a layer feeding the output; ${layer.name} does not`);
  const { h, logits, classes } = baseline(net, layer, data);
  const baseHits = hitsOfLogits(logits, classes, data.labels, data.group);
  let hits: Int32Array;
  if (chosen === 'rank1') {
    hits = rank1Hits(h, logits, net.outKernel(layer).dataSync() as Float32Array, H, classes, data);
  } else {
    const masks = new Float32Array(H * H).fill(1);
    for (let j = 0; j < H; j++) masks[j * H + j] = 0;
    hits = maskedHits(net, layer, data, masks, chosen === 'loop' ? { masksPerPass: 1 } : {});
  }
  const base = toAccuracy(baseHits, data.counts);
  const cleanDrop: number[] = [];
  const corruptedDrop: number[] = [];
  const testDrop: number[] = [];
  const score: number[] = [];
  for (let j = 0; j < H; j++) {
    const a = toAccuracy(hits, data.counts, j * 3);
    cleanDrop.push(base.cleanTrain - a.cleanTrain);
    corruptedDrop.push(base.corruptedTrain === null || a.corruptedTrain === null ? 0 : base.corruptedTrain - a.corruptedTrain);
    testDrop.push(base.test - a.test);
    score.push(data.counts[CORRUPTED] ? corruptedDrop[j] - cleanDrop[j] : -testDrop[j]);
  }
  return { base, cleanDrop, corruptedDrop, testDrop, score, strategy: chosen };
}

/**
 * Hits per group keeping only the first k units, for k = 1..units: Int32Array [units * 3].
 * A layer feeding the output accumulates logits unit by unit (b + sum_{j<k} h_j W_j) in
 * one O(N H C) sweep; otherwise prefix masks go through batched passes.
 */
export function prefixHits(net: ProbeNetwork, layer: HiddenLayer, data: EvalData): Int32Array {
  const H = layer.units;
  if (!layer.feedsOutput) {
    const masks = new Float32Array(H * H);
    for (let k = 1; k <= H; k++) masks.fill(1, (k - 1) * H, (k - 1) * H + k);
    return maskedHits(net, layer, data, masks);
  }
  const h = net.hiddenOf(data.x, layer);
  const hv = h.dataSync() as Float32Array;
  h.dispose();
  const w = net.outKernel(layer).dataSync() as Float32Array;
  const bias = net.outBias(layer)?.dataSync() as Float32Array | undefined;
  const C = net.outKernel(layer).shape[1];
  const N = data.labels.length;
  const out = new Int32Array(H * 3);
  const acc = new Float64Array(C);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < C; c++) acc[c] = bias ? bias[c] : 0;
    const t = data.labels[i];
    const g = data.group[i];
    for (let k = 0; k < H; k++) {
      const a = hv[i * H + k];
      if (a !== 0) for (let c = 0; c < C; c++) acc[c] += a * w[k * C + c];
      let best = 0;
      for (let c = 1; c < C; c++) if (acc[c] > acc[best]) best = c;
      if (best === t) out[k * 3 + g]++;
    }
  }
  return out;
}
