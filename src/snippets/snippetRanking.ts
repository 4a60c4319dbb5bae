// Orders the Add Regularizer… picker by what fits the detected model: its layer types, input
// shape (image, sequence, flat features), number of inputs, and the regularizers the file
// already has. Pure: the host's quick pick renders the order and shows each reason.
import type { DetectedModel, ModelGraph } from '../analysis/modelGraph';
import { hasMcSampling } from '../analysis/rules/ruleKit';
import { fittingSnippets } from './insertionPlanner';
import type { Snippet, SnippetId } from './snippetTypes';

export interface RankedSnippet {
  snippet: Snippet;
  /** Why it is placed where it is, for the quick pick item's detail line. */
  reason: string;
  score: number;
}

export interface ModelProfile {
  /** Conv layers or a (H, W, C) input shape. */
  image: boolean;
  /** Embedding / recurrent / attention layers. */
  sequence: boolean;
  /** More than one input (Keras/TF.js Input layers, or a forward() with several tensors). */
  inputs: number;
  dropout: boolean;
  batchNorm: boolean;
  /** Output width of the last linear layer, when literal. */
  outputs?: number;
  /** AdamW (or a decoupled-weight-decay helper) is already used in the file. */
  adamW: boolean;
  /** An optimizer applies weight decay (coupled or not). */
  weightDecay: boolean;
  /** Adam with weight_decay: L2, not decoupled. */
  coupledAdam: boolean;
  cutmix: boolean;
  mcSampling: boolean;
}

const SEQUENCE_LAYER = /Embedding|LSTM|GRU|RNN|Transformer|Attention|Conv1d|Conv1D/i;

/** What the picker needs to know about a model and its file. */
export function profileModel(graph: ModelGraph, model: DetectedModel): ModelProfile {
  const names = model.layers.map((l) => (l.kind === 'other' ? l.text : l.name));
  const sequence = names.some((n) => SEQUENCE_LAYER.test(n));
  const conv2d = model.layers.some((l) => l.kind === 'conv' && !/1d/i.test(l.name));
  // Keras input_shape=(32, 32, 3) / Input(shape=(28, 28, 1)); TF.js inputShape: [28, 28, 1].
  const imageShape = graph.calls.some((c) =>
    c.args.some((a) => /^(input_shape|shape|inputShape|batch_input_shape)$/.test(a.name ?? '') && /^[([]\s*(None\s*,\s*)?\d+\s*,\s*\d+\s*,\s*\d+\s*[)\]]$/.test(a.text)),
  );
  const kerasInputs = graph.calls.filter((c) => /^(keras\.(layers\.)?Input|tf\.input)$/.test(c.qualified)).length;
  const forward = graph.functions.find((f) => f.className === model.name && (f.name === 'forward' || f.name === 'call'));
  const forwardInputs = forward?.params ? forward.params.filter((p) => p !== 'self' && !/^(mask|training|kwargs|args)$/.test(p)).length : 0;
  const linear = model.layers.filter((l) => l.kind === 'linear');
  return {
    image: conv2d || imageShape,
    sequence,
    inputs: Math.max(1, kerasInputs, forwardInputs),
    dropout: model.layers.some((l) => l.kind === 'dropout' && l.rate !== 0),
    batchNorm: model.layers.some((l) => l.kind === 'batchnorm'),
    outputs: linear.length ? linear[linear.length - 1].features : undefined,
    adamW: graph.optimizers.some((o) => /^adamw$/i.test(o.name)) || /adamw_with_param_groups|adamw_optimizer|applyDecoupledWeightDecay/.test(graph.text),
    weightDecay: graph.optimizers.some((o) => o.weightDecayArg && o.weightDecay !== 0),
    coupledAdam: graph.optimizers.some((o) => o.framework === 'pytorch' && o.name === 'Adam' && o.weightDecayArg && o.weightDecay !== 0),
    cutmix: /cutmix|cut_mix|rand_bbox|randBbox/i.test(graph.text),
    mcSampling: hasMcSampling(graph),
  };
}

type Rule = (p: ModelProfile) => [score: number, reason: string];

const RULES: Record<SnippetId, Rule> = {
  dropout: (p) => (p.dropout ? [30, 'The model already has dropout'] : [90, 'No dropout in this model yet']),
  'batch-norm': (p) => (p.sequence ? [35, 'Sequence models usually normalize with layer norm instead'] : [60, 'No normalization layer yet']),
  'decoupled-weight-decay': (p) =>
    p.adamW
      ? [1, 'The file already uses AdamW / decoupled weight decay']
      : p.coupledAdam
        ? [95, "Adam's weight_decay here is L2, not decoupled: this replaces it"]
        : p.weightDecay
          ? [55, 'Weight decay is set; this decouples it and spares biases and norms']
          : [80, 'No weight decay on the optimizer yet'],
  cutmix: (p) =>
    p.cutmix
      ? [10, 'The file already mixes boxes (CutMix)']
      : p.image
        ? [85, 'Image model (conv layers or an image-shaped input): CutMix fits']
        : [4, 'CutMix needs image inputs; this model is not an image model'],
  'mc-dropout-predict': (p) =>
    p.mcSampling
      ? [10, 'The file already samples MC dropout']
      : p.dropout
        ? [50, 'Has dropout: T stochastic passes give uncertainty estimates']
        : [20, 'Needs dropout layers to sample; add dropout first'],
  'multi-sample-dropout': (p) => (p.dropout ? [45, 'Classifier with dropout: M masks through one head'] : [35, 'Dropout head with M masks, averaged losses']),
  'co-teaching': () => [40, 'For training on noisy labels: two networks pick clean samples'],
  'nested-dropout': (p) => (p.image ? [20, 'Orders the units of a bottleneck layer'] : [25, 'Orders the units of a bottleneck / representation layer']),
  'modality-dropout': (p) =>
    p.inputs > 1 ? [70, `${p.inputs} inputs: drop a whole input group per sample`] : [3, 'For models with several input modalities; this one has one input'],
  'candidate-dropout': (p) =>
    !p.image && (p.sequence || (p.outputs ?? 0) >= 1000)
      ? [55, `Many candidates to score${p.outputs ? ` (${p.outputs} outputs)` : ''}: sample half per step`]
      : [2, p.image ? 'For vocabularies and item catalogues, not image classifiers' : 'For models scoring many candidates (vocabularies, items)'],
};

/** The snippets that fit the model, best first, each with the reason for its place. */
export function rankSnippets(graph: ModelGraph, model: DetectedModel): RankedSnippet[] {
  const profile = profileModel(graph, model);
  return fittingSnippets(graph, model)
    .map((snippet, order) => {
      const [score, reason] = RULES[snippet.id](profile);
      return { snippet, reason, score, order };
    })
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ snippet, reason, score }) => ({ snippet, reason, score }));
}
