import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Language, type Node, Parser } from 'web-tree-sitter';
import type { AnalysisResult } from '../textTypes';
import { analyzeTree } from './analyzeTree';
import { type ColumnUnit, NodeText } from './nodeText';

export interface PythonAnalyzer {
  /** Never throws: on an internal failure it returns no findings and parseErrors >= 1. */
  analyze(text: string): AnalysisResult;
  /** Frees the wasm parser; analyze() must not be called afterwards. */
  dispose(): void;
}

interface Runtime {
  language: Language;
  unit: ColumnUnit;
}

const RUNTIME_WASM = 'tree-sitter.wasm';
const PYTHON_WASM = 'tree-sitter-python.wasm';

// Held in a table so esbuild does not try to bundle them (and warn on every build): these
// are only used from source, where node_modules exists.
const SOURCE_LOCATIONS: Record<string, string> = {
  [RUNTIME_WASM]: 'web-tree-sitter/tree-sitter.wasm',
  [PYTHON_WASM]: '@vscode/tree-sitter-wasm/wasm/tree-sitter-python.wasm',
};

/**
 * esbuild.mjs copies both wasm files next to the CJS bundles in dist/, so a bundle finds them
 * in __dirname (the packaged extension has no node_modules). From source (tsx unit tests) they
 * are resolved from node_modules instead.
 */
function wasmPath(file: typeof RUNTIME_WASM | typeof PYTHON_WASM): string {
  const bundled = join(__dirname, file);
  if (existsSync(bundled)) return bundled;
  return require.resolve(SOURCE_LOCATIONS[file]);
}

let runtime: Promise<Runtime> | undefined;

function loadRuntime(): Promise<Runtime> {
  runtime ??= (async () => {
    const runtimeWasm = wasmPath(RUNTIME_WASM);
    await Parser.init({
      locateFile: (path: string, scriptDirectory: string) => (path === RUNTIME_WASM ? runtimeWasm : scriptDirectory + path),
    });
    // Reading the bytes ourselves avoids web-tree-sitter's dynamic import('fs/promises').
    const language = await Language.load(readFileSync(wasmPath(PYTHON_WASM)));
    return { language, unit: probeColumnUnit(language) };
  })().catch((err: unknown) => {
    // Let a later call retry instead of caching the failure forever.
    runtime = undefined;
    throw err;
  });
  return runtime;
}

/**
 * web-tree-sitter 0.25 parses JS strings as UTF-16, so columns are code units; older/newer
 * builds have reported UTF-8 bytes. Asking once keeps ranges right for non-ASCII lines either way.
 */
function probeColumnUnit(language: Language): ColumnUnit {
  const parser = new Parser();
  try {
    parser.setLanguage(language);
    const tree = parser.parse("'é'");
    const column = tree?.rootNode.endPosition.column;
    tree?.delete();
    return column === 4 ? 'utf8' : 'utf16';
  } finally {
    parser.delete();
  }
}

/** Loads tree-sitter (once per process, lazily) and returns a Python analyzer. */
export async function createPythonAnalyzer(): Promise<PythonAnalyzer> {
  const { language, unit } = await loadRuntime();
  const parser = new Parser();
  parser.setLanguage(language);
  return {
    analyze(text: string): AnalysisResult {
      try {
        const tree = parser.parse(text);
        if (!tree) return { findings: [], lenses: [], parseErrors: 1 };
        try {
          return analyzeTree(tree.rootNode, text, unit);
        } finally {
          // Trees live in wasm memory; the JS GC never frees them.
          tree.delete();
        }
      } catch {
        // Unknown constructs must never break the editor: report nothing rather than throw.
        return { findings: [], lenses: [], parseErrors: 1 };
      }
    },
    dispose(): void {
      parser.delete();
    },
  };
}

/**
 * Parses once and hands the tree to fn, freeing it afterwards (for tests, the CLI and other
 * callers that need the model graph rather than findings). fn must not keep the nodes.
 */
export async function withPythonTree<T>(text: string, fn: (root: Node, nodeText: NodeText) => T): Promise<T> {
  const { language, unit } = await loadRuntime();
  const parser = new Parser();
  try {
    parser.setLanguage(language);
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
