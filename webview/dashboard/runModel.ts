// Incremental model of one run for the dashboard (no DOM). Events are applied once, in
// order; renders read the accumulated state, so a 2,000-epoch run with a neuron snapshot
// per epoch never re-scans its whole history on every update.
import type { EngineEvent, EpochEvent, LabelErrorsProbe, StartedEvent } from '../../src/protocol/engineMessages';
import type { z } from 'zod';
import type {
  McDropoutProbeSchema,
  NestedOrderingProbeSchema,
  NeuronScoresProbeSchema,
  PruningProbeSchema,
} from '../../src/protocol/engineMessages';
import { bucketStarts, sortOrder, unlearning, type UnlearningVerdict } from './stats';

export type NeuronScoresProbe = z.infer<typeof NeuronScoresProbeSchema>;
export type PruningProbe = z.infer<typeof PruningProbeSchema>;
export type McDropoutProbe = z.infer<typeof McDropoutProbeSchema>;
export type NestedOrderingProbe = z.infer<typeof NestedOrderingProbeSchema>;

export interface NeuronHistory {
  layer: string;
  method: NeuronScoresProbe['method'];
  /** Epoch of each snapshot, ascending. */
  epochs: number[];
  /** Memorization score per unit, one array per snapshot (aligned with `epochs`). */
  scores: Float32Array[];
  /** The last snapshot in full (raw values and click-through details). */
  latest: NeuronScoresProbe;
  min: number;
  max: number;
}

export interface Stamped<T> {
  epoch: number;
  probe: T;
}

export class RunModel {
  readonly epochs: EpochEvent[] = [];
  started: StartedEvent | undefined;
  /** Per layer, in the order layers first appeared. */
  readonly neurons = new Map<string, NeuronHistory>();
  pruning: Stamped<PruningProbe> | undefined;
  mcDropout: Stamped<McDropoutProbe> | undefined;
  nested: Stamped<NestedOrderingProbe> | undefined;
  labelErrors: Stamped<LabelErrorsProbe> | undefined;
  /** From the dynamics probe; null = the probe ran and found none. */
  unlearningEpochProbe: number | null | undefined;
  degradationEpoch: number | null | undefined;
  /** Engine log lines and the failure message, in order. */
  readonly logs: { level: 'info' | 'warning' | 'error'; message: string }[] = [];
  /** Bumped on every change to the neuron histories, so the heatmap redraws only then. */
  neuronVersion = 0;
  /** Wall time of the probe calls that recorded one (the recorder's), and how many did. */
  probeSeconds = 0;
  timedProbes = 0;
  private verdictCache: { n: number; v: UnlearningVerdict | undefined } | undefined;

  constructor(events: readonly EngineEvent[] = []) {
    this.apply(events);
  }

  apply(events: readonly EngineEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'started':
          this.started = e;
          break;
        case 'epoch':
          this.epochs.push(e);
          break;
        case 'probe':
          this.applyProbe(e.epoch, e.probe);
          if (e.seconds !== undefined) {
            this.probeSeconds += e.seconds;
            this.timedProbes++;
          }
          break;
        case 'log':
          this.logs.push({ level: e.level, message: e.message });
          break;
        case 'failed':
          this.logs.push({ level: 'error', message: `failed: ${e.message}` });
          break;
        default:
          break;
      }
    }
  }

  private applyProbe(epoch: number, probe: Extract<EngineEvent, { type: 'probe' }>['probe']): void {
    switch (probe.kind) {
      case 'neuronScores': {
        let h = this.neurons.get(probe.layer);
        if (!h) {
          h = { layer: probe.layer, method: probe.method, epochs: [], scores: [], latest: probe, min: Infinity, max: -Infinity };
          this.neurons.set(probe.layer, h);
        }
        const scores = Float32Array.from(probe.scores);
        for (const v of scores) {
          if (v < h.min) h.min = v;
          if (v > h.max) h.max = v;
        }
        const last = h.epochs.length - 1;
        // A re-sent snapshot of the same epoch replaces the earlier one (engine contract).
        if (last >= 0 && h.epochs[last] === epoch) h.scores[last] = scores;
        else {
          h.epochs.push(epoch);
          h.scores.push(scores);
        }
        h.latest = probe;
        h.method = probe.method;
        this.neuronVersion++;
        break;
      }
      case 'pruning':
        this.pruning = { epoch, probe };
        break;
      case 'mcDropout':
        this.mcDropout = { epoch, probe };
        break;
      case 'nestedOrdering':
        this.nested = { epoch, probe };
        break;
      case 'labelErrors':
        this.labelErrors = { epoch, probe };
        break;
      case 'dynamics':
        this.unlearningEpochProbe = probe.unlearningEpoch;
        this.degradationEpoch = probe.degradationEpoch;
        break;
    }
  }

  lastEpoch(): EpochEvent | undefined {
    return this.epochs[this.epochs.length - 1];
  }

  /**
   * Unlearning by the dashboard's criterion (stats.ts `unlearning`) on the whole curve. The
   * dynamics probe's own epoch is not used for the marker: it marks the epoch after any
   * peak, also on runs whose corrupted accuracy never falls for good.
   */
  unlearningVerdict(): UnlearningVerdict | undefined {
    if (this.verdictCache?.n === this.epochs.length) return this.verdictCache.v;
    const v = unlearning(
      this.epochs.map((x) => x.epoch),
      this.epochs.map((x) => x.accuracy.corruptedTrain),
    );
    this.verdictCache = { n: this.epochs.length, v };
    return v;
  }

  unlearningEpoch(): { epoch: number } | undefined {
    const e = this.unlearningVerdict()?.epoch;
    return e === undefined ? undefined : { epoch: e };
  }

  hasLabelPrecision(): boolean {
    return this.epochs.some((e) => e.labelPrecision !== undefined);
  }

  hasTestLoss(): boolean {
    return this.epochs.some((e) => e.testLoss !== undefined);
  }
}

export interface HeatmapGrid {
  rows: number;
  cols: number;
  /** Row-major rows x cols values normalised to [0,1]; row r is unit order[r]. */
  values: Float32Array;
  /** Unit index of each row (most memorizing first). */
  order: number[];
  /** Last epoch covered by each column. */
  colEpochs: number[];
}

/**
 * Running sums of a history's snapshots, so a live update costs units x columns, not
 * units x snapshots. Unit-major (sum of unit u over snapshots 0..s-1 at u * capacity + s),
 * so filling a heatmap row reads and writes memory in order.
 */
interface PrefixSums {
  units: number;
  capacity: number;
  cum: Float64Array;
  /** The snapshots summed so far (by identity: the last one can be replaced in place). */
  refs: Float32Array[];
}
const prefixCache = new WeakMap<NeuronHistory, PrefixSums>();

function prefixSums(h: NeuronHistory, units: number): PrefixSums {
  const n = h.scores.length;
  let c = prefixCache.get(h);
  if (!c || c.units !== units) {
    c = { units, capacity: 0, cum: new Float64Array(0), refs: [] };
    prefixCache.set(h, c);
  }
  let valid = 0;
  while (valid < c.refs.length && valid < n && c.refs[valid] === h.scores[valid]) valid++;
  c.refs.length = valid;
  if (n + 1 > c.capacity) {
    const capacity = Math.max(64, 2 * (n + 1));
    const cum = new Float64Array(units * capacity);
    for (let u = 0; u < units; u++) cum.set(c.cum.subarray(u * c.capacity, u * c.capacity + valid + 1), u * capacity);
    c.cum = cum;
    c.capacity = capacity;
  }
  const { cum, capacity } = c;
  for (let s = valid; s < n; s++) {
    const snap = h.scores[s];
    // A snapshot of another width (layer resized between runs' files) adds nothing, not misdrawn cells.
    const same = snap.length === units;
    for (let u = 0; u < units; u++) {
      const i = u * capacity + s;
      cum[i + 1] = cum[i] + (same ? snap[u] : 0);
    }
    c.refs.push(snap);
  }
  return c;
}

/**
 * The heatmap's cells: units sorted by their score at the latest snapshot (most memorizing
 * on top), snapshots bucketed into at most maxCols columns and normalised over the history.
 */
export function heatmapGrid(h: NeuronHistory, maxCols: number): HeatmapGrid {
  const n = h.scores.length;
  const units = n ? h.scores[n - 1].length : 0;
  const order = n ? sortOrder(h.scores[n - 1]) : [];
  const starts = bucketStarts(n, maxCols);
  const cols = n ? starts.length - 1 : 0;
  const values = new Float32Array(units * cols);
  const span = h.max > h.min ? h.max - h.min : 1;
  if (n) {
    const { cum, capacity } = prefixSums(h, units);
    // Buckets tile the snapshots (each ends where the next starts), so every running sum is read once.
    const ends = new Int32Array(cols);
    const scale = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      ends[c] = Math.max(starts[c] + 1, starts[c + 1]);
      scale[c] = 1 / ((ends[c] - starts[c]) * span);
    }
    const offset = h.min / span;
    const first = starts[0];
    for (let r = 0; r < units; r++) {
      const base = order[r] * capacity;
      const row = r * cols;
      let prev = cum[base + first];
      for (let c = 0; c < cols; c++) {
        const next = cum[base + ends[c]];
        values[row + c] = (next - prev) * scale[c] - offset;
        prev = next;
      }
    }
  }
  const colEpochs = Array.from({ length: cols }, (_, c) => h.epochs[Math.max(starts[c], starts[c + 1] - 1)]);
  return { rows: units, cols, values, order, colEpochs };
}
