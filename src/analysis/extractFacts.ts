// The extraction driver shared by Python and TS/JS: walks the top-level statements, reuses the
// facts of every statement whose text did not change since the previous analysis of the same
// document (shifted to its new place), extracts the rest (and every statement with a syntax
// error), then resolves callee names through the file's imports. Everything a statement's facts
// depend on lies inside the statement (its scopes, assignments, imports), except name
// resolution, which is therefore redone per run.
import type { Node } from 'web-tree-sitter';
import { NameResolver } from './callNames';
import { type Arg, parseNumber, type Scope, type Span } from './modelGraph';
import type { NodeText } from './python/nodeText';
import { emptyFacts, type RawCall, type RawFacts } from './rawFacts';
import type { ScopeStack } from './scopeStack';
import type { Range } from './textTypes';

/** Extracts the facts of one top-level statement; offsets are absolute in the analysed text. */
export type StatementExtractor = (statement: Node, nt: NodeText, topLevelStart: number) => RawFacts;

interface CachedStatement {
  facts: RawFacts;
  /** Offset and line the facts currently describe. */
  start: number;
  line: number;
  /** The analysis that last used these facts: a second statement with the same text in that analysis gets a copy. */
  claimedBy: number;
}

/**
 * Facts per top-level statement, keyed by the statement's text and the text before it on its
 * first line (columns and indentation on that line come from there). Only the statements of
 * the latest analysis are kept, so memory follows the document's size.
 *
 * A reused statement that moved is shifted in place rather than copied (copying every span of
 * the half of a file below an edit cost more than the rest of an incremental analysis). The
 * previous analysis of the same document therefore shares those objects and sees the new
 * offsets: only the latest analysis of a document is meant to be read.
 */
export class StatementCache {
  private entries = new Map<string, CachedStatement>();
  private next = new Map<string, CachedStatement>();
  private generation = 0;
  hits = 0;
  misses = 0;

  /** Starts an analysis. */
  begin(): void {
    this.generation++;
    this.next = new Map();
  }

  /** The facts of a statement with this key, moved to `start`/`line`, or undefined. */
  take(key: string, start: number, line: number): RawFacts | undefined {
    const hit = this.entries.get(key) ?? this.next.get(key);
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (hit.claimedBy === this.generation) {
      // The same text twice in one file: the second one gets its own objects.
      return shiftFacts(hit.facts, start - hit.start, line - hit.line, false);
    }
    if (hit.start !== start || hit.line !== line) {
      shiftFacts(hit.facts, start - hit.start, line - hit.line, true);
      hit.start = start;
      hit.line = line;
    }
    hit.claimedBy = this.generation;
    this.next.set(key, hit);
    return hit.facts;
  }

  store(key: string, facts: RawFacts, start: number, line: number): void {
    if (!this.next.has(key)) this.next.set(key, { facts, start, line, claimedBy: this.generation });
  }

  /** Ends an analysis: statements not seen in it are dropped. */
  commit(): void {
    this.entries = this.next;
    this.next = new Map();
  }

  /**
   * An analysis that stopped half-way keeps what it had cached so far too: every entry's
   * start/line always match its facts, so nothing stale can be reused.
   */
  abandon(): void {
    for (const [key, entry] of this.next) this.entries.set(key, entry);
    this.next = new Map();
  }
}

export function extractFacts(
  root: Node,
  nt: NodeText,
  language: 'python' | 'tsjs',
  extract: StatementExtractor,
  cache?: StatementCache,
): RawFacts {
  const steps = extractFactsSteps(root, nt, language, extract, cache);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Statements extracted between two checks of the clock. */
const STATEMENTS_PER_CHECK = 32;

/**
 * extractFacts as a generator that yields after `sliceMs` of work (checked every few statements)
 * so an async caller can let the event loop run or give up when a newer edit arrives.
 */
export function* extractFactsSteps(
  root: Node,
  nt: NodeText,
  language: 'python' | 'tsjs',
  extract: StatementExtractor,
  cache?: StatementCache,
  sliceMs = Infinity,
): Generator<void, RawFacts> {
  const facts = emptyFacts();
  cache?.begin();
  let sliceStart = performance.now();
  let sinceCheck = 0;
  for (const statement of root.namedChildren) {
    if (!statement) continue;
    if (++sinceCheck === STATEMENTS_PER_CHECK) {
      sinceCheck = 0;
      if (performance.now() - sliceStart > sliceMs) {
        yield;
        sliceStart = performance.now();
      }
    }
    const start = nt.start(statement);
    const end = nt.end(statement);
    const line = nt.index.positionAt(start).line;
    let part: RawFacts | undefined;
    // A statement with syntax errors is always read again: error recovery can build a different
    // subtree for the same text, so its text does not determine its facts.
    if (cache && !statement.hasError) {
      const key = `${nt.text.slice(nt.index.lineStart(line), start)}\u0000${nt.text.slice(start, end)}`;
      part = cache.take(key, start, line);
      if (!part) {
        part = extract(statement, nt, start);
        cache.store(key, part, start, line);
      }
    } else {
      part = extract(statement, nt, start);
    }
    append(facts, part);
  }
  resolveCalls(facts, language);
  return facts;
}

function append(into: RawFacts, part: RawFacts): void {
  for (const k of Object.keys(into) as (keyof RawFacts)[]) {
    const src = part[k] as unknown[];
    const dst = into[k] as unknown[];
    for (let i = 0; i < src.length; i++) dst.push(src[i]);
  }
}

/**
 * Rewrites each call's `qualified` through the file's imports (which may come after the use or
 * sit in another statement). A reused statement's call objects are shared with the previous
 * analysis of the document; only this field is rewritten, to the same value unless imports changed.
 */
function resolveCalls(facts: RawFacts, language: 'python' | 'tsjs'): void {
  const resolver = new NameResolver(language);
  for (const b of facts.bindings) {
    if ('wildcard' in b) resolver.wildcards.push(b.wildcard);
    else resolver.bind(b.local, b.target);
  }
  // keras-applications takes Keras from its caller: `backend, layers, models, keras_utils =
  // get_submodules_from_kwargs(kwargs)` binds the four Keras modules in that order.
  if (language === 'python') {
    for (const call of facts.calls) {
      if (!/(^|\.)get_submodules_from_kwargs$/.test(call.callee) || !call.assignedTo) continue;
      const names = call.assignedTo.split(',');
      if (names.length !== 4 || !names.every((n) => /^[A-Za-z_]\w*$/.test(n))) continue;
      ['keras.backend', 'keras.layers', 'keras.models', 'keras.utils'].forEach((target, i) => resolver.bind(names[i], target));
    }
  }
  // A local subclass of a dropout or batch-norm layer (`class MCDropout(nn.Dropout)`) is that
  // kind of layer wherever it is used. Document order, so a subclass of a subclass works too.
  if (language === 'python') {
    for (const cls of facts.classes) {
      if (!/^[A-Za-z_]\w*$/.test(cls.name)) continue;
      for (const base of cls.bases.replace(/^\(|\)$/g, '').split(',')) {
        const b = base.trim();
        if (!b || b.includes('=')) continue;
        const target = resolver.resolve(b);
        if (/^(torch\.nn|keras\.layers)\.(\w*Dropout\w*|BatchNorm\w*|BatchNormalization)$/.test(target)) {
          resolver.bind(cls.name, target);
          break;
        }
      }
    }
  }
  const memo = new Map<string, string>();
  for (const call of facts.calls) {
    let q = memo.get(call.callee);
    if (q === undefined) {
      q = resolver.resolve(call.callee);
      memo.set(call.callee, q);
    }
    call.qualified = q;
  }
}

// Shifting reused facts: offsets move by `d`, lines by `dl`; columns stay (same text before the
// statement on its line, same text inside it). In place, or into fresh objects.

function shiftRangeInPlace(r: Range, dl: number): void {
  r.start.line += dl;
  r.end.line += dl;
}

function shiftSpanInPlace(s: Span, d: number, dl: number): void {
  s.start += d;
  s.end += d;
  shiftRangeInPlace(s.range, dl);
}

function shiftCallInPlace(c: RawCall, d: number, dl: number): void {
  shiftSpanInPlace(c, d, dl);
  for (const a of c.args) shiftSpanInPlace(a, d, dl);
  if (c.argList) shiftSpanInPlace(c.argList, d, dl);
  if (c.configObject) shiftSpanInPlace(c.configObject, d, dl);
  if (c.elements) for (const e of c.elements) shiftSpanInPlace(e, d, dl);
  const s = c.scope;
  if (s.functionStart !== undefined) s.functionStart += d;
  if (s.functionEnd !== undefined) s.functionEnd += d;
  if (s.loopStart !== undefined) s.loopStart += d;
  if (s.loopEnd !== undefined) s.loopEnd += d;
  c.lineStart += d;
  c.topLevelStart += d;
}

function shiftAllInPlace(f: RawFacts, d: number, dl: number): void {
  for (const c of f.calls) shiftCallInPlace(c, d, dl);
  for (const c of f.classes) {
    c.start += d;
    c.end += d;
    c.topLevelStart += d;
  }
  for (const x of [...f.functions, ...f.importLines]) {
    x.start += d;
    x.end += d;
  }
  for (const fn of f.functions) if (fn.bodyStart !== undefined) fn.bodyStart += d;
  for (const s of f.noGradBlocks) shiftSpanInPlace(s, d, dl);
  for (const l of f.epochLoops) shiftSpanInPlace(l.span, d, dl);
  for (const i of f.importFroms) i.lastNameEnd += d;
}

/** Shifts facts by `d` characters and `dl` lines: in place, or a shifted deep copy. */
export function shiftFacts(f: RawFacts, d: number, dl: number, inPlace: boolean): RawFacts {
  if (inPlace) {
    shiftAllInPlace(f, d, dl);
    return f;
  }
  // structuredClone keeps the facts' plain-data shape (no functions, no cycles) and is exact.
  const copy = structuredClone(f);
  shiftAllInPlace(copy, d, dl);
  return copy;
}

/**
 * Visits a statement's nodes of the given types in document order with their offsets, keeping
 * `scopes` current (descendantsOfType collects them inside wasm in one call; a JS-side cursor walk
 * crosses the wasm boundary per node and costs several times more).
 */
export function visitNodes(statement: Node, types: string[], nt: NodeText, scopes: ScopeStack, visit: (node: Node, start: number, end: number) => void): void {
  for (const node of statement.descendantsOfType(types)) {
    if (!node) continue;
    const start = nt.start(node);
    scopes.advance(start);
    visit(node, start, nt.end(node));
  }
}

// Pieces both language extractors build calls from. Objects are built as literals with every
// field present, in one order, so the rules' property reads stay monomorphic (spreading
// optional fields gave args and calls several shapes and made those reads several times slower).

export function argOf(node: Node, nt: NodeText, name?: string): Arg {
  const start = nt.start(node);
  const end = nt.end(node);
  const text = nt.text.slice(start, end);
  return { start, end, range: nt.index.rangeAt(start, end), name, text, number: parseNumber(text) };
}

export function elementsOf(list: Node, nt: NodeText): (Span & { text: string })[] {
  const out: (Span & { text: string })[] = [];
  for (const c of list.namedChildren) {
    if (!c || c.type === 'comment') continue;
    const start = nt.start(c);
    const end = nt.end(c);
    out.push({ start, end, range: nt.index.rangeAt(start, end), text: nt.text.slice(start, end) });
  }
  return out;
}

/** A call with the language-specific parts (arguments, layer list, config object) filled in. */
export function makeCall(
  callee: string,
  start: number,
  end: number,
  argList: Node | null,
  nt: NodeText,
  scope: Scope,
  top: number,
  args: Arg[],
  elements: RawCall['elements'],
  configObject: RawCall['configObject'],
): RawCall {
  const dot = callee.lastIndexOf('.');
  const range = nt.index.rangeAt(start, end);
  const lineStart = nt.index.lineStart(range.start.line);
  let i = lineStart;
  while (nt.text.charCodeAt(i) === 32 || nt.text.charCodeAt(i) === 9) i++;
  let argSpan: Span | undefined;
  if (argList) {
    const s = nt.start(argList);
    const e = nt.end(argList);
    argSpan = { start: s, end: e, range: nt.index.rangeAt(s, e) };
  }
  return {
    start,
    end,
    range,
    callee,
    qualified: callee,
    method: dot < 0 ? callee : callee.slice(dot + 1),
    receiver: dot < 0 ? '' : callee.slice(0, dot),
    args,
    argList: argSpan,
    configObject,
    scope,
    assignedTo: undefined,
    lineStart,
    indent: nt.text.slice(lineStart, i),
    elements,
    topLevelStart: top,
  };
}
