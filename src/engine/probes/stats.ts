// Small statistics the probes share. Plain JS on read-back arrays.

/** Ranks (1-based, ties get their average rank), as Spearman's rho requires. */
export function ranks(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const r = new Array<number>(values.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && values[idx[j + 1]] === values[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Spearman's rank correlation (Pearson on average ranks); 0 when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

/** Min-max normalisation to [0, 1]; all zeros when constant (STAR normalises both terms, METHODS §3). */
export function minMax(values: ArrayLike<number>): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const r = hi - lo;
  return Array.from(values, (v) => (r > 0 ? (v - lo) / r : 0));
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  confidence: number;
  accuracy: number;
  count: number;
}

/**
 * Expected calibration error over equal-width confidence bins (Guo et al. 2017; 15 bins,
 * METHODS §3): sum_b (n_b / n) |acc_b - conf_b|. Bin b holds confidences in
 * (b/B, (b+1)/B], the first bin also holds 0. Empty bins report confidence and
 * accuracy 0 with count 0.
 */
export function ece(confidence: ArrayLike<number>, correct: ArrayLike<number>, bins = 15): { ece: number; reliability: ReliabilityBin[] } {
  const n = confidence.length;
  const sumConf = new Float64Array(bins);
  const sumAcc = new Float64Array(bins);
  const count = new Int32Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(confidence[i] * bins) - 1));
    sumConf[b] += confidence[i];
    sumAcc[b] += correct[i];
    count[b]++;
  }
  let e = 0;
  const reliability: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = count[b] ? sumConf[b] / count[b] : 0;
    const a = count[b] ? sumAcc[b] / count[b] : 0;
    if (count[b]) e += (count[b] / n) * Math.abs(a - c);
    reliability.push({ lower: b / bins, upper: (b + 1) / bins, confidence: c, accuracy: a, count: count[b] });
  }
  return { ece: n ? e : 0, reliability };
}

/**
 * Otsu's threshold: the cut between the two modes of a (bimodal) distribution that
 * maximises the between-class variance. Used to split the IPR histogram into its
 * memorizing (low) and generalizing (high) modes without a fixed threshold (METHODS §1).
 * Returns a value t; the low mode is { v <= t }.
 */
export function otsuThreshold(values: ArrayLike<number>, bins = 64): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (!(hi > lo)) return hi;
  const hist = new Float64Array(bins);
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) hist[Math.min(bins - 1, Math.floor((values[i] - lo) / width))]++;
  const total = values.length;
  let sumAll = 0;
  for (let b = 0; b < bins; b++) sumAll += b * hist[b];
  let wB = 0;
  let sumB = 0;
  let best = -1;
  let bestB = 0;
  for (let b = 0; b < bins - 1; b++) {
    wB += hist[b];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += b * hist[b];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) ** 2;
    if (between > best) {
      best = between;
      bestB = b;
    }
  }
  return lo + (bestB + 1) * width;
}

/** Counts per bin over shared edges, for each split. */
export function histogram(values: number[], group: Uint8Array, bins = 20): { edges: number[]; clean: number[]; corrupted: number[]; test: number[] } {
  let hi = 0;
  for (const v of values) hi = Math.max(hi, v);
  if (!(hi > 0)) hi = 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (hi * i) / bins);
  const counts = [new Array<number>(bins).fill(0), new Array<number>(bins).fill(0), new Array<number>(bins).fill(0)];
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((values[i] / hi) * bins)));
    counts[group[i]][b]++;
  }
  return { edges, clean: counts[0], corrupted: counts[1], test: counts[2] };
}
