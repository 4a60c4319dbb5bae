// One framework-neutral model graph for PyTorch, Keras and TF.js code. Extractors
// (python/graphPython.ts, tsjs/graphTfjs.ts) fill it from a tree-sitter tree; rules and the
// snippet planner read only this, never the tree, so they are plain data-in/data-out.
import type { FunctionFact, ImportBinding, ImportFrom, RawClass } from './rawFacts';
import type { WorkspaceContext } from './workspace/workspaceContext';
import type { TextIndex } from './textIndex';
import type { Range } from './textTypes';
import type { SourceLanguage } from './treeSitterRuntime';

export type Framework = 'pytorch' | 'keras' | 'tfjs';

/** How the frameworks are spelled in titles and messages. */
export const FRAMEWORK_NAMES: Readonly<Record<Framework, string>> = { pytorch: 'PyTorch', keras: 'Keras', tfjs: 'TF.js' };

export type GraphLayerKind = 'dropout' | 'batchnorm' | 'norm' | 'activation' | 'linear' | 'conv' | 'other';

/** A stretch of the analysed text: UTF-16 offsets plus the same as a range. */
export interface Span {
  start: number;
  end: number;
  range: Range;
}

export interface Arg extends Span {
  /** Keyword name (Python) or property key of a config object (TF.js); absent for positional. */
  name?: string;
  text: string;
  /** Value when the argument is a numeric literal (also `-0.5`, `1e-4`, `False` -> undefined). */
  number?: number;
}

export interface Scope {
  functionName?: string;
  functionStart?: number;
  functionEnd?: number;
  className?: string;
  /** Loops (for/while/comprehensions) between the call and its function. */
  loopDepth: number;
  /** Start offset of the innermost loop, to group calls made in the same loop. */
  loopStart?: number;
  loopEnd?: number;
  /** Inside `with torch.no_grad()` / `torch.inference_mode()` or a function decorated with them. */
  inNoGrad: boolean;
}

export interface Call extends Span {
  /** Callee text without whitespace: 'nn.Dropout', 'tf.layers.dropout', 'model.train'. */
  callee: string;
  /** Callee resolved through imports: 'torch.nn.Dropout', 'keras.layers.Dropout', 'tf.layers.dropout'. */
  qualified: string;
  /** Last segment of the callee ('train' for model.train). */
  method: string;
  /** Text before the last '.', e.g. 'model' or 'self.net'; '' for plain calls. */
  receiver: string;
  args: Arg[];
  /** The argument list including its parentheses. */
  argList?: Span;
  /** TF.js: the `{...}` config object whose properties became named args. */
  configObject?: Span;
  scope: Scope;
  /** Variable or attribute the call's value is assigned to ('model', 'self.fc'). */
  assignedTo?: string;
  /** Start offset of the statement line holding the call, and its indentation. */
  lineStart: number;
  indent: string;
}

export interface GraphLayer extends Span {
  kind: GraphLayerKind;
  /** Canonical class name: 'Dropout', 'BatchNorm1d', 'Dense', 'dropout' (TF.js). */
  name: string;
  call?: Call;
  text: string;
  /** Dropout rate when literal. */
  rate?: number;
  rateArg?: Arg;
  /** Output width of a linear/dense layer when literal. */
  features?: number;
}

export interface DetectedModel extends Span {
  framework: Framework;
  /** sequential: a layer list; add: model.add() calls; module: an nn.Module class; functional: keras.Model/tf.model. */
  style: 'sequential' | 'add' | 'module' | 'functional';
  name?: string;
  layers: GraphLayer[];
  /** An nn.Sequential inside an nn.Module class (whose own entry already covers its layers). */
  insideModule?: boolean;
  /**
   * `nn.Sequential(OrderedDict([("name", layer), ...]))`: each layer's span is its whole
   * `("name", layer)` pair, so edits inserting a bare layer into the list do not apply.
   */
  namedLayers?: boolean;
  /** Start of the top-level statement holding the model: definitions are inserted above it. */
  topLevelStart: number;
  /** For list-style models: insert new layers here (after the last hidden activation) or undefined. */
  layerInsert?: { after: GraphLayer; next: GraphLayer };
  /** The constructor call of sequential/add models (`nn.Sequential(...)`, `tf.sequential(...)`). */
  call?: Call;
}

export interface Optimizer {
  framework: Framework;
  /** Canonical name: 'Adam', 'AdamW', 'SGD', 'adam' (TF.js). */
  name: string;
  call: Call;
  weightDecay?: number;
  weightDecayArg?: Arg;
  /** Source text of the parameters argument (PyTorch). */
  paramsText?: string;
}

export interface LoraConfig {
  call: Call;
  /** undefined when lora_dropout is absent (PEFT defaults to 0.0) or not a literal. */
  dropout?: number;
  dropoutArg?: Arg;
}

export interface TrainingFacts {
  /** `<x>.train()` / `<x>.train(True)` calls (PyTorch). */
  trainCalls: Call[];
  /** `<x>.eval()` / `<x>.train(False)` calls (PyTorch). */
  evalCalls: Call[];
  /** Calls passing `training=True` (Keras) / `{training: true}` (TF.js). */
  trainingTrueCalls: Call[];
  /** `torch.no_grad()` / `torch.inference_mode()` spans: with-statements or decorated functions. */
  noGradBlocks: Span[];
  /** `loss.backward()` / `optimizer.step()` / `fit()` calls: where training happens. */
  stepCalls: Call[];
  /** Largest literal epoch count seen (`for epoch in range(N)`, `epochs=N`). */
  epochs?: number;
  epochsSpan?: Span;
}

export interface ModelGraph {
  language: SourceLanguage;
  text: string;
  index: TextIndex;
  calls: Call[];
  models: DetectedModel[];
  optimizers: Optimizer[];
  loraConfigs: LoraConfig[];
  training: TrainingFacts;
  /** Functions by name with their spans (Python def / JS function and methods). */
  functions: FunctionFact[];
  /** Class definitions (name, bases as written, span). */
  classes: RawClass[];
  /** Names of classes and functions defined in the file. */
  definedNames: Set<string>;
  /** Import lines as written, to decide which imports a snippet still needs. */
  importLines: { text: string; start: number; end: number }[];
  /** Python `from X import ...` statements, to append a name to one. */
  importFroms: ImportFrom[];
  /** What each import binds, in document order. */
  bindings: ImportBinding[];
  /** Indentation unit of the file ('    ', '  ', '\t'). */
  indentUnit: string;
  eol: string;
  /** What the file's imports refer to in other files of the workspace, when a workspace index is on. */
  workspace?: WorkspaceContext;
}

export function parseNumber(text: string): number | undefined {
  const t = text.replace(/_/g, '').trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

const ACTIVATIONS = new Set([
  'relu', 'relu6', 'gelu', 'tanh', 'sigmoid', 'leakyrelu', 'silu', 'elu', 'selu', 'celu', 'mish', 'prelu', 'rrelu',
  'hardtanh', 'hardswish', 'hardsigmoid', 'softplus', 'softsign', 'swish', 'activation', 'thresholdedrelu',
  'tanhshrink', 'logsigmoid', 'glu', 'threshold',
]);

/** Kind of a layer from its class/factory name in any of the three frameworks. */
export function classifyLayer(name: string): GraphLayerKind {
  const n = name.toLowerCase().replace(/_/g, '');
  if (/dropout\d?d?$/.test(n) || n === 'alphadropout' || n === 'gaussiandropout' || n === 'spatialdropout1d' || n === 'spatialdropout2d' || n === 'spatialdropout3d') return 'dropout';
  if (/^(lazy)?batchnorm(\d+d)?$/.test(n) || n === 'batchnormalization' || n === 'syncbatchnorm') return 'batchnorm';
  if (/^(layernorm(alization)?|groupnorm(alization)?|instancenorm\dd?|rmsnorm|unitnormalization)$/.test(n)) return 'norm';
  if (ACTIVATIONS.has(n)) return 'activation';
  if (n === 'linear' || n === 'lazylinear' || n === 'dense' || n === 'bilinear' || n === 'einsumdense') return 'linear';
  if (/^(lazy)?conv(transpose)?\d?d?$/.test(n) || /^(separable|depthwise)?conv\dd(transpose)?$/.test(n)) return 'conv';
  return 'other';
}

export function spanOf(index: TextIndex, start: number, end: number): Span {
  return { start, end, range: index.rangeAt(start, end) };
}

/** The file's indentation unit: the smallest indentation of an indented line (tabs win). */
export function detectIndentUnit(text: string): string {
  let best: string | undefined;
  const re = /\n([ \t]+)\S/g;
  for (let m = re.exec(text), n = 0; m && n < 200; m = re.exec(text), n++) {
    const ind = m[1];
    if (ind.startsWith('\t')) return '\t';
    if (!best || ind.length < best.length) best = ind;
  }
  return best && best.length <= 8 ? best : '    ';
}

/** Calls (sorted by start, as extracted) lying within [start, end): a binary search, not a scan. */
export function callsWithin<T extends { start: number; end: number }>(calls: readonly T[], start: number, end: number): T[] {
  let lo = 0;
  let hi = calls.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (calls[mid].start < start) lo = mid + 1;
    else hi = mid;
  }
  const out: T[] = [];
  for (let i = lo; i < calls.length && calls[i].start < end; i++) if (calls[i].end <= end) out.push(calls[i]);
  return out;
}
