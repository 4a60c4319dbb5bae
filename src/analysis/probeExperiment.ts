// "Probe this Model…": turns a layer-list model found in source code (nn.Sequential,
// Keras Sequential, tf.sequential) into two experiment files on a small benchmark dataset with
// noisy labels - the model as written, and the same model with a suggested regularizer - so
// their memorization of the noisy labels can be compared. Pure: graph in, experiment input out;
// the host writes, validates and runs them.
import type { ExperimentInput } from '../protocol/experiment';
import type { DetectedModel, GraphLayer } from './modelGraph';

/** Layers and datasets as written in an experiment file (defaults filled in by the schema). */
type LayerSpec = NonNullable<ExperimentInput['model']['layers']>[number];
type DatasetSpec = ExperimentInput['dataset'];

export type ProbeDatasetId = 'mnist' | 'moons' | 'spirals';

export interface ProbeDataset {
  id: ProbeDatasetId;
  label: string;
  detail: string;
  classes: number;
  /** Training settings that suit the dataset's size. */
  epochs: number;
  batchSize: number;
  lr: number;
}

export const PROBE_DATASETS: readonly ProbeDataset[] = [
  { id: 'moons', label: 'Two moons', detail: '1,000 2-D points, 2 classes; seconds per run', classes: 2, epochs: 150, batchSize: 64, lr: 3e-3 },
  { id: 'spirals', label: 'Spirals', detail: '1,500 2-D points on 3 interleaved arms, 3 classes', classes: 3, epochs: 200, batchSize: 64, lr: 3e-3 },
  { id: 'mnist', label: 'MNIST', detail: '2,000 training digits (784 inputs), 10 classes', classes: 10, epochs: 30, batchSize: 128, lr: 1e-3 },
];

export interface LabelNoise {
  kind: 'symmetric' | 'pairflip';
  rate: number;
}

export const DEFAULT_LABEL_NOISE: LabelNoise = { kind: 'symmetric', rate: 0.3 };
/** Rate of the dropout the regularized variant inserts after hidden activations. */
export const PROBE_DROPOUT_RATE = 0.3;
/** Decoupled weight decay of the regularized variant when every hidden activation already has dropout. */
export const PROBE_WEIGHT_DECAY = 0.01;

export interface ProbeOptions {
  dataset: ProbeDatasetId;
  labelNoise?: LabelNoise;
  /** Overrides the dataset's epoch count (tests, quick looks). */
  epochs?: number;
  /** What the model is called in the experiments' names: its variable, else the file. */
  modelName: string;
}

export interface ProbeExperiments {
  plain: ExperimentInput;
  regularized: ExperimentInput;
  /** What the regularized variant adds, e.g. "dropout 0.3 after 2 hidden activations". */
  regularizer: string;
  /** Layers that could not be carried over or were approximated. */
  notes: string[];
}

/** Models whose layer list can become an experiment: list- or add-style with at least one dense layer. */
export function isProbeable(model: DetectedModel): boolean {
  return (model.style === 'sequential' || model.style === 'add') && model.layers.some((l) => l.kind === 'linear');
}

const FN_MAP: Record<string, { fn: 'relu' | 'tanh' | 'sigmoid' | 'gelu'; exact: boolean }> = {
  relu: { fn: 'relu', exact: true },
  relu6: { fn: 'relu', exact: false },
  leakyrelu: { fn: 'relu', exact: false },
  prelu: { fn: 'relu', exact: false },
  rrelu: { fn: 'relu', exact: false },
  elu: { fn: 'relu', exact: false },
  selu: { fn: 'relu', exact: false },
  celu: { fn: 'relu', exact: false },
  tanh: { fn: 'tanh', exact: true },
  hardtanh: { fn: 'tanh', exact: false },
  softsign: { fn: 'tanh', exact: false },
  sigmoid: { fn: 'sigmoid', exact: true },
  hardsigmoid: { fn: 'sigmoid', exact: false },
  gelu: { fn: 'gelu', exact: true },
  silu: { fn: 'gelu', exact: false },
  swish: { fn: 'gelu', exact: false },
  mish: { fn: 'gelu', exact: false },
  hardswish: { fn: 'gelu', exact: false },
  softplus: { fn: 'relu', exact: false },
};

/** `'relu'`, `"relu"`, `tf.nn.relu` -> relu. */
function activationName(text: string): string {
  return text.replace(/^['"`]|['"`]$/g, '').replace(/^.*\./, '').replace(/_/g, '').toLowerCase();
}

/** The activation a layer applies: its class (nn.ReLU), or its `activation` argument (Dense, Activation). */
function activationOf(layer: GraphLayer): string | undefined {
  // Keras Activation('relu') names it positionally; LeakyReLU(0.1)'s first argument is a slope.
  const generic = layer.kind === 'activation' && /^activation$/i.test(layer.name);
  const arg = layer.call?.args.find((a) => a.name === 'activation') ?? (generic ? layer.call?.args.find((a) => a.name === undefined) : undefined);
  if (arg) return activationName(arg.text);
  return layer.kind === 'activation' ? activationName(layer.name) : undefined;
}

const OUTPUT_ONLY = new Set(['softmax', 'logsoftmax', 'linear', 'none', 'null']);

/** Converts the model's layers; undefined when it has no dense layer. */
export function probeLayers(model: DetectedModel, classes: number): { layers: LayerSpec[]; notes: string[] } | undefined {
  const notes: string[] = [];
  const out: LayerSpec[] = [];
  const pushActivation = (name: string, where: string) => {
    if (OUTPUT_ONLY.has(name)) return;
    const mapped = FN_MAP[name];
    if (!mapped) {
      notes.push(`${where}: activation "${name}" has no RegLens counterpart; used relu`);
      out.push({ type: 'activation', fn: 'relu' });
      return;
    }
    if (!mapped.exact) notes.push(`${where}: ${name} approximated by ${mapped.fn}`);
    out.push({ type: 'activation', fn: mapped.fn });
  };
  for (const l of model.layers) {
    const where = l.text.length > 40 ? `${l.text.slice(0, 37)}...` : l.text;
    switch (l.kind) {
      case 'linear': {
        const units = l.features !== undefined && Number.isInteger(l.features) && l.features > 0 ? l.features : undefined;
        if (units === undefined) notes.push(`${where}: width is not a literal; used 64 units`);
        out.push({ type: 'dense', units: units ?? 64 });
        const act = activationOf(l);
        if (act) pushActivation(act, where);
        break;
      }
      case 'activation': {
        const act = activationOf(l);
        if (act) pushActivation(act, where);
        break;
      }
      case 'dropout': {
        const rate = l.rate;
        if (rate === undefined || !(rate >= 0 && rate < 1)) {
          notes.push(`${where}: rate is not a literal in [0, 1); used 0.5`);
          out.push({ type: 'dropout', rate: 0.5 });
        } else {
          out.push({ type: 'dropout', rate });
        }
        break;
      }
      case 'batchnorm':
        out.push({ type: 'batchNorm' });
        break;
      default:
        // Flatten is implicit (the datasets come flat); anything else cannot be carried over.
        if (!/(^|\.)(flatten|softmax|logsoftmax|log_softmax)\b/i.test(l.name)) notes.push(`${where}: left out (only dense, activation, dropout and batch norm layers are carried over)`);
    }
  }
  let last = -1;
  for (let i = 0; i < out.length; i++) if (out[i].type === 'dense') last = i;
  if (last < 0) return undefined;
  // The input size comes from the dataset; the output layer is rewired to its classes, and what
  // follows it (an output activation) is left to the loss.
  const output = out[last] as Extract<LayerSpec, { type: 'dense' }>;
  if (output.units !== classes) notes.push(`output layer: ${output.units} units rewired to the dataset's ${classes} classes`);
  const layers = [...out.slice(0, last), { ...output, units: classes }];
  return { layers, notes };
}

/** Inserts dropout after hidden activations that lack it; the number inserted. */
function withDropout(layers: LayerSpec[], rate: number): { layers: LayerSpec[]; inserted: number } {
  const out: LayerSpec[] = [];
  let inserted = 0;
  for (let i = 0; i < layers.length; i++) {
    out.push(layers[i]);
    if (layers[i].type !== 'activation') continue;
    // Already regularized: a dropout before the next dense layer.
    let j = i + 1;
    while (j < layers.length && layers[j].type !== 'dense' && layers[j].type !== 'dropout') j++;
    if (j < layers.length && layers[j].type === 'dense') {
      out.push({ type: 'dropout', rate });
      inserted++;
    }
  }
  return { layers: out, inserted };
}

function datasetSpec(id: ProbeDatasetId, labelNoise: LabelNoise | undefined): DatasetSpec {
  const noise = labelNoise && labelNoise.rate > 0 ? { labelNoise } : {};
  switch (id) {
    case 'mnist':
      return { kind: 'mnist', train: 2000, test: 1000, ...noise };
    case 'moons':
      return { kind: 'moons', samples: 1000, noise: 0.15, testFraction: 0.3, ...noise };
    case 'spirals':
      return { kind: 'spirals', samples: 1500, classes: 3, turns: 1.5, noise: 0.05, testFraction: 0.3, ...noise };
  }
}

function noiseText(noise: LabelNoise | undefined): string {
  return noise && noise.rate > 0 ? `${Math.round(noise.rate * 100)}% ${noise.kind} label noise` : 'clean labels';
}

/** The two experiments for a model; undefined when the model has no dense layer. */
export function probeExperiments(model: DetectedModel, options: ProbeOptions): ProbeExperiments | undefined {
  const dataset = PROBE_DATASETS.find((d) => d.id === options.dataset);
  if (!dataset) return undefined;
  const converted = probeLayers(model, dataset.classes);
  if (!converted) return undefined;
  const labelNoise = options.labelNoise ?? DEFAULT_LABEL_NOISE;
  const epochs = options.epochs ?? dataset.epochs;
  const base = (name: string, description: string, layers: LayerSpec[], weightDecay: number): ExperimentInput => ({
    name,
    description,
    seed: 0,
    dataset: datasetSpec(dataset.id, labelNoise),
    model: { layers },
    training: { epochs, batchSize: dataset.batchSize, optimizer: { kind: 'adam', lr: dataset.lr, weightDecay } },
    // Which hidden units memorize the noisy labels: the dashboard's neuron map.
    probes: labelNoise.rate > 0 ? { memorization: { every: Math.max(1, Math.round(epochs / 10)) } } : undefined,
  });
  const what = `${model.framework} ${model.style === 'add' ? 'model.add chain' : 'sequential model'} ${options.modelName}`;
  const title = `${options.modelName} on ${dataset.label}, ${noiseText(labelNoise)}`;
  const source = `Generated by "Probe this Model…" from the ${what}; input and output rewired to ${dataset.label}.`;

  const dropped = withDropout(converted.layers, PROBE_DROPOUT_RATE);
  const regularizer =
    dropped.inserted > 0
      ? `dropout ${PROBE_DROPOUT_RATE} after ${dropped.inserted} hidden activation${dropped.inserted > 1 ? 's' : ''}`
      : `decoupled weight decay ${PROBE_WEIGHT_DECAY}`;
  const plain = base(`Probe: ${title}`, `${source} The model as written.`, converted.layers, 0);
  const regularized = base(
    `Probe: ${title} + ${regularizer}`,
    `${source} With ${regularizer}, the regularizer RegLens suggests for this model.`,
    dropped.inserted > 0 ? dropped.layers : converted.layers,
    dropped.inserted > 0 ? 0 : PROBE_WEIGHT_DECAY,
  );
  return { plain, regularized, regularizer, notes: converted.notes };
}

/** An nn.Module subclass: probed by training the class itself on the PyTorch engine (model.pytorch). */
export function isModuleProbeable(model: DetectedModel): boolean {
  return model.framework === 'pytorch' && model.style === 'module' && model.name !== undefined && model.layers.some((l) => l.kind === 'linear' || l.kind === 'conv');
}

/** `self.fc1` -> `fc1`: the module path of a layer assigned to an attribute in __init__. */
function attributePath(layer: GraphLayer): string | undefined {
  const m = /^self\.([A-Za-z_]\w*)$/.exec(layer.call?.assignedTo ?? '');
  return m?.[1];
}

/**
 * Where the regularized variant of an nn.Module adds dropout: the output of the last hidden
 * Linear held in its own attribute (the one feeding the classifier in most models); undefined
 * when there is none (one Linear only, or hidden Linears only inside containers).
 */
export function moduleDropoutTarget(model: DetectedModel): string | undefined {
  const linears = model.layers.filter((l) => l.kind === 'linear');
  return linears
    .slice(0, -1)
    .map(attributePath)
    .filter((p): p is string => p !== undefined)
    .pop();
}

export interface ModuleProbeOptions extends Omit<ProbeOptions, 'modelName'> {
  /** The class's file as the experiments reach it (they are written beside it: its base name). */
  file: string;
  /** Constructor arguments the dataset does not fill. */
  args: Record<string, unknown>;
}

/** The two experiments for an nn.Module subclass: the class as written, and with dropout added by a hook (or weight decay). */
export function moduleProbeExperiments(model: DetectedModel, options: ModuleProbeOptions): ProbeExperiments | undefined {
  const dataset = PROBE_DATASETS.find((d) => d.id === options.dataset);
  if (!dataset || !isModuleProbeable(model) || model.name === undefined) return undefined;
  const labelNoise = options.labelNoise ?? DEFAULT_LABEL_NOISE;
  const epochs = options.epochs ?? dataset.epochs;
  const className = model.name;
  const target = moduleDropoutTarget(model);
  const pytorch = { file: options.file, class: className, args: options.args };
  const base = (name: string, description: string, spec: ExperimentInput['model'], weightDecay: number): ExperimentInput => ({
    name,
    description,
    seed: 0,
    dataset: datasetSpec(dataset.id, labelNoise),
    model: spec,
    training: { epochs, batchSize: dataset.batchSize, optimizer: { kind: 'adam', lr: dataset.lr, weightDecay } },
    // Uncertainty (MC dropout), the loss dynamics and, after training, the neuron map of the
    // hidden Linear the dropout goes after (ablation through hooks: one pass per unit).
    probes: {
      mcDropout: { passes: 20, examples: 1000 },
      dynamics: { every: Math.max(1, Math.round(epochs / 10)) },
      ...(target ? { memorization: { every: epochs, layer: target } } : {}),
    },
  });
  const title = `${className} on ${dataset.label}, ${noiseText(labelNoise)}`;
  const source = `Generated by "Probe this Model…" from the nn.Module subclass ${className} in ${options.file}, trained as written on the PyTorch engine (model.pytorch); its input size and class count come from ${dataset.label}.`;
  const regularizer = target ? `dropout ${PROBE_DROPOUT_RATE} after ${target}` : `decoupled weight decay ${PROBE_WEIGHT_DECAY}`;
  const plain = base(`Probe: ${title}`, `${source} The model as written.`, { pytorch }, 0);
  const regularized = base(
    `Probe: ${title} + ${regularizer}`,
    `${source} With ${regularizer}${target ? ' (a forward hook on its output; the file is not edited)' : ''}, the regularizer RegLens suggests for this model.`,
    { pytorch: target ? { ...pytorch, addDropout: { after: target, rate: PROBE_DROPOUT_RATE } } : pytorch },
    target ? 0 : PROBE_WEIGHT_DECAY,
  );
  return { plain, regularized, regularizer, notes: [] };
}

/** `models/mlp.py` -> `mlp`; the experiment files are `<stem>.probe.reglens.json` and `<stem>.probe-regularized.reglens.json`. */
export function probeFileNames(sourcePath: string): { plain: string; regularized: string } {
  const base = sourcePath.replace(/^.*[\\/]/, '');
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  return { plain: `${stem}.probe.reglens.json`, regularized: `${stem}.probe-regularized.reglens.json` };
}

/** Input features of each probe dataset. */
const DATASET_INPUTS: Readonly<Record<ProbeDatasetId, number>> = { moons: 2, spirals: 2, mnist: 784 };

/**
 * How many input features the model takes, when its first dense layer says so literally:
 * nn.Linear(784, ...) / in_features=784, Keras Dense(..., input_shape=(784,)) or input_dim=784,
 * TF.js dense({inputShape: [784]}) / inputDim.
 */
export function modelInputSize(model: DetectedModel): number | undefined {
  const first = model.layers.find((l) => l.kind === 'linear');
  const args = first?.call?.args ?? [];
  if (!first) return undefined;
  const named = (...names: string[]) => args.find((a) => a.name !== undefined && names.includes(a.name));
  const dim = named('in_features', 'input_dim', 'inputDim');
  if (dim?.number !== undefined) return dim.number;
  const shape = named('input_shape', 'inputShape', 'batch_input_shape', 'batchInputShape');
  if (shape) {
    const nums = [...shape.text.matchAll(/\d+/g)].map((m) => Number(m[0]));
    // A flat input: one size (the batch dimension of batch_input_shape is None/null).
    return nums.length === 1 ? nums[0] : undefined;
  }
  if (model.framework === 'pytorch') {
    const positional = args.filter((a) => a.name === undefined);
    return positional.length >= 2 ? positional[0].number : undefined;
  }
  return undefined;
}

/** The probe dataset whose inputs fit the model (784 inputs: MNIST; 2: two moons); undefined when unknown or none fits. */
export function suggestedDataset(model: DetectedModel): { id: ProbeDatasetId; inputs: number } | undefined {
  const inputs = modelInputSize(model);
  if (inputs === undefined) return undefined;
  const fit = PROBE_DATASETS.find((d) => DATASET_INPUTS[d.id] === inputs);
  return fit ? { id: fit.id, inputs } : undefined;
}
