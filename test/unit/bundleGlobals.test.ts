// The shipped Node bundles (dist/, built by esbuild.mjs) must not read the `navigator` global:
// VS Code's extension host turns every read into a logged PendingMigrationError. The bundles run
// under test/fixtures/node/navigatorTrap.cjs, which does what that host does and records reads.
// dist/extension.js needs the real `vscode` module to load; test/vscode/smoke.test.ts checks it
// in the real extension host.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tinyExperiment } from './helpers/experiments';

const root = path.join(__dirname, '../..');
const trap = path.join(root, 'test/fixtures/node/navigatorTrap.cjs');

describe('bundles and the navigator global', function () {
  this.timeout(120000);
  let dir: string;
  let reads: string;
  before(() => execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' }));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-navigator-'));
    reads = path.join(dir, 'navigator-reads.txt');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // NODE_OPTIONS, not a flag: the engine child process the CLI forks inherits it.
  const node = (args: string[]) =>
    spawnSync(process.execPath, args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${trap}`, REGLENS_NAVIGATOR_READS: reads },
    });
  const recorded = () => (fs.existsSync(reads) ? fs.readFileSync(reads, 'utf8') : '');

  it('the trap records a read (so silence below means no read)', () => {
    const r = node(['-e', 'void (typeof navigator)']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(recorded(), /PendingMigrationError/);
  });

  it('dist/cli.js and dist/engine.js train a run without reading it', () => {
    const file = path.join(dir, 'tiny.reglens.json');
    fs.writeFileSync(file, JSON.stringify(tinyExperiment({ epochs: 2 })));
    const help = node([path.join(root, 'dist/cli.js'), '--help']);
    assert.equal(help.status, 0, help.stderr);
    const r = node([path.join(root, 'dist/cli.js'), 'run', file, '--backend', 'wasm', '--runs-dir', path.join(dir, 'runs')]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /epochs\s+2\/2/);
    assert.equal(recorded(), '');
  });
});
