// Small helpers shared by the rule files: building findings and the edits of their fixes.
import { type Arg, type Call, callsWithin, type ModelGraph, type Span } from '../modelGraph';
import type { Finding, Fix, Range, Severity, TextEdit } from '../textTypes';

export interface RuleInfo {
  id: string;
  title: string;
  /** The rule's section of docs/rules.md at the installed version (explanation and citation). */
  docsUrl: string;
  /** The paper or API documentation the rule rests on (cited in docs/rules.md). */
  source: string;
  defaultSeverity: Severity;
  /** Setting under `reglens.` for its severity. */
  settingKey: string;
}

export interface RuleOptions {
  /** Output width from which a dense layer counts as a large head (setting reglens.diagnostics.largeDenseHeadThreshold). */
  largeDenseHeadThreshold: number;
}

export const DEFAULT_RULE_OPTIONS: RuleOptions = { largeDenseHeadThreshold: 1024 };

export function finding(rule: RuleInfo, range: Range, message: string, fixes: Fix[] = []): Finding {
  return { ruleId: rule.id, severity: rule.defaultSeverity, range, message, docsUrl: rule.docsUrl, fixes };
}

export function replace(graph: ModelGraph, span: { start: number; end: number }, newText: string): TextEdit {
  return { range: graph.index.rangeAt(span.start, span.end), newText };
}

export function insertAt(graph: ModelGraph, offset: number, newText: string): TextEdit {
  return { range: graph.index.rangeAt(offset, offset), newText };
}

/** Adds `name=value` (Python) as the last argument of a call, respecting a trailing comma. */
export function addKeywordArg(graph: ModelGraph, call: Call, text: string): TextEdit | undefined {
  if (!call.argList) return undefined;
  const close = call.argList.end - 1;
  if (graph.text[close] !== ')') return undefined;
  const inner = graph.text.slice(call.argList.start + 1, close);
  const trimmed = inner.trimEnd();
  const at = call.argList.start + 1 + trimmed.length;
  const sep = trimmed === '' ? '' : trimmed.endsWith(',') ? ' ' : ', ';
  return insertAt(graph, at, sep + text);
}

/** The first line of a span, for findings on multi-line statements. */
export function firstLine(graph: ModelGraph, span: Span): Range {
  const line = span.range.start.line;
  return graph.index.rangeAt(span.start, Math.min(span.end, graph.index.lineContentEnd(line)));
}

/** When the call is a whole statement on its own line, that line's content span. */
export function ownLine(graph: ModelGraph, call: Call): { start: number; end: number } | undefined {
  const line = call.range.start.line;
  const start = graph.index.lineStart(line) + call.indent.length;
  const end = graph.index.lineContentEnd(call.range.end.line);
  if (start !== call.start) return undefined;
  const rest = graph.text.slice(call.end, end);
  return /^\s*(#.*)?$/.test(rest) ? { start, end: call.end } : undefined;
}

/** Edit adding an import line after the last top-of-file import (or at the top), or nothing if present. */
export function ensureImport(graph: ModelGraph, line: string, present: RegExp): TextEdit | undefined {
  if (graph.importLines.some((l) => present.test(l.text))) return undefined;
  return importEdit(graph, [line]);
}

export function importEdit(graph: ModelGraph, lines: string[]): TextEdit | undefined {
  if (!lines.length) return undefined;
  // Imports after the first top-level def/class (torchvision's model files end with one) would
  // bind the name too late for module-level code above them: insert after the leading block.
  const firstDefinition = Math.min(...graph.classes.map((c) => c.topLevelStart), ...graph.functions.filter((f) => !f.className).map((f) => f.start));
  const column0 = graph.importLines.filter((l) => graph.index.positionAt(l.start).character === 0);
  const leading = column0.filter((l) => l.end <= firstDefinition);
  const top = leading.length ? leading : column0;
  const eol = graph.eol;
  if (top.length) {
    const last = top.reduce((a, b) => (b.end > a.end ? b : a));
    const at = graph.index.lineContentEnd(graph.index.positionAt(last.end).line);
    return insertAt(graph, at, lines.map((l) => eol + l).join(''));
  }
  // After a shebang, encoding line or module docstring? Keep it simple: after leading comment lines.
  let line = 0;
  while (line < graph.index.lineCount - 1 && /^\s*(#|\/\/)/.test(graph.index.lineText(line))) line++;
  const at = graph.index.lineStart(line);
  return insertAt(graph, at, lines.map((l) => l + eol).join(''));
}

/**
 * Edits replacing a `model.train()` or `model.eval()` statement with eval() plus train() on the
 * dropout modules only (MC dropout without BatchNorm in training mode); undefined when the call
 * is not a statement of its own.
 */
export function dropoutOnlyTrainMode(graph: ModelGraph, call: Call): TextEdit[] | undefined {
  const line = ownLine(graph, call);
  if (!line || !call.receiver) return undefined;
  const i = call.indent;
  const u = graph.indentUnit;
  const eol = graph.eol;
  const text =
    `${call.receiver}.eval()${eol}${i}for _m in ${call.receiver}.modules():${eol}` +
    `${i}${u}if isinstance(_m, torch.nn.modules.dropout._DropoutNd):${eol}${i}${u}${u}_m.train()`;
  const edits = [replace(graph, line, text)];
  const imp = ensureImport(graph, 'import torch', /^import\s+torch\s*$/m);
  if (imp) edits.push(imp);
  return edits;
}

/**
 * True inside `self.assertRaises(E, lambda: ...)`, `pytest.raises` or a `with` block of either:
 * the code is meant to fail (a test of invalid arguments), so it is not a mistake to report.
 */
export function expectsError(graph: ModelGraph, call: Call): boolean {
  if (graph.calls.some((c) => /^(assertRaises\w*|raises)$/.test(c.method) && c.start < call.start && call.end <= c.end)) return true;
  let indent = call.indent.length;
  for (let line = call.range.start.line - 1; line >= 0 && indent > 0; line--) {
    const text = graph.index.lineText(line);
    const trimmed = text.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const own = /^[ \t]*/.exec(text)![0].length;
    if (own >= indent) continue;
    if (/^with\b.*\b(raises|assertRaises\w*)\s*\(/.test(trimmed)) return true;
    if (/^(def|class)\b/.test(trimmed)) return false;
    indent = own;
  }
  return false;
}

/** True in test code: a `test*` function (or one nested in it) or a unittest TestCase class. */
export function inTestCode(graph: ModelGraph, call: { start: number; end: number }): boolean {
  if (graph.functions.some((f) => f.start <= call.start && call.end <= f.end && /^test/.test(f.name))) return true;
  return graph.classes.some((c) => c.start <= call.start && call.end <= c.end && /TestCase\b/.test(c.bases));
}

/** Calls inside a function span (inclusive of nested scopes). */
export function callsIn(graph: ModelGraph, start: number, end: number): Call[] {
  return callsWithin(graph.calls, start, end);
}

/** Names that mark a function as Monte Carlo / uncertainty sampling. */
export const MC_FUNCTION = /(^|_)(mc|monte|carlo)|mc_|uncertain|bald|stochastic_pass|enable_dropout|predictive_entropy|sample_predictions|mcDropout|monteCarlo/i;

/** True when the file samples with dropout at inference (MC dropout). */
export function hasMcSampling(graph: ModelGraph): boolean {
  if (graph.functions.some((f) => MC_FUNCTION.test(f.name))) return true;
  if (graph.training.trainCalls.some((c) => c.scope.inNoGrad)) return true;
  return graph.training.trainingTrueCalls.some((c) => c.scope.loopDepth > 0 && !/fit/i.test(c.method));
}

/** Constructors of made-up tensors: `torch.randn(8, 4)`, `torch.zeros_like(x)`. */
const MADE_UP_TENSOR = /^torch\.(zeros|ones|rand|randn|empty|full|randint)(_like)?$/;

/** True when an argument of `call` is a made-up tensor: such a constructor, or a name bound to one earlier in the same function. */
export function madeUpTensor(graph: ModelGraph, call: Call, a: Arg): boolean {
  return graph.calls.some(
    (c) =>
      MADE_UP_TENSOR.test(c.qualified) &&
      ((c.start === a.start && c.end === a.end) || (c.assignedTo === a.text && c.scope.functionStart === call.scope.functionStart && c.start < call.start)),
  );
}
