import { type Call, callsWithin, type ModelGraph, type Span } from '../modelGraph';
import { receiverBoundAt } from './boundNames';
import type { Finding } from '../textTypes';
import { importedEvalCall } from '../workspace/importedModes';
import { finding, firstLine, insertAt, madeUpTensor, MC_FUNCTION, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';
import { classAt, modeFreeClass } from './modalLayers';
import type { RawClass } from '../rawFacts';

export const INFERENCE_WITHOUT_EVAL: RuleInfo = {
  id: 'inference-without-eval',
  title: 'Inference without model.eval(), or eval() left on in a training loop',
  docsUrl: ruleDocsUrl('inference-without-eval'),
  source: 'https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.inferenceWithoutEval.severity',
};

/** Method calls that run the model they are called on. */
const RUN_METHODS = new Set(['forward', 'predict', 'generate', 'sample', 'inference', 'infer', '__call__']);

/** Names a model is conventionally bound to: `model`, `net`, `netG`, `ema_model`, `teacher`, `resnet`. */
const MODEL_NAME =
  /^(?:\w*_)?(model|net|network|classifier|encoder|decoder|backbone|teacher|student|generator|discriminator|critic|actor|policy|transformer|unet)s?(?:_\w*|\d*)$|^net[A-Z]\w*$|^[a-z]\w*(Net|Model)$|^\w*net$/i;


/** Calls whose value is a model: torchvision/timm/HF constructors, loading a whole model, copying one. */
const MODEL_FACTORY = /(^torchvision\.models\.|(^|\.)(from_pretrained|create_model|deepcopy)$|^torch\.(hub|jit)\.load$)/;

interface ModelEvidence {
  /** The call that runs the model. */
  call: Call;
  /** The expression the model is bound to (`model`, `self.net`, `self`): the receiver of the fix's eval(). */
  model: string;
}

/**
 * What the file binds to models: variables assigned a model class of this file, an nn layer or
 * container, or a model factory's result; `self.<attr>` assigned one in a constructor.
 */
function modelBindings(graph: ModelGraph): Set<string> {
  const classes = new Set(graph.models.filter((m) => m.style === 'module' && m.name).map((m) => m.name!));
  const out = new Set<string>();
  for (const c of graph.calls) {
    if (!c.assignedTo || !/^[A-Za-z_][\w.]*$/.test(c.assignedTo)) continue;
    const layer = /^torch\.nn\.[A-Z]\w*$/.test(c.qualified) && !/(Loss|Parameter|Identity)$/.test(c.qualified);
    if (classes.has(c.callee) || layer || MODEL_FACTORY.test(c.qualified)) out.add(c.assignedTo);
  }
  return out;
}

/** True when the call's positional inputs are all fake tensors (a model probed for a shape, not run on data). */
function dummyInputs(graph: ModelGraph, call: Call): boolean {
  const positional = call.args.filter((a) => a.name === undefined);
  return positional.length > 0 && positional.every((a) => madeUpTensor(graph, call, a));
}

/**
 * Evidence that `call` runs a model: a call of a name bound to a model (or named like one), of a
 * model attribute, or of `self` in a module's method, with real inputs, outside a constructor
 * (a forward pass in `__init__` only infers a layer size).
 */
function runsModel(graph: ModelGraph, call: Call, models: Set<string>, selfAttrs: Set<string>): ModelEvidence | undefined {
  // A constructor's forward pass only infers a layer size; no_grad inside forward()/call() freezes
  // a sub-module during training, and the caller decides the mode.
  if (call.scope.functionName === '__init__' || call.scope.functionName === 'forward' || call.scope.functionName === 'call') return undefined;
  if (/^(torch|numpy|np|math|F|nn)(\.|$)/.test(call.qualified) && call.qualified !== call.callee) return undefined;
  const target = RUN_METHODS.has(call.method) && call.receiver ? call.receiver : call.callee;
  if (!/^[A-Za-z_][\w.]*$/.test(target)) return undefined;
  const last = target.slice(target.lastIndexOf('.') + 1);
  // `Classifier()` builds a model (CamelCase names are classes by convention); it does not run one.
  if (/^[A-Z]/.test(last) && !models.has(target)) return undefined;
  const isModel =
    (target === 'self' && call.scope.className !== undefined) ||
    models.has(target) ||
    (target.startsWith('self.') && selfAttrs.has(target)) ||
    (/^[A-Za-z_]\w*$/.test(target) ? MODEL_NAME.test(target) : target.startsWith('self.') && MODEL_NAME.test(last));
  if (!isModel || dummyInputs(graph, call)) return undefined;
  // A method or function of this file with a model-like name (`self.run_model_test(...)`) is a helper, not a model.
  if (graph.functions.some((f) => f.name === last && (target.startsWith('self.') ? f.className === call.scope.className : target === last && !f.className))) return undefined;
  // A model whose class is known to behave the same in train() and eval() needs no eval().
  const cls = modelClass(graph, call, target);
  if (cls && modeFreeClass(graph, cls)) return undefined;
  return { call, model: target };
}

/** The class of this file the model run by `call` is an instance of, when the file shows it. */
function modelClass(graph: ModelGraph, call: Call, target: string): RawClass | undefined {
  if (target === 'self') {
    const own = graph.classes.filter((c) => c.name === call.scope.className && c.start < call.start && call.end <= c.end);
    return own[own.length - 1];
  }
  let binding: Call | undefined;
  for (const c of graph.calls) {
    if (c.start >= call.start) break;
    const sameScope = c.scope.functionStart === call.scope.functionStart || c.scope.functionStart === undefined || (target.startsWith('self.') && c.scope.functionName === '__init__');
    if (c.assignedTo === target && sameScope) binding = c;
  }
  return binding ? classAt(graph, binding.callee, binding.start) : undefined;
}

/** BatchNorm recalibration (SWA's update_bn): running statistics reset and recomputed in train() on purpose. */
const RECALIBRATES_BN = /\.reset_running_stats\(|\.momentum\s*=|\.running_(mean|var)\s*=|\.num_batches_tracked\s*\*?=/;

/** True when the block chooses the mode itself (`model.train()` inside it) or recomputes BatchNorm statistics. */
function setsModeItself(graph: ModelGraph, block: Span, evidence: ModelEvidence): boolean {
  const inside = callsWithin(graph.calls, block.start + 1, block.end);
  if (inside.some((c) => c.method === 'train' && c.receiver === evidence.model && c.start < evidence.call.start)) return true;
  return RECALIBRATES_BN.test(graph.text.slice(block.start, block.end));
}

/** Where `model.eval()` goes: before the with-statement, or as the first statement of a decorated function. */
function evalInsertion(graph: ModelGraph, block: Span): { at: number; indent: string } | undefined {
  const line = block.range.start.line;
  const lineStart = graph.index.lineStart(line);
  const decorated = graph.text.startsWith('@', block.start);
  if (!decorated) {
    if (graph.text.slice(lineStart, block.start).trim() !== '') return undefined;
    return { at: lineStart, indent: /^[ \t]*/.exec(graph.index.lineText(line))![0] };
  }
  const fn = graph.functions.find((f) => f.start > block.start && f.start < block.end);
  if (!fn || fn.bodyStart === undefined) return undefined;
  const bodyLine = graph.index.positionAt(fn.bodyStart).line;
  const bodyLineStart = graph.index.lineStart(bodyLine);
  // `def f(): return model(x)` has its body on the header line: no statement can go before it.
  if (graph.text.slice(bodyLineStart, fn.bodyStart).trim() !== '') return undefined;
  return { at: bodyLineStart, indent: graph.text.slice(bodyLineStart, fn.bodyStart) };
}

/** True when a loop enclosing the block (by indentation) also holds a training step before it. */
function trainsInEnclosingLoop(graph: ModelGraph, block: Span, stepCalls: Call[]): boolean {
  const startLine = block.range.start.line;
  let indent = /^[ \t]*/.exec(graph.index.lineText(startLine))![0].length;
  for (let line = startLine - 1; line >= 0 && indent > 0; line--) {
    const text = graph.index.lineText(line);
    const trimmed = text.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const own = /^[ \t]*/.exec(text)![0].length;
    if (own >= indent) continue;
    if (/^(def|class)\b/.test(trimmed)) return false;
    if (/^(async\s+)?(for|while)\b/.test(trimmed)) {
      const loopStart = graph.index.lineStart(line);
      if (stepCalls.some((c) => c.start > loopStart && c.end <= block.start)) return true;
    }
    indent = own;
  }
  return false;
}

/**
 * torch.no_grad() only stops gradient tracking; dropout and BatchNorm stay in training mode
 * until model.eval(). Conversely an eval() inside the epoch loop with no train() after it
 * leaves every later epoch training with dropout off.
 */
export function checkInferenceWithoutEval(graph: ModelGraph): Finding[] {
  if (graph.language !== 'python') return [];
  const out: Finding[] = [];
  const { trainCalls, evalCalls, stepCalls, noGradBlocks } = graph.training;
  const torchModels = graph.models.filter((m) => m.framework === 'pytorch');
  const modal = torchModels.some((m) => m.layers.some((l) => l.kind === 'dropout' || l.kind === 'batchnorm'));
  // An evaluation function imported from another file that calls eval() itself counts as an eval() here.
  if (noGradBlocks.length > 0 && evalCalls.length === 0 && (modal || trainCalls.length > 0) && !importedEvalCall(graph)) {
    const models = modelBindings(graph);
    const selfAttrs = new Set([...models].filter((m) => m.startsWith('self.')));
    for (const block of noGradBlocks) {
      const inside = callsWithin(graph.calls, block.start + 1, block.end);
      if (inside.some((c) => MC_FUNCTION.test(c.scope.functionName ?? ''))) continue;
      // A block that only initialises or copies weights, or probes a layer size, runs no model.
      let evidence: ModelEvidence | undefined;
      for (const c of inside) if ((evidence = runsModel(graph, c, models, selfAttrs))) break;
      if (!evidence || setsModeItself(graph, block, evidence)) continue;
      const fixes = [];
      const where = evalInsertion(graph, block);
      // The receiver must exist where eval() is inserted: a model bound only inside the block gets no fix.
      if (where && receiverBoundAt(graph, evidence.model, where.at)) {
        const edits = [insertAt(graph, where.at, `${where.indent}${evidence.model}.eval()${graph.eol}`)];
        // Evaluation inside the training loop: eval() alone would leave the next epochs training
        // in eval mode, so train() follows the block.
        const inTraining = !graph.text.startsWith('@', block.start) && trainsInEnclosingLoop(graph, block, stepCalls);
        if (inTraining) edits.push(insertAt(graph, block.end, `${graph.eol}${where.indent}${evidence.model}.train()`));
        fixes.push({ title: `Call ${evidence.model}.eval() before inference${inTraining ? ' and .train() after it' : ''}`, edits });
      }
      out.push(
        finding(
          INFERENCE_WITHOUT_EVAL,
          firstLine(graph, block),
          `${evidence.model} runs under no_grad without .eval(): dropout and BatchNorm stay in training mode`,
          fixes,
        ),
      );
    }
  }
  // eval() inside an epoch loop after the training steps, with no train() in the loop.
  for (const ev of evalCalls) {
    const { loopStart, loopEnd } = ev.scope;
    if (loopStart === undefined || loopEnd === undefined) continue;
    const within = (c: Call) => c.start > loopStart && c.end <= loopEnd;
    if (!stepCalls.some((s) => within(s) && s.start < ev.start)) continue;
    if (trainCalls.some(within)) continue;
    const headerLine = graph.index.positionAt(loopStart).line;
    const bodyLine = headerLine + 1;
    const fixes = [];
    if (bodyLine < graph.index.lineCount && ev.receiver) {
      const indent = /^[ \t]*/.exec(graph.index.lineText(bodyLine))![0];
      fixes.push({ title: `Call ${ev.receiver}.train() at the start of each epoch`, edits: [insertAt(graph, graph.index.lineStart(bodyLine), `${indent}${ev.receiver}.train()${graph.eol}`)] });
    }
    out.push(
      finding(
        INFERENCE_WITHOUT_EVAL,
        ev.range,
        `${ev.callee}() in the epoch loop is never undone: later epochs train in eval mode`,
        fixes,
      ),
    );
  }
  return out;
}
