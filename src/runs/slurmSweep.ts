// A sweep as one Slurm array job. The sweep folder (<runsDir>/sweeps/<id>/) holds sweep.json
// (the members' run ids and jobs), the batch script and one output file per task; each member
// has its run folder in the runs directory from the start (status queued), so the Runs view
// lists it before its task runs and a requeued or resubmitted task continues the same run.
// Each task runs the CLI for its member (`reglens run <file> --sweep-dir D --sweep-member i`),
// which reopens that folder. Shared by the CLI and the extension host (no vscode here).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import type { BackendName, DeviceName, Experiment, SlurmOptions } from '../protocol/experiment';
import { SlurmOptionsSchema } from '../protocol/experiment';
import type { SweepMember } from '../protocol/sweep';
import { RunFolder, isEnded, isSlurmEnded, newRunId, readSummary, requeueSummary, writeSlurmState } from './runFolder';
import type { RunSummary, SlurmObservation, SlurmPlacement } from './runFolder';
import { SlurmError, sbatch, scancel, scontrol, taskStates } from './slurmCommands';
import { arrayRanges, shQuote } from './slurmOutput';
import type { SlurmTaskState } from './slurmOutput';

export const SWEEP_FILE = 'sweep.json';
export const BATCH_SCRIPT = 'sweep.sbatch';
/** Members checkpoint this often unless the experiment says (training.checkpointEvery). */
export const DEFAULT_SLURM_CHECKPOINT_EVERY = 5;

const SweepManifestSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  name: z.string(),
  experimentFile: z.string(),
  runsDir: z.string(),
  createdAt: z.string(),
  slurm: SlurmOptionsSchema,
  /** Every sbatch of this sweep: the first, then resubmissions of some members. */
  submissions: z.array(z.object({ jobId: z.string(), array: z.string(), time: z.string() })),
  members: z.array(z.object({ index: z.number().int().nonnegative(), runId: z.string(), label: z.string(), jobId: z.string() })),
});
export type SweepManifest = z.infer<typeof SweepManifestSchema>;

export async function readManifest(sweepDir: string): Promise<SweepManifest> {
  const file = path.join(sweepDir, SWEEP_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${file} not found: not a Slurm sweep folder (or, on a compute node, the runs folder is not on a filesystem the nodes share)`
        : `cannot read ${file}: ${(err as Error).message}`,
    );
  }
  const r = SweepManifestSchema.safeParse(JSON.parse(text));
  if (!r.success) throw new Error(`${file} is not a RegLens sweep manifest (${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message})`);
  return r.data;
}

async function writeManifest(sweepDir: string, m: SweepManifest): Promise<void> {
  const file = path.join(sweepDir, SWEEP_FILE);
  await fs.writeFile(`${file}.tmp`, JSON.stringify(m, null, 2) + '\n');
  await fs.rename(`${file}.tmp`, file);
}

export const memberDir = (m: SweepManifest, index: number) => path.join(m.runsDir, m.members[index].runId);
export const outputFile = (sweepDir: string, jobId: string, index: number) => path.join(sweepDir, `slurm-${jobId}_${index}.out`);

/** The experiment's slurm fields over the settings' defaults. */
export function resolveSlurmOptions(defaults: SlurmOptions, experiment: Experiment): SlurmOptions {
  const merged: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(experiment.slurm ?? {})) if (v !== undefined) merged[k] = v;
  return SlurmOptionsSchema.parse(merged);
}

export interface SubmitOptions {
  experiment: Experiment;
  members: SweepMember[];
  experimentFile: string;
  runsDir: string;
  /** Settings' defaults (reglens.sweeps.slurm.*); the experiment's `slurm` wins. */
  defaults: SlurmOptions;
  /** Node for the tasks (this process's, which the nodes must also have at this path) and the CLI bundle. */
  nodePath: string;
  cliPath: string;
  backend?: BackendName;
  device?: DeviceName;
  python?: string;
}

/** The batch script: #SBATCH lines, then each array task execs the CLI for its member. */
export function batchScript(o: { name: string; sweepDir: string; count: number; slurm: SlurmOptions; nodePath: string; cliPath: string; cliArgs: string[] }): string {
  const s = o.slurm;
  const directives = [
    `--job-name=${`reglens-${o.name}`.replace(/[^\w.-]+/g, '_').slice(0, 60)}`,
    `--array=0-${o.count - 1}${s.maxConcurrent ? `%${s.maxConcurrent}` : ''}`,
    `--output=${path.join(o.sweepDir, 'slurm-%A_%a.out')}`,
    // A requeued task appends to its output file, and Slurm may requeue it (preemption, node failure).
    '--open-mode=append',
    '--requeue',
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(s.cpusPerTask ? [`--cpus-per-task=${s.cpusPerTask}`] : []),
    ...(s.gpusPerTask ? [`--gres=gpu:${s.gpusPerTask}`] : []),
    ...(s.mem ? [`--mem=${s.mem}`] : []),
    ...(s.account ? [`--account=${s.account}`] : []),
    ...(s.extraSbatch ?? []),
  ];
  const cmd = [o.nodePath, o.cliPath, ...o.cliArgs].map(shQuote).join(' ');
  return [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${d}`),
    '',
    '# Written by RegLens for one sweep: each array task trains one member (its run folder is in the',
    '# runs directory, which must be on a filesystem this node shares with the submitting machine).',
    '# Inside VS Code the Node path may be Electron: make it behave as plain Node.',
    'export ELECTRON_RUN_AS_NODE=1',
    '# The torch engine uses the CPUs Slurm gave the task.',
    'export REGLENS_TORCH_THREADS="${SLURM_CPUS_PER_TASK:-${REGLENS_TORCH_THREADS:-1}}"',
    `echo "reglens: sweep member $SLURM_ARRAY_TASK_ID (job $SLURM_ARRAY_JOB_ID, attempt \${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -u +%FT%TZ)"`,
    `exec ${cmd} --sweep-member "$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
}

/**
 * Writes the sweep folder and the members' run folders and submits one array job. Submitted on
 * hold, so no task starts before its run folder names the job; then released.
 */
export async function submitSlurmSweep(o: SubmitOptions): Promise<{ sweepDir: string; manifest: SweepManifest }> {
  const slurm = resolveSlurmOptions(o.defaults, o.experiment);
  const id = newRunId();
  const sweepDir = path.join(o.runsDir, 'sweeps', id);
  await fs.mkdir(sweepDir, { recursive: true });
  const width = String(o.members.length - 1).length;
  const runIds = o.members.map((m) => `${id}-${String(m.index).padStart(width, '0')}`);
  const cliArgs = [
    'run',
    path.resolve(o.experimentFile),
    '--sweep-dir',
    sweepDir,
    ...(o.backend ? ['--backend', o.backend] : []),
    ...(o.device ? ['--device', o.device] : []),
    ...(o.python ? ['--python', o.python] : []),
  ];
  const script = path.join(sweepDir, BATCH_SCRIPT);
  await fs.writeFile(script, batchScript({ name: o.experiment.name, sweepDir, count: o.members.length, slurm, nodePath: o.nodePath, cliPath: o.cliPath, cliArgs }), { mode: 0o755 });
  const jobId = await sbatch(script, ['--hold'], sweepDir);
  const manifest: SweepManifest = {
    version: 1,
    id,
    name: o.experiment.name,
    experimentFile: path.resolve(o.experimentFile),
    runsDir: o.runsDir,
    createdAt: new Date().toISOString(),
    slurm,
    submissions: [{ jobId, array: `0-${o.members.length - 1}`, time: new Date().toISOString() }],
    members: o.members.map((m, i) => ({ index: m.index, runId: runIds[i], label: m.label, jobId })),
  };
  try {
    for (const m of o.members) {
      const experiment = structuredClone(m.experiment);
      // Members checkpoint, so a requeue or resubmission resumes instead of starting over.
      experiment.training.checkpointEvery ??= DEFAULT_SLURM_CHECKPOINT_EVERY;
      await RunFolder.createQueued(o.runsDir, runIds[m.index], experiment, {
        experimentFile: path.resolve(o.experimentFile),
        slurm: placement(sweepDir, jobId, m.index),
      });
    }
    await writeManifest(sweepDir, manifest);
    await scontrol('release', jobId);
  } catch (err) {
    await scancel(jobId).catch(() => undefined);
    throw err;
  }
  return { sweepDir, manifest };
}

const placement = (sweepDir: string, jobId: string, index: number): SlurmPlacement => ({ jobId, taskId: index, sweepDir, output: outputFile(sweepDir, jobId, index) });

/** Statuses a resubmission runs again. */
export const RESUBMITTABLE = new Set<RunSummary['status']>(['failed', 'cancelled', 'timedOut', 'preempted', 'died']);

/** Submits the members that did not finish again, in the same sweep folder and run folders. */
export async function resubmitFailed(sweepDir: string): Promise<{ manifest: SweepManifest; indices: number[] }> {
  const manifest = await readManifest(sweepDir);
  const summaries = await Promise.all(manifest.members.map((_, i) => readSummary(memberDir(manifest, i))));
  const indices = summaries.flatMap((s, i) => (RESUBMITTABLE.has(s.status) ? [i] : []));
  if (indices.length === 0) return { manifest, indices };
  const array = arrayRanges(indices);
  const jobId = await sbatch(path.join(sweepDir, BATCH_SCRIPT), ['--hold', `--array=${array}`], sweepDir);
  try {
    for (const i of indices) {
      await requeueSummary(memberDir(manifest, i), placement(sweepDir, jobId, i));
      manifest.members[i].jobId = jobId;
    }
    manifest.submissions.push({ jobId, array, time: new Date().toISOString() });
    await writeManifest(sweepDir, manifest);
    await scontrol('release', jobId);
  } catch (err) {
    await scancel(jobId).catch(() => undefined);
    throw err;
  }
  return { manifest, indices };
}

/** Stops one member (`scancel job_task`) or, without an index, every member still queued or running. */
export async function cancelSweep(sweepDir: string, index?: number): Promise<void> {
  const manifest = await readManifest(sweepDir);
  if (index !== undefined) return scancel(`${manifest.members[index].jobId}_${index}`);
  for (const jobId of new Set(manifest.members.map((m) => m.jobId))) await scancel(jobId);
}

export interface MemberState {
  index: number;
  summary: RunSummary;
  /** Slurm's latest word (undefined: it does not know the task, or not yet). */
  task?: SlurmTaskState;
  /** Nothing more will happen to this member (until a resubmission). */
  ended: boolean;
}

/**
 * Follows a sweep: asks Slurm every `intervalMs`, records each member's Slurm state in its run
 * folder (slurm.json; once the task has ended also its outcome in summary.json), calls onChange
 * when a member's status, epochs or Slurm state changes, and resolves when every member has
 * ended. The abort signal stops watching (it does not cancel the jobs).
 */
export async function watchSlurmSweep(
  sweepDir: string,
  opts: { intervalMs?: number; signal?: AbortSignal; onChange?(m: MemberState): void; onError?(err: Error): void } = {},
): Promise<MemberState[]> {
  const interval = opts.intervalMs ?? 2000;
  const lastKey = new Map<number, string>();
  const written = new Map<number, string>();
  const missing = new Map<number, number>();
  for (;;) {
    let manifest: SweepManifest;
    let states: MemberState[];
    try {
      manifest = await readManifest(sweepDir);
      const tasks = await taskStates([...new Set(manifest.members.map((m) => m.jobId))]);
      states = await Promise.all(
        manifest.members.map(async (m, i): Promise<MemberState> => {
          const dir = memberDir(manifest, i);
          const task = tasks.find((t) => t.arrayJobId === m.jobId && t.taskId === i);
          if (task) {
            missing.set(i, 0);
            const obsKey = `${m.jobId}|${task.state}|${task.reason ?? ''}`;
            if (written.get(i) !== obsKey) {
              const obs: SlurmObservation = {
                state: task.state,
                time: new Date().toISOString(),
                ...(task.reason ? { reason: task.reason } : {}),
                ...(task.timeLimit ? { timeLimit: task.timeLimit } : {}),
                ...(task.exitCode ? { exitCode: task.exitCode } : {}),
              };
              await writeSlurmState(dir, obs);
              written.set(i, obsKey);
            }
          } else missing.set(i, (missing.get(i) ?? 0) + 1);
          let summary = await readSummary(dir);
          const gone = missing.get(i) ?? 0;
          // Slurm drops an array task cancelled while pending from squeue (and, without accounting,
          // every task once MinJobAge has passed): say so rather than wait for it forever.
          if (!task && ((gone >= 3 && summary.status === 'queued') || (gone >= 15 && summary.status === 'running'))) {
            const why = summary.status === 'queued' ? 'no longer in the Slurm queue: cancelled (or removed) before it started' : 'gone from the Slurm queue without recording an end';
            summary = (await writeSlurmState(dir, { state: summary.status === 'queued' ? 'CANCELLED' : 'FAILED', reason: why, time: new Date().toISOString() })) ?? summary;
          }
          // Ended: Slurm says so, or Slurm has forgotten the task (no accounting) and the run recorded an end.
          const ended = task ? isSlurmEnded(task.state) && isEnded(summary.status) : gone >= 3 && isEnded(summary.status);
          return { index: i, summary, ...(task ? { task } : {}), ended };
        }),
      );
    } catch (err) {
      opts.onError?.(err as Error);
      if (err instanceof SlurmError && /not found on PATH/.test(err.message)) throw err;
      await pause(interval, opts.signal);
      if (opts.signal?.aborted) return [];
      continue;
    }
    for (const s of states) {
      const key = `${s.summary.status}|${s.summary.epochs}|${s.task?.state ?? ''}|${s.task?.reason ?? ''}|${s.summary.error ?? ''}`;
      if (lastKey.get(s.index) !== key) {
        lastKey.set(s.index, key);
        opts.onChange?.(s);
      }
    }
    if (states.every((s) => s.ended) || opts.signal?.aborted) return states;
    await pause(interval, opts.signal);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
