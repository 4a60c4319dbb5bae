// The analysis entry point for all three languages: parse (incrementally when a document key
// is given), extract the model graph, run the rules, return findings, lenses and models.
import { type Edit, Parser, type Tree } from 'web-tree-sitter';
import { fittingSnippets } from '../snippets/insertionPlanner';
import { buildGraph } from './buildGraph';
import type { ModelGraph } from './modelGraph';
import { insertDropoutLenses } from './lenses/insertDropout';
import { extractPython } from './python/extractPython';
import { NodeText } from './python/nodeText';
import { readPytorchModel } from './python/pytorch';
import { runGraphRules } from './rules/ruleCatalog';
import { checkDropoutBeforeBatchNorm } from './rules/dropoutBeforeBatchNorm';
import { DEFAULT_RULE_OPTIONS, type RuleOptions } from './rules/ruleKit';
import type { AnalysisResult, ModelTarget } from './textTypes';
import { loadRuntime, type Runtime, type SourceLanguage } from './treeSitterRuntime';
import { extractTsJs } from './tsjs/extractTsJs';

export interface Analysis {
  result: AnalysisResult;
  /** The model graph the result came from (for planning snippet insertions). */
  graph?: ModelGraph;
}

export interface Analyzer {
  /**
   * Never throws: on an internal failure it returns no findings and parseErrors >= 1. With a
   * key (a document URI) the previous tree of that key is reused for an incremental parse.
   */
  analyze(text: string, language: SourceLanguage, options?: Partial<RuleOptions>, key?: string): Analysis;
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

/** Loads tree-sitter and the grammars (once per process, lazily) and returns an analyzer. */
export async function createAnalyzer(): Promise<Analyzer> {
  const runtime = await loadRuntime();
  const parsers = new Map<SourceLanguage, Parser>();
  const trees = new Map<string, { text: string; language: SourceLanguage; tree: Tree }>();
  const parserFor = (language: SourceLanguage): Parser => {
    let p = parsers.get(language);
    if (!p) {
      p = new Parser();
      p.setLanguage(runtime.languages[language]);
      parsers.set(language, p);
    }
    return p;
  };
  const drop = (key: string) => {
    trees.get(key)?.tree.delete();
    trees.delete(key);
  };

  return {
    analyze(text, language, options, key) {
      let tree: Tree | null = null;
      try {
        const old = key ? trees.get(key) : undefined;
        const reuse = old && old.language === language ? old : undefined;
        if (reuse) reuse.tree.edit(diffEdit(reuse.text, text));
        tree = parserFor(language).parse(text, reuse?.tree);
        if (key) drop(key);
        if (!tree) return { result: EMPTY_FAILED };
        const analysis = analyzeTree(tree, text, language, runtime, { ...DEFAULT_RULE_OPTIONS, ...options });
        if (key) {
          trees.set(key, { text, language, tree });
          if (trees.size > MAX_TREES) drop(trees.keys().next().value!);
          tree = null;
        }
        return analysis;
      } catch {
        // Unknown constructs must never break the editor: report nothing rather than throw.
        if (key) drop(key);
        return { result: EMPTY_FAILED };
      } finally {
        // Trees live in wasm memory; the JS GC never frees them.
        tree?.delete();
      }
    },
    forget: drop,
    dispose() {
      for (const key of [...trees.keys()]) drop(key);
      for (const p of parsers.values()) p.delete();
      parsers.clear();
    },
  };
}

function analyzeTree(tree: Tree, text: string, language: SourceLanguage, runtime: Runtime, options: RuleOptions): Analysis {
  const root = tree.rootNode;
  const nt = new NodeText(text, runtime.unit);
  const raw = language === 'python' ? extractPython(root, nt) : extractTsJs(root, nt);
  const graph = buildGraph(raw, language, text, nt.index);
  const findings = runGraphRules(graph, options);
  let lenses: AnalysisResult['lenses'] = [];
  if (language === 'python') {
    // nn.Sequential keeps its original, finer-grained reader for the first rule and lens.
    const torch = readPytorchModel(root, nt);
    findings.unshift(...checkDropoutBeforeBatchNorm(torch.sequentials, nt.index));
    lenses = insertDropoutLenses(torch, nt.index);
  }
  const models: ModelTarget[] = graph.models
    .filter((m) => !m.insideModule)
    .map((m) => {
      const line = m.range.start.line;
      return {
        range: nt.index.rangeAt(m.start, Math.min(m.end, nt.index.lineContentEnd(line))),
        start: m.start,
        framework: m.framework,
        style: m.style,
        ...(m.name ? { name: m.name } : {}),
        snippetIds: fittingSnippets(graph, m).map((s) => s.id),
      };
    });
  return { result: { findings, lenses, models, parseErrors: root.hasError ? countErrors(root) : 0 }, graph };
}

/** The single edit turning `before` into `after`: common prefix and suffix kept (UTF-16 offsets). */
function diffEdit(before: string, after: string): Edit {
  const max = Math.min(before.length, after.length);
  let p = 0;
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  const point = (text: string, offset: number) => {
    let row = 0;
    let lineStart = 0;
    for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
      row++;
      lineStart = i + 1;
    }
    return { row, column: offset - lineStart };
  };
  return {
    startIndex: p,
    oldEndIndex: before.length - s,
    newEndIndex: after.length - s,
    startPosition: point(before, p),
    oldEndPosition: point(before, before.length - s),
    newEndPosition: point(after, after.length - s),
  } as Edit;
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
