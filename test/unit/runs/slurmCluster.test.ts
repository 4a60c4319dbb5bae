// Sweeps on a real Slurm: test/harness/slurm.mjs starts munged, slurmctld and slurmd for this
// machine (once for the suite, stopped by pid at the end); the CLI submits with --slurm and
// follows the array job to its end. Covered: a 4-member sweep to completion, scancel of a
// running member (cancelled, epochs kept), scontrol requeue of a running member (the same
// run continues from its checkpoint, no epoch twice), a member past its time limit (timed out).
// Waits poll files and squeue; nothing sleeps a fixed time.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExperimentInput } from '../../../src/protocol/experiment';
import { readSummary } from '../../../src/runs/runFolder';
import type { RunSummary } from '../../../src/runs/runFolder';
import { readManifest } from '../../../src/runs/slurmSweep';
import { buildBundles, cliPath } from '../helpers/bundle';

interface Cluster {
  conf: string;
  dir: string;
  stop(): Promise<void>;
}
interface SlurmHarness {
  slurmAvailable(): string | undefined;
  startSlurm(opts?: { cpus?: number }): Promise<Cluster>;
}
const harnessUrl = pathToFileURL(path.join(__dirname, '..', '..', 'harness', 'slurm.mjs')).href;
const loadHarness = () => import(harnessUrl) as Promise<SlurmHarness>;

// Decided before the suite runs, so the skip can say why (only where Slurm is not installed:
// .ci/run installs it, so CI always runs these).
const missing = (() => {
  for (const c of ['sbatch', 'slurmctld', 'slurmd', 'munged']) {
    if (!['/usr/bin', '/usr/sbin', ...(process.env.PATH ?? '').split(':')].some((d) => d && fs.existsSync(path.join(d, c)))) return `${c} is not installed (apt-get install slurm-wlm munge)`;
  }
  if (process.getuid?.() !== 0) return 'the test cluster runs its daemons as root';
  return undefined;
})();

/** (m + n) mod 11 as in helpers/experiments.ts, batch size 1 so an epoch takes long enough to act during it. */
function experiment(name: string, epochsSweep: number[], extra: Partial<ExperimentInput> = {}, batchSize = 32): ExperimentInput {
  return {
    name,
    seed: 3,
    backend: 'wasm',
    dataset: { kind: 'modular', p: 11, operation: 'add', trainFraction: 0.8, labelNoise: { kind: 'symmetric', rate: 0.2 } },
    model: { layers: [{ type: 'dense', units: 32, init: 'he' }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 11 }] },
    training: { epochs: 5, batchSize, optimizer: { kind: 'adam', lr: 0.01, weightDecay: 0 }, checkpointEvery: 1 },
    sweep: { 'training.epochs': epochsSweep },
    ...extra,
  };
}

interface CliRun {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const events = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { type: string; epoch?: number; message?: string });
const epochsOf = (dir: string) => (fs.existsSync(path.join(dir, 'events.jsonl')) ? events(dir).filter((e) => e.type === 'epoch').map((e) => e.epoch!) : []);
const summaryOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));

(missing ? describe.skip : describe)(`Slurm executor on a real one-machine Slurm${missing ? ` (skipped: ${missing})` : ''}`, function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let work: string;
  let timeoutRun: CliRun;
  /** The sweep of the scancel test, resubmitted by the next one. */
  let stopped: { sweepDir: string; dir: string; kept: number } | undefined;

  const cli = (args: string[]): CliRun => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: work, env: { ...process.env, REGLENS_SLURM_POLL_MS: '300' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
  };
  const write = (name: string, value: unknown) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, JSON.stringify(value, null, 2));
    return file;
  };
  /** The sweep folder the CLI printed, once it has. */
  const sweepDirOf = async (runsDir: string, before: Set<string>) =>
    until('the sweep folder', () => {
      const root = path.join(runsDir, 'sweeps');
      const dirs = fs.existsSync(root) ? fs.readdirSync(root).filter((d) => !before.has(d) && fs.existsSync(path.join(root, d, 'sweep.json'))) : [];
      return dirs.length ? path.join(root, dirs[0]) : undefined;
    });
  const sweepsIn = (runsDir: string) => new Set(fs.existsSync(path.join(runsDir, 'sweeps')) ? fs.readdirSync(path.join(runsDir, 'sweeps')) : []);

  before(async function () {
    await buildBundles();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-slurm-test-'));
    cluster = await (await loadHarness()).startSlurm({ cpus: 6 });
    // Slurm's shortest time limit is one minute: this member starts first and is checked last.
    write('timeout.reglens.json', experiment('past its time limit', [100000], { slurm: { time: '1' } }, 1));
    timeoutRun = cli(['run', 'timeout.reglens.json', '--slurm', '--runs-dir', 'timeout-runs']);
  });

  after(async () => {
    // Cancels what is left (nothing of ours may outlive the suite), then the daemons by pid.
    if (cluster) await cluster.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs a 4-member sweep as one array job, every member recorded to its last epoch', async () => {
    const sweep = experiment('four', [3, 4]);
    sweep.sweep!.seed = [1, 2];
    write('four.reglens.json', sweep);
    const r = await cli(['run', 'four.reglens.json', '--slurm', '--runs-dir', 'four-runs']).done;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const sweepDir = fs.readdirSync(path.join(work, 'four-runs', 'sweeps')).map((d) => path.join(work, 'four-runs', 'sweeps', d))[0];
    const manifest = await readManifest(sweepDir);
    assert.equal(manifest.members.length, 4);
    assert.equal(new Set(manifest.members.map((m) => m.jobId)).size, 1, 'one array job for the sweep');
    for (const m of manifest.members) {
      const dir = path.join(manifest.runsDir, m.runId);
      const s = summaryOf(dir);
      assert.equal(s.status, 'finished', `${m.label}: ${s.error}`);
      assert.deepEqual(s.slurm && { jobId: s.slurm.jobId, taskId: s.slurm.taskId }, { jobId: m.jobId, taskId: m.index });
      const want = m.index < 2 ? 3 : 4;
      assert.deepEqual(epochsOf(dir), Array.from({ length: want }, (_, i) => i + 1), m.label);
      const ev = events(dir);
      assert.equal(ev[0].type, 'started');
      assert.equal(ev.at(-1)!.type, 'finished');
      assert.ok(fs.existsSync(s.slurm.output), `task output ${s.slurm.output}`);
      assert.match(fs.readFileSync(s.slurm.output, 'utf8'), new RegExp(`sweep member ${m.index} \\(job ${m.jobId}`));
    }
    // One row per member as it ended, then the table.
    assert.equal((r.stdout.match(/^\[\d\/4\] finished /gm) ?? []).length, 4, r.stdout);
  });

  it('scancel of a running member marks it cancelled with its epochs kept; the other member runs on to its last epoch', async () => {
    const runsDir = path.join(work, 'stop-runs');
    write('stop.reglens.json', experiment('stop', [50, 30], {}, 1));
    const before = sweepsIn(runsDir);
    const run = cli(['run', 'stop.reglens.json', '--slurm', '--runs-dir', 'stop-runs']);
    const sweepDir = await sweepDirOf(runsDir, before);
    const manifest = await readManifest(sweepDir);
    const [cancelDir, otherDir] = manifest.members.map((m) => path.join(runsDir, m.runId));
    const job = manifest.members[0].jobId;
    await until('3 epochs of the first member', () => epochsOf(cancelDir).length >= 3);
    execFileSync('scancel', [`${job}_0`]);
    const r = await run.done;
    assert.equal(r.code, 1, 'a cancelled member makes the sweep fail');

    const cancelled = summaryOf(cancelDir);
    assert.equal(cancelled.status, 'cancelled');
    assert.match(cancelled.error, /cancelled in Slurm after epoch \d+/);
    const kept = epochsOf(cancelDir);
    assert.ok(kept.length >= 3 && cancelled.epochs === kept.length, `epochs kept: ${kept.length}, summary ${cancelled.epochs}`);
    assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => i + 1));
    assert.match(r.stdout, /\[1\/2\] cancelled /);
    stopped = { sweepDir, dir: cancelDir, kept: kept.length };

    const other = summaryOf(otherDir);
    assert.equal(other.status, 'finished', other.error);
    assert.deepEqual(epochsOf(otherDir), Array.from({ length: 30 }, (_, i) => i + 1), 'every epoch once');
  });

  // Slurm holds a requeued job back for AuthInfo cred_expire + 1 s before it may start again (the
  // harness sets 20 s; the default is 120). The test waits for that: forcing the start with
  // `scontrol update StartTime=now` launches the job within the second its credential was revoked
  // on an unloaded machine, and slurmd refuses it ("Job credential revoked": FAILED, one attempt).
  it('scontrol requeue of a running member: queued again, then the same run continues from its checkpoint, every epoch once', async () => {
    const runsDir = path.join(work, 'requeue-runs');
    write('requeue.reglens.json', experiment('requeue', [30], {}, 1));
    const before = sweepsIn(runsDir);
    const run = cli(['run', 'requeue.reglens.json', '--slurm', '--runs-dir', 'requeue-runs']);
    const sweepDir = await sweepDirOf(runsDir, before);
    const manifest = await readManifest(sweepDir);
    const dir = path.join(runsDir, manifest.members[0].runId);
    const task = `${manifest.members[0].jobId}_0`;
    await until('3 epochs of the member', () => epochsOf(dir).length >= 3);
    execFileSync('scontrol', ['requeue', task]);
    // What the Runs view reads (summary.json merged with the watcher's slurm.json), as it changes.
    const seen: string[] = [];
    const watch = async <T>(what: string, probe: (s: RunSummary) => T | undefined | false) =>
      until(what, async () => {
        const s = await readSummary(dir);
        if (seen.at(-1) !== s.status) seen.push(s.status);
        return probe(s);
      }, 120_000);
    const queued = await watch('the member queued again', (s) => s.status === 'queued' && s);
    assert.match(queued.error!, /^requeued by Slurm after epoch (\d+); it resumes from its last checkpoint$/);
    const firstAttempt = queued.epochs;
    assert.ok(firstAttempt >= 3, `first attempt recorded ${firstAttempt} epochs`);
    assert.equal(queued.slurm?.state, 'PENDING');
    await watch('the second attempt running', (s) => s.status === 'running' && s.slurm?.attempts === 2);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok(!seen.includes('died'), `statuses seen after the requeue: ${seen.join(' -> ')}`);

    const s = summaryOf(dir);
    assert.equal(s.status, 'finished', s.error);
    assert.equal(s.slurm.attempts, 2, 'the same run folder, started twice');
    assert.deepEqual(epochsOf(dir), Array.from({ length: 30 }, (_, i) => i + 1), 'every epoch once');
    const ev = events(dir);
    assert.equal(ev.filter((e) => e.type === 'started').length, 1, 'one run');
    const resumed = ev.find((e) => e.type === 'log' && /^Resumed from the checkpoint after epoch (\d+)/.test(e.message!));
    assert.ok(resumed, 'resumed, not restarted');
    assert.ok(Number(/epoch (\d+)/.exec(resumed!.message!)![1]) <= firstAttempt);
    // No second run for the member: only the sweep's run folder.
    assert.deepEqual(fs.readdirSync(runsDir).filter((d) => d !== 'sweeps'), [manifest.members[0].runId]);
    const output = fs.readFileSync(s.slurm.output, 'utf8');
    assert.match(output, /attempt 0\)[\s\S]*DUE TO JOB REQUEUE[\s\S]*attempt 1\)/, 'both attempts in the one output file (--open-mode=append)');
    // The CLI said it was requeued, then running again, then finished.
    assert.match(r.stderr, /\[1\/1\] queued [^\n]* — requeued by Slurm after epoch \d+[^\n]*\n(?:[^\n]*\n)*?\[1\/1\] running /);
    assert.match(r.stdout, /^\[1\/1\] finished epochs=30: epochs 30\/30/m);
  });

  it('reglens resubmit runs the cancelled member again in the same run folder, continuing from its checkpoint', async function () {
    if (!stopped) this.skip();
    const { sweepDir, dir, kept } = stopped!;
    const r = await cli(['resubmit', sweepDir]).done;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /resubmitted members 0 as Slurm job \d+/);
    const s = summaryOf(dir);
    assert.equal(s.status, 'finished', s.error);
    assert.equal(s.slurm.attempts, 2);
    assert.deepEqual(epochsOf(dir), Array.from({ length: 50 }, (_, i) => i + 1), 'every epoch once');
    const resumed = events(dir).find((e) => e.type === 'log' && /^Resumed from the checkpoint after epoch (\d+)/.test(e.message!));
    assert.ok(resumed, 'resumed, not restarted');
    assert.ok(Number(/epoch (\d+)/.exec(resumed!.message!)![1]) <= kept);
    const manifest = await readManifest(sweepDir);
    assert.equal(manifest.submissions.length, 2);
    assert.equal(manifest.members[0].jobId, s.slurm.jobId);
  });

  it('a member past its time limit is reported as timed out, with every epoch it reported', async () => {
    const r = await timeoutRun.done;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const runsDir = path.join(work, 'timeout-runs');
    const [id] = fs.readdirSync(runsDir).filter((d) => d !== 'sweeps');
    const s = summaryOf(path.join(runsDir, id));
    assert.equal(s.status, 'timedOut', s.error);
    assert.match(s.error, /stopped by Slurm at its time limit/);
    const kept = epochsOf(path.join(runsDir, id));
    assert.ok(kept.length > 0 && kept.length === s.epochs);
    assert.match(r.stdout, /^\[1\/1\] timed out epochs=100000: /m);
  });
});

describe('a Slurm member on a node that does not share the runs folder', () => {
  before(() => buildBundles());
  it('fails naming the shared filesystem, so its output file says why', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-unshared-'));
    try {
      const r = spawnSync(process.execPath, [cliPath, 'run', 'x.reglens.json', '--sweep-dir', path.join(dir, 'sweeps', 'missing'), '--sweep-member', '0'], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /sweep\.json not found: not a Slurm sweep folder \(or, on a compute node, the runs folder is not on a filesystem the nodes share\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
