// Bundles the engine worker and the CLI the way esbuild.mjs does, into
// out/unit/, once per test process. Building only these two entry points keeps
// the tests independent of the rest of the project's build.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(__dirname, '../../..');
export const bundleDir = path.join(root, 'out', 'unit');
let built: Promise<void> | undefined;

export function buildBundles(): Promise<void> {
  built ??= (async () => {
    fs.mkdirSync(bundleDir, { recursive: true });
    const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    for (const f of fs.readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) {
      fs.copyFileSync(path.join(wasmDir, f), path.join(bundleDir, f));
    }
    // The analyzer's grammars, next to the bundle as esbuild.mjs puts them (`reglens lint`).
    const treeSitterDir = path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
    for (const f of ['tree-sitter-python.wasm', 'tree-sitter-typescript.wasm', 'tree-sitter-javascript.wasm']) {
      fs.copyFileSync(path.join(treeSitterDir, f), path.join(bundleDir, f));
    }
    fs.copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), path.join(bundleDir, 'tree-sitter.wasm'));
    await esbuild.build({
      entryPoints: {
        engine: path.join(root, 'src/engine/worker.ts'),
        cli: path.join(root, 'src/cli.ts'),
      },
      outdir: bundleDir,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'error',
      define: { 'import.meta.url': 'importMetaUrl' },
      banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
    });
  })();
  return built;
}

export const enginePath = path.join(bundleDir, 'engine.js');
export const cliPath = path.join(bundleDir, 'cli.js');
