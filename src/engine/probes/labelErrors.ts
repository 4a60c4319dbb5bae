// Finding the wrong labels (METHODS §11), pure: per-example suspicion scores from the
// bookkeeping of a run, and how well each ranks the truly corrupted labels. Higher score =
// more likely mislabeled, for every method. python/reglens/engine/probes/label_errors.py is
// the same arithmetic (the conformance test feeds both the same inputs).
import { ranks } from './stats';

export const LABEL_ERROR_METHODS = ['aum', 'forgetting', 'smallLoss', 'confidentLearning', 'mcDropout'] as const;
export type LabelErrorMethod = (typeof LABEL_ERROR_METHODS)[number];

/** Probabilities below this are clamped before the log, so a confident miss costs ~16, not Infinity. */
const MIN_PROB = 1e-7;

/** Area under the margin (Pleiss et al. 2020): score = -(mean margin over the epochs tracked). */
export function aumScores(marginSum: ArrayLike<number>, epochs: number): Float64Array {
  const out = new Float64Array(marginSum.length);
  for (let i = 0; i < out.length; i++) out[i] = epochs > 0 ? -marginSum[i] / epochs : 0;
  return out;
}

/**
 * Forgetting events (Toneva et al. 2019): transitions correct -> incorrect across the epochs.
 * An example never learned counts as forgotten more often than any learned one can be
 * (epochs + 1; at most ceil(epochs / 2) real events fit), so it ranks first.
 */
export function forgettingScores(forgets: ArrayLike<number>, everCorrect: ArrayLike<number>, epochs: number): Float64Array {
  const out = new Float64Array(forgets.length);
  for (let i = 0; i < out.length; i++) out[i] = everCorrect[i] ? forgets[i] : epochs + 1;
  return out;
}

/** Cross-entropy of the given label, -log p(y|x) (the small-loss criterion of co-teaching). */
export function smallLossScores(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): Float64Array {
  const out = new Float64Array(labels.length);
  for (let i = 0; i < out.length; i++) out[i] = -Math.log(Math.max(MIN_PROB, probs[i * classes + labels[i]]));
  return out;
}

/** MC-dropout disagreement: 1 - mean_t p_t(y|x), from the mean over passes of p(y|x). */
export function mcDisagreementScores(meanGivenProb: ArrayLike<number>): Float64Array {
  return Float64Array.from(meanGivenProb, (p) => 1 - p);
}

export interface ConfidentLearning {
  /** t_j = mean p(j|x) over the examples labeled j (NaN for a class nobody carries). */
  thresholds: number[];
  /** C[i][j]: examples labeled i whose most probable class above its threshold is j. */
  joint: number[][];
  /** Label issues by prune-by-noise-rate (1 = flagged). */
  flagged: Uint8Array;
  /** Flagged first (1 + (1 - p(y|x))), then the rest by 1 - p(y|x) (self-confidence). */
  scores: Float64Array;
}

/**
 * Confident learning (Northcutt et al. 2021; cleanlab's find_label_issues with
 * filter_by = prune_by_noise_rate, ranked by self-confidence). probs: out-of-sample
 * p(j|x), row-major [n, classes].
 */
export function confidentLearning(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): ConfidentLearning {
  const n = labels.length;
  const K = classes;
  const sum = new Float64Array(K);
  const count = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    sum[labels[i]] += probs[i * K + labels[i]];
    count[labels[i]]++;
  }
  const thresholds = Array.from(sum, (s, j) => (count[j] ? s / count[j] : NaN));
  const joint = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let j = 0; j < K; j++) {
      const p = probs[i * K + j];
      // A class nobody is labeled with has no threshold: it cannot be confidently assigned.
      if (Number.isNaN(thresholds[j]) || p < thresholds[j]) continue;
      if (best < 0 || p > probs[i * K + best]) best = j;
    }
    if (best >= 0) joint[labels[i]][best]++;
  }
  // Calibrate each row to the number of examples carrying that label (cleanlab's
  // calibrate_confident_joint), then prune the round(C_cal[i][j]) examples labeled i with the
  // largest margin p(j|x) - p(i|x), for every j != i.
  const flagged = new Uint8Array(n);
  const byLabel: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < n; i++) byLabel[labels[i]].push(i);
  for (let i = 0; i < K; i++) {
    const rowSum = joint[i].reduce((a, b) => a + b, 0);
    if (!rowSum) continue;
    for (let j = 0; j < K; j++) {
      if (j === i) continue;
      const prune = Math.round((joint[i][j] / rowSum) * count[i]);
      if (!prune) continue;
      const margin = (e: number) => probs[e * K + j] - probs[e * K + i];
      const order = [...byLabel[i]].sort((a, b) => margin(b) - margin(a) || a - b);
      for (const e of order.slice(0, prune)) flagged[e] = 1;
    }
  }
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) scores[i] = flagged[i] + (1 - probs[i * K + labels[i]]);
  return { thresholds, joint, flagged, scores };
}

/** Indices by score, highest first; ties by index (both engines order the same way). */
export function rankByScore(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * AUROC of scores against the truth (1 = corrupted): the Mann-Whitney statistic with
 * average ranks for ties, so a constant score gets 0.5. Null without both classes.
 */
export function auroc(scores: ArrayLike<number>, truth: ArrayLike<number>): number | null {
  const r = ranks(scores);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i]) {
      pos++;
      rankSum += r[i];
    }
  }
  const neg = truth.length - pos;
  if (!pos || !neg) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface RankingMetrics {
  auroc: number | null;
  /** k = the true number of corrupted labels. */
  k: number;
  precisionAtK: number;
  recallAtK: number;
  averagePrecision: number;
  /** Precision and recall after the top k_i of the ranking, k_i spread evenly over 1..n. */
  pr: { k: number[]; precision: number[]; recall: number[] };
}

/** Points of the stored precision-recall curve (enough to draw it, small enough to ship). */
export const PR_POINTS = 100;

export function rankingMetrics(scores: ArrayLike<number>, truth: ArrayLike<number>, points = PR_POINTS): RankingMetrics | null {
  const n = truth.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += truth[i] ? 1 : 0;
  if (!positives || positives === n) return null;
  const order = rankByScore(scores);
  const hitsAt = new Int32Array(n + 1);
  let ap = 0;
  for (let r = 0; r < n; r++) {
    const hit = truth[order[r]] ? 1 : 0;
    hitsAt[r + 1] = hitsAt[r] + hit;
    if (hit) ap += hitsAt[r + 1] / (r + 1);
  }
  const m = Math.min(points, n);
  const ks = [...new Set(Array.from({ length: m }, (_, i) => Math.ceil(((i + 1) * n) / m)))];
  return {
    auroc: auroc(scores, truth),
    k: positives,
    precisionAtK: hitsAt[positives] / positives,
    recallAtK: hitsAt[positives] / positives,
    averagePrecision: ap / positives,
    pr: { k: ks, precision: ks.map((k) => hitsAt[k] / k), recall: ks.map((k) => hitsAt[k] / positives) },
  };
}
