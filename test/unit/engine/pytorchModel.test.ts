// model.pytorch end to end: the user's own nn.Module subclass (examples/pytorch/models.py)
// trained by the real dist/cli.js on real torch, and the engine choice's errors for it.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findTorchPython } from '../../../scripts/torch-python';
import { parseEngineEvent, type EngineEvent } from '../../../src/protocol/engineMessages';
import { parseExperiment } from '../../../src/protocol/experiment';
import { inspectTorchModel } from '../../../src/engine/torchBridge';
import { startEngine, type StartEngineOptions } from '../../../src/runs/engineProcess';
import { buildBundles, cliPath, enginePath } from '../helpers/bundle';
import { tinyExperiment } from '../helpers/experiments';
import { pythonWithoutTorch } from '../helpers/python';

const examples = path.join(__dirname, '../../../examples/pytorch');

function runEngine(opts: Omit<StartEngineOptions, 'enginePath' | 'onEvent'>) {
  const events: EngineEvent[] = [];
  let stderr = '';
  const handle = startEngine({ enginePath, ...opts, onEvent: (e) => events.push(e), onStderr: (t) => (stderr += t) });
  return handle.done.then((done) => ({ ...done, events, stderr }));
}

const residualMlp = (extra: Record<string, unknown> = {}) =>
  parseExperiment({ ...tinyExperiment({ epochs: 1 }), model: { pytorch: { file: 'models.py', class: 'ResidualMLP', args: { hidden: 16 }, ...extra } } });

describe('model.pytorch: the user\'s nn.Module on the PyTorch engine', function () {
  this.timeout(120_000);
  let python: string;
  let dir: string;
  before(async () => {
    python = findTorchPython();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-pytorch-model-'));
    await buildBundles();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('dist/cli.js trains examples/pytorch/mnist-resnet.reglens.json: valid events, the class\'s parameters, the neuron map of fc1, MC dropout and dynamics probes', () => {
    const runsDir = path.join(dir, 'runs');
    const file = path.join(examples, 'mnist-resnet.reglens.json');
    const r = spawnSync(process.execPath, [cliPath, 'run', file, '--epochs', '2', '--python', python, '--runs-dir', runsDir, '--quiet'], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const [id] = fs.readdirSync(runsDir);
    const events = fs
      .readFileSync(path.join(runsDir, id, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const parsed = parseEngineEvent(JSON.parse(l));
        assert.ok(parsed.ok, `${l}: ${!parsed.ok && parsed.error}`);
        return parsed.value;
      });
    const started = events[0];
    assert.ok(started.type === 'started');
    assert.equal(started.backend, 'torch-cpu');
    // ResidualCNN(in_channels=1, num_classes=10, width=16, hidden=64), counted by hand:
    // stem conv 1*16*9 + BN 32, block 2 * (16*16*9 + 32), fc1 64*64 + 64, fc 64*10 + 10.
    assert.equal(started.parameters, 144 + 32 + 2 * (2304 + 32) + 4096 + 64 + 650);
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'epoch' ? [e.epoch] : [])),
      [1, 2],
    );
    const probes = events.flatMap((e) => (e.type === 'probe' ? [e.probe] : []));
    const mc = probes.find((p) => p.kind === 'mcDropout');
    assert.ok(mc?.kind === 'mcDropout' && mc.examples === 1000 && mc.unavailable === undefined, 'MC dropout samples the dropout added after fc1');
    assert.ok(probes.some((p) => p.kind === 'dynamics'));
    const map = probes.find((p) => p.kind === 'neuronScores');
    assert.ok(map?.kind === 'neuronScores' && map.layer === 'fc1' && map.scores.length === 64, 'the neuron map of fc1, through hooks');
    assert.equal(events[events.length - 1].type, 'finished');
  });

  it('auto without torch fails naming the class and the fix; a TF.js backend refuses model.pytorch', async () => {
    const auto = await runEngine({ experiment: residualMlp(), backend: 'auto', python: pythonWithoutTorch(python, dir), baseDir: examples });
    const failed = auto.events[auto.events.length - 1];
    assert.ok(failed.type === 'failed', JSON.stringify(auto.events));
    assert.match(failed.message, /model\.pytorch \(ResidualMLP in models\.py\) needs the PyTorch engine, which cannot run with .*venv\/bin\/python: torch is not installed/);
    assert.ok(!auto.events.some((e) => e.type === 'started'), 'nothing trained on TF.js instead');
    const wasm = await runEngine({ experiment: residualMlp(), backend: 'wasm', baseDir: examples });
    const refused = wasm.events[wasm.events.length - 1];
    assert.ok(refused.type === 'failed');
    assert.match(refused.message, /backend "wasm": model\.pytorch \(ResidualMLP in models\.py\) is a torch module.*backend "torch" or "auto"/);
  });

  it('under auto with torch present it trains on torch; an unknown module path fails naming file, class and path', async () => {
    const ok = await runEngine({ experiment: residualMlp({ addDropout: { after: 'fc1', rate: 0.5 } }), backend: 'auto', python, baseDir: examples });
    assert.equal(ok.outcome, 'finished', ok.stderr);
    assert.ok(ok.events[0].type === 'started' && ok.events[0].backend === 'torch-cpu');
    const bad = await runEngine({ experiment: residualMlp({ addDropout: { after: 'blocks.3', rate: 0.5 } }), backend: 'torch', python, baseDir: examples });
    const failed = bad.events[bad.events.length - 1];
    assert.ok(failed.type === 'failed');
    assert.match(failed.message, /model\.pytorch \(ResidualMLP in models\.py\): model\.pytorch\.addDropout\.after names module "blocks\.3", which the model does not have; its modules: fc1, res, fc/);
  });

  it('--inspect-model reads the constructor: what the dataset fills, what has no default; or why the class cannot be read', async () => {
    const file = path.join(__dirname, '../../fixtures/workspace/probe_module.py');
    const sig = await inspectTorchModel(python, file, 'ResidualNet');
    assert.ok(sig.ok, sig.reason ?? '');
    assert.deepEqual(
      sig.parameters.map((p) => [p.name, p.required, p.default, p.fill]),
      [
        ['hidden', true, null, null],
        ['input_size', false, '2', 'inputSize'],
        ['num_classes', false, '2', 'classes'],
      ],
    );
    const missing = await inspectTorchModel(python, file, 'Resnet');
    assert.equal(missing.ok, false);
    assert.match(missing.reason ?? '', /Resnet does not exist in .*probe_module\.py; nn\.Module subclasses there: ResidualNet/);
    const noTorch = await inspectTorchModel(path.join(dir, 'venv', 'bin', 'python'), file, 'ResidualNet');
    assert.match(noTorch.reason ?? '', /torch is not installed/);
  });

  it('the schema: exactly one model source; module paths in probes only with model.pytorch', () => {
    assert.throws(() => parseExperiment({ ...tinyExperiment(), model: { layers: [{ type: 'dense', units: 11 }], pytorch: { file: 'm.py', class: 'Net' } } }), /model\.pytorch: give exactly one of layers, topology, module and pytorch/);
    assert.throws(() => parseExperiment({ ...tinyExperiment(), probes: { memorization: { layer: 'fc1' } } }), /probes\.memorization\.layer: must name a dense layer as "dense_<index>".*module paths such as "fc1" need model\.pytorch/);
    assert.throws(() => parseExperiment({ ...tinyExperiment(), model: { pytorch: { file: 'm.py', class: 'not a class' } } }), /model\.pytorch\.class: must be a Python class name/);
    const e = parseExperiment({ ...tinyExperiment(), model: { pytorch: { file: 'm.py', class: 'Net' } }, probes: { memorization: { layer: 'blocks.0.fc' }, nestedOrdering: { layer: 'fc1' } } });
    assert.deepEqual(e.model.pytorch, { file: 'm.py', class: 'Net', args: {} });
    assert.equal(e.probes?.memorization?.layer, 'blocks.0.fc');
  });
});
