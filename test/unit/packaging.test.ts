// What `npm run package` puts into the .vsix, checked through vsce's own file listing, so a
// .vscodeignore edit cannot silently drop a runtime file or ship the benchmark bundle.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '../..');

describe('vsix contents', () => {
  it('ships the bundles, wasm files, digits, schema and examples, and nothing else', function () {
    if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) {
      // npm test builds first; a bare `mocha` before any build has nothing to list.
      this.skip();
    }
    const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    const files = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' })
      .split(/\r?\n/)
      .filter(Boolean);
    for (const needed of ['dist/extension.js', 'dist/engine.js', 'dist/cli.js', 'dist/webview/dashboard.js', 'dist/webview/dashboard.css', 'dist/tfjs-backend-wasm-simd.wasm', 'dist/tree-sitter-python.wasm', 'dist/mnist-digits/0.json', 'schemas/experiment.schema.json', 'examples/grok-corrupted.reglens.json', 'package.json', 'README.md']) {
      assert.ok(files.includes(needed), `${needed} missing from the vsix`);
    }
    // The PyTorch engine runs from python/ beside dist/: every committed module and schema of the package.
    const pythonPackage = execFileSync('git', ['ls-files', 'python/reglens'], { cwd: root, encoding: 'utf8' })
      .split(/\r?\n/)
      .filter((f) => /\.(py|json)$/.test(f));
    assert.ok(pythonPackage.includes('python/reglens/schemas/engine-command.schema.json'), 'git lists the Python package');
    for (const needed of pythonPackage) assert.ok(files.includes(needed), `${needed} missing from the vsix`);
    const stray = files.filter((f) => /^(src|test|bench|node_modules|webview|python\/tests)\/|\.map$|^dist\/bench\.js$|\.ts$|__pycache__|\.pyc$/.test(f));
    assert.deepEqual(stray, []);
  });
});
