// The PyTorch engine end to end through the bundled engine.js and CLI: real Python, real torch
// (scripts/torch-python.ts finds the interpreter; .ci/run installs Debian's python3-torch).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findTorchPython } from '../../../scripts/torch-python';
import { lastTraceback, resolvePython } from '../../../src/engine/torchBridge';
import { parseEngineEvent, type EngineEvent } from '../../../src/protocol/engineMessages';
import { parseExperiment } from '../../../src/protocol/experiment';
import { makeDataset } from '../../../src/engine/data/dataset';
import { startEngine, type StartEngineOptions } from '../../../src/runs/engineProcess';
import { interpreterFromSetting } from '../../../src/runs/interpreterSetting';
import { parseCliArgs } from '../../../src/cli';
import { buildBundles, cliPath, enginePath } from '../helpers/bundle';
import { slowExperiment, tinyExperiment } from '../helpers/experiments';
import { pythonWithoutTorch } from '../helpers/python';

const epochNumbers = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'epoch' ? [e.epoch] : []));

/** An executable "interpreter": a shell script whose body runs before (or instead of) the real Python. */
function wrapper(file: string, body: string): string {
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** Resolves once `file` exists (polled: no event tells the test that a wrapper started). */
function fileAppears(file: string): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (fs.existsSync(file)) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
}

/** Runs the bundled engine to its end, resolving with every event and its outcome. */
function runEngine(opts: Omit<StartEngineOptions, 'enginePath' | 'onEvent'>, onEvent?: (e: EngineEvent, h: ReturnType<typeof startEngine>) => void) {
  const events: EngineEvent[] = [];
  let stderr = '';
  const handle: ReturnType<typeof startEngine> = startEngine({
    enginePath,
    ...opts,
    onEvent: (e) => {
      events.push(e);
      onEvent?.(e, handle);
    },
    onStderr: (t) => (stderr += t),
  });
  return handle.done.then((done) => ({ ...done, events, stderr, handle }));
}

/** The children engine.js started (Linux /proc): the Python engine. */
function childrenOf(pid: number): number[] {
  const text = fs.readdirSync(`/proc/${pid}/task`).map((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')).join(' ');
  return text.split(/\s+/).filter(Boolean).map(Number);
}

/** Children that are still running (a killed one may linger as a zombie until reaped). */
function liveChildrenOf(pid: number): number[] {
  return childrenOf(pid).filter((c) => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${c}/stat`, 'utf8'));
    } catch {
      return false; // gone meanwhile
    }
  });
}

describe('PyTorch engine through engine.js', function () {
  this.timeout(120_000);
  let python: string;
  let dir: string;
  /** A real Python 3 without torch: a venv of the torch interpreter without its site-packages. */
  let noTorch: string;
  before(async () => {
    python = findTorchPython();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-torch-'));
    noTorch = pythonWithoutTorch(python, dir);
    await buildBundles();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('dist/cli.js --backend torch trains a modular experiment: every event valid, run folder complete, data removed', () => {
    const file = path.join(dir, 'tiny.reglens.json');
    fs.writeFileSync(file, JSON.stringify({ ...tinyExperiment({ epochs: 3 }), probes: { dynamics: { every: 1 } } }));
    const runsDir = path.join(dir, 'runs-cli');
    const r = spawnSync(process.execPath, [cliPath, 'run', file, '--backend', 'torch', '--python', python, '--runs-dir', runsDir, '--quiet'], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const [id] = fs.readdirSync(runsDir);
    const runDir = path.join(runsDir, id);
    assert.deepEqual(fs.readdirSync(runDir).sort(), ['events.jsonl', 'spec.json', 'summary.json'], 'the .npy hand-over folder is gone after the run');
    const lines = fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').trim().split('\n');
    const events = lines.map((l) => {
      const parsed = parseEngineEvent(JSON.parse(l));
      assert.ok(parsed.ok, `${l}: ${!parsed.ok && parsed.error}`);
      return parsed.value;
    });
    const started = events[0];
    assert.ok(started.type === 'started', 'the first event is started');
    assert.equal(started.backend, 'torch-cpu');
    const data = makeDataset(tinyExperiment().dataset, tinyExperiment().seed);
    assert.deepEqual(started.dataset, { train: data.train.n, corrupted: data.train.corruptedCount, test: data.test.n, inputSize: 22, classes: 11 });
    assert.deepEqual(epochNumbers(events), [1, 2, 3]);
    assert.ok(events.some((e) => e.type === 'probe' && e.probe.kind === 'dynamics'), 'probes run on torch too');
    assert.equal(events[events.length - 1].type, 'finished');
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    assert.equal(summary.status, 'finished');
    assert.equal(summary.backend, 'torch-cpu');
    const spec = JSON.parse(fs.readFileSync(path.join(runDir, 'spec.json'), 'utf8'));
    assert.equal(spec.backend, 'torch', 'spec.json records what was asked for');
  });

  it('REGLENS_KEEP_DATA keeps the hand-over folder: the arrays and meta.json of the contract', async () => {
    const runDir = path.join(dir, 'kept');
    fs.mkdirSync(runDir);
    process.env.REGLENS_KEEP_DATA = '1';
    try {
      const r = await runEngine({ experiment: tinyExperiment({ epochs: 1 }), backend: 'torch', python, runDir });
      assert.equal(r.outcome, 'finished', r.stderr);
    } finally {
      delete process.env.REGLENS_KEEP_DATA;
    }
    const files = fs.readdirSync(path.join(runDir, 'data')).sort();
    assert.deepEqual(files, [
      'meta.json', 'modular_test_pairs.npy', 'modular_train_pairs.npy', 'test_labels.npy', 'test_source.npy', 'test_true_labels.npy', 'test_x.npy',
      'train_corrupted.npy', 'train_labels.npy', 'train_source.npy', 'train_true_labels.npy', 'train_x.npy',
    ]);
  });

  it('a saved pruned model given as model.topology reaches torch with its weights: the same loss as on wasm', async () => {
    const runDir = path.join(dir, 'pruned-run');
    fs.mkdirSync(runDir);
    const trained = await runEngine({
      experiment: parseExperiment({ ...tinyExperiment({ epochs: 20, noise: 0 }), probes: { memorization: { method: 'ablation' }, pruning: { save: true } } }),
      backend: 'wasm',
      runDir,
    });
    assert.equal(trained.outcome, 'finished', trained.stderr);
    const topology = path.join(runDir, 'pruned-model', 'model.json');
    assert.ok(fs.existsSync(topology), 'the pruning probe saved the model');
    // lr ~ 0: the epoch's loss is the loss of the loaded weights, whichever engine computes it.
    const reload = parseExperiment({
      ...tinyExperiment({ epochs: 1, noise: 0 }),
      model: { topology },
      training: { epochs: 1, batchSize: 32, optimizer: { kind: 'sgd', lr: 1e-12, weightDecay: 0 } },
    });
    const losses: number[] = [];
    for (const backend of ['wasm', 'torch'] as const) {
      const r = await runEngine({ experiment: reload, backend, python });
      assert.equal(r.outcome, 'finished', r.stderr);
      const epoch = r.events.find((e) => e.type === 'epoch');
      assert.ok(epoch?.type === 'epoch');
      losses.push(epoch.loss);
    }
    const fresh = await runEngine({ experiment: parseExperiment({ ...reload, model: tinyExperiment().model }), backend: 'torch', python });
    const freshEpoch = fresh.events.find((e) => e.type === 'epoch');
    assert.ok(freshEpoch?.type === 'epoch');
    // Trained (then pruned) weights: clearly below a fresh init's loss, and equal on both engines
    // (float32 on both sides, same batches; differences are rounding, ~1e-6).
    assert.ok(losses[1] < 0.8 * freshEpoch.loss, `loaded ${losses[1]} vs fresh ${freshEpoch.loss}`);
    assert.ok(Math.abs(losses[0] - losses[1]) < 1e-4, `wasm ${losses[0]} vs torch ${losses[1]}`);
  });

  it('one Python per run, started at once: the dataset is written while it imports torch, its self-check is its hello', async () => {
    const runDir = path.join(dir, 'one-python');
    fs.mkdirSync(runDir);
    const log = path.join(dir, 'one-python.log');
    // Python starts only once the hand-over is on disk: were engine.js waiting for Python's
    // self-check before writing it, this run would never start.
    const meta = path.join(runDir, 'data', 'meta.json');
    const interpreter = wrapper(path.join(dir, 'logging-python'), `echo "$@" >> '${log}'\nwhile [ ! -e '${meta}' ]; do sleep 0.02; done\nexec '${python}' "$@"`);
    const r = await runEngine({ experiment: tinyExperiment({ epochs: 2 }), backend: 'torch', python: interpreter, runDir });
    assert.equal(r.outcome, 'finished', r.stderr);
    assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), ['-m reglens.engine --device auto'], 'no separate self-check process');
    const started = r.events[0];
    assert.ok(started.type === 'started');
    assert.equal(started.backend, 'torch-cpu');
    assert.deepEqual(epochNumbers(r.events), [1, 2]);
    assert.ok(!fs.existsSync(path.join(runDir, 'data')), 'the hand-over folder is removed after the run');
  });

  it('cancel while Python is still importing torch: cancelled before training, the engine process stopped', async () => {
    const pidFile = path.join(dir, 'importing.pid');
    // Never sends its hello: it stands for a torch import that takes long.
    const interpreter = wrapper(path.join(dir, 'slow-python'), `echo $$ > '${pidFile}.tmp' && mv '${pidFile}.tmp' '${pidFile}'\nwhile :; do sleep 0.05; done`);
    const events: EngineEvent[] = [];
    const handle = startEngine({ enginePath, experiment: tinyExperiment({ epochs: 2 }), backend: 'torch', python: interpreter, onEvent: (e) => events.push(e) });
    await fileAppears(pidFile);
    handle.cancel();
    const done = await handle.done;
    assert.equal(done.outcome, 'cancelled');
    assert.deepEqual([done.code, done.signal], [0, null], 'engine.js stopped by itself, not by the grace-period SIGKILL');
    assert.ok(events.some((e) => e.type === 'log' && /cancelled before training started/i.test(e.message)));
    assert.ok(!events.some((e) => e.type === 'started' || e.type === 'failed'));
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    const watcher = spawn('tail', ['--pid', String(pid), '-f', '/dev/null']);
    assert.equal(await new Promise<number | null>((resolve) => watcher.on('close', resolve)), 0);
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });

  it('backend torch: an engine whose first message is not its hello fails the run saying what came instead', async () => {
    const notHello = `import os, socket\ns = socket.socket(fileno=int(os.environ["NODE_CHANNEL_FD"]))\ns.sendall(b'{"type":"log","level":"info","message":"hi"}\\n')\ns.recv(1)`;
    const interpreter = wrapper(path.join(dir, 'wrong-first-message'), `exec '${python}' -c '${notHello.replace(/'/g, "'\\''")}'`);
    const r = await runEngine({ experiment: tinyExperiment({ epochs: 1 }), backend: 'torch', python: interpreter });
    assert.equal(r.outcome, 'failed');
    const failed = r.events[r.events.length - 1];
    assert.ok(failed.type === 'failed');
    assert.match(failed.message, /first message is not its hello .*"type":"log".*reinstall RegLens/);
  });

  it('auto picks torch when the interpreter has it, and records nothing to excuse', async () => {
    const r = await runEngine({ experiment: tinyExperiment({ epochs: 2 }), backend: 'auto', python });
    assert.equal(r.outcome, 'finished', r.stderr);
    const started = r.events[0];
    assert.ok(started.type === 'started');
    assert.equal(started.backend, 'torch-cpu');
    assert.doesNotMatch(started.backendNote ?? '', /not used/);
  });

  for (const [what, interpreter, reason] of [
    ['has no torch', () => noTorch, /^torch not used: torch is not installed for this Python/],
    ['does not exist', () => path.join(dir, 'no', 'python3'), /^torch not used: Python interpreter ".*no\/python3" not found/],
    ['exits before its self-check', () => wrapper(path.join(dir, 'crashing-python'), 'echo "Fatal Python error: boom" >&2\nexit 1'), /^torch not used: ".*crashing-python -m reglens.engine" exited with code 1 before its self-check: Fatal Python error: boom\. RegLens needs Python 3\.8/],
  ] as const) {
    it(`auto falls back to wasm, saying why, when the interpreter ${what}`, async () => {
      let pythonsDuringTraining: number[] | undefined;
      const r = await runEngine({ experiment: tinyExperiment({ epochs: 2 }), backend: 'auto', python: interpreter() }, (e, h) => {
        if (e.type === 'epoch' && e.epoch === 1) pythonsDuringTraining = liveChildrenOf(h.pid!);
      });
      // The engine process started beside the self-check was stopped before TF.js trained.
      assert.deepEqual(pythonsDuringTraining, []);
      assert.equal(r.outcome, 'finished', r.stderr);
      const started = r.events[0];
      assert.ok(started.type === 'started');
      assert.equal(started.backend, 'wasm');
      assert.match(started.backendNote ?? '', reason);
      // A missing torch is the normal case under auto: recorded, not shouted.
      assert.ok(!r.events.some((e) => e.type === 'log' && e.level === 'warning' && /torch/.test(e.message)));
    });
  }

  it('backend torch with a Python without torch fails the run with the reason and the fix', async () => {
    const r = await runEngine({ experiment: tinyExperiment({ epochs: 2 }), backend: 'torch', python: noTorch });
    assert.equal(r.outcome, 'failed');
    const failed = r.events[r.events.length - 1];
    assert.ok(failed.type === 'failed');
    assert.match(failed.message, /backend "torch" cannot run with .*venv\/bin\/python: torch is not installed/);
    assert.match(failed.message, /pip install torch|reglens\.python\.interpreter/);
  });

  it('backend torch with device cuda on a machine without CUDA fails saying so; under auto it falls back', async () => {
    const asked = await runEngine({ experiment: parseExperiment({ ...tinyExperiment({ epochs: 1 }), device: 'cuda' }), backend: 'torch', python });
    const failed = asked.events[asked.events.length - 1];
    // No unit test may need a GPU: on a CUDA machine this run simply trains there.
    if (failed.type === 'finished') return assert.equal(asked.events[0].type === 'started' && asked.events[0].backend, 'torch-cuda');
    assert.ok(failed.type === 'failed');
    assert.match(failed.message, /cuda/i);
    const auto = await runEngine({ experiment: tinyExperiment({ epochs: 1 }), backend: 'auto', device: 'cuda', python });
    const started = auto.events[0];
    assert.ok(started.type === 'started');
    assert.equal(started.backend, 'wasm');
    assert.match(started.backendNote ?? '', /^torch not used: .*cuda/i);
  });

  it('model.module stays on TF.js: under auto without asking Python, with backend torch a clear error', async () => {
    const mod = path.join(dir, 'model.js');
    fs.writeFileSync(mod, "module.exports = () => [{ type: 'dense', units: 11 }];\n");
    const experiment = parseExperiment({ ...tinyExperiment({ epochs: 1 }), model: { module: { path: mod } } });
    const auto = await runEngine({ experiment, backend: 'auto', python: path.join(dir, 'no', 'python3') });
    assert.equal(auto.outcome, 'finished', auto.stderr);
    // A module's model is logged ("Model from ...") before started.
    const started = auto.events.find((e) => e.type === 'started');
    assert.ok(started?.type === 'started');
    assert.equal(started.backend, 'wasm');
    assert.equal(started.backendNote, undefined, 'no torch self-check was attempted');
    const torch = await runEngine({ experiment, backend: 'torch', python });
    const failed = torch.events[torch.events.length - 1];
    assert.ok(failed.type === 'failed');
    assert.match(failed.message, /model\.module is TF\.js code.*model\.layers or model\.topology/);
  });

  it('cancel stops the Python engine after the current step: cancelled, epochs kept, no finished', async () => {
    const r = await runEngine({ experiment: slowExperiment(5000), backend: 'torch', python }, (e, h) => {
      if (e.type === 'epoch' && e.epoch === 2) h.cancel();
    });
    assert.equal(r.outcome, 'cancelled', r.stderr);
    // Exit 0, not the SIGKILL after the grace period: Python stopped and engine.js followed.
    assert.deepEqual([r.code, r.signal], [0, null]);
    const epochs = epochNumbers(r.events);
    assert.deepEqual(epochs.slice(0, 2), [1, 2]);
    assert.ok(epochs.length < 5000);
    assert.ok(!r.events.some((e) => e.type === 'finished'));
  });

  it('a killed Python engine fails the run, saying so, with every epoch before it kept', async () => {
    let killed: number | undefined;
    const r = await runEngine({ experiment: slowExperiment(5000), backend: 'torch', python }, (e, h) => {
      if (e.type === 'epoch' && e.epoch === 2 && killed === undefined) {
        [killed] = childrenOf(h.pid!);
        process.kill(killed, 'SIGKILL');
      }
    });
    assert.ok(killed, 'engine.js had a Python child');
    assert.equal(r.outcome, 'failed');
    const failed = r.events[r.events.length - 1];
    assert.ok(failed.type === 'failed');
    assert.match(failed.message, /PyTorch engine .* was killed by SIGKILL before the run ended.*Every epoch reported so far is kept/);
    assert.deepEqual(epochNumbers(r.events).slice(0, 2), [1, 2]);
  });

  it('a killed engine.js leaves no Python behind: the channel closes and Python exits', async () => {
    const events: EngineEvent[] = [];
    let pythonPid: number | undefined;
    const reached = new Promise<void>((resolve) => {
      const h = startEngine({
        enginePath,
        experiment: slowExperiment(5000),
        backend: 'torch',
        python,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'epoch' && e.epoch === 1) {
            [pythonPid] = childrenOf(h.pid!);
            process.kill(h.pid!, 'SIGKILL');
            resolve();
          }
        },
      });
    });
    await reached;
    assert.ok(pythonPid);
    // Waits on the process itself (never a fixed sleep): it exits once it sees the channel's EOF.
    const watcher = spawn('tail', ['--pid', String(pythonPid), '-f', '/dev/null']);
    const code = await new Promise<number | null>((resolve) => watcher.on('close', resolve));
    assert.equal(code, 0);
    assert.throws(() => process.kill(pythonPid!, 0), /ESRCH/);
  });
});

describe('torch engine: which Python, and what a crash says', () => {
  it('takes the host\'s / CLI\'s interpreter, else REGLENS_PYTHON, else python3', () => {
    assert.equal(resolvePython('/opt/py/bin/python', { REGLENS_PYTHON: '/x' }), '/opt/py/bin/python');
    assert.equal(resolvePython(undefined, { REGLENS_PYTHON: '/x' }), '/x');
    assert.equal(resolvePython(undefined, {}), process.platform === 'win32' ? 'python' : 'python3');
  });

  it('reads reglens.python.interpreter: ${workspaceFolder}, ~ and relative paths; bare names stay for PATH', () => {
    assert.equal(interpreterFromSetting('', '/ws'), undefined);
    assert.equal(interpreterFromSetting('  python3.11 ', '/ws'), 'python3.11');
    assert.equal(interpreterFromSetting('${workspaceFolder}/.venv/bin/python', '/ws'), '/ws/.venv/bin/python');
    assert.equal(interpreterFromSetting('.venv/bin/python', '/ws'), '/ws/.venv/bin/python');
    assert.equal(interpreterFromSetting('~/miniconda/bin/python', '/ws', '/home/u'), '/home/u/miniconda/bin/python');
    assert.equal(interpreterFromSetting('/usr/bin/python3', '/ws'), '/usr/bin/python3');
  });

  it('the CLI takes --backend torch, --device and --python', () => {
    const r = parseCliArgs(['run', 'a.json', '--backend', 'torch', '--device', 'cuda', '--python', 'venv/bin/python']);
    assert.ok(r.kind === 'run');
    assert.deepEqual([r.backend, r.device, r.python], ['torch', 'cuda', path.resolve('venv/bin/python')]);
    const bare = parseCliArgs(['run', 'a.json', '--python', 'python3.12']);
    assert.equal(bare.kind === 'run' && bare.python, 'python3.12');
    assert.throws(() => parseCliArgs(['run', 'a.json', '--device', 'tpu']), /--device must be auto, cuda, mps, cpu, got "tpu"/);
    assert.throws(() => parseCliArgs(['run', 'a.json', '--backend', 'pytorch']), /--backend must be auto, torch, tensorflow-gpu/);
  });

  it('quotes the exception and the last frame of a real Python traceback', () => {
    const code = 'def inner():\n    raise ValueError("boom: shapes differ")\ndef outer():\n    inner()\nprint("training...")\nouter()\n';
    const r = spawnSync(findTorchPython(), ['-c', code], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    const tb = lastTraceback(`some log line\n${r.stderr}`);
    assert.ok(tb);
    assert.equal(tb.summary, 'ValueError: boom: shapes differ (at <string>:2 in inner)');
    assert.match(tb.stack, /^Traceback \(most recent call last\)/);
    assert.equal(lastTraceback('no traceback here\n'), undefined);
  });
});
