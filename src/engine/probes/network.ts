// A probe's view of a model: the forward pass split at a hidden layer, so a probe can
// read the hidden activations h once and rerun only the rest with units masked, or
// tile h T times for Monte Carlo dropout. Written against the model's public `dense`
// variables and the experiment's layer list (the model keeps its steps private);
// `matchesModel` checks it against model.apply so a drift between the two is caught.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../../protocol/experiment';
import { activations, type Model } from '../model';

type Op =
  | { kind: 'dense'; index: number }
  | { kind: 'activation'; fn: (x: tf.Tensor2D) => tf.Tensor2D }
  | { kind: 'dropout'; rate: number }
  /** Inactive at inference: nested dropout (prefix masks) is a training-time mask only (METHODS §2). */
  | { kind: 'identity' };


export interface HiddenLayer {
  /** "dense_<i>": the units are dense layer i's outputs after its activation. */
  name: string;
  denseIndex: number;
  units: number;
  /**
   * Only dropout (identity at inference) lies between these units and the last dense
   * layer, which is the model's output: logits = h W_out + b, so zeroing unit j
   * subtracts h_j W_out[j,:] (the rank-1 trick, METHODS §1).
   */
  feedsOutput: boolean;
}

export interface ProbeNetwork {
  /** Why the probes cannot split this model (a layer type they do not know), else undefined. */
  unsupported?: string;
  hidden: HiddenLayer[];
  /** Names of layers right before a nestedDropout layer. */
  nestedLayers: string[];
  hasDropout: boolean;
  layer(name: string): HiddenLayer | undefined;
  /** Hidden activations at inference (dropout off). */
  hiddenOf(x: tf.Tensor2D, layer: HiddenLayer): tf.Tensor2D;
  /** Logits from the hidden activations; with `dropoutSeed`, ONLY the dropout layers are active. */
  logitsFrom(h: tf.Tensor2D, layer: HiddenLayer, dropoutSeed?: () => number): tf.Tensor2D;
  /** Inference-mode logits. */
  logits(x: tf.Tensor2D): tf.Tensor2D;
  /** Input -> logits with only the dropout layers active (MC dropout, METHODS §3, §10). */
  logitsMc(x: tf.Tensor2D, dropoutSeed: () => number): tf.Tensor2D;
  /**
   * The deterministic input -> activations part before the first active dropout layer,
   * and the rest, so T MC passes share one prefix computation.
   */
  mcSplit(): { prefix: (x: tf.Tensor2D) => tf.Tensor2D; rest: (h: tf.Tensor2D, seed: () => number) => tf.Tensor2D } | undefined;
  /**
   * What maskedLogits starts from for a chunk of examples: the hidden activations when
   * the probe can run the rest of the network itself, else the inputs.
   */
  maskSource(x: tf.Tensor2D, layer: HiddenLayer): tf.Tensor2D;
  /** Eval-mode logits [b * n, C] (mask-major) with each of the b masks [b, 1, units] applied to the n examples of `source`. */
  maskedLogits(source: tf.Tensor2D, layer: HiddenLayer, masks: tf.Tensor3D): tf.Tensor2D;
  outKernel(layer: HiddenLayer): tf.Variable<tf.Rank.R2>;
  outBias(layer: HiddenLayer): tf.Variable<tf.Rank.R1> | undefined;
}

/** For layer types the op walk below does not know: the model's own forward helpers (model.ts contract). */
function modelApiNetwork(model: Model, layers: LayerSpec[]): ProbeNetwork | undefined {
  const m = model as Partial<Pick<Model, 'forward' | 'hiddenLayers' | 'head'>> & Model;
  if (typeof m.forward !== 'function' || typeof m.hiddenLayers !== 'function' || typeof m.head !== 'function') return undefined;
  const types = (layers as { type: string }[]).map((l) => l.type);
  const nothingAfterOutput = types.lastIndexOf('dense') === types.length - 1;
  const hidden: HiddenLayer[] = m.hiddenLayers().map((h, i, all) => ({ name: h.name, denseIndex: i, units: h.units, feedsOutput: nothingAfterOutput && i === all.length - 1 }));
  const nested: string[] = [];
  let dense = 0;
  for (const t of types) {
    if (t === 'dense') dense++;
    else if (t === 'nestedDropout' && dense > 0) nested.push(`dense_${dense - 1}`);
  }
  const hasDropout = (m as { hasDropout?: boolean }).hasDropout ?? types.includes('dropout');
  return {
    hidden,
    nestedLayers: nested,
    hasDropout,
    layer: (name) => hidden.find((l) => l.name === name),
    hiddenOf: (x, layer) => tf.tidy(() => m.forward(x, { mode: 'eval', capture: layer.name }).hidden!),
    logitsFrom: (h, layer, seed) => {
      if (!layer.feedsOutput || seed) throw new Error(`probes: cannot run from ${layer.name}'s activations on this model`);
      return tf.tidy(() => m.head(h));
    },
    logits: (x) => tf.tidy(() => m.forward(x, { mode: 'eval' }).logits),
    logitsMc: (x, seed) => tf.tidy(() => m.forward(x, { mode: 'mcDropout', nextSeed: seed }).logits),
    // The model's mcDropout mode (only dropout active, batch norm in inference mode, METHODS §3)
    // runs the whole network on the T-times tiled batch.
    mcSplit: () =>
      hasDropout ? { prefix: (x) => tf.clone(x), rest: (h, seed) => tf.tidy(() => m.forward(h, { mode: 'mcDropout', nextSeed: seed }).logits) } : undefined,
    maskSource: (x) => tf.clone(x),
    maskedLogits: (x, layer, masks) =>
      tf.tidy(() => {
        const [b, , u] = masks.shape;
        const n = x.shape[0];
        const tiled = tf.tile(x, [b, 1]) as tf.Tensor2D;
        const mask = tf.reshape(tf.tile(masks, [1, n, 1]), [b * n, u]);
        return m.forward(tiled, { mode: 'eval', mask: { layer: layer.name, mask } }).logits;
      }),
    outKernel: (layer) => model.dense[layer.denseIndex + 1].kernel,
    outBias: (layer) => model.dense[layer.denseIndex + 1].bias,
  };
}

export function probeNetwork(model: Model, layers: LayerSpec[]): ProbeNetwork {
  const ops: Op[] = [];
  let unsupported: string | undefined;
  let denseCount = 0;
  const nestedBefore: number[] = [];
  for (const layer of layers as { type: string; fn?: string; rate?: number }[]) {
    if (layer.type === 'dense') ops.push({ kind: 'dense', index: denseCount++ });
    else if (layer.type === 'activation' && layer.fn && Object.hasOwn(activations, layer.fn)) {
      const fn = activations[layer.fn as keyof typeof activations];
      ops.push({ kind: 'activation', fn: (x) => fn(x) as tf.Tensor2D });
    }
    else if (layer.type === 'dropout') ops.push({ kind: 'dropout', rate: layer.rate ?? 0 });
    else if (layer.type === 'nestedDropout') {
      ops.push({ kind: 'identity' });
      if (denseCount > 0) nestedBefore.push(denseCount - 1);
    } else {
      unsupported ??= `the probes do not yet know layer type "${layer.type}${layer.fn ? `:${layer.fn}` : ''}"`;
      ops.push({ kind: 'identity' });
    }
  }
  if (denseCount !== model.dense.length) unsupported ??= 'layer list and model disagree on the number of dense layers';
  // Layers this op walk does not know (batch norm, conv): the model's forward helpers handle them.
  if (unsupported) {
    const api = modelApiNetwork(model, layers);
    if (api) return api;
  }

  // Position in ops right after dense i's block (before the next dense op).
  const blockEnd: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.kind === 'dense') {
      let j = i + 1;
      while (j < ops.length && ops[j].kind === 'activation') j++;
      blockEnd[op.index] = j;
    }
  }
  const lastDenseOp = ops.map((o) => o.kind).lastIndexOf('dense');
  const hidden: HiddenLayer[] = [];
  for (let i = 0; i < denseCount - 1; i++) {
    const onlyDropoutBetween = ops.slice(blockEnd[i], lastDenseOp).every((o) => o.kind === 'dropout' || o.kind === 'identity');
    const feedsOutput = onlyDropoutBetween && ops.slice(lastDenseOp + 1).length === 0;
    hidden.push({ name: `dense_${i}`, denseIndex: i, units: model.dense[i]?.kernel.shape[1] ?? 0, feedsOutput });
  }

  const run = (h: tf.Tensor2D, from: number, to: number, seed?: () => number): tf.Tensor2D => {
    for (let i = from; i < to; i++) {
      const op = ops[i];
      if (op.kind === 'dense') {
        const d = model.dense[op.index];
        h = tf.matMul(h, d.kernel);
        if (d.bias) h = tf.add(h, d.bias);
      } else if (op.kind === 'activation') h = op.fn(h);
      else if (op.kind === 'dropout' && seed && op.rate > 0) h = tf.dropout(h, op.rate, undefined, seed()) as tf.Tensor2D;
    }
    return h;
  };
  const firstDropout = ops.findIndex((o) => o.kind === 'dropout' && o.rate > 0);

  return {
    unsupported,
    hidden,
    nestedLayers: nestedBefore.map((i) => `dense_${i}`),
    hasDropout: firstDropout >= 0,
    layer: (name) => hidden.find((l) => l.name === name),
    hiddenOf: (x, layer) => tf.tidy(() => run(x, 0, blockEnd[layer.denseIndex])),
    logitsFrom: (h, layer, seed) => tf.tidy(() => run(h, blockEnd[layer.denseIndex], ops.length, seed)),
    logits: (x) => tf.tidy(() => run(x, 0, ops.length)),
    logitsMc: (x, seed) => tf.tidy(() => run(x, 0, ops.length, seed)),
    mcSplit: () =>
      firstDropout < 0
        ? undefined
        : {
            prefix: (x) => tf.tidy(() => run(x, 0, firstDropout)),
            rest: (h, seed) => tf.tidy(() => run(h, firstDropout, ops.length, seed)),
          },
    maskSource: (x, layer) => tf.tidy(() => run(x, 0, blockEnd[layer.denseIndex])),
    maskedLogits: (h, layer, masks) =>
      tf.tidy(() => {
        const [b, , u] = masks.shape;
        const stacked = tf.reshape(tf.mul(tf.expandDims(h, 0), masks), [b * h.shape[0], u]) as tf.Tensor2D;
        return run(stacked, blockEnd[layer.denseIndex], ops.length);
      }),
    outKernel: (layer) => model.dense[layer.denseIndex + 1].kernel,
    outBias: (layer) => model.dense[layer.denseIndex + 1].bias,
  };
}
