import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineEvent } from '../../../src/protocol/engineMessages';
import { startEngine } from '../../../src/runs/engineProcess';
import { buildBundles, enginePath } from '../helpers/bundle';
import { slowExperiment, tinyExperiment } from '../helpers/experiments';

const epochs = (events: EngineEvent[]) => events.filter((e) => e.type === 'epoch').length;

/** Resolves at the n-th epoch event. */
function atEpoch(events: EngineEvent[], n: number): { onEvent(e: EngineEvent): void; reached: Promise<void> } {
  let reach!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  return {
    onEvent(e) {
      events.push(e);
      if (e.type === 'epoch' && e.epoch === n) reach();
    },
    reached,
  };
}

describe('engine process', function () {
  this.timeout(60000);
  before(() => buildBundles());

  it('runs a 3-epoch experiment in a child process', async () => {
    const events: EngineEvent[] = [];
    let stderr = '';
    const h = startEngine({
      enginePath,
      experiment: tinyExperiment({ epochs: 3 }),
      backend: 'wasm',
      onEvent: (e) => events.push(e),
      onStderr: (t) => (stderr += t),
    });
    assert.equal(typeof h.pid, 'number');
    const done = await h.done;
    assert.deepEqual(done, { code: 0, signal: null, outcome: 'finished' }, stderr);
    assert.deepEqual(
      events.map((e) => e.type),
      ['started', 'epoch', 'epoch', 'epoch', 'finished'],
    );
    assert.equal(events[0].type === 'started' && events[0].backend, 'wasm');
    // Where the start-up went, for the time-to-first-epoch benchmark: every phase, in order, within the process's age.
    const startup = events[0].type === 'started' ? events[0].startup : undefined;
    assert.ok(startup, 'started.startup');
    assert.deepEqual(Object.keys(startup.phases), ['engineLoad', 'command', 'backend', 'dataset', 'model']);
    const sum = Object.values(startup.phases).reduce((a, b) => a + b, 0);
    assert.ok(startup.phases.engineLoad > 0 && sum <= startup.sinceProcessStart + 1e-6, JSON.stringify(startup));
  });

  it('reports an engine failure as failed', async () => {
    const events: EngineEvent[] = [];
    const h = startEngine({
      enginePath,
      experiment: tinyExperiment({ layers: [{ type: 'dense', units: 5 }] }),
      backend: 'cpu',
      onEvent: (e) => events.push(e),
    });
    const done = await h.done;
    assert.equal(done.outcome, 'failed');
    assert.equal(done.code, 1);
    assert.equal(events[events.length - 1].type, 'failed');
  });

  it('cancel() stops a run between epochs: cancelled, clean exit', async () => {
    const events: EngineEvent[] = [];
    const w = atEpoch(events, 2);
    const h = startEngine({ enginePath, experiment: slowExperiment(200), backend: 'wasm', onEvent: w.onEvent });
    await w.reached;
    h.cancel();
    const done = await h.done;
    assert.equal(done.outcome, 'cancelled');
    // Exit code 0 (not SIGKILL): it stopped by itself within the grace period.
    assert.deepEqual([done.code, done.signal], [0, null]);
    assert.ok(epochs(events) >= 2 && epochs(events) < 10);
    assert.ok(!events.some((e) => e.type === 'finished'));
  });

  it('an engine killed from outside has died, and the epochs before are kept', async () => {
    const events: EngineEvent[] = [];
    const w = atEpoch(events, 2);
    const h = startEngine({ enginePath, experiment: slowExperiment(200), backend: 'wasm', onEvent: w.onEvent });
    await w.reached;
    process.kill(h.pid!, 'SIGKILL');
    const done = await h.done;
    assert.deepEqual(done, { code: null, signal: 'SIGKILL', outcome: 'died' });
    assert.equal(events[0].type, 'started');
    assert.ok(epochs(events) >= 2);
  });

  describe('with a fake engine', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-fake-engine-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const fake = (name: string, body: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, body);
      return file;
    };

    it('turns invalid messages into warnings and keeps going', async () => {
      const enginePath = fake(
        'garbage.js',
        `process.on('message', () => {
          process.send({ type: 'epoch', epoch: 1, loss: 'NaN' });
          process.send('hello');
          process.send({ type: 'finished', time: 't', epochs: 0, final: null, secondsPerEpoch: null }, () => process.exit(0));
        });`,
      );
      const events: EngineEvent[] = [];
      const done = await startEngine({ enginePath, experiment: tinyExperiment(), backend: 'cpu', onEvent: (e) => events.push(e) }).done;
      assert.equal(done.outcome, 'finished');
      assert.deepEqual(
        events.map((e) => (e.type === 'log' ? e.level : e.type)),
        ['warning', 'warning', 'finished'],
      );
    });

    it('an engine that crashes has died, with its stderr reported', async () => {
      const enginePath = fake('crash.js', `console.error('kaboom'); process.exit(3);`);
      let stderr = '';
      const done = await startEngine({
        enginePath,
        experiment: tinyExperiment(),
        backend: 'cpu',
        onEvent: () => undefined,
        onStderr: (t) => (stderr += t),
      }).done;
      assert.deepEqual(done, { code: 3, signal: null, outcome: 'died' });
      assert.match(stderr, /kaboom/);
    });

    it('a missing engine file has died, with node\'s error reported', async () => {
      let stderr = '';
      const done = await startEngine({
        enginePath: path.join(dir, 'nope.js'),
        experiment: tinyExperiment(),
        backend: 'cpu',
        onEvent: () => undefined,
        onStderr: (t) => (stderr += t),
      }).done;
      assert.equal(done.outcome, 'died');
      assert.equal(done.code, 1);
      assert.match(stderr, /Cannot find module/);
    });

    it('an engine that ignores cancel is killed after the grace period', async () => {
      const enginePath = fake(
        'stubborn.js',
        `process.on('message', () => {}); process.send({ type: 'log', level: 'info', message: 'up' }); setInterval(() => {}, 1000);`,
      );
      let up!: () => void;
      const isUp = new Promise<void>((r) => (up = r));
      const h = startEngine({ enginePath, experiment: tinyExperiment(), backend: 'cpu', onEvent: () => up() });
      await isUp;
      h.cancel();
      const done = await h.done;
      assert.deepEqual(done, { code: null, signal: 'SIGKILL', outcome: 'cancelled' });
    });

    it('a listener that throws does not break the relay', async () => {
      const enginePath = fake(
        'two.js',
        `process.on('message', () => {
          process.send({ type: 'log', level: 'info', message: 'a' });
          process.send({ type: 'finished', time: 't', epochs: 0, final: null, secondsPerEpoch: null }, () => process.exit(0));
        });`,
      );
      const seen: string[] = [];
      let stderr = '';
      const done = await startEngine({
        enginePath,
        experiment: tinyExperiment(),
        backend: 'cpu',
        onEvent: (e) => {
          seen.push(e.type);
          if (e.type === 'log') throw new Error('listener bug');
        },
        onStderr: (t) => (stderr += t),
      }).done;
      assert.equal(done.outcome, 'finished');
      assert.deepEqual(seen, ['log', 'finished']);
      assert.match(stderr, /listener bug/);
    });
  });

  it('the worker reports malformed commands as an error log', async () => {
    const child = fork(enginePath, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    const messages: unknown[] = [];
    const gotOne = new Promise<void>((resolve) =>
      child.on('message', (m) => {
        messages.push(m);
        resolve();
      }),
    );
    child.send({ type: 'start', experiment: { name: 'x' } });
    await gotOne;
    const [m] = messages as EngineEvent[];
    assert.equal(m.type, 'log');
    assert.equal(m.type === 'log' && m.level, 'error');
    assert.match(m.type === 'log' ? m.message : '', /experiment/);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.send({ type: 'cancel' });
    assert.equal(await exited, 0);
  });

  it('the worker refuses to run without an IPC channel', () => {
    const r = require('node:child_process').spawnSync(process.execPath, [enginePath], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /IPC/);
  });
});
