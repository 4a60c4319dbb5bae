// Parsing what the Slurm commands print (squeue -o, sacct --parsable2, sbatch --parsable).
// Pure: the tests feed it outputs captured from a real Slurm 22.05. Tolerant by design: a
// line it cannot read is skipped, never fatal, since sites patch and wrap these commands.

/** One array task as Slurm reports it. */
export interface SlurmTaskState {
  /** The array job's id (squeue %F, the part of sacct's JobID before "_"). */
  arrayJobId: string;
  taskId: number;
  /** First word of the state: "CANCELLED by 0" (sacct) is CANCELLED. */
  state: string;
  reason?: string;
  timeLimit?: string;
  exitCode?: string;
}

/** The squeue format these parsers read: array job id, task id, state, reason, time limit. */
export const SQUEUE_FORMAT = '%F|%K|%T|%r|%l';
/** The sacct fields these parsers read (--parsable2 --noheader). */
export const SACCT_FIELDS = 'JobID,State,ExitCode,Timelimit';

const stateWord = (s: string) => s.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
const optional = (s: string | undefined) => {
  const t = s?.trim();
  return t && t !== '(null)' && t !== 'N/A' && t !== 'None' ? t : undefined;
};

/** `squeue -h -r -t all -j <ids> -o '%F|%K|%T|%r|%l'`: one line per array task. */
export function parseSqueue(text: string): SlurmTaskState[] {
  const out: SlurmTaskState[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('|');
    if (f.length < 3) continue;
    const [arrayJobId, task, state, reason, timeLimit] = f.map((x) => x.trim());
    // A job that is not an array has task N/A; a still-unsplit range ("0-3%2") is not one task.
    if (!/^\d+$/.test(arrayJobId) || !/^\d+$/.test(task)) continue;
    const st = stateWord(state);
    if (!st) continue;
    out.push({
      arrayJobId,
      taskId: Number(task),
      state: st,
      ...(optional(reason) ? { reason: optional(reason) } : {}),
      ...(optional(timeLimit) ? { timeLimit: optional(timeLimit) } : {}),
    });
  }
  return out;
}

/** `sacct -X -n -P -j <ids> -o JobID,State,ExitCode,Timelimit`: array tasks as 123_4 (steps such as 123_4.batch skipped). */
export function parseSacct(text: string): SlurmTaskState[] {
  const out: SlurmTaskState[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('|');
    if (f.length < 2) continue;
    const m = /^(\d+)_(\d+)$/.exec(f[0].trim());
    if (!m) continue;
    const st = stateWord(f[1]);
    if (!st) continue;
    const by = /\bby\s+(\d+)/.exec(f[1]);
    out.push({
      arrayJobId: m[1],
      taskId: Number(m[2]),
      state: st,
      ...(by ? { reason: `by uid ${by[1]}` } : {}),
      ...(optional(f[2]) ? { exitCode: optional(f[2]) } : {}),
      ...(optional(f[3]) ? { timeLimit: optional(f[3]) } : {}),
    });
  }
  return out;
}

/** `sbatch --parsable` prints "<jobid>" or "<jobid>;<cluster>". */
export function parseSbatchJobId(stdout: string): string | undefined {
  const m = /^\s*(\d+)(;\S+)?\s*$/m.exec(stdout);
  return m?.[1];
}

/** "0-3" style ranges for sbatch --array from member indices: [0,1,2,5] -> "0-2,5". */
export function arrayRanges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Quotes a value for a bash script line (single quotes, embedded ones escaped). */
export function shQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
