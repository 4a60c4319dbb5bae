// Pure numeric helpers for the dashboard (no DOM): binning, sorting, calibration,
// downsampling and alignment. Unit-tested in test/unit/webview/stats.test.ts.

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
}

/** Equal-width histogram over [lo, hi]; values outside are clamped into the end bins. */
export function histogram(values: ArrayLike<number>, bins: number, lo?: number, hi?: number): Histogram {
  let min = lo ?? Infinity;
  let max = hi ?? -Infinity;
  if (lo === undefined || hi === undefined) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (lo === undefined && v < min) min = v;
      if (hi === undefined && v > max) max = v;
    }
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    min = 0;
    max = 1;
  }
  // A constant layer would make every edge equal: widen so the single bar is visible.
  if (max <= min) {
    min -= 0.5;
    max += 0.5;
  }
  const n = Math.max(1, Math.floor(bins));
  const width = (max - min) / n;
  const edges = Array.from({ length: n + 1 }, (_, i) => min + i * width);
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const b = Math.min(n - 1, Math.max(0, Math.floor((v - min) / width)));
    counts[b]++;
  }
  return { edges, counts };
}

/** Indices ordered by descending score (ties keep index order, so rows do not jitter). */
export function sortOrder(scores: ArrayLike<number>): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b] - scores[a] || a - b);
}

export interface ReliabilityBin {
  confidence: number;
  accuracy: number;
  count: number;
}

/** Expected calibration error: count-weighted mean |accuracy - confidence| over the bins. */
export function expectedCalibrationError(bins: readonly ReliabilityBin[]): number | undefined {
  let total = 0;
  let sum = 0;
  for (const b of bins) {
    total += b.count;
    sum += b.count * Math.abs(b.accuracy - b.confidence);
  }
  return total > 0 ? sum / total : undefined;
}

/**
 * Indices to keep when drawing n points in at most maxPoints: an even stride that always
 * keeps the first and the last point (the latest epoch must stay visible while training).
 */
export function downsampleIndices(n: number, maxPoints: number): number[] {
  if (n <= maxPoints || maxPoints < 2) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  const step = (n - 1) / (maxPoints - 1);
  let prev = -1;
  for (let i = 0; i < maxPoints; i++) {
    const j = Math.round(i * step);
    if (j !== prev) out.push(j);
    prev = j;
  }
  return out;
}

export function pick<T>(xs: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => xs[i]);
}

/**
 * Columns of a heatmap when there are more snapshots than pixels: column c averages the
 * snapshots [start[c], start[c+1]). Averaging (not skipping) keeps short spikes visible.
 */
export function bucketStarts(snapshots: number, maxCols: number): number[] {
  const cols = Math.max(1, Math.min(snapshots, maxCols));
  return Array.from({ length: cols + 1 }, (_, c) => Math.floor((c * snapshots) / cols));
}

/** What the unlearning criterion found in a corrupted-train curve. */
export interface UnlearningVerdict {
  /** First epoch at or under peak - margin, from which the curve stays under it; undefined = no unlearning. */
  epoch: number | undefined;
  peak: number;
  peakEpoch: number;
  /** The fall the criterion asked for: min(maxMargin, peak / 2). */
  margin: number;
  /** One sentence for the page: what was found, with the numbers. */
  reason: string;
}

export const unlearningCriterion = {
  /** The fall asked for: 20 points, or half the peak when the peak is under 40%. */
  maxMargin: 0.2,
  /** Epochs under the threshold, at least, before it counts (one low epoch is noise). */
  minEpochsBelow: 5,
} as const;

/**
 * Did the model unlearn the corrupted labels it had memorized? Yes when corrupted-train
 * accuracy (1) rose to its peak by at least the margin from where it started, then (2)
 * fell to peak - margin, where margin = min(20 points, half the peak), and (3) stayed under
 * that for the rest of the run and for at least 5 recorded epochs. A curve that is highest
 * at the start (moons: corrupted accuracy at chance in epoch 1, then falling as the rule is
 * learned) never memorized anything, so it is not unlearning; a curve wobbling 20-35% after
 * a 40% peak does not stay 20 points down either. Null values (no corrupted labels) are skipped.
 */
export function unlearning(epochs: readonly number[], corrupted: readonly (number | null)[]): UnlearningVerdict | undefined {
  const pts: [number, number][] = [];
  corrupted.forEach((v, i) => {
    if (v !== null && Number.isFinite(v)) pts.push([epochs[i], v]);
  });
  if (pts.length === 0) return undefined;
  let p = 0;
  for (let i = 1; i < pts.length; i++) if (pts[i][1] > pts[p][1]) p = i;
  const [peakEpoch, peak] = pts[p];
  const margin = Math.min(unlearningCriterion.maxMargin, peak / 2);
  const pctOf = (x: number) => `${Math.round(x * 100)}%`;
  const none = (why: string): UnlearningVerdict => ({ epoch: undefined, peak, peakEpoch, margin, reason: why });
  let low = peak;
  for (let i = 0; i <= p; i++) low = Math.min(low, pts[i][1]);
  if (peak - low < margin || peak < 0.05) {
    return none(`No unlearning: corrupted-train accuracy never rose to a peak it could fall from (highest ${pctOf(peak)} at epoch ${peakEpoch}, from ${pctOf(low)}).`);
  }
  const threshold = peak - margin;
  // The last epoch above the threshold after the peak: unlearning starts after it.
  let lastAbove = p;
  for (let i = p + 1; i < pts.length; i++) if (pts[i][1] > threshold) lastAbove = i;
  const below = pts.length - 1 - lastAbove;
  const now = pts[pts.length - 1][1];
  if (below < unlearningCriterion.minEpochsBelow) {
    return none(
      `No unlearning: corrupted-train accuracy peaked at ${pctOf(peak)} (epoch ${peakEpoch}) and is ${pctOf(now)} now; unlearning needs it to stay under ${pctOf(threshold)} (${Math.round(margin * 100)} points below the peak) for ${unlearningCriterion.minEpochsBelow} epochs.`,
    );
  }
  const epoch = pts[lastAbove + 1][0];
  return {
    epoch,
    peak,
    peakEpoch,
    margin,
    reason: `Unlearning from epoch ${epoch}: corrupted-train accuracy peaked at ${pctOf(peak)} (epoch ${peakEpoch}), fell under ${pctOf(threshold)} (${Math.round(margin * 100)} points below the peak) and stayed there; ${pctOf(now)} now.`,
  };
}

/** The unlearning epoch alone (see `unlearning`). */
export function detectUnlearningEpoch(epochs: readonly number[], corrupted: readonly (number | null)[]): number | undefined {
  return unlearning(epochs, corrupted)?.epoch;
}

/**
 * Puts several runs on one x axis (uPlot needs a shared, sorted x): the union of their
 * epochs, with null where a run has no value at that epoch.
 */
export function alignSeries(runs: readonly { x: readonly number[]; y: readonly (number | null)[] }[]): {
  x: number[];
  ys: (number | null)[][];
} {
  const xs = new Set<number>();
  for (const r of runs) for (const v of r.x) xs.add(v);
  const x = [...xs].sort((a, b) => a - b);
  const pos = new Map(x.map((v, i) => [v, i]));
  const ys = runs.map((r) => {
    const y = new Array<number | null>(x.length).fill(null);
    r.x.forEach((v, i) => (y[pos.get(v)!] = r.y[i] ?? null));
    return y;
  });
  return { x, ys };
}

/** Min and max of the finite values, or undefined when there are none. */
export function extent(values: ArrayLike<number>): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : undefined;
}

/** Steps an integer axis may use (1, 2, 5 x 10^k): round numbers a reader can count along. */
const integerSteps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000];

/**
 * Tick positions for an axis of integers (epochs, unit counts): multiples of the smallest
 * round step >= minStep (the spacing uPlot found for the axis width), inside [min, max].
 * Never a fractional tick, however few epochs there are.
 */
export function integerTicks(min: number, max: number, minStep: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  const want = Math.max(1, Number.isFinite(minStep) ? minStep : 1);
  const step = integerSteps.find((s) => s >= want) ?? Math.ceil(want);
  const first = Math.ceil(min / step) * step;
  const out: number[] = [];
  for (let v = first; v <= max + 1e-9 && out.length < 1000; v += step) out.push(v);
  return out;
}

/** The frequency with the largest share of a unit's power (ignoring k = 0, the mean). */
export function dominantFrequency(spectrum: readonly number[]): { k: number; share: number } | undefined {
  let total = 0;
  for (const v of spectrum) total += v;
  let best = -1;
  for (let k = 1; k < spectrum.length; k++) if (best < 0 || spectrum[k] > spectrum[best]) best = k;
  if (best < 0 || total <= 0) return undefined;
  return { k: best, share: spectrum[best] / total };
}
