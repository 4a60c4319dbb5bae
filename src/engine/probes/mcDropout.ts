// Monte Carlo dropout uncertainty (Gal & Ghahramani 2016; as used by STAR, Zhang et al.
// 2024; METHODS §3). Only the dropout layers are active (batch norm and anything else
// stay in inference mode, METHODS §10). The deterministic part before the first dropout
// layer runs once; its output is tiled T times so all passes go through the rest of the
// network as one stack of large matmuls per chunk of examples.
import * as tf from '@tensorflow/tfjs-core';
import type { Probe } from '../../protocol/engineMessages';
import { deriveRng, shuffle } from '../prng';
import { CLEAN, CORRUPTED, EvalData, TEST } from './ablation';
import type { ProbeNetwork } from './network';
import { ece, histogram, minMax } from './stats';

type McProbe = Extract<Probe, { kind: 'mcDropout' }>;

export interface McOptions {
  passes: number;
  examples: number;
  seed: number;
  /** Active-learning round t for STAR's lambda_t = 0.1 (t + 1) (here: the index of this MC snapshot). */
  round: number;
  /** Deterministic (inference) logits, for STAR's U_base. */
  evalLogits: (x: tf.Tensor2D) => tf.Tensor2D;
  image?: { width: number; height: number };
  /** Examples per split kept in mostUncertain, and ranking length. */
  top?: number;
  /** Rows of the training split (the rest of data.x is test): turns a row into a per-split index. */
  nTrain: number;
}

/** ~16 MB per intermediate of the tiled T-pass stack (RSS budget, see ablation.ts). */
const FLOATS_PER_CHUNK = 4e6;

export const NO_DROPOUT_MESSAGE =
  'The model has no dropout layer with rate > 0: every Monte Carlo pass would be identical, giving zero variance and zero mutual information. Add a dropout layer (for example after the first hidden layer) to measure uncertainty.';

/** Per-example MC statistics from T probability rows per example: probs[t][i * C + c]. */
export interface McStats {
  predictiveEntropy: Float64Array;
  expectedEntropy: Float64Array;
  mutualInformation: Float64Array;
  variance: Float64Array;
  variationRatio: Float64Array;
  predicted: Int32Array;
  confidence: Float64Array;
}

/** Natural-log entropies. MI is clamped at 0: H[p_bar] >= E[H[p_t]] by concavity, so a negative value is float rounding. */
export function mcStats(probs: Float32Array[], n: number, classes: number): McStats {
  const T = probs.length;
  const s: McStats = {
    predictiveEntropy: new Float64Array(n),
    expectedEntropy: new Float64Array(n),
    mutualInformation: new Float64Array(n),
    variance: new Float64Array(n),
    variationRatio: new Float64Array(n),
    predicted: new Int32Array(n),
    confidence: new Float64Array(n),
  };
  const mean = new Float64Array(classes);
  const sq = new Float64Array(classes);
  const votes = new Int32Array(classes);
  for (let i = 0; i < n; i++) {
    mean.fill(0);
    sq.fill(0);
    votes.fill(0);
    let eh = 0;
    for (let t = 0; t < T; t++) {
      const p = probs[t];
      let best = 0;
      let h = 0;
      for (let c = 0; c < classes; c++) {
        const v = p[i * classes + c];
        mean[c] += v;
        sq[c] += v * v;
        if (v > 0) h -= v * Math.log(v);
        if (v > p[i * classes + best]) best = c;
      }
      eh += h;
      votes[best]++;
    }
    let H = 0;
    let variance = 0;
    let pred = 0;
    let mode = 0;
    for (let c = 0; c < classes; c++) {
      const m = mean[c] / T;
      if (m > 0) H -= m * Math.log(m);
      variance += sq[c] / T - m * m;
      if (m > mean[pred] / T) pred = c;
      mode = Math.max(mode, votes[c]);
    }
    s.predictiveEntropy[i] = H;
    s.expectedEntropy[i] = eh / T;
    s.mutualInformation[i] = Math.max(0, H - eh / T);
    s.variance[i] = Math.max(0, variance / classes);
    s.variationRatio[i] = 1 - mode / T;
    s.predicted[i] = pred;
    s.confidence[i] = mean[pred] / T;
  }
  return s;
}

function entropyRows(p: Float32Array, n: number, classes: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let h = 0;
    for (let c = 0; c < classes; c++) {
      const v = p[i * classes + c];
      if (v > 0) h -= v * Math.log(v);
    }
    out[i] = h;
  }
  return out;
}

/** T stochastic probability matrices [n, C] for the rows of x, batched (see file comment). */
export function mcProbabilities(net: ProbeNetwork, x: tf.Tensor2D, passes: number, seed: number): { probs: Float32Array[]; classes: number } {
  const split = net.mcSplit();
  if (!split) throw new Error(NO_DROPOUT_MESSAGE);
  const rng = deriveRng(seed, 'mc-dropout');
  const nextSeed = () => Math.floor(rng() * 2 ** 31);
  const n = x.shape[0];
  const h0 = split.prefix(x);
  const width = Math.max(h0.shape[1], ...net.hidden.map((l) => l.units));
  const chunk = Math.max(1, Math.floor(FLOATS_PER_CHUNK / (passes * width)));
  const probs = Array.from({ length: passes }, () => new Float32Array(0));
  let classes = 0;
  try {
    for (let s = 0; s < n; s += chunk) {
      const c = Math.min(chunk, n - s);
      const p = tf.tidy(() => {
        // Row t * c + i is pass t of example s + i: one dropout draw covers all passes.
        const tiled = tf.tile(tf.slice(h0, [s, 0], [c, -1]), [passes, 1]) as tf.Tensor2D;
        return tf.softmax(split.rest(tiled, nextSeed));
      });
      classes = p.shape[1];
      const v = p.dataSync() as Float32Array;
      p.dispose();
      for (let t = 0; t < passes; t++) {
        if (probs[t].length === 0) probs[t] = new Float32Array(n * classes);
        probs[t].set(v.subarray(t * c * classes, (t + 1) * c * classes), s * classes);
      }
    }
  } finally {
    h0.dispose();
  }
  return { probs, classes };
}

export function mcDropoutProbe(net: ProbeNetwork, data: EvalData, opts: McOptions): McProbe {
  const { passes } = opts;
  if (net.unsupported) return { kind: 'mcDropout', passes, examples: 0, unavailable: `MC dropout unavailable: ${net.unsupported}.` };
  if (!net.hasDropout) return { kind: 'mcDropout', passes, examples: 0, unavailable: NO_DROPOUT_MESSAGE };

  const N = data.labels.length;
  const order = new Int32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  shuffle(deriveRng(opts.seed, 'mc-sample'), order);
  const rows = order.slice(0, Math.min(N, opts.examples)).sort();
  const n = rows.length;
  const xs = tf.tidy(() => tf.gather(data.x, tf.tensor1d(rows, 'int32')));
  let stats: McStats;
  let baseEntropy: Float64Array;
  let classes: number;
  try {
    const mc = mcProbabilities(net, xs, passes, opts.seed);
    classes = mc.classes;
    stats = mcStats(mc.probs, n, classes);
    const pd = tf.tidy(() => tf.softmax(opts.evalLogits(xs)));
    baseEntropy = entropyRows(pd.dataSync() as Float32Array, n, classes);
    pd.dispose();
  } finally {
    xs.dispose();
  }

  const group = Uint8Array.from(rows, (r) => data.group[r]);
  const labels = Int32Array.from(rows, (r) => data.labels[r]);
  const meanBy = (v: Float64Array) => {
    const sum = [0, 0, 0];
    const cnt = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      sum[group[i]] += v[i];
      cnt[group[i]]++;
    }
    const m = (g: number) => (cnt[g] ? sum[g] / cnt[g] : 0);
    return { clean: m(CLEAN), corrupted: cnt[CORRUPTED] ? m(CORRUPTED) : null, test: m(TEST) };
  };

  // Calibration on held-out examples against their true labels; all examples only when
  // the sample has no test rows (training labels may be corrupted on purpose).
  const testRows = [...group.keys()].filter((i) => group[i] === TEST);
  const calib = testRows.length ? testRows : [...group.keys()];
  const cal = ece(
    calib.map((i) => stats.confidence[i]),
    calib.map((i) => (stats.predicted[i] === labels[i] ? 1 : 0)),
    15,
  );

  const top = opts.top ?? 20;
  const byEntropy = [...group.keys()].sort((a, b) => stats.predictiveEntropy[b] - stats.predictiveEntropy[a]).slice(0, top);
  const splitName = ['clean', 'corrupted', 'test'] as const;
  let pixels: Float32Array | undefined;
  if (opts.image) {
    const sel = tf.tidy(() => tf.gather(data.x, tf.tensor1d(byEntropy.map((i) => rows[i]), 'int32')));
    pixels = sel.dataSync() as Float32Array;
    sel.dispose();
  }
  const size = opts.image ? opts.image.width * opts.image.height : 0;
  const mostUncertain = byEntropy.map((i, k) => ({
    index: rows[i] < opts.nTrain ? rows[i] : rows[i] - opts.nTrain,
    split: splitName[group[i]],
    label: labels[i],
    predicted: stats.predicted[i],
    entropy: stats.predictiveEntropy[i],
    mutualInformation: stats.mutualInformation[i],
    variance: stats.variance[i],
    variationRatio: stats.variationRatio[i],
    ...(pixels && opts.image
      ? { image: { width: opts.image.width, height: opts.image.height, pixels: Array.from(pixels.subarray(k * size, (k + 1) * size)) } }
      : {}),
  }));

  // STAR dynamic uncertainty (METHODS §3): U_t = lambda_t U_full + (1 - lambda_t) U_base,
  // lambda_t = 0.1 (t + 1), both min-max normalised over the pool. Engine mapping (no
  // pretrained base model here): U_full = MC predictive entropy, U_base = entropy of the
  // deterministic pass; the pool is the held-out (test) rows, standing in for unlabeled data.
  const pool = testRows.length ? testRows : [...group.keys()];
  const lambda = Math.min(1, 0.1 * (opts.round + 1));
  const full = minMax(pool.map((i) => stats.predictiveEntropy[i]));
  const base = minMax(pool.map((i) => baseEntropy[i]));
  const activeLearning = pool
    .map((i, k) => ({ index: rows[i] < opts.nTrain ? rows[i] : rows[i] - opts.nTrain, score: lambda * full[k] + (1 - lambda) * base[k] }))
    .sort((a, b) => b.score - a.score)
    .slice(0, 50);

  return {
    kind: 'mcDropout',
    passes,
    examples: n,
    summary: {
      meanEntropy: meanBy(stats.predictiveEntropy),
      meanMutualInformation: meanBy(stats.mutualInformation),
      ece: cal.ece,
      meanVariance: meanBy(stats.variance),
      meanVariationRatio: meanBy(stats.variationRatio),
      eceOn: testRows.length ? 'test' : 'all',
    },
    entropyHistogram: histogram(Array.from(stats.predictiveEntropy), group),
    mutualInformationHistogram: histogram(Array.from(stats.mutualInformation), group),
    reliability: cal.reliability,
    mostUncertain,
    activeLearning,
  };
}
