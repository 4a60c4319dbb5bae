import { type Node, Parser } from 'web-tree-sitter';
import { createAnalyzer } from '../analyzer';
import type { AnalysisResult } from '../textTypes';
import { loadRuntime } from '../treeSitterRuntime';
import { NodeText } from './nodeText';

export interface PythonAnalyzer {
  /** Never throws: on an internal failure it returns no findings and parseErrors >= 1. */
  analyze(text: string): AnalysisResult;
  /** Frees the wasm parser; analyze() must not be called afterwards. */
  dispose(): void;
}

/** A Python-only view of the multi-language analyzer (for tests and callers that only read Python). */
export async function createPythonAnalyzer(): Promise<PythonAnalyzer> {
  const analyzer = await createAnalyzer();
  return {
    analyze: (text) => analyzer.analyze(text, 'python').result,
    dispose: () => analyzer.dispose(),
  };
}

/**
 * Parses once and hands the tree to fn, freeing it afterwards (for tests, the CLI and other
 * callers that need the model graph rather than findings). fn must not keep the nodes.
 */
export async function withPythonTree<T>(text: string, fn: (root: Node, nodeText: NodeText) => T): Promise<T> {
  const { languages, unit } = await loadRuntime();
  const parser = new Parser();
  try {
    parser.setLanguage(languages.python);
    const tree = parser.parse(text);
    if (!tree) throw new Error('tree-sitter returned no tree');
    try {
      return fn(tree.rootNode, new NodeText(text, unit));
    } finally {
      tree.delete();
    }
  } finally {
    parser.delete();
  }
}
