import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installNativeBackend, resolveNativeBackend } from '../../../src/engine/nativeBackend';

// The native backends themselves (libtensorflow, CUDA) cannot install or run on these
// machines; these tests cover only how they are found, with fake packages in real folders.
function fakePackage(prefix: string, name: string, version: string): string {
  const dir = path.join(prefix, 'node_modules', ...name.split('/'));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  fs.writeFileSync(path.join(dir, 'index.js'), 'globalThis.__reglensFakeLoaded = (globalThis.__reglensFakeLoaded || 0) + 1;\n');
  return dir;
}

describe('native backend resolution', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-native-'));
  const configured = path.join(root, 'configured');
  const workspace = path.join(root, 'workspace');
  const storage = path.join(root, 'globalStorage');
  const empty = path.join(root, 'empty');
  before(() => {
    fakePackage(configured, '@tensorflow/tfjs-node', '4.22.0');
    fakePackage(workspace, '@tensorflow/tfjs-node', '4.21.0');
    fakePackage(storage, '@tensorflow/tfjs-node-gpu', '4.22.0');
    fs.mkdirSync(empty, { recursive: true });
  });

  it('puts every tfjs-node-gpu first, then tfjs-node in folder order', () => {
    const found = resolveNativeBackend([empty, configured, workspace, storage]);
    assert.deepEqual(
      found.map((c) => [c.pkg, path.relative(root, c.dir).split(path.sep)[0], c.version]),
      [
        ['@tensorflow/tfjs-node-gpu', 'globalStorage', '4.22.0'],
        ['@tensorflow/tfjs-node', 'configured', '4.22.0'],
        ['@tensorflow/tfjs-node', 'workspace', '4.21.0'],
      ],
    );
  });

  it('accepts a node_modules folder itself, filters by package, ignores impostors', () => {
    assert.equal(resolveNativeBackend([path.join(workspace, 'node_modules')])[0].version, '4.21.0');
    assert.deepEqual(resolveNativeBackend([storage], '@tensorflow/tfjs-node'), []);
    const impostor = path.join(root, 'impostor');
    fakePackage(impostor, '@tensorflow/tfjs-node', '1.0.0');
    fs.writeFileSync(path.join(impostor, 'node_modules/@tensorflow/tfjs-node/package.json'), JSON.stringify({ name: 'other' }));
    assert.deepEqual(resolveNativeBackend([impostor]), []);
    assert.deepEqual(resolveNativeBackend([path.join(root, 'does-not-exist')]), []);
  });

  it('install reports "offline" when npm cannot reach the registry', async () => {
    const fakeNpm = path.join(root, 'fake-npm.js');
    fs.writeFileSync(fakeNpm, "console.error('npm error code ENOTFOUND'); console.error('npm error network request to https://registry.npmjs.org failed'); process.exit(1);\n");
    const lines: string[] = [];
    await assert.rejects(
      installNativeBackend(path.join(root, 'install'), '@tensorflow/tfjs-node', (l) => lines.push(l), [process.execPath, fakeNpm]),
      /offline: installing @tensorflow\/tfjs-node needs the npm registry/,
    );
    assert.ok(lines.some((l) => /ENOTFOUND/.test(l)), 'progress lines streamed');
  });
});

describe('backend selection on its own', () => {
  it('picks wasm in a process that imports nothing but the backend module', () => {
    // The self-check takes a gradient. In-process every other test has already registered the
    // gradients (train.ts does), so only a fresh process shows whether backend.ts stands alone.
    const script = "require('./src/engine/backend').selectBackend('wasm').then((b) => console.log(JSON.stringify(b)))";
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: path.join(__dirname, '..', '..', '..'), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { name: 'wasm' });
  });
});
