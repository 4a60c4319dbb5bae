import {
  type Arg,
  classifyLayer,
  type DetectedModel,
  detectIndentUnit,
  type Framework,
  type GraphLayer,
  type LoraConfig,
  type ModelGraph,
  type Optimizer,
  type Span,
  spanOf,
  type TrainingFacts,
  callsWithin,
} from './modelGraph';
import type { RawCall, RawFacts } from './rawFacts';
import type { TextIndex } from './textIndex';
import type { SourceLanguage } from './treeSitterRuntime';

const TORCH_CONTAINERS = new Set(['Sequential', 'ModuleList', 'ModuleDict', 'Module', 'Parameter', 'ParameterList', 'ParameterDict', 'Identity', 'Flatten', 'Unflatten']);
const KERAS_NON_LAYERS = new Set(['Input', 'InputLayer', 'Layer', 'Lambda', 'Flatten', 'Reshape', 'Concatenate', 'Add', 'Multiply', 'Average']);
const TFJS_NON_LAYERS = new Set(['input', 'flatten', 'reshape', 'concatenate', 'add', 'multiply', 'average']);
// Output activations do not make a hidden layer: nothing is inserted after them.
const OUTPUT_ACTIVATIONS = /^['"](softmax|sigmoid|linear|log_softmax)['"]$/;

type LayerWhat = { framework: Framework; name: string } | undefined;
// A file has a few dozen distinct callees and thousands of calls: classify each name once.
const layerMemo = new Map<string, LayerWhat>();

/** The framework layer a call constructs, or undefined. */
export function layerOf(call: { qualified: string }): LayerWhat {
  const q = call.qualified;
  if (layerMemo.has(q)) return layerMemo.get(q);
  if (layerMemo.size > 4096) layerMemo.clear();
  const what = classifyCallee(q);
  layerMemo.set(q, what);
  return what;
}

function classifyCallee(q: string): LayerWhat {
  let m = /^torch\.nn\.([A-Z]\w*)$/.exec(q);
  if (m && !TORCH_CONTAINERS.has(m[1])) return { framework: 'pytorch', name: m[1] };
  m = /^keras\.layers\.([A-Z]\w*)$/.exec(q);
  if (m && !KERAS_NON_LAYERS.has(m[1])) return { framework: 'keras', name: m[1] };
  m = /^tf\.layers\.(\w+)$/.exec(q);
  if (m && !TFJS_NON_LAYERS.has(m[1])) return { framework: 'tfjs', name: m[1] };
  return undefined;
}

function argNamed(call: RawCall, name: string, position?: number): Arg | undefined {
  const named = call.args.find((a) => a.name === name);
  if (named || position === undefined) return named;
  return call.args.filter((a) => a.name === undefined)[position];
}

function toLayer(call: RawCall, framework: Framework, name: string, text: string): GraphLayer {
  const kind = classifyLayer(name);
  const layer: GraphLayer = { start: call.start, end: call.end, range: call.range, kind, name, call, text };
  if (kind === 'dropout') {
    const rateArg = framework === 'pytorch' ? argNamed(call, 'p', 0) : framework === 'keras' ? argNamed(call, 'rate', 0) : argNamed(call, 'rate');
    layer.rateArg = rateArg;
    // Defaults: nn.Dropout p=0.5; Keras and TF.js require a rate.
    layer.rate = rateArg ? rateArg.number : framework === 'pytorch' ? 0.5 : undefined;
  }
  if (kind === 'linear') {
    const f = framework === 'pytorch' ? argNamed(call, 'out_features', 1) : framework === 'keras' ? argNamed(call, 'units', 0) : argNamed(call, 'units');
    layer.features = f?.number;
  }
  return layer;
}

function otherLayer(el: Span & { text: string }): GraphLayer {
  return { ...el, kind: 'other', name: el.text };
}

/** True for a layer after which a hidden-layer regularizer (dropout) belongs. */
function isHiddenActivation(l: GraphLayer): boolean {
  if (l.kind === 'activation') return true;
  if (l.kind !== 'linear' && l.kind !== 'conv') return false;
  const act = l.call?.args.find((a) => a.name === 'activation');
  return !!act && !OUTPUT_ACTIVATIONS.test(act.text) && act.text !== 'None' && act.text !== 'null';
}

function layerInsertPoint(layers: GraphLayer[]): DetectedModel['layerInsert'] {
  let k = -1;
  for (let i = 0; i + 1 < layers.length; i++) if (isHiddenActivation(layers[i])) k = i;
  if (k < 0) return undefined;
  // Already regularized: a dropout before the next weight layer.
  for (let i = k + 1; i < layers.length && layers[i].kind !== 'linear' && layers[i].kind !== 'conv'; i++) if (layers[i].kind === 'dropout') return undefined;
  return { after: layers[k], next: layers[k + 1] };
}

/**
 * The `("name", layer)` pairs of `nn.Sequential(OrderedDict([...]))` (a common way to name the
 * layers), or undefined when the Sequential is written any other way.
 */
function orderedDictPairs(call: RawCall, callAt: Map<number, RawCall>): (Span & { text: string })[] | undefined {
  const only = call.args.length === 1 && call.args[0].name === undefined ? call.args[0] : undefined;
  const inner = only && callAt.get(only.start);
  if (!inner || inner.end !== only!.end || !/(^|\.)OrderedDict$/.test(inner.callee) || !inner.elements) return undefined;
  return inner.elements;
}

/** The layer of one `("name", layer)` pair: the pair's outermost last call, spanning the whole pair. */
function layerFromPair(pair: Span & { text: string }, calls: RawCall[], text: string): GraphLayer {
  let last: RawCall | undefined;
  for (const c of callsWithin(calls, pair.start, pair.end)) if (!last || c.start >= last.end) last = c;
  const what = last && /^\(\s*(['"]).*?\1\s*,\s*$/s.test(text.slice(pair.start, last.start)) ? layerOf(last) : undefined;
  if (!last || !what) return otherLayer(pair);
  return { ...toLayer(last, what.framework, what.name, text.slice(last.start, last.end)), start: pair.start, end: pair.end, range: pair.range, text: pair.text };
}

/** Base classes of a PyTorch model class: `nn.Module`, `pl.LightningModule`. */
const TORCH_MODULE_BASE = /\b(Module|LightningModule)\b/;

const STEP_METHODS = new Set(['backward', 'step', 'fit', 'fit_generator', 'fitDataset', 'train_on_batch', 'trainOnBatch', 'minimize']);
/** Receivers whose step() does not train (an LR scheduler, a pruning sparsifier, an RL environment). */
const NOT_TRAINING_STEP = /(sched|sparsif|prun|quantiz|warmup|(^|[._])env\w*$|simulat)/i;

interface CalleeKind {
  optimizer?: { framework: Framework; name: string };
  lora: boolean;
}
const kindMemo = new Map<string, CalleeKind>();

/** What a resolved callee constructs besides layers (memoized like layerOf). */
function calleeKind(q: string): CalleeKind {
  let kind = kindMemo.get(q);
  if (kind) return kind;
  let m = /^torch\.optim\.([A-Z]\w*)$/.exec(q);
  let optimizer: CalleeKind['optimizer'];
  if (m) optimizer = { framework: 'pytorch', name: m[1] };
  else if ((m = /^keras\.optimizers\.(?:experimental\.)?([A-Z]\w*)$/.exec(q))) optimizer = { framework: 'keras', name: m[1] };
  else if ((m = /^tf\.train\.(\w+)$/.exec(q))) optimizer = { framework: 'tfjs', name: m[1] };
  kind = { optimizer, lora: /(^|\.)LoraConfig$/.test(q) };
  if (kindMemo.size > 4096) kindMemo.clear();
  kindMemo.set(q, kind);
  return kind;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function buildGraph(raw: RawFacts, language: SourceLanguage, text: string, index: TextIndex): ModelGraph {
  raw.calls.sort((a, b) => a.start - b.start);
  const callAt = new Map<number, RawCall>();
  for (const c of raw.calls) if (!callAt.has(c.start)) callAt.set(c.start, c);
  const layerFromElement = (el: Span & { text: string }): GraphLayer => {
    const call = callAt.get(el.start);
    const what = call && call.end === el.end ? layerOf(call) : undefined;
    return call && what ? toLayer(call, what.framework, what.name, el.text) : otherLayer(el);
  };

  const models: DetectedModel[] = [];
  const moduleClasses = raw.classes.filter((c) => TORCH_MODULE_BASE.test(c.bases) || /\b(Model|Layer)\b/.test(c.bases));
  // Classes by the top-level statement holding them, so a lookup only looks at that statement's.
  const classesByTop = new Map<number, typeof moduleClasses>();
  for (const c of moduleClasses) {
    const list = classesByTop.get(c.topLevelStart);
    if (list) list.push(c);
    else classesByTop.set(c.topLevelStart, [c]);
  }
  const inClass = (call: RawCall) => classesByTop.get(call.topLevelStart)?.find((c) => c.start <= call.start && call.start < c.end);

  // Class-based models: nn.Module subclasses and Keras Model/Layer subclasses.
  for (const cls of moduleClasses) {
    const calls = callsWithin(raw.calls, cls.start, cls.end).filter((c) => c.scope.functionName === '__init__');
    const layers: GraphLayer[] = [];
    let framework: Framework | undefined;
    for (const c of calls) {
      const what = layerOf(c);
      if (!what) continue;
      framework ??= what.framework;
      layers.push(toLayer(c, what.framework, what.name, text.slice(c.start, c.end)));
    }
    if (!framework) framework = TORCH_MODULE_BASE.test(cls.bases) ? 'pytorch' : undefined;
    if (!framework) continue;
    models.push({ ...spanOf(index, cls.start, cls.end), framework, style: 'module', name: cls.name, layers, topLevelStart: cls.topLevelStart });
  }

  // Indexes that keep model.add chains and functional models linear in the number of calls.
  const addCalls = new Map<string, RawCall[]>();
  const layerCallsByFunction = new Map<number, RawCall[]>();
  for (const c of raw.calls) {
    if (c.method === 'add' && c.args[0]) push(addCalls, c.receiver, c);
    if (layerOf(c)) push(layerCallsByFunction, c.scope.functionStart ?? -1, c);
  }

  const functionalSeen = new Map<string, number>();
  for (const call of raw.calls) {
    const q = call.qualified;
    const seqKind =
      q === 'torch.nn.Sequential' ? 'pytorch' : q === 'keras.Sequential' || q === 'keras.models.Sequential' ? 'keras' : q === 'tf.sequential' ? 'tfjs' : undefined;
    if (seqKind) {
      let layers: GraphLayer[];
      let style: DetectedModel['style'] = 'sequential';
      const pairs = seqKind === 'pytorch' ? orderedDictPairs(call, callAt) : undefined;
      if (pairs) {
        layers = pairs.map((p) => layerFromPair(p, raw.calls, text));
      } else if (seqKind === 'pytorch') {
        // `**kwargs` is not a layer; `*blocks` stays as an 'other' layer (it holds layers).
        layers = call.args.filter((a) => a.name === undefined && !a.text.startsWith('**')).map((a) => layerFromElement(a));
      } else if (call.elements) {
        layers = call.elements.map(layerFromElement);
      } else {
        style = 'add';
        const name = call.assignedTo;
        layers = name
          ? (addCalls.get(name) ?? []).filter((c) => c.start > call.end).map((c) => layerFromElement({ ...c.args[0], text: c.args[0].text }))
          : [];
      }
      const cls = inClass(call);
      models.push({
        ...spanOf(index, call.start, call.end),
        framework: seqKind,
        style,
        name: call.assignedTo,
        layers,
        insideModule: !!cls,
        namedLayers: !!pairs,
        topLevelStart: call.topLevelStart,
        layerInsert: style === 'sequential' && !pairs ? layerInsertPoint(layers) : undefined,
        call,
      });
      continue;
    }
    const funKind = q === 'keras.Model' || q === 'keras.models.Model' ? 'keras' : q === 'tf.model' ? 'tfjs' : undefined;
    if (funKind && call.args.length > 0 && !inClass(call)) {
      // Layers built in the same function (or at top level) since the previous functional model there.
      const scopeKey = String(call.scope.functionStart ?? -1);
      const from = functionalSeen.get(scopeKey) ?? -1;
      functionalSeen.set(scopeKey, call.end);
      const layers = (layerCallsByFunction.get(call.scope.functionStart ?? -1) ?? [])
        .filter((c) => c.start > from && c.end <= call.start)
        .flatMap((c) => {
          const what = layerOf(c);
          return what && what.framework === funKind ? [toLayer(c, what.framework, what.name, text.slice(c.start, c.end))] : [];
        });
      models.push({ ...spanOf(index, call.start, call.end), framework: funKind, style: 'functional', name: call.assignedTo, layers, topLevelStart: call.topLevelStart });
    }
  }
  models.sort((a, b) => a.start - b.start);

  const optimizers: Optimizer[] = [];
  const loraConfigs: LoraConfig[] = [];
  const training: TrainingFacts = { trainCalls: [], evalCalls: [], trainingTrueCalls: [], noGradBlocks: raw.noGradBlocks, stepCalls: [] };
  for (const call of raw.calls) {
    const q = call.qualified;
    const kind = calleeKind(q);
    if (kind.optimizer?.framework === 'pytorch') {
      const wd = argNamed(call, 'weight_decay');
      // Parameters come first positionally or as `params=`.
      const params = argNamed(call, 'params', 0);
      optimizers.push({ framework: 'pytorch', name: kind.optimizer.name, call, weightDecay: wd ? wd.number : 0, weightDecayArg: wd, paramsText: params?.text });
    } else if (kind.optimizer?.framework === 'keras') {
      const wd = argNamed(call, 'weight_decay');
      optimizers.push({ framework: 'keras', name: kind.optimizer.name, call, weightDecay: wd ? wd.number : 0, weightDecayArg: wd });
    } else if (kind.optimizer) {
      optimizers.push({ framework: 'tfjs', name: kind.optimizer.name, call, weightDecay: 0 });
    }
    if (kind.lora) {
      const arg = argNamed(call, 'lora_dropout');
      loraConfigs.push({ call, dropout: arg ? arg.number : 0, dropoutArg: arg });
    }
    if (language === 'python' && call.receiver && !/trainer$/i.test(call.receiver)) {
      const a0 = call.args[0]?.text;
      if (call.method === 'train' && (a0 === undefined || a0 === 'True') && call.args.length <= 1) training.trainCalls.push(call);
      if ((call.method === 'eval' && call.args.length === 0) || (call.method === 'train' && a0 === 'False')) training.evalCalls.push(call);
    }
    if (call.args.some((a) => a.name === 'training' && (a.text === 'True' || a.text === 'true'))) training.trainingTrueCalls.push(call);
    if (call.receiver && STEP_METHODS.has(call.method) && !(call.method === 'step' && NOT_TRAINING_STEP.test(call.receiver))) training.stepCalls.push(call);
    const epochs = call.args.find((a) => (a.name === 'epochs' || a.name === 'num_train_epochs' || a.name === 'max_epochs') && a.number !== undefined);
    if (epochs && (training.epochs ?? 0) < epochs.number!) {
      training.epochs = epochs.number;
      training.epochsSpan = epochs;
    }
  }
  for (const loop of raw.epochLoops) {
    if ((training.epochs ?? 0) < loop.count) {
      training.epochs = loop.count;
      training.epochsSpan = loop.span;
    }
  }
  const eolMatch = /\r?\n/.exec(text);
  return {
    language,
    text,
    index,
    calls: raw.calls,
    models,
    optimizers,
    loraConfigs,
    training,
    functions: raw.functions,
    classes: raw.classes,
    definedNames: new Set([...raw.functions.map((f) => f.name), ...raw.classes.map((c) => c.name)]),
    importLines: raw.importLines,
    importFroms: raw.importFroms,
    bindings: raw.bindings,
    indentUnit: detectIndentUnit(text),
    eol: eolMatch ? eolMatch[0] : '\n',
  };
}
