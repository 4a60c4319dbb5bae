// Accuracy metrics, computed in JS on argmax predictions read back once per split.
import * as tf from '@tensorflow/tfjs-core';
import type { Accuracy } from '../protocol/engineMessages';
import type { Model } from './model';
import { perSampleCE } from './regularizers/loss';

/** Bounds eval memory on large splits; one chunk covers p = 97 entirely. */
const EVAL_CHUNK = 8192;

export function predict(model: Model, x: tf.Tensor2D): Int32Array {
  const n = x.shape[0];
  const out = new Int32Array(n);
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    const pred = tf.tidy(() => tf.argMax(model.apply(tf.slice(x, [start, 0], [size, -1]), false), 1));
    out.set(pred.dataSync() as Int32Array, start);
    pred.dispose();
  }
  return out;
}

/**
 * predict() plus each row's margin z_y - max_{j != y} z_j for its label y (the labelErrors
 * probe's per-epoch bookkeeping): the same eval-mode logits, read back and reduced in JS (one
 * readback instead of the argmax kernel; cheaper on wasm than masking kernels, measured in
 * bench/labelErrorsOverhead.ts). Ties: the first maximal class, as tf.argMax.
 */
export function predictWithMargins(model: Model, x: tf.Tensor2D, labels: Int32Array): { pred: Int32Array; margin: Float32Array } {
  const n = x.shape[0];
  const pred = new Int32Array(n);
  const margin = new Float32Array(n);
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    const logits = tf.tidy(() => model.apply(tf.slice(x, [start, 0], [size, -1]), false));
    const k = logits.shape[1];
    const z = logits.dataSync() as Float32Array;
    logits.dispose();
    for (let i = 0; i < size; i++) {
      const row = i * k;
      const y = labels[start + i];
      let best = 0;
      let other = -Infinity;
      for (let c = 0; c < k; c++) {
        const v = z[row + c];
        if (v > z[row + best]) best = c;
        if (c !== y && v > other) other = v;
      }
      pred[start + i] = best;
      margin[start + i] = z[row + y] - other;
    }
  }
  return { pred, margin };
}

/**
 * clean-train: clean training examples predicted as their label; corrupted-train:
 * corrupted examples predicted as their *corrupted* label (memorization), null
 * without noise; test: held-out pairs predicted correctly.
 */
export interface LabelledSplits {
  train: { labels: Int32Array; corrupted: Uint8Array };
  test: { labels: Int32Array };
}

export function accuracyOf(data: LabelledSplits, trainPred: Int32Array, testPred: Int32Array): Accuracy {
  const { labels, corrupted } = data.train;
  let clean = 0;
  let cleanHits = 0;
  let bad = 0;
  let badHits = 0;
  for (let i = 0; i < labels.length; i++) {
    const hit = trainPred[i] === labels[i] ? 1 : 0;
    if (corrupted[i]) {
      bad++;
      badHits += hit;
    } else {
      clean++;
      cleanHits += hit;
    }
  }
  let testHits = 0;
  for (let i = 0; i < testPred.length; i++) if (testPred[i] === data.test.labels[i]) testHits++;
  return {
    cleanTrain: clean ? cleanHits / clean : 0,
    corruptedTrain: bad ? badHits / bad : null,
    test: testPred.length ? testHits / testPred.length : 0,
  };
}

/** Float one-hot targets [n, classes] for integer labels. */
export function oneHotTargets(labels: Int32Array, classes: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32') as tf.Tensor2D);
}

/** Test predictions and mean cross-entropy against the true test labels, in eval mode. */
export function evaluateTest(model: Model, xTest: tf.Tensor2D, yTest: tf.Tensor2D): { pred: Int32Array; loss: number } {
  const n = xTest.shape[0];
  const pred = new Int32Array(n);
  let lossSum = 0;
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    const [p, l] = tf.tidy(() => {
      const logits = model.forward(tf.slice(xTest, [start, 0], [size, -1]), { mode: 'eval' }).logits;
      return [tf.argMax(logits, 1), tf.sum(perSampleCE(logits, tf.slice(yTest, [start, 0], [size, -1])))];
    });
    pred.set(p.dataSync() as Int32Array, start);
    lossSum += l.dataSync()[0];
    tf.dispose([p, l]);
  }
  return { pred, loss: n ? lossSum / n : NaN };
}
