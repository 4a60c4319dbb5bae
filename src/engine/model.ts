// Builds a feed-forward model from the experiment's layer list on raw tf.Variables.
// tf.layers / model.fit are avoided on purpose: they take the slow matmul-gradient
// path on wasm (RECIPES §2) and hide the weights the probes need to read.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../protocol/experiment';
import { fastMatMul, fastMatMulDataInput } from './matmul';
import { deriveRng, randNormal, Rng } from './prng';

export interface DenseParams {
  kind: 'dense';
  kernel: tf.Variable<tf.Rank.R2>;
  bias?: tf.Variable<tf.Rank.R1>;
}

type Step =
  | DenseParams
  | { kind: 'activation'; fn: (x: tf.Tensor2D) => tf.Tensor2D }
  | { kind: 'dropout'; rate: number };

export interface Model {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly parameters: number;
  /** Every trainable variable (kernels and biases), in layer order. */
  readonly variables: tf.Variable[];
  readonly dense: DenseParams[];
  /**
   * Logits for a batch. Dropout is active only when training; nextSeed supplies
   * the dropout mask seeds so training stays reproducible.
   */
  apply(x: tf.Tensor2D, training: boolean, nextSeed?: () => number): tf.Tensor2D;
  dispose(): void;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

const activations: Record<Extract<LayerSpec, { type: 'activation' }>['fn'], (x: tf.Tensor2D) => tf.Tensor2D> = {
  relu: (x) => tf.relu(x),
  // The quadratic network of Doshi et al. (phi(x) = x^2).
  square: (x) => tf.square(x),
  tanh: (x) => tf.tanh(x),
  sigmoid: (x) => tf.sigmoid(x),
  // tfjs-core has no gelu op; tanh approximation (Hendrycks & Gimpel), as in GPT-2 and Keras approximate=True.
  gelu: (x) =>
    tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI)))),
};

function initKernel(spec: Extract<LayerSpec, { type: 'dense' }>, fanIn: number, rng: Rng): Float32Array {
  const fanOut = spec.units;
  const values = new Float32Array(fanIn * fanOut);
  if (spec.init === 'glorot') {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < values.length; i++) values[i] = (2 * rng() - 1) * limit;
    return values;
  }
  // 'he': N(0, 2/fanIn). 'normal' without initStd: LeCun's N(0, 1/fanIn).
  const std = spec.init === 'he' ? Math.sqrt(2 / fanIn) : (spec.initStd ?? 1 / Math.sqrt(fanIn));
  for (let i = 0; i < values.length; i++) values[i] = randNormal(rng) * std;
  return values;
}

/** tf.variable shares the initial tensor's data and leaves that tensor alive: dispose it. */
function ownedVariable<R extends tf.Rank>(initial: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(initial, true);
  initial.dispose();
  return v;
}

/**
 * Initial weights are drawn in JS from the experiment seed, so a run starts from
 * the same weights on every backend.
 */
export function buildModel(layers: LayerSpec[], inputSize: number, seed: number): Model {
  const rng = deriveRng(seed, 'init');
  const steps: Step[] = [];
  const dense: DenseParams[] = [];
  let width = inputSize;
  for (const layer of layers) {
    if (layer.type === 'dense') {
      const kernel = ownedVariable(tf.tensor2d(initKernel(layer, width, rng), [width, layer.units]));
      const bias = layer.useBias ? ownedVariable(tf.zeros([layer.units]) as tf.Tensor1D) : undefined;
      const params: DenseParams = { kind: 'dense', kernel, bias };
      steps.push(params);
      dense.push(params);
      width = layer.units;
    } else if (layer.type === 'activation') {
      steps.push({ kind: 'activation', fn: activations[layer.fn] });
    } else {
      steps.push({ kind: 'dropout', rate: layer.rate });
    }
  }
  const variables: tf.Variable[] = dense.flatMap((d) => (d.bias ? [d.kernel, d.bias] : [d.kernel]));
  const parameters = variables.reduce((n, v) => n + v.size, 0);

  return {
    inputSize,
    outputSize: width,
    parameters,
    variables,
    dense,
    apply(x, training, nextSeed) {
      let h = x;
      let first = true;
      for (const step of steps) {
        if (step.kind === 'dense') {
          h = (first ? fastMatMulDataInput : fastMatMul)(h, step.kernel);
          if (step.bias) h = tf.add(h, step.bias);
          first = false;
        } else if (step.kind === 'activation') {
          h = step.fn(h);
        } else if (training && step.rate > 0) {
          h = tf.dropout(h, step.rate, undefined, nextSeed?.()) as tf.Tensor2D;
        }
      }
      return h;
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}
