// Builds a model from the experiment's layer list on raw tf.Variables.
// tf.layers / model.fit are avoided on purpose: they take the slow matmul-gradient
// path on wasm (RECIPES §2) and hide the weights the probes need to read.
//
// For the probes (contract, keep stable):
// - model.hiddenLayers(): the dense layers except the last, as { name: 'dense_<i>', units }.
//   Unit j of 'dense_i' is feature j of what leaves that layer's block, i.e. the tensor fed
//   to the next dense layer (after its activation, dropout, batch norm, nested dropout).
// - model.forward(x, { mode, mask: { layer, mask }, capture }) returns the logits and, when
//   capture names a layer, that layer's activations [n, units] (after any mask). A mask
//   (Tensor1D of units, or Tensor2D [n, units]) multiplies that layer's units: zeros
//   ablate / prune units, a prefix of ones truncates a nested-dropout layer.
// - model.forwardWithMask(x, { layer, mask }): eval-mode logits with the mask applied.
// - mode 'mcDropout': dropout layers active, batch norm in inference mode, nested dropout off
//   (METHODS §3). 'train' also updates batch-norm running statistics.
// Call all of these inside tf.tidy: they return new tensors.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../protocol/experiment';
import type { ImageShape } from './data/dataset';
import { fastMatMul, fastMatMulDataInput } from './matmul';
import { deriveRng, randNormal, Rng } from './prng';

export interface DenseParams {
  kind: 'dense';
  name: string;
  kernel: tf.Variable<tf.Rank.R2>;
  bias?: tf.Variable<tf.Rank.R1>;
}

interface BatchNormParams {
  kind: 'batchNorm';
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.Variable;
  movingVar: tf.Variable;
  momentum: number;
  epsilon: number;
}

interface ConvParams {
  kind: 'conv2d';
  name: string;
  kernel: tf.Variable<tf.Rank.R4>;
  bias?: tf.Variable<tf.Rank.R1>;
  strides: number;
  padding: 'same' | 'valid';
}

type Step =
  | DenseParams
  | BatchNormParams
  | ConvParams
  | { kind: 'activation'; fn: (x: tf.Tensor) => tf.Tensor }
  | { kind: 'dropout'; rate: number }
  | { kind: 'nestedDropout'; units: number; sample: (rng: Rng) => number }
  | { kind: 'maxPool'; size: number }
  | { kind: 'flatten' }
  | { kind: 'toImage'; shape: [number, number, number] }
  // Where a hidden layer's units can be captured / masked (just before the next dense layer).
  | { kind: 'tap'; name: string; units: number };

export type ForwardMode = 'train' | 'eval' | 'mcDropout';

export interface ForwardOptions {
  mode: ForwardMode;
  /** Dropout mask seeds (reproducible training). */
  nextSeed?: () => number;
  /** Draws nested-dropout prefix lengths; without it nested dropout keeps every unit. */
  rng?: Rng;
  mask?: { layer: string; mask: tf.Tensor };
  capture?: string;
  /** Stop before the last dense layer and return its input (multi-sample dropout). */
  featuresOnly?: boolean;
}

export interface Model {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly parameters: number;
  /** Every trainable variable (kernels, biases, batch-norm scale and shift), in layer order. */
  readonly variables: tf.Variable[];
  /** Kernels only (dense and conv): what coupled L2 penalises. */
  readonly kernels: tf.Variable[];
  /** Batch-norm running statistics (not trained, not decayed). */
  readonly stateVariables: tf.Variable[];
  readonly dense: DenseParams[];
  readonly hasDropout: boolean;
  readonly hasConv: boolean;
  /**
   * Logits for a batch. Dropout is active only when training; nextSeed supplies
   * the dropout mask seeds so training stays reproducible.
   */
  apply(x: tf.Tensor2D, training: boolean, nextSeed?: () => number, rng?: Rng): tf.Tensor2D;
  forward(x: tf.Tensor2D, opts: ForwardOptions): { logits: tf.Tensor2D; hidden?: tf.Tensor2D };
  forwardWithMask(x: tf.Tensor2D, m: { layer: string; mask: tf.Tensor }): tf.Tensor2D;
  /** The last dense layer (and what follows it) applied to features from forward({featuresOnly}). */
  head(features: tf.Tensor2D): tf.Tensor2D;
  hiddenLayers(): { name: string; units: number }[];
  /** Every weight (trainable and batch-norm state) with a stable name such as "dense_0/kernel", in layer order: what saveModel writes and `initial` reloads. */
  namedWeights(): { name: string; variable: tf.Variable }[];
  dispose(): void;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Element-wise, so rank-preserving; shared with the probes' split forward pass (probes/network.ts). */
export const activations: Record<Extract<LayerSpec, { type: 'activation' }>['fn'], (x: tf.Tensor) => tf.Tensor> = {
  relu: (x) => tf.relu(x),
  // The quadratic network of Doshi et al. (phi(x) = x^2).
  square: (x) => tf.square(x),
  tanh: (x) => tf.tanh(x),
  sigmoid: (x) => tf.sigmoid(x),
  // tfjs-core has no gelu op; tanh approximation (Hendrycks & Gimpel), as in GPT-2 and Keras approximate=True.
  gelu: (x) =>
    tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI)))),
};

function initValues(init: 'glorot' | 'he' | 'normal', initStd: number | undefined, fanIn: number, fanOut: number, count: number, rng: Rng): Float32Array {
  const values = new Float32Array(count);
  if (init === 'glorot') {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < values.length; i++) values[i] = (2 * rng() - 1) * limit;
    return values;
  }
  // 'he': N(0, 2/fanIn). 'normal' without initStd: LeCun's N(0, 1/fanIn).
  const std = init === 'he' ? Math.sqrt(2 / fanIn) : (initStd ?? 1 / Math.sqrt(fanIn));
  for (let i = 0; i < values.length; i++) values[i] = randNormal(rng) * std;
  return values;
}

/** tf.variable shares the initial tensor's data and leaves that tensor alive: dispose it. */
function ownedVariable<R extends tf.Rank>(initial: tf.Tensor<R>, trainable = true): tf.Variable<R> {
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}

/**
 * Prefix-length sampler of nested dropout, k in 1..units (METHODS §2). halfGaussian:
 * p(k) ~ exp(-((k - 1)/sigma)^2) (mu = 0 on a 0-based index, as in the reference code);
 * geometric: p(k) = (1 - rho) rho^(k-1), truncated at units. Inverse-CDF on a table.
 */
export function nestedSampler(units: number, spec: { distribution: 'halfGaussian' | 'geometric'; sigma: number; rho: number }): (rng: Rng) => number {
  const cdf = new Float64Array(units);
  let total = 0;
  for (let k = 1; k <= units; k++) {
    total += spec.distribution === 'geometric' ? (1 - spec.rho) * spec.rho ** (k - 1) : Math.exp(-(((k - 1) / spec.sigma) ** 2));
    cdf[k - 1] = total;
  }
  return (rng) => {
    const u = rng() * total;
    let lo = 0;
    let hi = units - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

export class ModelShapeError extends Error {}

/**
 * Initial weights are drawn in JS from the experiment seed, so a run starts from
 * the same weights on every backend. image: the dataset's image shape (conv layers
 * reshape the flat rows to it). initStream lets co-teaching build a second, differently
 * initialised network from the same seed.
 */
export function buildModel(
  layers: LayerSpec[],
  inputSize: number,
  seed: number,
  image?: ImageShape,
  initStream = 'init',
  /** Starting weights by name (a saved model); missing names keep the seeded init. */
  initial?: ReadonlyMap<string, Float32Array>,
): Model {
  const rng = deriveRng(seed, initStream);
  const named: { name: string; variable: tf.Variable }[] = [];
  // The seeded draw happens either way, so the init of the other layers does not depend on which names were given.
  const owned = <R extends tf.Rank>(name: string, t: tf.Tensor<R>, trainable = true): tf.Variable<R> => {
    const given = initial?.get(name);
    let v: tf.Variable<R>;
    if (given) {
      if (given.length !== t.size) throw new ModelShapeError(`saved weight ${name} has ${given.length} values, the layer needs ${t.size} (shape ${t.shape.join('x')})`);
      v = ownedVariable(tf.tensor(given, t.shape) as tf.Tensor<R>, trainable);
      t.dispose();
    } else {
      v = ownedVariable(t, trainable);
    }
    named.push({ name, variable: v });
    return v;
  };
  let bnIndex = 0;
  const steps: Step[] = [];
  const dense: DenseParams[] = [];
  const variables: tf.Variable[] = [];
  const kernels: tf.Variable[] = [];
  const stateVariables: tf.Variable[] = [];
  // Feature shape without the batch axis: [d] or [h, w, c].
  let shape: number[] = [inputSize];
  let convIndex = 0;
  let hasDropout = false;
  layers.forEach((layer, li) => {
    const where = `model.layers.${li}`;
    if (layer.type === 'conv2d' || layer.type === 'maxPool') {
      if (shape.length === 1) {
        if (!image || image.height * image.width * image.channels !== shape[0]) {
          throw new ModelShapeError(`${where}: ${layer.type} needs image input (the mnist dataset) before any flatten/dense layer`);
        }
        shape = [image.height, image.width, image.channels];
        steps.push({ kind: 'toImage', shape: shape as [number, number, number] });
      }
    }
    if (layer.type === 'dense') {
      if (shape.length !== 1) throw new ModelShapeError(`${where}: add a flatten layer before this dense layer`);
      const fanIn = shape[0];
      const name = `dense_${dense.length}`;
      const kernel = owned(`${name}/kernel`, tf.tensor2d(initValues(layer.init, layer.initStd, fanIn, layer.units, fanIn * layer.units, rng), [fanIn, layer.units]));
      const bias = layer.useBias ? owned(`${name}/bias`, tf.zeros([layer.units]) as tf.Tensor1D) : undefined;
      const params: DenseParams = { kind: 'dense', name, kernel, bias };
      steps.push(params);
      dense.push(params);
      variables.push(kernel, ...(bias ? [bias] : []));
      kernels.push(kernel);
      shape = [layer.units];
    } else if (layer.type === 'conv2d') {
      const [h, w, c] = shape;
      const k = layer.kernelSize;
      const count = k * k * c * layer.filters;
      const name = `conv_${convIndex++}`;
      const kernel = owned(`${name}/kernel`, tf.tensor4d(initValues('he', undefined, k * k * c, layer.filters, count, rng), [k, k, c, layer.filters]));
      const bias = layer.useBias ? owned(`${name}/bias`, tf.zeros([layer.filters]) as tf.Tensor1D) : undefined;
      steps.push({ kind: 'conv2d', name, kernel, bias, strides: layer.strides, padding: layer.padding });
      variables.push(kernel, ...(bias ? [bias] : []));
      kernels.push(kernel);
      const out = (n: number) => (layer.padding === 'same' ? Math.ceil(n / layer.strides) : Math.floor((n - k) / layer.strides) + 1);
      shape = [out(h), out(w), layer.filters];
      if (shape[0] < 1 || shape[1] < 1) throw new ModelShapeError(`${where}: the image is too small for this convolution`);
    } else if (layer.type === 'maxPool') {
      steps.push({ kind: 'maxPool', size: layer.poolSize });
      shape = [Math.floor(shape[0] / layer.poolSize), Math.floor(shape[1] / layer.poolSize), shape[2]];
      if (shape[0] < 1) throw new ModelShapeError(`${where}: the image is too small for this pooling`);
    } else if (layer.type === 'flatten') {
      if (shape.length === 3) steps.push({ kind: 'flatten' });
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (layer.type === 'activation') {
      steps.push({ kind: 'activation', fn: activations[layer.fn] });
    } else if (layer.type === 'dropout') {
      hasDropout ||= layer.rate > 0;
      steps.push({ kind: 'dropout', rate: layer.rate });
    } else if (layer.type === 'batchNorm') {
      const c = shape[shape.length - 1];
      const name = `batch_norm_${bnIndex++}`;
      const gamma = owned(`${name}/gamma`, tf.ones([c]));
      const beta = owned(`${name}/beta`, tf.zeros([c]));
      const movingMean = owned(`${name}/moving_mean`, tf.zeros([c]), false);
      const movingVar = owned(`${name}/moving_variance`, tf.ones([c]), false);
      steps.push({ kind: 'batchNorm', gamma, beta, movingMean, movingVar, momentum: layer.momentum, epsilon: layer.epsilon });
      variables.push(gamma, beta);
      stateVariables.push(movingMean, movingVar);
    } else {
      if (shape.length !== 1) throw new ModelShapeError(`${where}: nestedDropout needs flat features (add flatten first)`);
      steps.push({ kind: 'nestedDropout', units: shape[0], sample: nestedSampler(shape[0], layer) });
    }
  });
  if (shape.length !== 1) throw new ModelShapeError('model.layers: the model must end with flat logits (add flatten and a dense layer)');
  if (!dense.length) throw new ModelShapeError('model.layers: add at least one dense layer (the classifier)');

  // Taps go right before each dense layer but the first: they see dense_{i}'s block output.
  const withTaps: Step[] = [];
  let denseSeen = 0;
  let lastDenseStep = -1;
  for (const step of steps) {
    if (step.kind === 'dense') {
      if (denseSeen > 0) withTaps.push({ kind: 'tap', name: dense[denseSeen - 1].name, units: dense[denseSeen - 1].kernel.shape[1] });
      lastDenseStep = withTaps.length;
      denseSeen++;
    }
    withTaps.push(step);
  }
  const parameters = variables.reduce((n, v) => n + v.size, 0);
  const hidden = dense.slice(0, -1).map((d) => ({ name: d.name, units: d.kernel.shape[1] }));

  const run = (x: tf.Tensor2D, opts: ForwardOptions, from: number, to: number) => {
    let h: tf.Tensor = x;
    let hiddenOut: tf.Tensor2D | undefined;
    let firstMatmul = from === 0;
    const dropoutOn = opts.mode !== 'eval';
    for (let s = from; s < to; s++) {
      const step = withTaps[s];
      switch (step.kind) {
        case 'dense':
          h = (firstMatmul ? fastMatMulDataInput : fastMatMul)(h as tf.Tensor2D, step.kernel);
          if (step.bias) h = tf.add(h, step.bias);
          firstMatmul = false;
          break;
        case 'conv2d':
          h = tf.conv2d(h as tf.Tensor4D, step.kernel, step.strides, step.padding);
          if (step.bias) h = tf.add(h, step.bias);
          firstMatmul = false;
          break;
        case 'toImage':
          h = tf.reshape(h, [-1, ...step.shape]);
          break;
        case 'flatten':
          h = tf.reshape(h, [h.shape[0], -1]);
          break;
        case 'maxPool':
          h = tf.maxPool(h as tf.Tensor4D, step.size, step.size, 'valid');
          break;
        case 'activation':
          h = step.fn(h);
          break;
        case 'dropout':
          if (dropoutOn && step.rate > 0) h = tf.dropout(h, step.rate, undefined, opts.nextSeed?.());
          break;
        case 'nestedDropout':
          if (opts.mode === 'train' && opts.rng) {
            const k = step.sample(opts.rng);
            if (k < step.units) {
              const m = new Float32Array(step.units);
              m.fill(1, 0, k);
              h = tf.mul(h, tf.tensor1d(m));
            }
          }
          break;
        case 'batchNorm': {
          const axes = h.rank === 4 ? [0, 1, 2] : [0];
          let mean: tf.Tensor;
          let variance: tf.Tensor;
          if (opts.mode === 'train') {
            ({ mean, variance } = tf.moments(h, axes));
            // Running statistics are state, not part of the graph being differentiated.
            const m = step.momentum;
            const bm = mean;
            const bv = variance;
            tf.tidy(() => {
              step.movingMean.assign(tf.add(tf.mul(step.movingMean, m), tf.mul(bm, 1 - m)));
              step.movingVar.assign(tf.add(tf.mul(step.movingVar, m), tf.mul(bv, 1 - m)));
            });
          } else {
            mean = step.movingMean;
            variance = step.movingVar;
          }
          h = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, step.epsilon))), step.gamma), step.beta);
          break;
        }
        case 'tap':
          if (opts.mask?.layer === step.name) h = tf.mul(h, opts.mask.mask);
          if (opts.capture === step.name) hiddenOut = h as tf.Tensor2D;
          break;
      }
    }
    return { out: h as tf.Tensor2D, hidden: hiddenOut };
  };

  const model: Model = {
    inputSize,
    outputSize: shape[0],
    parameters,
    variables,
    kernels,
    stateVariables,
    dense,
    hasDropout,
    hasConv: convIndex > 0,
    apply(x, training, nextSeed, rng) {
      return run(x, { mode: training ? 'train' : 'eval', nextSeed, rng }, 0, withTaps.length).out;
    },
    forward(x, opts) {
      if (opts.featuresOnly) return { logits: run(x, opts, 0, lastDenseStep).out };
      const r = run(x, opts, 0, withTaps.length);
      return { logits: r.out, hidden: r.hidden };
    },
    forwardWithMask(x, mask) {
      return run(x, { mode: 'eval', mask }, 0, withTaps.length).out;
    },
    head(features) {
      return run(features, { mode: 'eval' }, lastDenseStep, withTaps.length).out;
    },
    hiddenLayers: () => hidden.map((h) => ({ ...h })),
    namedWeights: () => [...named],
    dispose() {
      for (const v of [...variables, ...stateVariables]) v.dispose();
    },
  };
  return model;
}
