import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineEvent } from '../../../src/protocol/engineMessages';
import { EVENTS_FILE, listRuns, readRun, RunFolder, SPEC_FILE, SUMMARY_FILE } from '../../../src/runs/runFolder';
import type { RunSummary } from '../../../src/runs/runFolder';
import { tinyExperiment } from '../helpers/experiments';

const started: EngineEvent = {
  type: 'started',
  time: '2026-11-28T12:00:00.000Z',
  backend: 'wasm',
  totalEpochs: 3,
  dataset: { train: 97, corrupted: 19, test: 24, inputSize: 22, classes: 11 },
  parameters: 10,
};
const epoch = (n: number): EngineEvent => ({
  type: 'epoch',
  epoch: n,
  loss: 2 / n,
  accuracy: { cleanTrain: [0, 0.3, 0.6, 0.9][n] ?? 1, corruptedTrain: 0.1, test: 0.2 * n },
  seconds: 0.5,
});
const finished: EngineEvent = {
  type: 'finished',
  time: '2026-11-28T12:00:02.000Z',
  epochs: 3,
  final: { cleanTrain: 0.9, corruptedTrain: 0.1, test: 0.6 },
  secondsPerEpoch: 0.5,
};

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('RunFolder', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-runs-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('creates spec.json, a running summary.json and an empty events.jsonl', async () => {
    const exp = tinyExperiment();
    const run = await RunFolder.create(path.join(root, 'nested', 'runs'), exp, {
      experimentFile: '/x/tiny.reglens.json',
      now: new Date('2026-11-28T12:45:01Z'),
    });
    assert.match(run.id, /^20261128-124501-[0-9a-f]{4}$/);
    assert.equal(run.dir, path.join(root, 'nested', 'runs', run.id));
    assert.deepEqual(readJson(path.join(run.dir, SPEC_FILE)), exp);
    const s = readJson(path.join(run.dir, SUMMARY_FILE)) as RunSummary;
    assert.equal(s.status, 'running');
    assert.equal(s.pid, process.pid);
    assert.equal(s.name, 'tiny');
    assert.equal(s.totalEpochs, 30);
    assert.equal(s.experimentFile, '/x/tiny.reglens.json');
    assert.equal(fs.readFileSync(path.join(run.dir, EVENTS_FILE), 'utf8'), '');
  });

  it('gives unique ids to runs created in the same second', async () => {
    const now = new Date('2026-11-28T12:45:01Z');
    const runs = await Promise.all(Array.from({ length: 30 }, () => RunFolder.create(root, tinyExperiment(), { now })));
    assert.equal(new Set(runs.map((r) => r.id)).size, 30);
  });

  it('appends events in order, keeps the summary current and finishes', async () => {
    const run = await RunFolder.create(root, tinyExperiment());
    await run.append(started);
    assert.equal(readJson(path.join(run.dir, SUMMARY_FILE)).backend, 'wasm');
    // Not awaited one by one: appends must still land in call order.
    await Promise.all([epoch(1), epoch(2), epoch(3)].map((e) => run.append(e)));
    assert.equal(run.summary().epochs, 3);
    await run.append(finished);
    const s = await run.finish('finished');
    assert.equal(s.status, 'finished');
    assert.ok(s.endedAt);
    assert.deepEqual(readJson(path.join(run.dir, SUMMARY_FILE)), s);
    const lines = fs.readFileSync(path.join(run.dir, EVENTS_FILE), 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => JSON.parse(l)), [started, epoch(1), epoch(2), epoch(3), finished]);
    const r = await readRun(run.dir);
    assert.equal(r.events.length, 5);
    assert.equal(r.truncated, false);
    assert.equal(r.invalidLines, 0);
    assert.deepEqual(r.experiment, tinyExperiment());
    assert.equal(r.summary.status, 'finished');
    assert.deepEqual(r.summary.final, { cleanTrain: 0.9, corruptedTrain: 0.1, test: 0.6 });
    await assert.rejects(run.append(epoch(4)), /finished/);
  });

  it('records the error of a failed run', async () => {
    const run = await RunFolder.create(root, tinyExperiment());
    await run.append({ type: 'failed', time: 't', message: 'out of memory' });
    const s = await run.finish('failed', 'out of memory');
    assert.equal(s.status, 'failed');
    assert.equal(readJson(path.join(run.dir, SUMMARY_FILE)).error, 'out of memory');
  });

  it('tolerates a truncated last line and counts bad lines', async () => {
    const run = await RunFolder.create(root, tinyExperiment());
    await run.append(started);
    await run.append(epoch(1));
    fs.appendFileSync(path.join(run.dir, EVENTS_FILE), 'not json\n{"type":"epoch","epo');
    const r = await readRun(run.dir);
    assert.equal(r.truncated, true);
    assert.equal(r.invalidLines, 1);
    assert.deepEqual(r.events, [started, epoch(1)]);
    await run.finish('cancelled'); // closes events.jsonl (an open handle would be reclaimed by GC with a warning)
  });

  it('lists runs newest first, skipping folders that are not runs', async () => {
    const a = await RunFolder.create(root, tinyExperiment(), { now: new Date('2026-01-01T00:00:00Z') });
    const b = await RunFolder.create(root, tinyExperiment(), { now: new Date('2026-02-01T00:00:00Z') });
    await a.finish('cancelled');
    fs.mkdirSync(path.join(root, 'not-a-run'));
    fs.writeFileSync(path.join(root, 'stray.txt'), 'x');
    const runs = await listRuns(root);
    assert.deepEqual(
      runs.map((r) => [r.id, r.status]),
      [
        [b.id, 'running'],
        [a.id, 'cancelled'],
      ],
    );
    assert.deepEqual(await listRuns(path.join(root, 'missing')), []);
  });

  it('reports a running run whose process is gone as died', async () => {
    const run = await RunFolder.create(root, tinyExperiment());
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const file = path.join(run.dir, SUMMARY_FILE);
    fs.writeFileSync(file, JSON.stringify({ ...readJson(file), pid: deadPid }));
    const [s] = await listRuns(root);
    assert.equal(s.status, 'died');
    assert.ok(s.error);
    assert.equal((await readRun(run.dir)).summary.status, 'died');
  });

  it('a running summary takes its progress from events.jsonl, and a dead writer\'s recorded end', async () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const asWrittenBy = (dir: string, pid: number) => {
      const file = path.join(dir, SUMMARY_FILE);
      fs.writeFileSync(file, JSON.stringify({ ...readJson(file), pid }));
    };
    const live = await RunFolder.create(root, tinyExperiment());
    for (const e of [started, epoch(1), epoch(2)]) await live.append(e);
    const killed = await RunFolder.create(root, tinyExperiment());
    for (const e of [started, epoch(1), epoch(2)]) await killed.append(e);
    asWrittenBy(killed.dir, deadPid);
    // Killed after the finished event was written, before the summary was.
    const almost = await RunFolder.create(root, tinyExperiment());
    for (const e of [started, epoch(1), epoch(2), epoch(3), finished]) await almost.append(e);
    asWrittenBy(almost.dir, deadPid);

    const byId = new Map((await listRuns(root)).map((r) => [r.id, r]));
    assert.equal(readJson(path.join(killed.dir, SUMMARY_FILE)).epochs, 0);
    const second = epoch(2);
    const secondAccuracy = second.type === 'epoch' ? second.accuracy : undefined;
    const finalAccuracy = finished.type === 'finished' ? finished.final : undefined;
    assert.deepEqual(
      [live, killed, almost].map((r) => {
        const s = byId.get(r.id)!;
        return [s.status, s.epochs, s.totalEpochs, s.final, s.backend];
      }),
      [
        ['running', 2, 3, secondAccuracy, 'wasm'],
        ['died', 2, 3, secondAccuracy, 'wasm'],
        ['finished', 3, 3, finalAccuracy, 'wasm'],
      ],
    );
    assert.match(byId.get(killed.id)!.error ?? '', /after epoch 2 of 3/);
    assert.equal(byId.get(almost.id)!.endedAt, finished.type === 'finished' ? finished.time : '');
    for (const r of [live, killed, almost]) await r.finish('cancelled'); // closes events.jsonl
  });

  it('rebuilds a missing or malformed summary from the events, never throws', async () => {
    const done = await RunFolder.create(root, tinyExperiment(), { now: new Date('2026-01-01T00:00:00Z') });
    for (const e of [started, epoch(1), epoch(2), epoch(3), finished]) await done.append(e);
    await done.finish('finished');
    fs.rmSync(path.join(done.dir, SUMMARY_FILE));

    const broken = await RunFolder.create(root, tinyExperiment(), { now: new Date('2026-01-02T00:00:00Z') });
    await broken.append(started);
    await broken.append(epoch(1));
    fs.writeFileSync(path.join(broken.dir, SUMMARY_FILE), '{"id": ');

    const empty = path.join(root, '20260103-000000-0000');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, SUMMARY_FILE), '[]');

    const runs = await listRuns(root);
    const byId = new Map(runs.map((r) => [r.id, r]));
    const d = byId.get(done.id)!;
    assert.equal(d.status, 'finished');
    assert.equal(d.epochs, 3);
    assert.equal(d.backend, 'wasm');
    assert.equal(d.name, 'tiny');
    const b = byId.get(broken.id)!;
    assert.equal(b.status, 'died');
    assert.equal(b.epochs, 1);
    assert.match(b.error ?? '', /summary\.json/);
    const e = byId.get('20260103-000000-0000')!;
    assert.equal(e.status, 'failed');
    assert.match(e.error ?? '', /summary\.json invalid/);
    await broken.finish('cancelled'); // closes its events.jsonl
  });

  describe('disk errors surface as rejections', () => {
    it('when the runs directory is a file', async () => {
      const file = path.join(root, 'file');
      fs.writeFileSync(file, '');
      await assert.rejects(RunFolder.create(file, tinyExperiment()), /EEXIST|ENOTDIR/);
      await assert.rejects(RunFolder.create(path.join(file, 'runs'), tinyExperiment()), /ENOTDIR|EEXIST/);
    });

    it('when an event cannot be written (disk full)', async function () {
      if (!fs.existsSync('/dev/full')) this.skip();
      const run = await RunFolder.create(root, tinyExperiment());
      const events = path.join(run.dir, EVENTS_FILE);
      fs.rmSync(events);
      fs.symlinkSync('/dev/full', events);
      await assert.rejects(run.append(epoch(1)), /ENOSPC/);
      // One failure does not block the queue: later calls run (and fail or succeed) on their own.
      await assert.rejects(run.append(epoch(2)), /ENOSPC/);
      const s = await run.finish('failed', 'disk full');
      assert.equal(s.status, 'failed');
    });

    it('when the summary cannot be replaced', async () => {
      const run = await RunFolder.create(root, tinyExperiment());
      const tmp = path.join(run.dir, `${SUMMARY_FILE}.tmp-${process.pid}`);
      fs.mkdirSync(tmp);
      await assert.rejects(run.append(started), /EISDIR/);
      await assert.rejects(run.finish('finished'), /EISDIR/);
    });
  });
});
