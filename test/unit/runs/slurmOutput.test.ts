// Parsing the Slurm commands' output and deciding a member's status from its own record and
// Slurm's word. The squeue text is captured from Debian's Slurm 22.05.8 (test/harness/slurm.mjs,
// squeue -h -r -t all -o '%F|%K|%T|%r|%l'); this cluster has no accounting database, so the
// sacct lines follow sacct's documented --parsable2 layout instead.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSummary, withSlurmState, writeSlurmState } from '../../../src/runs/runFolder';
import type { RunSummary } from '../../../src/runs/runFolder';
import { arrayRanges, parseSacct, parseSbatchJobId, parseSqueue, shQuote } from '../../../src/runs/slurmOutput';
import { batchScript } from '../../../src/runs/slurmSweep';

const SQUEUE_PENDING = `1|0|PENDING|None|1:00
1|1|PENDING|None|1:00
1|2|PENDING|None|1:00
2|N/A|PENDING|Priority|UNLIMITED
`;
const SQUEUE_RUNNING = `1|1|PENDING|JobArrayTaskLimit|1:00
1|2|PENDING|JobArrayTaskLimit|1:00
1|0|RUNNING|None|1:00
2|N/A|RUNNING|None|UNLIMITED
`;
const SQUEUE_TIMEOUT = `2|N/A|COMPLETED|None|UNLIMITED
1|1|RUNNING|None|1:00
1|0|TIMEOUT|TimeLimit|1:00
`;

describe('Slurm output parsing', () => {
  it('squeue: one entry per array task, reasons kept, non-array jobs and junk skipped', () => {
    assert.deepEqual(parseSqueue(SQUEUE_PENDING).map((t) => [t.arrayJobId, t.taskId, t.state, t.reason]), [
      ['1', 0, 'PENDING', undefined],
      ['1', 1, 'PENDING', undefined],
      ['1', 2, 'PENDING', undefined],
    ]);
    assert.deepEqual(parseSqueue(SQUEUE_RUNNING).map((t) => [t.taskId, t.state, t.reason ?? '']), [
      [1, 'PENDING', 'JobArrayTaskLimit'],
      [2, 'PENDING', 'JobArrayTaskLimit'],
      [0, 'RUNNING', ''],
    ]);
    assert.deepEqual(parseSqueue(SQUEUE_TIMEOUT).find((t) => t.taskId === 0), { arrayJobId: '1', taskId: 0, state: 'TIMEOUT', reason: 'TimeLimit', timeLimit: '1:00' });
    assert.deepEqual(parseSqueue('slurm_load_jobs error: Invalid job id specified\n\n1|x|RUNNING\n|||\n'), []);
  });

  it('sacct: array tasks only (steps and unsplit ranges skipped), "CANCELLED by 0" is CANCELLED', () => {
    const text = '7_0|COMPLETED|0:0|00:05:00\n7_0.batch|COMPLETED|0:0|\n7_1|CANCELLED by 0|0:15|00:05:00\n7_[2-3%2]|PENDING|0:0|00:05:00\n7_4|OUT_OF_MEMORY|0:125|00:05:00\n';
    assert.deepEqual(parseSacct(text), [
      { arrayJobId: '7', taskId: 0, state: 'COMPLETED', exitCode: '0:0', timeLimit: '00:05:00' },
      { arrayJobId: '7', taskId: 1, state: 'CANCELLED', reason: 'by uid 0', exitCode: '0:15', timeLimit: '00:05:00' },
      { arrayJobId: '7', taskId: 4, state: 'OUT_OF_MEMORY', exitCode: '0:125', timeLimit: '00:05:00' },
    ]);
  });

  it('sbatch --parsable, array ranges, shell quoting', () => {
    assert.equal(parseSbatchJobId('42\n'), '42');
    assert.equal(parseSbatchJobId('42;cluster\n'), '42');
    assert.equal(parseSbatchJobId('sbatch: error: Batch job submission failed\n'), undefined);
    assert.equal(arrayRanges([5, 0, 1, 2, 7, 8]), '0-2,5,7-8');
    assert.equal(shQuote('/a/b c/it\'s'), `'/a/b c/it'\\''s'`);
    assert.equal(shQuote('/usr/bin/node'), '/usr/bin/node');
  });

  it('the batch script: one array job, per-task output, requeue, resources, the CLI per member', () => {
    const script = batchScript({
      name: 'wd sweep',
      sweepDir: '/shared/runs/sweeps/s1',
      count: 6,
      slurm: { partition: 'gpu', time: '1:00:00', cpusPerTask: 2, gpusPerTask: 1, mem: '4G', account: 'lab', extraSbatch: ['--qos=short'], maxConcurrent: 2 },
      nodePath: '/opt/node/bin/node',
      cliPath: '/home/u/ext/dist/cli.js',
      cliArgs: ['run', '/home/u/sweep.reglens.json', '--sweep-dir', '/shared/runs/sweeps/s1', '--backend', 'torch'],
    });
    for (const line of [
      '#SBATCH --array=0-5%2',
      '#SBATCH --output=/shared/runs/sweeps/s1/slurm-%A_%a.out',
      '#SBATCH --requeue',
      '#SBATCH --partition=gpu',
      '#SBATCH --time=1:00:00',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --mem=4G',
      '#SBATCH --account=lab',
      '#SBATCH --qos=short',
      'exec /opt/node/bin/node /home/u/ext/dist/cli.js run /home/u/sweep.reglens.json --sweep-dir /shared/runs/sweeps/s1 --backend torch --sweep-member "$SLURM_ARRAY_TASK_ID"',
    ]) {
      assert.ok(script.split('\n').includes(line), `missing: ${line}\n${script}`);
    }
    assert.ok(script.startsWith('#!/bin/bash\n'));
  });
});

describe('a Slurm member\'s status from its record and Slurm', () => {
  const base: RunSummary = {
    id: 'r',
    name: 'm',
    status: 'queued',
    startedAt: '2026-12-02T10:00:00.000Z',
    epochs: 0,
    totalEpochs: 50,
    slurm: { jobId: '9', taskId: 1, sweepDir: '/shared/runs/sweeps/s1', output: '/shared/runs/sweeps/s1/slurm-9_1.out' },
  };
  const at = (state: string, reason?: string, time = '2026-12-02T10:05:00.000Z') => ({ state, time, ...(reason ? { reason } : {}), timeLimit: '1:00' });
  const running: RunSummary = { ...base, status: 'running', epochs: 12, slurm: { ...base.slurm!, attemptStartedAt: '2026-12-02T10:01:00.000Z' } };

  it('PENDING keeps it queued with the reason; RUNNING before the task wrote its folder shows running', () => {
    const q = withSlurmState(base, at('PENDING', 'Priority'));
    assert.equal(q.status, 'queued');
    assert.equal(q.slurm?.reason, 'Priority');
    assert.equal(withSlurmState(base, at('RUNNING')).status, 'running');
  });

  it('a task stopped by Slurm says why, keeping its epochs; a finished run stays finished', () => {
    const cancelledByTask: RunSummary = { ...running, status: 'cancelled', error: 'stopped by Slurm (SIGTERM...)' };
    const t = withSlurmState(cancelledByTask, at('TIMEOUT', 'TimeLimit'));
    assert.equal(t.status, 'timedOut');
    assert.match(t.error!, /^stopped by Slurm at its time limit \(1:00\) after epoch 12 of 50/);
    assert.equal(withSlurmState(cancelledByTask, at('CANCELLED')).status, 'cancelled');
    assert.equal(withSlurmState(cancelledByTask, at('PREEMPTED')).status, 'preempted');
    assert.match(withSlurmState(running, at('NODE_FAIL')).error!, /its node failed/);
    assert.match(withSlurmState(running, at('OUT_OF_MEMORY')).error!, /raise slurm\.mem/);
    assert.equal(withSlurmState({ ...running, status: 'finished', epochs: 50 }, at('CANCELLED')).status, 'finished');
  });

  it('requeued: queued again until the new attempt starts; Slurm states from before that attempt are stale', () => {
    const requeued = withSlurmState({ ...running, status: 'cancelled' }, at('PENDING', 'BeginTime'));
    assert.equal(requeued.status, 'queued');
    assert.match(requeued.error!, /requeued by Slurm after epoch 12.*resumes from its last checkpoint/);
    assert.equal(withSlurmState(running, at('PENDING', 'BeginTime', '2026-12-02T10:00:30.000Z')).status, 'running');
  });

  it('an ended attempt stays as it recorded its end while Slurm completes it or starts the next one (not running, not died)', () => {
    const stopped: RunSummary = { ...running, status: 'cancelled', error: 'stopped by Slurm (SIGTERM)', pid: 2 ** 22 + 1, host: os.hostname() };
    for (const state of ['COMPLETING', 'RUNNING']) assert.equal(withSlurmState(stopped, at(state)).status, 'cancelled', state);
  });

  it('a requeued member that then fails is not asked about the shared folder (it wrote its folder before)', () => {
    const requeued: RunSummary = { ...running, status: 'queued', slurm: { ...running.slurm!, attempts: 1 } };
    const s = withSlurmState(requeued, at('FAILED', 'NonZeroExitCode'));
    assert.equal(s.status, 'failed');
    assert.doesNotMatch(s.error!, /never written/);
    assert.match(s.error!, /^Slurm says FAILED \(NonZeroExitCode\) after epoch 12 of 50 \(every reported epoch is kept\); see \/shared\/runs\/sweeps\/s1\/slurm-9_1\.out/);
  });

  it('writeSlurmState: PENDING after a started attempt writes summary.json as queued (requeued, epochs kept, no pid), then RUNNING reads as running', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-requeue-'));
    try {
      const stopped: RunSummary = { ...running, id: path.basename(dir), status: 'cancelled', endedAt: '2026-12-02T10:04:00.000Z', error: 'stopped by Slurm (SIGTERM)', pid: process.pid, host: os.hostname(), slurm: { ...running.slurm!, attempts: 1 } };
      fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(stopped));
      fs.writeFileSync(path.join(dir, 'events.jsonl'), '');
      await writeSlurmState(dir, at('PENDING', 'BeginTime'));
      const file = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
      assert.equal(file.status, 'queued');
      assert.equal(file.epochs, 12);
      assert.equal(file.pid, undefined);
      assert.equal(file.endedAt, undefined);
      assert.equal(file.slurm?.attempts, 1);
      assert.match(file.error!, /^requeued by Slurm after epoch 12; it resumes from its last checkpoint$/);
      assert.equal((await readSummary(dir)).slurm?.reason, 'BeginTime');
      await writeSlurmState(dir, at('RUNNING', undefined, '2026-12-02T10:05:30.000Z'));
      assert.equal((await readSummary(dir)).status, 'running');
      // A finished member is never put back in the queue (scontrol requeue of a completed job).
      fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ ...stopped, status: 'finished', epochs: 50 }));
      await writeSlurmState(dir, at('PENDING', 'BeginTime', '2026-12-02T10:06:00.000Z'));
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')).status, 'finished');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a task that ended without ever writing its run folder names the shared-folder question and the output file', () => {
    for (const state of ['COMPLETED', 'FAILED']) {
      const s = withSlurmState(base, at(state, 'NonZeroExitCode'));
      assert.equal(s.status, 'failed');
      assert.match(s.error!, /never written by the task: is the runs folder \/shared\/runs on a filesystem the nodes share\? See \/shared\/runs\/sweeps\/s1\/slurm-9_1\.out/);
    }
  });
});
