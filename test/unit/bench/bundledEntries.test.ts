// Benchmark modules that can also run alone (`npx tsx bench/<x>.ts`) must not run when they are
// bundled into dist/bench.js: there `require.main === module` holds for every module, and the
// analysis benchmark used to run on import, on the main thread and on each evaluation thread,
// where its seconds were counted as the first wasm epoch's (9-22 s instead of ~1 s).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(__dirname, '../../..');
const out = path.join(root, 'out', 'unit', 'bench-entries');

describe('bench modules bundled into another entry', () => {
  it('do not start their own benchmark on import', async () => {
    fs.mkdirSync(out, { recursive: true });
    const entry = path.join(out, 'entry.ts');
    fs.writeFileSync(
      entry,
      [
        `import { runAnalysisBench } from ${JSON.stringify(path.join(root, 'bench', 'analysis'))};`,
        `import { timeToFirstEpoch } from ${JSON.stringify(path.join(root, 'bench', 'firstEpoch'))};`,
        `import { runWorkspaceIndexBench } from ${JSON.stringify(path.join(root, 'bench', 'workspaceIndex'))};`,
        `import { runLintBench } from ${JSON.stringify(path.join(root, 'bench', 'lintBench'))};`,
        `console.log('imported', typeof runAnalysisBench, typeof timeToFirstEpoch, typeof runWorkspaceIndexBench, typeof runLintBench);`,
      ].join('\n'),
    );
    await esbuild.build({
      entryPoints: [entry],
      outfile: path.join(out, 'entry.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'error',
      external: ['vscode'],
      define: { 'import.meta.url': 'importMetaUrl' },
      banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
    });
    const stdout = execFileSync(process.execPath, [path.join(out, 'entry.js')], { encoding: 'utf8', cwd: root });
    assert.equal(stdout.trim(), 'imported function function function function', 'nothing but the entry ran');
  });
});
