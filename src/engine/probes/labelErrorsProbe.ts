// The labelErrors probe on the TF.js engine (METHODS §11). During training it only keeps
// O(n) numbers per epoch (labelErrorsPayload.ts) from the evaluation pass train.ts runs
// anyway, plus a copy of the weights whenever the test accuracy reaches a new best. After
// training those weights are put back for a moment to read p(j|x) (and the dropout passes)
// on the training set, then the final weights are restored.
import * as tf from '@tensorflow/tfjs-core';
import type { EpochEvent, LabelErrorsProbe } from '../../protocol/engineMessages';
import type { ProbesSpec } from '../../protocol/experiment';
import { assignWeights, weightsOf } from '../evalThread';
import type { Model } from '../model';
import { mcProbabilities, NO_DROPOUT_MESSAGE } from './mcDropout';
import type { ProbeNetwork } from './network';
import { LabelErrorTracker, labelErrorsPayload, topExamples } from './labelErrorsPayload';

export type LabelErrorsSpec = NonNullable<ProbesSpec['labelErrors']>;

/** What the trainer hands over after each epoch's evaluation. */
export interface EpochEval {
  trainPred: Int32Array;
  trainMargin?: Float32Array;
  /** The epoch's weights (namedWeights order); called only when a copy is kept. */
  weights: () => Float32Array[];
}

export interface LabelErrorsData {
  xTrain: tf.Tensor2D;
  trainLabels: Int32Array;
  corrupted: Uint8Array;
  source?: Int32Array;
  classes: number;
  image?: { width: number; height: number };
}

/** The JSON half of the probe's checkpointed state (weights: each array's length). */
export interface LabelErrorsState {
  epochs: number;
  best?: { epoch: number; test: number; weights: number[] };
}

/** Rows per chunk of the probability pass (bounds memory as evaluate.ts does). */
const CHUNK = 8192;

export class LabelErrorsRun {
  private readonly tracker: LabelErrorTracker;
  private best: { epoch: number; test: number; weights: Float32Array[] } | undefined;

  constructor(
    private readonly spec: LabelErrorsSpec,
    private readonly model: Model,
    private readonly net: ProbeNetwork,
    private readonly data: LabelErrorsData,
    private readonly seed: number,
  ) {
    this.tracker = new LabelErrorTracker(data.trainLabels);
  }

  afterEpoch(e: EpochEvent, ev: EpochEval): void {
    if (!ev.trainMargin) throw new Error('labelErrors: the evaluation returned no margins');
    this.tracker.update(ev.trainPred, ev.trainMargin);
    // Ties keep the earlier epoch: fewer noisy labels memorized by then.
    if (this.spec.checkpoint === 'bestTestAccuracy' && (!this.best || e.accuracy.test > this.best.test)) {
      this.best = { epoch: e.epoch, test: e.accuracy.test, weights: ev.weights() };
    }
  }

  /** What a checkpoint keeps: the tracker's epochs and best epoch as JSON, the arrays beside it. */
  saveState(): { json: LabelErrorsState; arrays: Float32Array[] } {
    const best = this.best ? { epoch: this.best.epoch, test: this.best.test, weights: this.best.weights.map((w) => w.length) } : undefined;
    return { json: { epochs: this.tracker.epochs, ...(best ? { best } : {}) }, arrays: [...this.tracker.snapshot(), ...(this.best?.weights ?? [])] };
  }

  restoreState(json: LabelErrorsState, arrays: Float32Array[]): void {
    this.tracker.restore(json.epochs, arrays.slice(0, 4));
    this.best = json.best ? { epoch: json.best.epoch, test: json.best.test, weights: arrays.slice(4) } : undefined;
    if (json.best && (this.best!.weights.length !== json.best.weights.length || this.best!.weights.some((w, i) => w.length !== json.best!.weights[i]))) {
      throw new Error('labelErrors: the checkpoint\'s best-epoch weights do not match the model');
    }
  }

  /** The payload for the model's current (final) weights, or the best epoch's when kept. */
  finish(epochsDone: number): LabelErrorsProbe {
    const useBest = this.best && this.best.epoch !== epochsDone;
    const current = useBest ? weightsOf(this.model) : undefined;
    if (useBest) assignWeights(this.model, this.best!.weights);
    let probs: Float32Array;
    let mcGiven: Float32Array | string;
    try {
      probs = this.probabilities();
      mcGiven = this.spec.methods.includes('mcDropout') ? this.mcGivenProbability() : 'not asked for';
    } finally {
      if (current) assignWeights(this.model, current);
    }
    const d = this.data;
    const payload = labelErrorsPayload({
      methods: this.spec.methods,
      tracker: this.tracker,
      labels: d.trainLabels,
      classes: d.classes,
      source: d.source ?? Int32Array.from(d.trainLabels, (_, i) => i),
      corrupted: d.corrupted,
      checkpoint: this.best ? 'bestTestAccuracy' : 'last',
      checkpointEpoch: this.best?.epoch ?? epochsDone,
      probs,
      mcGiven,
      topK: this.spec.topK,
    });
    if (d.image) payload.images = this.images(topExamples(payload, this.spec.topK), d.image);
    return payload;
  }

  private probabilities(): Float32Array {
    const x = this.data.xTrain;
    const n = x.shape[0];
    const out = new Float32Array(n * this.data.classes);
    for (let s = 0; s < n; s += CHUNK) {
      const size = Math.min(CHUNK, n - s);
      const p = tf.tidy(() => tf.softmax(this.model.apply(tf.slice(x, [s, 0], [size, -1]), false)));
      out.set(p.dataSync() as Float32Array, s * this.data.classes);
      p.dispose();
    }
    return out;
  }

  /** Mean over the dropout passes of p(y|x), or why there are no passes. */
  private mcGivenProbability(): Float32Array | string {
    if (this.net.unsupported) return `MC dropout unavailable: ${this.net.unsupported}.`;
    if (!this.net.hasDropout) return NO_DROPOUT_MESSAGE;
    const { probs, classes } = mcProbabilities(this.net, this.data.xTrain, this.spec.mcPasses, this.seed);
    const labels = this.data.trainLabels;
    const mean = new Float32Array(labels.length);
    for (const p of probs) for (let i = 0; i < labels.length; i++) mean[i] += p[i * classes + labels[i]] / probs.length;
    return mean;
  }

  private images(rows: number[], shape: { width: number; height: number }): NonNullable<LabelErrorsProbe['images']> {
    if (!rows.length) return [];
    const size = shape.width * shape.height;
    const sel = tf.tidy(() => tf.gather(this.data.xTrain, tf.tensor1d(rows, 'int32')));
    const px = sel.dataSync() as Float32Array;
    sel.dispose();
    return rows.map((index, k) => ({
      index,
      // Two decimals are plenty for a thumbnail and keep the event small.
      image: { width: shape.width, height: shape.height, pixels: Array.from(px.subarray(k * size, k * size + size), (v) => Math.round(v * 100) / 100) },
    }));
  }
}
