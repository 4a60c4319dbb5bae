import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRecordedRun } from '../../../src/runs/recordedRun';
import type { RecordedRunResult } from '../../../src/runs/recordedRun';
import { listRuns } from '../../../src/runs/runFolder';
import { evalThreadForSweep, resolveParallelism, runSweep } from '../../../src/runs/sweepRunner';
import type { SweepMemberRun } from '../../../src/runs/sweepRunner';
import type { Experiment } from '../../../src/protocol/experiment';
import { buildBundles, enginePath } from '../helpers/bundle';
import { slowExperiment, tinyExperiment } from '../helpers/experiments';

/** A member run the test ends by hand. */
function manualRun() {
  let end!: (v: string) => void;
  const ended = new Promise<string>((r) => (end = r));
  let cancelled = false;
  const run: SweepMemberRun<string> = {
    cancel: () => {
      cancelled = true;
      end('cancelled');
    },
    ended,
  };
  return { run, end, wasCancelled: () => cancelled };
}

describe('sweep runner', function () {
  this.timeout(120000);

  it('resolves the parallelism setting: 0 means one per core, at least 1', () => {
    assert.equal(resolveParallelism(3), 3);
    assert.equal(resolveParallelism(0), Math.max(1, os.availableParallelism()));
    assert.equal(resolveParallelism(undefined), Math.max(1, os.availableParallelism()));
    assert.ok(resolveParallelism(-2) >= 1);
  });

  it('keeps sweep members running side by side on one thread each unless told otherwise', () => {
    assert.equal(evalThreadForSweep('auto', 2), 'off');
    assert.equal(evalThreadForSweep('auto', 1), 'auto');
    assert.equal(evalThreadForSweep('on', 4), 'on');
    assert.equal(evalThreadForSweep('off', 1), 'off');
  });

  it('starts the next member only when a running one ends (fake runs)', async () => {
    const runs = [manualRun(), manualRun(), manualRun()];
    const startedOrder: number[] = [];
    const waiters: { n: number; resolve(): void }[] = [];
    /** Resolves once n members have started. */
    const startedCount = (n: number) =>
      new Promise<void>((resolve) => (startedOrder.length >= n ? resolve() : waiters.push({ n, resolve })));
    const sweep = runSweep(['a', 'b', 'c'], {
      parallel: 2,
      start: async (_m, i) => runs[i].run,
      onStarted: (i) => {
        startedOrder.push(i);
        for (const w of waiters.filter((w) => startedOrder.length >= w.n)) w.resolve();
      },
    });
    await startedCount(2);
    // Let the pool settle: the third must still be waiting for a free slot.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(startedOrder, [0, 1], 'two at once, the third waits');
    runs[1].end('b done');
    await startedCount(3);
    assert.deepEqual(startedOrder, [0, 1, 2]);
    runs[0].end('a done');
    runs[2].end('c done');
    const results = await sweep.done;
    assert.deepEqual(
      results.map((r) => (r.state === 'ended' ? r.result : r.state)),
      ['a done', 'b done', 'c done'],
    );
  });

  it('reports a member that cannot start and carries on; cancel stops the running and skips the rest', async () => {
    const runs = [manualRun(), manualRun(), manualRun(), manualRun()];
    let started = 0;
    let both!: () => void;
    const twoRunning = new Promise<void>((r) => (both = r));
    const sweep = runSweep([0, 1, 2, 3], {
      parallel: 2,
      start: async (_m, i) => {
        if (i === 0) throw new Error('disk full');
        return runs[i].run;
      },
      onStarted: () => {
        if (++started === 2) both();
      },
    });
    await twoRunning;
    sweep.cancel();
    const results = await sweep.done;
    assert.deepEqual(results.map((r) => r.state), ['error', 'ended', 'ended', 'skipped']);
    assert.equal(results[0].state === 'error' && results[0].error, 'disk full');
    assert.ok(runs[1].wasCancelled() && runs[2].wasCancelled());
    assert.equal(runs[3].wasCancelled(), false, 'never started');
    assert.equal(sweep.cancelled, true);
  });

  describe('with real engine processes', () => {
    let dir: string;
    before(() => buildBundles());
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-sweep-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs the members through startRecordedRun (the CLI's path), recording how many engines ran at once. */
    function sweepOf(members: Experiment[], parallel: number, onEpoch?: () => void) {
      let running = 0;
      let maxRunning = 0;
      const sweep = runSweep(members, {
        parallel,
        start: async (experiment): Promise<SweepMemberRun<RecordedRunResult>> => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          const run = await startRecordedRun({
            enginePath,
            runsDir: dir,
            experiment,
            backend: 'wasm',
            onEvent: (e) => e.type === 'epoch' && onEpoch?.(),
          });
          return {
            cancel: () => run.handle.cancel(),
            ended: run.ended.finally(() => running--),
          };
        },
      });
      return { sweep, maxRunning: () => maxRunning };
    }

    const named = (e: Experiment, name: string, seed: number): Experiment => ({ ...e, name, seed });

    it('runs 3 tiny members 2 at a time, each an ordinary finished run folder', async () => {
      const members = [0, 1, 2].map((i) => named(tinyExperiment({ epochs: 3 }), `tiny [seed=${i}]`, i));
      const { sweep, maxRunning } = sweepOf(members, 2);
      const results = await sweep.done;
      assert.equal(maxRunning(), 2, 'two engines at once, never three');
      for (const r of results) {
        if (r.state !== 'ended') assert.fail(`member ${r.index}: ${r.state}`);
        assert.equal(r.result.outcome, 'finished', r.result.summary.error);
      }
      const onDisk = await listRuns(dir);
      assert.equal(onDisk.length, 3);
      assert.deepEqual(onDisk.map((s) => s.name).sort(), members.map((m) => m.name).sort());
      for (const s of onDisk) {
        assert.equal(s.status, 'finished');
        assert.equal(s.epochs, 3);
      }
    });

    it('with parallel 1 runs one engine at a time', async () => {
      const members = [0, 1].map((i) => named(tinyExperiment({ epochs: 2 }), `tiny [seed=${i}]`, i));
      const { sweep, maxRunning } = sweepOf(members, 1);
      const results = await sweep.done;
      assert.equal(maxRunning(), 1);
      assert.deepEqual(results.map((r) => r.state === 'ended' && r.result.outcome), ['finished', 'finished']);
    });

    it('cancel stops every running engine and skips the members not started', async () => {
      const members = [0, 1, 2].map((i) => named(slowExperiment(300), `slow [seed=${i}]`, i));
      let epochs = 0;
      let firstEpochs!: () => void;
      const twoEpochs = new Promise<void>((r) => (firstEpochs = r));
      const { sweep } = sweepOf(members, 2, () => {
        if (++epochs === 2) firstEpochs();
      });
      await twoEpochs;
      sweep.cancel();
      const results = await sweep.done;
      assert.deepEqual(
        results.map((r) => (r.state === 'ended' ? r.result.outcome : r.state)),
        ['cancelled', 'cancelled', 'skipped'],
      );
      const onDisk = await listRuns(dir);
      assert.equal(onDisk.length, 2, 'no folder for the member that never started');
      for (const s of onDisk) assert.equal(s.status, 'cancelled');
    });
  });
});
