// Losses of the training loop. Cross-entropy is written out (log-softmax) rather than
// tf.losses.softmaxCrossEntropy so per-sample losses (co-teaching), soft targets
// (CutMix, smoothing) and a candidate mask share one code path.
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model';

/** Masked-out logits get this added: exp underflows to exactly 0, with no inf - inf NaNs. */
const MASKED = -1e9;

/** Per-sample CE between soft targets y [n, K] and logits [n, K]; candidates: 0/1 over K. */
export function perSampleCE(logits: tf.Tensor2D, y: tf.Tensor2D, candidates?: tf.Tensor1D): tf.Tensor1D {
  const z = candidates ? tf.add(logits, tf.mul(tf.sub(1, candidates), MASKED)) : logits;
  const logp = tf.logSoftmax(z);
  // Classes outside the candidate set carry target 0; mask them so 0 * -1e9 stays 0 exactly.
  const yy = candidates ? tf.mul(y, candidates) : y;
  return tf.neg(tf.sum(tf.mul(yy, logp), 1)) as tf.Tensor1D;
}

export function meanCE(logits: tf.Tensor2D, y: tf.Tensor2D, candidates?: tf.Tensor1D): tf.Scalar {
  return tf.mean(perSampleCE(logits, y, candidates)) as tf.Scalar;
}

/** Coupled L2: lambda * sum ||W||^2 over kernels (not biases, not batch-norm parameters). */
export function l2Penalty(model: Model, lambda: number): tf.Scalar {
  let total: tf.Scalar = tf.scalar(0);
  for (const k of model.kernels) total = tf.add(total, tf.sum(tf.square(k)));
  return tf.mul(total, lambda);
}

/** Label smoothing: (1 - eps) y + eps / K. */
export function smooth(y: tf.Tensor2D, eps: number): tf.Tensor2D {
  if (!eps) return y;
  return tf.add(tf.mul(y, 1 - eps), eps / y.shape[1]);
}

/**
 * Multi-sample dropout (Inoue 2019, METHODS §4): one trunk pass, then M independent dropout
 * masks on the features entering the last dense layer, the shared head on each, and the
 * M *losses* averaged (averaging logits would be a different, weaker regularizer).
 */
export function multiSampleDropoutLoss(
  features: tf.Tensor2D,
  model: Model,
  y: tf.Tensor2D,
  samples: number,
  rate: number,
  nextSeed: () => number,
  candidates?: tf.Tensor1D,
): tf.Scalar {
  let total: tf.Scalar = tf.scalar(0);
  for (let m = 0; m < samples; m++) {
    const dropped = rate > 0 ? (tf.dropout(features, rate, undefined, nextSeed()) as tf.Tensor2D) : features;
    total = tf.add(total, meanCE(model.head(dropped), y, candidates));
  }
  return tf.div(total, samples);
}
