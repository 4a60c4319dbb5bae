// The Slurm client commands (sbatch, squeue, sacct, scancel, scontrol), run where RegLens
// runs: with Remote-SSH that is the cluster's login node. No scheduler of our own: Slurm
// decides where and when members run; we submit, ask and cancel.
import { execFile } from 'node:child_process';
import { SACCT_FIELDS, SQUEUE_FORMAT, parseSacct, parseSbatchJobId, parseSqueue, type SlurmTaskState } from './slurmOutput';

export class SlurmError extends Error {}

interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(
          new SlurmError(
            `${cmd} not found on PATH: the Slurm executor runs the Slurm commands (sbatch, squeue, sacct, scancel) where RegLens runs, so run it on the cluster's login node (in VS Code: Remote-SSH to it), or set reglens.sweeps.executor to "local".`,
          ),
        );
        return;
      }
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ stdout: stdout ?? '', stderr: stderr ?? '', code });
    });
  });
}

/** Submits a batch script; resolves with the job id. Extra args go before the script (they override its #SBATCH lines). */
export async function sbatch(script: string, args: string[], cwd: string): Promise<string> {
  const r = await run('sbatch', ['--parsable', ...args, script], { cwd });
  const id = r.code === 0 ? parseSbatchJobId(r.stdout) : undefined;
  if (!id) throw new SlurmError(`sbatch failed${r.code ? ` (exit code ${r.code})` : ''}: ${(r.stderr || r.stdout).trim() || 'no job id printed'}`);
  return id;
}

export async function scancel(target: string): Promise<void> {
  const r = await run('scancel', [target]);
  if (r.code !== 0) throw new SlurmError(`scancel ${target} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
}

/** scontrol release / requeue / hold on a job or job_task. */
export async function scontrol(verb: 'release' | 'requeue' | 'hold', target: string): Promise<void> {
  const r = await run('scontrol', [verb, target]);
  if (r.code !== 0) throw new SlurmError(`scontrol ${verb} ${target} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
}

/**
 * The array tasks of these jobs: squeue for the ones the controller still holds (pending,
 * running and recently ended, MinJobAge), sacct for the ones it has let go of. A cluster
 * without accounting answers only through squeue; neither failing is an error (a job it no
 * longer knows simply has no entry).
 */
export async function taskStates(jobIds: readonly string[]): Promise<SlurmTaskState[]> {
  if (jobIds.length === 0) return [];
  const list = jobIds.join(',');
  const q = await run('squeue', ['-h', '-r', '-t', 'all', '-j', list, '-o', SQUEUE_FORMAT]);
  // A controller that does not answer is not "no such task": the caller retries.
  if (q.code !== 0 && !/Invalid job id/i.test(q.stderr)) throw new SlurmError(`squeue failed (exit code ${q.code}): ${q.stderr.trim()}`);
  const fromQueue = q.code === 0 ? parseSqueue(q.stdout) : [];
  const seen = new Set(fromQueue.map((t) => `${t.arrayJobId}_${t.taskId}`));
  let fromAcct: SlurmTaskState[] = [];
  // Ask accounting only when squeue did not cover everything (it lists each task of a known array).
  if (q.code !== 0 || fromQueue.length === 0 || jobIds.some((j) => !fromQueue.some((t) => t.arrayJobId === j))) {
    const a = await run('sacct', ['-X', '-n', '-P', '-j', list, '-o', SACCT_FIELDS]).catch(() => undefined);
    fromAcct = a && a.code === 0 ? parseSacct(a.stdout).filter((t) => !seen.has(`${t.arrayJobId}_${t.taskId}`)) : [];
  }
  return [...fromQueue, ...fromAcct];
}
