// The labelErrors probe's bookkeeping and payload (METHODS §11), pure: per-epoch margins and
// correctness in, the probe payload out. The engine side (labelErrorsProbe.ts) feeds it from
// the evaluation pass it runs after every epoch anyway.
import type { LabelErrorsProbe } from '../../protocol/engineMessages';
import {
  aumScores,
  confidentLearning,
  forgettingScores,
  type LabelErrorMethod,
  mcDisagreementScores,
  rankByScore,
  rankingMetrics,
  smallLossScores,
} from './labelErrors';

/**
 * What is kept per training example across epochs: O(n) numbers, whatever the run's length.
 * Margins and correctness come from the eval-mode pass over the training set after each
 * epoch (the one the epoch's accuracies come from), not from the dropout-perturbed
 * training forward pass.
 */
export class LabelErrorTracker {
  readonly marginSum: Float64Array;
  readonly forgets: Int32Array;
  readonly everCorrect: Uint8Array;
  private readonly wasCorrect: Uint8Array;
  epochs = 0;

  constructor(private readonly labels: Int32Array) {
    const n = labels.length;
    this.marginSum = new Float64Array(n);
    this.forgets = new Int32Array(n);
    this.everCorrect = new Uint8Array(n);
    this.wasCorrect = new Uint8Array(n);
  }

  /** pred: argmax per example; margin: z_y - max_{j != y} z_j for the given label y. */
  update(pred: ArrayLike<number>, margin: ArrayLike<number>): void {
    const n = this.labels.length;
    if (pred.length !== n || margin.length !== n) throw new Error(`labelErrors: expected ${n} predictions and margins, got ${pred.length} and ${margin.length}`);
    for (let i = 0; i < n; i++) {
      const correct = pred[i] === this.labels[i] ? 1 : 0;
      if (this.wasCorrect[i] && !correct) this.forgets[i]++;
      this.wasCorrect[i] = correct;
      if (correct) this.everCorrect[i] = 1;
      this.marginSum[i] += margin[i];
    }
    this.epochs++;
  }

  /**
   * The bookkeeping as float32 arrays, for a run's checkpoint: the float64 margin sums by their
   * bytes (two float32 words each), so a resumed run ranks exactly as one that never stopped.
   */
  snapshot(): Float32Array[] {
    return [new Float32Array(this.marginSum.slice().buffer), Float32Array.from(this.forgets), Float32Array.from(this.everCorrect), Float32Array.from(this.wasCorrect)];
  }

  restore(epochs: number, [marginBytes, forgets, everCorrect, wasCorrect]: Float32Array[]): void {
    const n = this.labels.length;
    if (marginBytes?.length !== 2 * n || forgets?.length !== n || everCorrect?.length !== n || wasCorrect?.length !== n) {
      throw new Error(`labelErrors: the checkpoint's bookkeeping is not for ${n} training examples`);
    }
    this.marginSum.set(new Float64Array(marginBytes.slice().buffer));
    this.forgets.set(forgets);
    this.everCorrect.set(everCorrect);
    this.wasCorrect.set(wasCorrect);
    this.epochs = epochs;
  }
}

export interface LabelErrorsInput {
  methods: LabelErrorMethod[];
  tracker: LabelErrorTracker;
  labels: Int32Array;
  classes: number;
  source: ArrayLike<number>;
  /** The truth (1 = corrupted); undefined or all zero when unknown. */
  corrupted?: ArrayLike<number>;
  checkpoint: 'bestTestAccuracy' | 'last';
  checkpointEpoch: number;
  /** p(j|x) at the checkpoint, eval mode, row-major [n, classes]. */
  probs: ArrayLike<number>;
  /** Mean over dropout passes of p(y|x) at the checkpoint; a string says why there is none. */
  mcGiven: ArrayLike<number> | string;
  topK: number;
}

/** Scores of every method asked for, the truth metrics, everything but the images. */
export function labelErrorsPayload(input: LabelErrorsInput): LabelErrorsProbe {
  const { tracker, labels, classes, probs } = input;
  const n = labels.length;
  const suggested = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    suggested[i] = best;
  }
  let truth: number[] | undefined;
  if (input.corrupted && Array.prototype.some.call(input.corrupted, (v: number) => v !== 0)) truth = Array.from(input.corrupted, (v) => (v ? 1 : 0));
  const methods = input.methods.map((method): LabelErrorsProbe['methods'][number] => {
    let scores: Float64Array;
    let flagged: number | undefined;
    switch (method) {
      case 'aum':
        scores = aumScores(tracker.marginSum, tracker.epochs);
        break;
      case 'forgetting':
        scores = forgettingScores(tracker.forgets, tracker.everCorrect, tracker.epochs);
        break;
      case 'smallLoss':
        scores = smallLossScores(probs, labels, classes);
        break;
      case 'confidentLearning': {
        const cl = confidentLearning(probs, labels, classes);
        scores = cl.scores;
        flagged = cl.flagged.reduce((a, b) => a + b, 0);
        break;
      }
      case 'mcDropout':
        if (typeof input.mcGiven === 'string') return { method, unavailable: input.mcGiven };
        scores = mcDisagreementScores(input.mcGiven);
        break;
    }
    const metrics = truth ? rankingMetrics(scores, truth) : null;
    return { method, scores: Array.from(scores), ...(flagged !== undefined ? { flagged } : {}), ...(metrics ? { metrics } : {}) };
  });
  return {
    kind: 'labelErrors',
    examples: n,
    epochsTracked: tracker.epochs,
    checkpointEpoch: input.checkpointEpoch,
    checkpoint: input.checkpoint,
    given: Array.from(labels),
    suggested,
    source: Array.from(input.source),
    ...(truth ? { corrupted: truth as (0 | 1)[] } : {}),
    methods,
  };
}

/** The examples whose images the payload carries: the union of every method's top k, in first-seen order. */
export function topExamples(payload: LabelErrorsProbe, k: number): number[] {
  const seen = new Set<number>();
  for (const m of payload.methods) {
    if (!m.scores) continue;
    for (const i of rankByScore(m.scores).slice(0, k)) seen.add(i);
  }
  return [...seen];
}
