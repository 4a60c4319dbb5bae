// What one Python file offers the other files of a workspace, read from its model graph: its
// imports, classes (their bases, the dropout / batch-norm layers they hold, the sub-modules they
// build), top-level functions (the modes they set on a parameter, whether they switch modules to
// train(), whether they sample MC passes in whatever mode the caller left) and module-level names.
// Plain data with ranges only, no trees or texts: the index keeps one per file.
import { NameResolver } from '../callNames';
import { callsWithin, type Framework, type ModelGraph } from '../modelGraph';
import { MC_FUNCTION } from '../rules/ruleKit';
import type { Range } from '../textTypes';
import { type ImportEntry, parsePythonImport } from './pythonImports';

export interface LayerRef {
  /** Layer class as written in its file ('BatchNorm2d', 'MCDropout'). */
  name: string;
  range: Range;
}

export interface ClassFacts {
  name: string;
  /** The class header line. */
  range: Range;
  /** Base expressions as written ('nn.Module', 'Backbone', 'layers.Dropout'). */
  bases: string[];
  /** An nn.Module / LightningModule / Keras Model or Layer subclass. */
  isModel: boolean;
  framework?: Framework;
  /** The framework layer a base resolves to through this file's imports ('torch.nn.Dropout'). */
  baseLayer?: string;
  /** The first dropout and batch-norm layer built in __init__. */
  dropout?: LayerRef;
  batchnorm?: LayerRef;
  /** Callees in __init__ that build no framework layer: candidate sub-modules ('Backbone', 'models.resnet18'). */
  parts: string[];
}

export type Mode = 'eval' | 'train';

export interface FunctionFacts {
  name: string;
  /** The def line. */
  range: Range;
  /** Parameter names in order (without `self`, `*` markers, annotations or defaults). */
  params: string[];
  /** eval() / train() calls on a parameter, in order. */
  modes: { param: number; mode: Mode; range: Range }[];
  /** Calls train() on anything: called from an MC function it switches dropout back on (enable_dropout). */
  trains: boolean;
  /**
   * An MC-named function repeating forward passes without setting any mode itself: the passes
   * vary only if the caller left dropout on. `param` is the model's parameter.
   */
  mcLoop?: { param: number; helpers: string[] };
}

export interface FileSummary {
  language: 'python' | 'tsjs';
  /** Module-level imports (re-exports are followed through them). */
  imports: ImportEntry[];
  classes: ClassFacts[];
  functions: FunctionFacts[];
  /** Other module-level names (assigned from a call at top level). */
  names: string[];
  /** The first BatchNorm of a PyTorch model built in this file (layer lists and module classes). */
  batchnorm?: LayerRef & { owner: string };
  /** Distinct dotted callees (capped): what the file calls and instantiates, resolved on demand. */
  callees: string[];
  /** An optimizer with a non-zero weight_decay (or a kernel regularizer): the models this file trains are regularized. */
  weightDecay?: Range;
}

const LAYER_BASE = /^(torch\.nn|keras\.layers)\.(\w*Dropout\w*|BatchNorm\w*|BatchNormalization)$/;
const MODEL_BASE = /\b(Module|LightningModule|Model|Layer)\b/;
const MAX_PARTS = 24;
const MAX_CALLEES = 128;

/** Summarises a file's graph; TS/JS files get an empty summary (imports between them are not followed). */
export function summarizeGraph(graph: ModelGraph): FileSummary {
  if (graph.language !== 'python') return { language: 'tsjs', imports: [], classes: [], functions: [], names: [], callees: [] };
  const imports: ImportEntry[] = [];
  for (const line of graph.importLines) {
    if (graph.index.positionAt(line.start).character === 0) imports.push(...parsePythonImport(line.text));
  }
  const resolver = new NameResolver('python');
  for (const b of graph.bindings) {
    if ('wildcard' in b) resolver.wildcards.push(b.wildcard);
    else resolver.bind(b.local, b.target);
  }
  const lineRange = (start: number): Range => {
    const line = graph.index.positionAt(start).line;
    return graph.index.rangeAt(start, graph.index.lineContentEnd(line));
  };

  const modelsByStart = new Map(graph.models.filter((m) => m.style === 'module').map((m) => [m.start, m]));
  const classes: ClassFacts[] = [];
  const classNames = new Set<string>();
  for (const m of classSpans(graph)) {
    const { name, start, end, basesText } = m;
    if (classNames.has(name)) continue;
    classNames.add(name);
    const bases = splitTopLevel(basesText).filter((b) => b && !b.includes('='));
    const model = modelsByStart.get(start);
    const cls: ClassFacts = { name, range: lineRange(start), bases, isModel: bases.some((b) => MODEL_BASE.test(b)), parts: [] };
    if (model) cls.framework = model.framework;
    for (const b of bases) {
      const q = resolver.resolve(b);
      if (LAYER_BASE.test(q)) {
        cls.baseLayer = q;
        cls.framework = q.startsWith('torch') ? 'pytorch' : 'keras';
        break;
      }
    }
    for (const l of model?.layers ?? []) {
      if (l.kind === 'dropout' && !cls.dropout) cls.dropout = { name: l.call?.callee.split('.').pop() ?? l.name, range: l.range };
      if (l.kind === 'batchnorm' && !cls.batchnorm) cls.batchnorm = { name: l.call?.callee.split('.').pop() ?? l.name, range: l.range };
    }
    const parts = new Set<string>();
    for (const c of callsWithin(graph.calls, start, end)) {
      if (c.scope.functionName !== '__init__' || c.scope.className !== name || parts.size >= MAX_PARTS) continue;
      if (!/^[A-Za-z_][\w.]*$/.test(c.callee) || /^(self|super|torch|nn|F|tf|keras|layers|np)\b/.test(c.callee)) continue;
      if (/^(torch|keras|tensorflow)\./.test(c.qualified) || /^[a-z]\w*$/.test(c.callee) && BUILTIN.has(c.callee)) continue;
      parts.add(c.callee);
    }
    cls.parts = [...parts];
    classes.push(cls);
  }

  const functions: FunctionFacts[] = [];
  const seen = new Set<string>();
  const { trainCalls, evalCalls } = graph.training;
  for (const fn of graph.functions) {
    if (fn.className !== undefined || seen.has(fn.name) || !isTopLevel(graph, fn.start)) continue;
    seen.add(fn.name);
    const params = fn.params?.filter((p) => p !== 'self' && p !== 'cls') ?? paramsOf(graph.text, fn.start);
    const own = (c: { scope: { functionStart?: number } }) => c.scope.functionStart === fn.start;
    const modes: FunctionFacts['modes'] = [];
    const mark = (c: { receiver: string; start: number; range: Range }, mode: Mode) => {
      const p = params.indexOf(c.receiver);
      if (p >= 0) modes.push({ param: p, mode, range: c.range });
    };
    for (const c of callsWithin(evalCalls, fn.start, fn.end)) if (own(c)) mark(c, 'eval');
    for (const c of callsWithin(trainCalls, fn.start, fn.end)) if (own(c)) mark(c, 'train');
    modes.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    const facts: FunctionFacts = { name: fn.name, range: lineRange(fn.start), params, modes, trains: callsWithin(trainCalls, fn.start + 1, fn.end).length > 0 };
    // Timing and warm-up loops repeat passes too, for another purpose.
    const mcLoop = TIMING.test(fn.name) ? undefined : mcLoopOf(graph, fn, params, !MC_FUNCTION.test(fn.name));
    if (mcLoop) facts.mcLoop = mcLoop;
    functions.push(facts);
  }

  const names = new Set<string>();
  for (const c of graph.calls) {
    if (c.scope.functionName === undefined && c.scope.className === undefined && c.assignedTo && /^[A-Za-z_]\w*$/.test(c.assignedTo)) names.add(c.assignedTo);
  }
  const callees = new Set<string>();
  for (const c of graph.calls) {
    if (callees.size >= MAX_CALLEES) break;
    if (/^[A-Za-z_][\w.]*$/.test(c.callee) && !/^(self|super|torch|nn|F|np|tf|keras|layers)\b/.test(c.callee) && !BUILTIN.has(c.callee)) callees.add(c.callee);
  }
  const summary: FileSummary = { language: 'python', imports, classes, functions, names: [...names].slice(0, 256), callees: [...callees] };
  for (const m of graph.models) {
    const bn = m.framework === 'pytorch' ? m.layers.find((l) => l.kind === 'batchnorm') : undefined;
    if (bn) {
      summary.batchnorm = { name: bn.call?.callee.split('.').pop() ?? bn.name, range: bn.range, owner: m.name ?? 'the model' };
      break;
    }
  }
  const decay = graph.optimizers.find((o) => o.weightDecay !== 0 && o.weightDecayArg)?.call ?? graph.calls.find((c) => c.args.some((a) => a.name === 'kernel_regularizer'));
  if (decay) summary.weightDecay = lineRange(decay.start);
  return summary;
}

const TIMING = /bench|tim(e|ing)|warm|profil|speed|latency|throughput/i;

const FORWARD = new Set(['forward', 'generate', 'predict', 'predict_on_batch', '__call__']);

const BUILTIN = new Set(['len', 'range', 'print', 'int', 'float', 'str', 'list', 'dict', 'tuple', 'set', 'super', 'getattr', 'setattr', 'isinstance', 'zip', 'enumerate', 'max', 'min', 'sum']);

/** Class definitions with their spans (the graph keeps only model classes' layers). */
function classSpans(graph: ModelGraph): { name: string; start: number; end: number; basesText: string }[] {
  return graph.classes.map((c) => ({ name: c.name, start: c.start, end: c.end, basesText: c.bases.replace(/^\(|\)$/g, '') }));
}

function isTopLevel(graph: ModelGraph, start: number): boolean {
  const line = graph.index.positionAt(start).line;
  const text = graph.index.lineText(line);
  // `def` at column 0, or a decorated def whose decorator is at column 0.
  return /^(async\s+)?def\s/.test(text) || /^@/.test(text);
}

/** Splits on commas outside brackets. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Parameter names of the def starting at (or decorated at) `start`. */
function paramsOf(text: string, start: number): string[] {
  const def = text.indexOf('def ', start);
  const open = def < 0 ? -1 : text.indexOf('(', def);
  if (open < 0) return [];
  let depth = 0;
  let close = open;
  for (let i = open; i < text.length && i < open + 4000; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    }
  }
  return splitTopLevel(text.slice(open + 1, close).replace(/#[^\n]*/g, ''))
    .map((p) => /^\*{0,2}\s*([A-Za-z_]\w*)/.exec(p)?.[1] ?? '')
    .filter((p) => p !== '' && p !== 'self' && p !== 'cls');
}

/**
 * True for a call in a `for i in range(T)` loop whose body never reads `i`: the same pass
 * repeated T times (STAR's dynamic uncertainty scores average 3 such passes), not a loop over data.
 */
function inRepeatLoop(graph: ModelGraph, call: { scope: { loopStart?: number; loopEnd?: number } }): boolean {
  const { loopStart, loopEnd } = call.scope;
  if (loopStart === undefined || loopEnd === undefined) return false;
  const text = graph.text.slice(loopStart, loopEnd);
  const m = /^for\s+([A-Za-z_]\w*)\s+in\s+range\s*\([^()]*\)\s*:/.exec(text);
  if (!m) return false;
  const body = text.slice(m[0].length);
  // The passes are gathered (summed, appended, stacked): a warm-up or timing loop throws them away.
  if (!/\+=|\.append\(|\.extend\(|stack\(|\.cat\(/.test(body)) return false;
  return m[1] === '_' || !new RegExp(`\\b${m[1]}\\b`).test(body);
}

/**
 * The MC facts of a function repeating forward passes: an MC-named function with a loop, or
 * (`repeatOnly`) any function with a repeat loop calling a parameter. Undefined when it has
 * none or sets a mode itself (then the single-file rule judges it in its own file).
 */
function mcLoopOf(graph: ModelGraph, fn: { start: number; end: number }, params: string[], repeatOnly: boolean): FunctionFacts['mcLoop'] {
  const calls = callsWithin(graph.calls, fn.start, fn.end);
  const repeat = new Map<number, boolean>();
  const inRepeat = (c: (typeof calls)[number]) => {
    const at = c.scope.loopStart ?? -1;
    let r = repeat.get(at);
    if (r === undefined) repeat.set(at, (r = inRepeatLoop(graph, c)));
    return r;
  };
  const loopCalls = calls.filter((c) => c.scope.loopDepth > 0 && c.scope.functionStart === fn.start && (!repeatOnly || inRepeat(c)));
  if (!loopCalls.length) return undefined;
  const body = graph.text.slice(fn.start, fn.end);
  const setsMode = calls.some((c) => (c.method === 'eval' && c.args.length === 0 && c.receiver) || (c.method === 'train' && c.receiver));
  if (setsMode || /training\s*=\s*True/.test(body)) return undefined;
  // A forward pass: `model(x)`, `model.forward(x)`, `model.generate(...)`, not `model.modules()`.
  const called = (p: string) => loopCalls.some((c) => c.callee === p || (c.receiver === p && FORWARD.has(c.method)));
  let param = params.findIndex((p) => /model|net/i.test(p) && called(p));
  if (param < 0) param = params.findIndex(called);
  if (param < 0) return undefined;
  const helpers = new Set<string>();
  for (const c of calls) {
    if (helpers.size >= 16) break;
    if (/^[A-Za-z_][\w.]*$/.test(c.callee) && c.callee !== params[param]) helpers.add(c.callee);
    for (const a of c.args) if (/^[A-Za-z_]\w*$/.test(a.text)) helpers.add(a.text);
  }
  return { param, helpers: [...helpers] };
}
