import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exitCodeFor, parseCliArgs } from '../../src/cli';
import { listRuns } from '../../src/runs/runFolder';
import { buildBundles, cliPath } from './helpers/bundle';
import { slowExperiment, tinyExperiment } from './helpers/experiments';

describe('reglens CLI', function () {
  this.timeout(60000);
  let dir: string;
  before(() => buildBundles());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-cli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: 'utf8' });
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return file;
  };

  it('parses arguments', () => {
    assert.deepEqual(parseCliArgs(['--help']), { kind: 'help' });
    assert.deepEqual(parseCliArgs(['-v']), { kind: 'version' });
    const r = parseCliArgs(['run', 'a.json', '--epochs', '5', '--backend', 'cpu', '--quiet']);
    assert.equal(r.kind === 'run' && r.epochs, 5);
    assert.equal(r.kind === 'run' && r.backend, 'cpu');
    assert.equal(r.kind === 'run' && r.runsDir, path.resolve('.reglens', 'runs'));
    for (const bad of [[], ['go'], ['run'], ['run', 'a', 'b'], ['run', 'a', '--epochs', '0'], ['run', 'a', '--epochs', '2.5'], ['run', 'a', '--backend', 'gpu'], ['run', 'a', '--nope']]) {
      assert.throws(() => parseCliArgs(bad), Error, bad.join(' '));
    }
    assert.equal(exitCodeFor('finished', false), 0);
    assert.equal(exitCodeFor('finished', true), 1);
    assert.equal(exitCodeFor('failed', false), 1);
    assert.equal(exitCodeFor('died', false), 1);
    assert.equal(exitCodeFor('cancelled', false), 130);
    const p = parseCliArgs(['run', 'a.json', '--parallel', '3']);
    assert.equal(p.kind === 'run' && p.parallel, 3);
    for (const bad of [['run', 'a', '--parallel', '0'], ['run', 'a', '--parallel', 'x']]) assert.throws(() => parseCliArgs(bad), /--parallel/);
    assert.equal(p.kind === 'run' && p.evalThread, 'auto');
    const e = parseCliArgs(['run', 'a.json', '--eval-thread', 'off']);
    assert.equal(e.kind === 'run' && e.evalThread, 'off');
    assert.throws(() => parseCliArgs(['run', 'a', '--eval-thread', 'maybe']), /--eval-thread must be auto, on or off/);
  });

  it('--eval-thread on: the bundled engine evaluates on a second thread running its own bundle', async () => {
    const file = write('tiny.reglens.json', tinyExperiment({ epochs: 4 }));
    const runsDir = path.join(dir, 'runs');
    const r = cli(['run', file, '--backend', 'wasm', '--eval-thread', 'on', '--runs-dir', runsDir]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const [run] = await listRuns(runsDir);
    const events = fs
      .readFileSync(path.join(runsDir, run.id, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(events[0].backend, 'wasm');
    assert.ok(events.some((x) => x.type === 'log' && /second thread/.test(x.message)), JSON.stringify(events.filter((x) => x.type === 'log')));
    assert.ok(!events.some((x) => x.type === 'log' && x.level === 'warning'), 'no fallback');
    assert.deepEqual(events.filter((x) => x.type === 'epoch').map((x) => x.epoch), [1, 2, 3, 4]);
    assert.equal(events[events.length - 1].type, 'finished');
  });

  it('--help and --version', () => {
    assert.match(cli(['--help']).stdout, /Usage: reglens run/);
    const v = cli(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^reglens \d+\.\d+\.\d+/);
    assert.equal(cli(['frobnicate']).status, 2);
  });

  it('runs an experiment, records it and prints the final table', () => {
    const file = write('tiny.reglens.json', tinyExperiment());
    const r = cli(['run', file, '--epochs', '3', '--backend', 'cpu']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /clean-train accuracy\s+\d+\.\d%/);
    assert.match(r.stdout, /corrupted-train fitted\s+\d+\.\d%/);
    assert.match(r.stdout, /test accuracy\s+\d+\.\d%/);
    assert.match(r.stdout, /epochs\s+3\/3/);
    assert.match(r.stdout, /backend\s+cpu/);
    assert.match(r.stdout, /run folder\s+\.reglens[/\\]runs[/\\]\d{8}-\d{6}-[0-9a-f]{4}/);
  });

  it('runs a sweep as separate runs and prints one row per run', async () => {
    const file = write('sweep.reglens.json', { ...tinyExperiment({ epochs: 2 }), sweep: { 'training.optimizer.weightDecay': [0, 5] } });
    const runsDir = path.join(dir, 'runs');
    const r = cli(['run', file, '--parallel', '2', '--backend', 'cpu', '--runs-dir', runsDir]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /tiny: sweep of 2 runs, 2 at a time, [\d.]+ s wall/);
    assert.match(r.stdout, /^\s+weightDecay=0\s+finished\s+2\/2\s+\d+\.\d%/m);
    assert.match(r.stdout, /^\s+weightDecay=5\s+finished\s+2\/2\s+\d+\.\d%/m);
    const runs = await listRuns(runsDir);
    assert.deepEqual(runs.map((x) => x.name).sort(), ['tiny [weightDecay=0]', 'tiny [weightDecay=5]']);
    assert.ok(runs.every((x) => x.status === 'finished'));
    const spec = JSON.parse(fs.readFileSync(path.join(runsDir, runs[0].id, 'spec.json'), 'utf8'));
    assert.equal(spec.sweep, undefined, 'each run folder records a plain experiment');
  });

  it('a sweep exits 1 when any run fails, and 2 for a sweep value the schema rejects', () => {
    const runsDir = path.join(dir, 'runs');
    // 5 output units for 11 classes: that member fails in the engine, the other finishes.
    const file = write('sweep.reglens.json', { ...tinyExperiment({ epochs: 2 }), sweep: { 'model.layers.2.units': [11, 5] } });
    const r = cli(['run', file, '--quiet', '--backend', 'cpu', '--runs-dir', runsDir]);
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /units=11\s+finished/);
    assert.match(r.stdout, /units=5\s+failed/);
    const bad = write('bad-sweep.reglens.json', { ...tinyExperiment(), sweep: { 'training.optimizer.weightDecay': [-1] } });
    const b = cli(['run', bad, '--runs-dir', path.join(dir, 'bad-runs')]);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /sweep\["training\.optimizer\.weightDecay"\] = -1 makes run 1 .*training\.optimizer\.weightDecay/);
    assert.equal(fs.existsSync(path.join(dir, 'bad-runs')), false, 'no run folder for an invalid sweep');
  });

  it('rejects a bad experiment with exit 2, naming the field and line', () => {
    const text = JSON.stringify(tinyExperiment(), null, 2).replace('"batchSize": 32', '"batchSize": "big"');
    const file = write('bad.reglens.json', text);
    const r = cli(['run', file, '--runs-dir', path.join(dir, 'runs')]);
    assert.equal(r.status, 2);
    const line = text.slice(0, text.indexOf('"batchSize"')).split('\n').length;
    assert.match(r.stderr, new RegExp(`bad\\.reglens\\.json:${line}:\\d+: training\\.batchSize`));
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false, 'no run folder for an invalid experiment');
    assert.equal(cli(['run', path.join(dir, 'missing.json')]).status, 2);
  });

  it('Ctrl+C cancels: exit 130, run recorded as cancelled', async () => {
    const file = write('slow.reglens.json', slowExperiment(300));
    const runsDir = path.join(dir, 'runs');
    const child = spawn(process.execPath, [cliPath, 'run', file, '--runs-dir', runsDir], { cwd: dir });
    let out = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/epoch 1\//.test(out)) resolve();
      }),
    );
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 130);
    const [run] = await listRuns(runsDir);
    assert.equal(run.status, 'cancelled');
    assert.ok(run.epochs >= 1 && run.epochs < 300);
  });

  it('Ctrl+C on a sweep cancels every running run: exit 130', async () => {
    const file = write('slow-sweep.reglens.json', { ...slowExperiment(300), sweep: { seed: [0, 1, 2] } });
    const runsDir = path.join(dir, 'runs');
    const child = spawn(process.execPath, [cliPath, 'run', file, '--parallel', '2', '--runs-dir', runsDir], { cwd: dir });
    let err = '';
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/\[2\/3\] started/.test(err)) resolve();
      }),
    );
    child.kill('SIGINT');
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 130, err);
    const runs = await listRuns(runsDir);
    assert.equal(runs.length, 2, 'the third run never started');
    assert.ok(runs.every((r) => r.status === 'cancelled'), JSON.stringify(runs.map((r) => r.status)));
    assert.match(out, /seed=2\s+not started/);
  });
});
