// The analysis entry point for all three languages: parse (incrementally when a document key
// is given), extract the model graph, run the rules, return findings, lenses and models.
import { type Edit, Parser, type Tree } from 'web-tree-sitter';
import { fittingSnippets } from '../snippets/insertionPlanner';
import { buildGraph } from './buildGraph';
import type { ModelGraph } from './modelGraph';
import { extractFactsSteps, StatementCache } from './extractFacts';
import { insertDropoutLenses } from './lenses/insertDropout';
import { extractPythonStatement } from './python/extractPython';
import { NodeText } from './python/nodeText';
import { runGraphRules } from './rules/ruleCatalog';
import { DEFAULT_RULE_OPTIONS, type RuleOptions } from './rules/ruleKit';
import { applySuppressions, findSuppressions, type Suppression } from './suppressions';
import type { TextIndex } from './textIndex';
import type { AnalysisResult, Finding, ModelTarget } from './textTypes';
import { loadRuntime, type SourceLanguage } from './treeSitterRuntime';
import type { ColumnUnit } from './python/nodeText';
import { extractTsJsStatement } from './tsjs/extractTsJs';
import { layerOf } from './buildGraph';
import type { RawFacts } from './rawFacts';
import type { WorkspaceContext } from './workspace/workspaceContext';

export interface Analysis {
  result: AnalysisResult;
  /** The model graph the result came from (for planning snippet insertions). */
  graph?: ModelGraph;
}

/**
 * One replacement in the previously analysed text of the same key, as VS Code reports it
 * (TextDocumentContentChangeEvent.rangeOffset/rangeLength/text, UTF-16). A list is applied in
 * order, each change against the text the previous ones produced.
 */
export interface TextChange {
  offset: number;
  length: number;
  text: string;
}

export interface AnalyzeRequest {
  /** Rule options (thresholds); defaults otherwise. */
  options?: Partial<RuleOptions>;
  /**
   * A document key (its URI): the previous tree and per-statement facts of that key are reused,
   * so an edit re-parses incrementally and re-extracts only the statements it touched.
   */
  key?: string;
  /** The edits since the key's previous analysis; without them (or when they do not add up to `text`) the change is found by diffing. */
  changes?: readonly TextChange[];
  /** The other files of the workspace, seen from this file: rules then follow its imports. */
  workspace?: WorkspaceLink;
}

/** Where the analysed file sits in a workspace index (workspace/workspaceIndex.ts implements `source`). */
export interface WorkspaceLink {
  source: { contextFor(file: string, importTexts: readonly string[]): WorkspaceContext };
  /** The file's key in the index. */
  file: string;
}

/**
 * A file parsed and read, its tree already freed: what the rules need besides the workspace.
 * `reglens lint` prepares every file once, indexes the graphs, then finishes each with the index
 * behind it, instead of parsing each file a second time.
 */
export interface PreparedFile {
  text: string;
  language: SourceLanguage;
  /** The graph without workspace context (what the index summarises); undefined when parsing failed. */
  graph?: ModelGraph;
  raw?: RawFacts;
  index?: TextIndex;
  suppressions: Suppression[];
  parseErrors: number;
}

export interface Analyzer {
  /**
   * Never throws: on an internal failure it returns no findings and parseErrors >= 1. With a
   * key (a document URI) the previous tree of that key is reused for an incremental parse.
   */
  analyze(text: string, language: SourceLanguage, options?: Partial<RuleOptions>, key?: string, changes?: readonly TextChange[], workspace?: WorkspaceLink): Analysis;
  /** The model graph alone (no rules, nothing kept): what the workspace index summarises. Undefined when parsing fails. */
  graph(text: string, language: SourceLanguage): ModelGraph | undefined;
  /** Parses and reads a file once (no key, nothing kept); finish() then runs the rules on it. */
  prepare(text: string, language: SourceLanguage): PreparedFile;
  /** The analysis of a prepared file, as analyze() would give it for the same text. */
  finish(prepared: PreparedFile, options?: Partial<RuleOptions>, workspace?: WorkspaceLink): Analysis;
  /**
   * The same, in slices of about `sliceMs` between which the event loop runs; resolves to
   * undefined, without finishing, when `isCancelled()` is true between two slices (a newer edit
   * arrived).
   */
  analyzeAsync(text: string, language: SourceLanguage, request: AnalyzeRequest, isCancelled: () => boolean, sliceMs?: number): Promise<Analysis | undefined>;
  /** Frees the tree kept for a key (document closed). */
  forget(key: string): void;
  dispose(): void;
}

const EMPTY_FAILED: AnalysisResult = { findings: [], lenses: [], models: [], parseErrors: 1 };
/** Trees kept for incremental parsing; the oldest are freed beyond this. */
const MAX_TREES = 16;

export function isSourceLanguage(id: string): id is SourceLanguage {
  return id === 'python' || id === 'typescript' || id === 'javascript';
}

interface KeptDocument {
  text: string;
  language: SourceLanguage;
  tree: Tree;
  cache: StatementCache | undefined;
}

export interface AnalyzerOptions {
  /**
   * Reuse the facts of unchanged top-level statements between analyses of a key (default true).
   * false keeps the incremental parse but reads every statement again (tests compare the two).
   */
  reuseStatementFacts?: boolean;
}

/** Loads tree-sitter and the grammars (once per process, lazily) and returns an analyzer. */
export async function createAnalyzer(analyzerOptions: AnalyzerOptions = {}): Promise<Analyzer> {
  const reuseFacts = analyzerOptions.reuseStatementFacts ?? true;
  const runtime = await loadRuntime();
  const parsers = new Map<SourceLanguage, Parser>();
  const kept = new Map<string, KeptDocument>();
  const parserFor = (language: SourceLanguage): Parser => {
    let p = parsers.get(language);
    if (!p) {
      p = new Parser();
      p.setLanguage(runtime.languages[language]);
      parsers.set(language, p);
    }
    return p;
  };
  // An async analysis holds its tree across slices: a tree dropped meanwhile (document closed,
  // evicted by newer documents) is freed only when that analysis ends.
  const inUse = new Set<Tree>();
  const deferred = new Set<Tree>();
  const free = (tree: Tree) => {
    if (inUse.has(tree)) deferred.add(tree);
    else tree.delete();
  };
  const drop = (key: string) => {
    const entry = kept.get(key);
    if (entry) free(entry.tree);
    kept.delete(key);
  };

  /** The analysis as steps: yields between slices; the tree is kept as soon as it is parsed. */
  function* steps(text: string, language: SourceLanguage, request: AnalyzeRequest, sliceMs: number, graphOnly = false): Generator<void, Analysis> {
    const { key, changes } = request;
    const options = { ...DEFAULT_RULE_OPTIONS, ...request.options };
    let tree: Tree | null = null;
    let cache: StatementCache | undefined;
    try {
      const old = key ? kept.get(key) : undefined;
      const reuse = old && old.language === language ? old : undefined;
      if (reuse) for (const edit of editsBetween(reuse.text, text, changes)) reuse.tree.edit(edit);
      tree = parserFor(language).parse(text, reuse?.tree);
      if (key) drop(key);
      if (!tree) return { result: EMPTY_FAILED };
      inUse.add(tree);
      if (key) {
        cache = reuseFacts ? (reuse?.cache ?? new StatementCache()) : undefined;
        kept.set(key, { text, language, tree, cache });
        if (kept.size > MAX_TREES) drop(kept.keys().next().value!);
      }
      const root = tree.rootNode;
      const nt = new NodeText(text, runtime.unit);
      const raw = yield* extractFactsSteps(
        root,
        nt,
        language === 'python' ? 'python' : 'tsjs',
        language === 'python' ? extractPythonStatement : extractTsJsStatement,
        cache,
        sliceMs,
      );
      cache?.commit();
      cache = undefined;
      if (graphOnly) return { result: EMPTY_FAILED, graph: buildGraph(raw, language, text, nt.index) };
      yield;
      const suppressions = findSuppressions(text, (offset) => isCommentAt(root, nt.index, runtime.unit, offset), nt.index);
      return finishFacts({ text, language, raw, index: nt.index, suppressions, parseErrors: root.hasError ? countErrors(root) : 0 }, options, request.workspace);
    } catch {
      // Unknown constructs must never break the editor: report nothing rather than throw.
      if (key) drop(key);
      return { result: EMPTY_FAILED };
    } finally {
      cache?.abandon();
      if (tree) {
        inUse.delete(tree);
        // Trees live in wasm memory; the JS GC never frees them. A kept tree stays for the next edit.
        if (deferred.delete(tree) || !key || kept.get(key)?.tree !== tree) tree.delete();
      }
    }
  }

  /** Reads a file for finish(): the steps up to the facts, then the suppressions while the tree is alive. */
  function prepare(text: string, language: SourceLanguage): PreparedFile {
    let tree: Tree | null = null;
    try {
      tree = parserFor(language).parse(text);
      if (!tree) return { text, language, suppressions: [], parseErrors: 1 };
      const root = tree.rootNode;
      const nt = new NodeText(text, runtime.unit);
      const run = extractFactsSteps(root, nt, language === 'python' ? 'python' : 'tsjs', language === 'python' ? extractPythonStatement : extractTsJsStatement, undefined, Infinity);
      let step = run.next();
      while (!step.done) step = run.next();
      const raw = step.value;
      return {
        text,
        language,
        raw,
        index: nt.index,
        graph: buildGraph(raw, language, text, nt.index),
        suppressions: findSuppressions(text, (offset) => isCommentAt(root, nt.index, runtime.unit, offset), nt.index),
        parseErrors: root.hasError ? countErrors(root) : 0,
      };
    } catch {
      return { text, language, suppressions: [], parseErrors: 1 };
    } finally {
      tree?.delete();
    }
  }

  return {
    prepare,
    finish(prepared, options, workspace) {
      try {
        return finishFacts(prepared, { ...DEFAULT_RULE_OPTIONS, ...options }, workspace);
      } catch {
        return { result: EMPTY_FAILED };
      }
    },
    analyze(text, language, options, key, changes, workspace) {
      const run = steps(text, language, { options, key, changes, workspace }, Infinity);
      for (;;) {
        const step = run.next();
        if (step.done) return step.value;
      }
    },
    graph(text, language) {
      const run = steps(text, language, {}, Infinity, true);
      for (;;) {
        const step = run.next();
        if (step.done) return step.value.graph;
      }
    },
    async analyzeAsync(text, language, request, isCancelled, sliceMs = 8) {
      const run = steps(text, language, request, sliceMs);
      // The first slice always runs: it parses and keeps the tree, so the edits the caller handed
      // over are applied even when a newer edit cancels the rest.
      for (;;) {
        const step = run.next();
        if (step.done) return step.value;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (isCancelled()) {
          run.return(undefined as never);
          return undefined;
        }
      }
    },
    forget: drop,
    dispose() {
      for (const key of [...kept.keys()]) drop(key);
      for (const p of parsers.values()) p.delete();
      parsers.clear();
    },
  };
}

/** The rules over a file's facts, with the workspace behind it when given; suppressions applied. */
function finishFacts(prepared: PreparedFile, options: RuleOptions, workspaceLink: WorkspaceLink | undefined): Analysis {
  const { text, language, raw, index, suppressions, parseErrors } = prepared;
  if (!raw || !index) return { result: EMPTY_FAILED };
  const workspace = workspaceLink && language === 'python' ? workspaceLink.source.contextFor(workspaceLink.file, raw.importLines.map((l) => l.text)) : undefined;
  const imported = workspace ? bindImportedLayers(raw, workspace) : undefined;
  // Without workspace context the prepared graph is this graph already.
  const graph = imported === undefined && !workspace && prepared.graph ? prepared.graph : buildGraph(raw, language, text, index);
  graph.workspace = workspace;
  const analysed = analyzeGraph(graph, options);
  if (imported?.size) relateImportedLayers(analysed.findings, graph, imported, workspace!);
  const { kept: shown, suppressed, unused } = applySuppressions(analysed.findings, suppressions);
  return {
    result: {
      ...analysed,
      findings: shown,
      ...(suppressed.length ? { suppressed } : {}),
      ...(unused.length ? { unusedSuppressions: unused } : {}),
      parseErrors,
    },
    graph,
  };
}

/**
 * Calls of classes imported from other workspace files that subclass a dropout or batch-norm
 * layer (`from .layers import MCDropout`) are that layer here, as a subclass defined in the file
 * is (extractFacts.ts). Returns the rewritten calls' callees with what they resolved to.
 * `qualified` is recomputed on every analysis, so rewriting a cached call object is safe.
 */
function bindImportedLayers(raw: RawFacts, workspace: WorkspaceContext): Map<string, string> {
  const memo = new Map<string, string | undefined>();
  const bound = new Map<string, string>();
  for (const call of raw.calls) {
    if (layerOf(call) || !/^[A-Za-z_]/.test(call.callee)) continue;
    let base = memo.get(call.callee);
    if (!memo.has(call.callee)) {
      base = workspace.layerBase(call.callee);
      memo.set(call.callee, base);
      if (base) bound.set(call.callee, base);
    }
    if (base) call.qualified = base;
  }
  return bound;
}

/** A finding on a layer known to be dropout or batch norm only through another file names that file's class. */
function relateImportedLayers(findings: Finding[], graph: ModelGraph, bound: Map<string, string>, workspace: WorkspaceContext): void {
  const rewritten = graph.calls.filter((c) => bound.has(c.callee));
  for (const f of findings) {
    const start = graph.index.offsetAt(f.range.start);
    const end = graph.index.offsetAt(f.range.end);
    for (const c of rewritten) {
      if (c.start < start || c.start >= Math.max(end, start + 1)) continue;
      const sym = workspace.resolve(c.callee);
      if (!sym?.cls || f.related?.some((r) => r.file === sym.file && r.range.start.line === sym.cls!.range.start.line)) continue;
      (f.related ??= []).push({ file: sym.file, range: sym.cls.range, message: `${sym.cls.name} subclasses ${bound.get(c.callee)} (${workspace.fileLabel(sym.file)})` });
    }
  }
}

function analyzeGraph(graph: ModelGraph, options: RuleOptions): Omit<AnalysisResult, 'parseErrors'> {
  const findings = runGraphRules(graph, options);
  const lenses = graph.language === 'python' ? insertDropoutLenses(graph) : [];
  const models: ModelTarget[] = graph.models
    .filter((m) => !m.insideModule)
    .map((m) => {
      const line = m.range.start.line;
      return {
        range: graph.index.rangeAt(m.start, Math.min(m.end, graph.index.lineContentEnd(line))),
        start: m.start,
        framework: m.framework,
        style: m.style,
        ...(m.name ? { name: m.name } : {}),
        snippetIds: fittingSnippets(graph, m).map((s) => s.id),
      };
    });
  return { findings, lenses, models };
}

/**
 * The tree edits turning `before` into `after`: the reported changes when they add up to
 * `after` (positions from them need no scan of the text), else one edit spanning the common
 * prefix and suffix. Offsets are UTF-16, as web-tree-sitter 0.25 indexes JS strings.
 */
export function editsBetween(before: string, after: string, changes?: readonly TextChange[]): Edit[] {
  if (before === after) return [];
  if (changes?.length) {
    let text = before;
    const edits: Edit[] = [];
    for (const c of changes) {
      if (c.offset < 0 || c.length < 0 || c.offset + c.length > text.length) break;
      const startPosition = pointAt(text, c.offset);
      const oldEndPosition = advance(startPosition, text.slice(c.offset, c.offset + c.length));
      const newEndPosition = advance(startPosition, c.text);
      edits.push({
        startIndex: c.offset,
        oldEndIndex: c.offset + c.length,
        newEndIndex: c.offset + c.text.length,
        startPosition,
        oldEndPosition,
        newEndPosition,
      } as Edit);
      text = text.slice(0, c.offset) + c.text + text.slice(c.offset + c.length);
    }
    if (edits.length === changes.length && text === after) return edits;
  }
  return [diffEdit(before, after)];
}

/** Row and UTF-16 column of an offset: scans back to the line start, and counts rows once. */
function pointAt(text: string, offset: number): { row: number; column: number } {
  let row = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) row++;
  return { row, column: offset - (text.lastIndexOf('\n', offset - 1) + 1) };
}

function advance(from: { row: number; column: number }, inserted: string): { row: number; column: number } {
  const last = inserted.lastIndexOf('\n');
  if (last < 0) return { row: from.row, column: from.column + inserted.length };
  let rows = 0;
  for (let i = inserted.indexOf('\n'); i !== -1; i = inserted.indexOf('\n', i + 1)) rows++;
  return { row: from.row + rows, column: inserted.length - last - 1 };
}

/** The single edit turning `before` into `after`: common prefix and suffix kept (UTF-16 offsets). */
function diffEdit(before: string, after: string): Edit {
  const max = Math.min(before.length, after.length);
  let p = 0;
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  const startPosition = pointAt(before, p);
  return {
    startIndex: p,
    oldEndIndex: before.length - s,
    newEndIndex: after.length - s,
    startPosition,
    oldEndPosition: advance(startPosition, before.slice(p, before.length - s)),
    newEndPosition: advance(startPosition, after.slice(p, after.length - s)),
  } as Edit;
}

/** Whether the UTF-16 offset lies in a comment node (so a marker inside a string literal is not a suppression). */
function isCommentAt(root: Tree['rootNode'], index: TextIndex, unit: ColumnUnit, offset: number): boolean {
  const { line, character } = index.positionAt(offset);
  const column = unit === 'utf16' ? character : Buffer.byteLength(index.lineText(line).slice(0, character), 'utf8');
  const node = root.descendantForPosition({ row: line, column });
  return node?.type === 'comment';
}

/** ERROR and MISSING nodes; an ERROR's contents are not counted again. */
function countErrors(root: Tree['rootNode']): number {
  let count = 0;
  const cursor = root.walk();
  try {
    for (;;) {
      const isError = cursor.nodeType === 'ERROR';
      if (isError || cursor.nodeIsMissing) count++;
      if (!isError && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return Math.max(count, 1);
      }
    }
  } finally {
    cursor.delete();
  }
}
