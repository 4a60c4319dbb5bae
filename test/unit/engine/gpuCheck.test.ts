// scripts/prepare-gpu-check.ts and scripts/gpu-check.sh (issue 12, item 8), with real bash
// and a real torch Python, on the CPU (--device cpu, few epochs): no test needs a GPU.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findTorchPython } from '../../../scripts/torch-python';
import { prepareGpuCheck } from '../../../scripts/prepare-gpu-check';
import { EngineCommandSchema, parseEngineEvent, type EngineEvent } from '../../../src/protocol/engineMessages';
import { pythonWithoutTorch } from '../helpers/python';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function gpuCheck(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync('bash', [path.join(dir, 'gpu-check.sh'), dir, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

describe('GPU check: prepared folder and gpu-check.sh', function () {
  this.timeout(120_000);
  let python: string;
  let tmp: string;
  let folder: string;
  before(async () => {
    python = findTorchPython();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-gpu-check-'));
    const prepared = path.join(tmp, 'prepared');
    await prepareGpuCheck({ out: prepared });
    // Moved, as it is when copied to the GPU machine: nothing may point back at where it was made.
    folder = path.join(tmp, 'elsewhere');
    fs.renameSync(prepared, folder);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('holds a complete start command for cuda (the grok example, 300 epochs, its probes), the data and the engine package', () => {
    const command = EngineCommandSchema.parse(JSON.parse(fs.readFileSync(path.join(folder, 'command.json'), 'utf8')));
    assert.equal(command.type, 'start');
    if (command.type !== 'start') return;
    assert.equal(command.device, 'cuda');
    assert.equal(command.backend, 'torch');
    assert.equal(command.experiment.training.epochs, 300);
    assert.deepEqual(Object.keys(command.experiment.probes ?? {}).sort(), ['dynamics', 'memorization', 'pruning']);
    assert.deepEqual(command.experiment.model.layers?.map((l) => l.type), ['dense', 'activation', 'dense']);
    const meta = JSON.parse(fs.readFileSync(path.join(folder, 'data', 'meta.json'), 'utf8'));
    assert.deepEqual([meta.kind, meta.train, meta.test, meta.classes], ['modular', 4705, 4704, 97]);
    assert.ok(fs.existsSync(path.join(folder, 'python', 'reglens', 'engine', '__main__.py')));
    assert.ok(fs.existsSync(path.join(folder, 'python', 'reglens', 'schemas', 'engine-command.schema.json')));
    const files = fs.readdirSync(folder, { recursive: true }).map(String);
    assert.equal(files.filter((f) => f.includes('__pycache__')).length, 0);
    assert.equal(fs.readFileSync(path.join(folder, 'gpu-check.sh'), 'utf8'), fs.readFileSync(path.join(__dirname, '..', '..', '..', 'scripts', 'gpu-check.sh'), 'utf8'));
  });

  it('trains from the moved folder on the CPU and prints epoch times and a verdict that match its events', () => {
    const r = gpuCheck(folder, ['--device', 'cpu', '--epochs', '4', '--python', python], { REGLENS_TORCH_THREADS: '1' });
    // 4 epochs cannot grok: the verdict is "not met", exit 1.
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const runs = fs.readdirSync(folder).filter((f) => f.startsWith('run-'));
    assert.equal(runs.length, 1);
    const run = path.join(folder, runs[0]);
    const events: EngineEvent[] = fs
      .readFileSync(path.join(run, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const parsed = parseEngineEvent(JSON.parse(line));
        assert.ok(parsed.ok, `invalid event ${line}: ${parsed.ok ? '' : parsed.error}`);
        return parsed.value;
      });
    const epochs = events.filter((e): e is Extract<EngineEvent, { type: 'epoch' }> => e.type === 'epoch');
    const finished = events.find((e): e is Extract<EngineEvent, { type: 'finished' }> => e.type === 'finished');
    assert.equal(epochs.length, 4);
    assert.ok(finished?.final);
    assert.match(r.stdout, /backend: torch-cpu /);
    assert.match(r.stdout, new RegExp(`epochs: 4; seconds per epoch: first ${epochs[0].seconds.toFixed(3)}, median `));
    const { test, corruptedTrain } = finished.final;
    assert.match(r.stdout, new RegExp(`VERDICT: NOT met \\(test >= 99%: ${pct(test)}, corrupted fitted <= 2%: ${pct(corruptedTrain!)}\\); only 4 epochs`));
    assert.match(r.stdout, /probes: \d+ events \(dynamics, neuronScores, pruning\)/);
    // The pruning probe saves into the run folder, which lies in the moved folder.
    assert.ok(fs.existsSync(path.join(run, 'pruned-model', 'model.json')), fs.readdirSync(run).join(', '));
    const command = JSON.parse(fs.readFileSync(path.join(run, 'command.json'), 'utf8'));
    assert.equal(command.dataDir, path.join(folder, 'data'));
  });

  it('stops with exit 3 and the self-check reason when the interpreter has no torch', () => {
    const r = gpuCheck(folder, ['--device', 'cpu', '--python', pythonWithoutTorch(python, tmp)]);
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /torch cannot train on cpu with .*venv\/bin\/python: torch is not installed for this Python/);
  });

  it('names the preparation step for a folder that was not prepared, and a bad option', () => {
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    fs.copyFileSync(path.join(folder, 'gpu-check.sh'), path.join(empty, 'gpu-check.sh'));
    const r = gpuCheck(empty, []);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /command\.json is missing; prepare the folder with 'npx tsx scripts\/prepare-gpu-check\.ts --out /);
    const bad = gpuCheck(folder, ['--epochs', 'ten']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--epochs must be a positive whole number, not 'ten'/);
  });

  it('refuses to prepare into a folder that holds something else', async () => {
    const other = fs.mkdtempSync(path.join(tmp, 'other-'));
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    await assert.rejects(prepareGpuCheck({ out: other }), /exists and is not a gpu-check folder \(no command\.json\): choose a new or empty folder/);
    assert.equal(fs.readFileSync(path.join(other, 'notes.txt'), 'utf8'), 'mine');
  });
});
