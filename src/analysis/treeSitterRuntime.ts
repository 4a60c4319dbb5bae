import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import type { ColumnUnit } from './python/nodeText';

/** Languages RegLens reads model code in; VS Code language ids map 1:1 (typescriptreact etc. are not). */
export type SourceLanguage = 'python' | 'typescript' | 'javascript';

export interface Runtime {
  languages: Record<SourceLanguage, Language>;
  unit: ColumnUnit;
}

const RUNTIME_WASM = 'tree-sitter.wasm';
const GRAMMAR_WASM: Record<SourceLanguage, string> = {
  python: 'tree-sitter-python.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  javascript: 'tree-sitter-javascript.wasm',
};

/**
 * esbuild.mjs copies the wasm files next to the CJS bundles in dist/, so a bundle finds them in
 * __dirname (the packaged extension has no node_modules). From source (tsx unit tests) they are
 * resolved from node_modules; the specifiers are built at run time so esbuild does not try to
 * bundle them.
 */
function wasmPath(file: string): string {
  const bundled = join(__dirname, file);
  if (existsSync(bundled)) return bundled;
  const spec = file === RUNTIME_WASM ? `web-tree-sitter/${file}` : `@vscode/tree-sitter-wasm/wasm/${file}`;
  return require.resolve(spec);
}

let runtime: Promise<Runtime> | undefined;

/** Loads tree-sitter and the three grammars once per process (lazily, on first analysis). */
export function loadRuntime(): Promise<Runtime> {
  runtime ??= (async () => {
    const runtimeWasm = wasmPath(RUNTIME_WASM);
    await Parser.init({
      locateFile: (path: string, scriptDirectory: string) => (path === RUNTIME_WASM ? runtimeWasm : scriptDirectory + path),
    });
    // Reading the bytes ourselves avoids web-tree-sitter's dynamic import('fs/promises').
    const load = (lang: SourceLanguage) => Language.load(readFileSync(wasmPath(GRAMMAR_WASM[lang])));
    const [python, typescript, javascript] = await Promise.all([load('python'), load('typescript'), load('javascript')]);
    return { languages: { python, typescript, javascript }, unit: probeColumnUnit(python) };
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
