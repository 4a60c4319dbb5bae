// A run's folder on disk: .reglens/runs/<id>/{spec.json, events.jsonl, summary.json}.
// events.jsonl is the record (appended and fdatasync'ed per event, so a crash loses
// nothing already reported); summary.json is a cache for listing runs quickly and
// is rebuilt from the events when it is missing or unreadable.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { AccuracySchema, parseEngineEvent } from '../protocol/engineMessages';
import type { Accuracy, EngineEvent } from '../protocol/engineMessages';
import { parseExperiment } from '../protocol/experiment';
import type { Experiment } from '../protocol/experiment';
import { RunStatusSchema } from '../protocol/webviewMessages';
import type { RunStatusName, RunView } from '../protocol/webviewMessages';

export type RunStatus = RunStatusName;

/** Statuses after which nothing more happens to a run (queued and running are not). */
export function isEnded(status: RunStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

/** Where a Slurm sweep member runs: its array job and task, and what Slurm last said about it. */
export interface SlurmPlacement {
  /** The array job's id (what `scancel <jobId>` stops: the whole sweep). */
  jobId: string;
  /** The member's index in the array (SLURM_ARRAY_TASK_ID); `scancel <jobId>_<taskId>` stops it. */
  taskId: number;
  /** The sweep folder (batch script, sweep.json, the tasks' output files). */
  sweepDir: string;
  /** This task's output file (sbatch --output). */
  output: string;
  /** Slurm's job state as last seen (PENDING, RUNNING, TIMEOUT, ...). */
  state?: string;
  /** Slurm's reason for that state (Priority, Resources, TimeLimit, ...), when it gave one. */
  reason?: string;
  /** How many times the task started (a requeue or resubmission starts it again). */
  attempts?: number;
  /** When the latest attempt started (Slurm states seen before it are stale). */
  attemptStartedAt?: string;
}

export interface RunSummary {
  id: string;
  name: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  epochs: number;
  totalEpochs: number;
  backend?: string;
  final?: Accuracy | null;
  error?: string;
  experimentFile?: string;
  /** Process that writes the run (host or CLI); a 'running' run whose writer is gone has died. */
  pid?: number;
  /** Machine of that process (a Slurm member's node): a pid is only checked on its own machine. */
  host?: string;
  slurm?: SlurmPlacement;
}

const SlurmPlacementSchema = z.object({
  jobId: z.string(),
  taskId: z.number().int().nonnegative(),
  sweepDir: z.string(),
  output: z.string(),
  state: z.string().optional(),
  reason: z.string().optional(),
  attempts: z.number().int().nonnegative().optional(),
  attemptStartedAt: z.string().optional(),
});

export const SlurmObservationSchema = z.object({
  /** Slurm's job state (squeue %T / sacct State), e.g. PENDING, RUNNING, TIMEOUT, CANCELLED. */
  state: z.string(),
  reason: z.string().optional(),
  /** When it was seen (ISO). */
  time: z.string(),
  /** Time limit of the task as Slurm has it (squeue %l), for the timed-out message. */
  timeLimit: z.string().optional(),
  exitCode: z.string().optional(),
});
export type SlurmObservation = z.infer<typeof SlurmObservationSchema>;

const SLURM_ENDED = new Set(['COMPLETED', 'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'CANCELLED', 'TIMEOUT', 'PREEMPTED', 'SPECIAL_EXIT', 'REVOKED']);
const SLURM_QUEUED = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED', 'STOPPED', 'RESIZING']);

/** Slurm states after which the task does not run again (unless requeued or resubmitted). */
export function isSlurmEnded(state: string): boolean {
  return SLURM_ENDED.has(state);
}

/**
 * Why a started member is queued again. The same text whether read from summary.json (the watcher
 * wrote it) or merged from slurm.json before that write; Slurm's reason for the wait (BeginTime,
 * Priority) is in slurm.reason.
 */
const requeuedError = (epochs: number) => `requeued by Slurm after epoch ${epochs}; it resumes from its last checkpoint`;

/**
 * A member's status from its own summary and what Slurm says: the task's record wins while
 * it is current; Slurm says why a task that did not finish ended (time limit, cancel, node
 * failure), and that a member is waiting (queued, with Slurm's reason) or requeued.
 */
export function withSlurmState(s: RunSummary, obs: SlurmObservation | undefined): RunSummary {
  if (!obs || !s.slurm) return s;
  // Seen before the current attempt started: about an earlier attempt.
  if (s.slurm.attemptStartedAt && obs.time < s.slurm.attemptStartedAt && s.status !== 'queued') return s;
  const out: RunSummary = { ...s, slurm: { ...s.slurm, state: obs.state, ...(obs.reason ? { reason: obs.reason } : {}) } };
  const reason = obs.reason && obs.reason !== 'None' ? obs.reason : undefined;
  if (SLURM_QUEUED.has(obs.state)) {
    if (s.status === 'finished') return out;
    const requeued = s.status !== 'queued';
    return { ...out, status: 'queued', ...(requeued ? { error: requeuedError(s.epochs) } : {}) };
  }
  if (obs.state === 'RUNNING' || obs.state === 'COMPLETING' || obs.state === 'CONFIGURING') {
    // Started, before the task reopened its folder. An ended attempt stays as it recorded its end
    // while Slurm completes it (COMPLETING after a scancel or a requeue, or RUNNING for the moment
    // the process takes to exit): only a queued member (first start, or requeued: writeSlurmState
    // records that when Slurm says PENDING again) becomes running here. Not 'running' with the old
    // attempt's pid either, which would read as died.
    return s.status === 'queued' ? { ...out, status: 'running' } : out;
  }
  if (!isSlurmEnded(obs.state) || s.status === 'finished') return out;
  // why, then how far it got, then where to look (tail).
  const out2 = (status: RunStatus, why: string, tail = ''): RunSummary => {
    const recorded = s.epochs ? ` after epoch ${s.epochs} of ${s.totalEpochs} (every reported epoch is kept)` : ' before its first epoch';
    return { ...out, status, error: `${why}${recorded}${tail}` };
  };
  // Queued and never started: the task never wrote its folder. A requeued or resubmitted member
  // (attempts > 0) wrote it before, so the shared-folder question does not arise.
  const never =
    s.status === 'queued' && !s.slurm.attempts
      ? `; its run folder was never written by the task: is the runs folder ${path.dirname(path.dirname(s.slurm.sweepDir))} on a filesystem the nodes share? See ${s.slurm.output}`
      : '';
  switch (obs.state) {
    case 'TIMEOUT':
      return out2('timedOut', `stopped by Slurm at its time limit${obs.timeLimit ? ` (${obs.timeLimit})` : ''}`, never);
    case 'CANCELLED':
      // Cancelled while pending is ordinary: no shared-folder question.
      return out2('cancelled', `cancelled in Slurm${reason ? ` (${reason})` : ''}`);
    case 'PREEMPTED':
      return out2('preempted', `preempted by Slurm${reason ? ` (${reason})` : ''}`);
    case 'COMPLETED':
      // The task exited 0 but the run has no end: its folder was not written (or not shared).
      return s.status === 'queued' && never ? out2('failed', 'the Slurm task ended', never) : s.status === 'running' || s.status === 'queued' ? out2('died', 'the Slurm task ended without recording an end') : out;
    default: {
      const what = obs.state === 'OUT_OF_MEMORY' ? 'ran out of memory (Slurm OUT_OF_MEMORY; raise slurm.mem)' : obs.state === 'NODE_FAIL' ? 'its node failed (Slurm NODE_FAIL)' : `Slurm says ${obs.state}${reason ? ` (${reason})` : ''}${obs.exitCode ? `, exit code ${obs.exitCode}` : ''}`;
      if (s.status === 'failed' && s.error && !never) return { ...out, error: s.error };
      return out2('failed', what, never || `; see ${s.slurm.output}`);
    }
  }
}

const RunSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: RunStatusSchema,
  startedAt: z.string(),
  endedAt: z.string().optional(),
  epochs: z.number().int().nonnegative(),
  totalEpochs: z.number().int().nonnegative(),
  backend: z.string().optional(),
  final: AccuracySchema.nullable().optional(),
  error: z.string().optional(),
  experimentFile: z.string().optional(),
  pid: z.number().int().positive().optional(),
  host: z.string().optional(),
  slurm: SlurmPlacementSchema.optional(),
});

export const SPEC_FILE = 'spec.json';
export const EVENTS_FILE = 'events.jsonl';
export const SUMMARY_FILE = 'summary.json';
/** What Slurm last said about a member (written by the watcher, never by the member's task). */
export const SLURM_STATE_FILE = 'slurm.json';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** 20261128-124501-ab12: UTC time (sorts by start), plus randomness for uniqueness. */
export function newRunId(now = new Date()): string {
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `${date}-${time}-${randomBytes(2).toString('hex')}`;
}

/** Replace-by-rename, so readers never see a half-written JSON file. */
async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await fs.rename(tmp, file);
}

export class RunFolder {
  private state: RunSummary;
  private events: fs.FileHandle | undefined;
  /** Appends and summary writes run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly id: string,
    readonly dir: string,
    summary: RunSummary,
  ) {
    this.state = summary;
  }

  /** Creates the folder, spec.json and a 'running' summary.json. Rejects on any disk error. */
  static async create(
    runsDir: string,
    experiment: Experiment,
    opts: { experimentFile?: string; now?: Date } = {},
  ): Promise<RunFolder> {
    const now = opts.now ?? new Date();
    await fs.mkdir(runsDir, { recursive: true });
    let id = newRunId(now);
    let dir = path.join(runsDir, id);
    // Non-recursive mkdir fails on an existing folder: a same-second id collision retries.
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.mkdir(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 20) throw err;
        id = newRunId(now);
        dir = path.join(runsDir, id);
      }
    }
    const summary: RunSummary = {
      id,
      name: experiment.name,
      status: 'running',
      startedAt: now.toISOString(),
      epochs: 0,
      totalEpochs: experiment.training.epochs,
      ...(opts.experimentFile ? { experimentFile: opts.experimentFile } : {}),
      pid: process.pid,
    };
    // summary.json first: a lister that sees the folder then sees it as running, not broken.
    await writeJsonAtomic(path.join(dir, SUMMARY_FILE), summary);
    await writeJsonAtomic(path.join(dir, SPEC_FILE), experiment);
    await fs.writeFile(path.join(dir, EVENTS_FILE), '');
    return new RunFolder(id, dir, summary);
  }

  /**
   * A Slurm sweep member's folder, made at submission with a fixed id, so the Runs view lists
   * it as queued before its task starts and a requeued task finds the same run again.
   * Rejects on disk errors or when the folder exists already.
   */
  static async createQueued(runsDir: string, id: string, experiment: Experiment, opts: { experimentFile?: string; slurm: SlurmPlacement; now?: Date }): Promise<void> {
    const dir = path.join(runsDir, id);
    await fs.mkdir(runsDir, { recursive: true });
    await fs.mkdir(dir);
    const summary: RunSummary = {
      id,
      name: experiment.name,
      status: 'queued',
      startedAt: (opts.now ?? new Date()).toISOString(),
      epochs: 0,
      totalEpochs: experiment.training.epochs,
      ...(opts.experimentFile ? { experimentFile: opts.experimentFile } : {}),
      slurm: opts.slurm,
    };
    await writeJsonAtomic(path.join(dir, SUMMARY_FILE), summary);
    await writeJsonAtomic(path.join(dir, SPEC_FILE), experiment);
    await fs.writeFile(path.join(dir, EVENTS_FILE), '');
  }

  /**
   * Takes over an existing folder (a Slurm task starting, or starting again after a requeue or
   * resubmission): the summary says running, written by this process on this machine; events
   * are appended after the ones already there. `lastEpoch` is the last epoch already recorded.
   * Rejects when the folder or its summary is missing (a node that does not share the runs folder).
   */
  static async reopen(dir: string, opts: { slurm?: Partial<SlurmPlacement> } = {}): Promise<{ folder: RunFolder; lastEpoch: number; startedBefore: boolean }> {
    const { summary, problem } = await readSummaryFile(dir);
    if (!summary) throw new Error(`${dir}: ${problem}`);
    const { events } = await readEventsFile(dir);
    const state: RunSummary = { ...summary, id: path.basename(dir), status: 'running', pid: process.pid, host: os.hostname() };
    delete state.endedAt;
    delete state.error;
    for (const e of events) applyEvent(state, e);
    // A failed event from an earlier attempt must not make this one look failed.
    delete state.error;
    if (state.slurm || opts.slurm) {
      const prev = state.slurm;
      state.slurm = { ...(prev as SlurmPlacement), ...opts.slurm, attempts: (prev?.attempts ?? 0) + 1, attemptStartedAt: new Date().toISOString() } as SlurmPlacement;
      delete state.slurm.reason;
      delete state.slurm.state;
    }
    const folder = new RunFolder(state.id, dir, state);
    await folder.writeSummary();
    return { folder, lastEpoch: state.epochs, startedBefore: events.some((e) => e.type === 'started') };
  }

  summary(): RunSummary {
    return { ...this.state };
  }

  /** Resolves once the event line is on disk (write + fdatasync). Rejects on disk errors. */
  append(event: EngineEvent): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) throw new Error(`run ${this.id} is finished; event not recorded`);
      this.events ??= await fs.open(path.join(this.dir, EVENTS_FILE), 'a');
      await this.events.write(JSON.stringify(event) + '\n');
      await this.events.datasync();
      if (applyEvent(this.state, event)) await this.writeSummary();
    });
  }

  /** Records the outcome in summary.json and closes events.jsonl. Waits for pending appends. */
  finish(status: RunStatus, error?: string): Promise<RunSummary> {
    return this.enqueue(async () => {
      this.state.status = status;
      this.state.endedAt = new Date().toISOString();
      if (error !== undefined) this.state.error = error;
      else if (status === 'finished') delete this.state.error;
      this.closed = true;
      const fh = this.events;
      this.events = undefined;
      try {
        await this.writeSummary();
      } finally {
        await fh?.close();
      }
      return this.summary();
    });
  }

  private writeSummary(): Promise<void> {
    return writeJsonAtomic(path.join(this.dir, SUMMARY_FILE), this.state);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    // One failed write must not block the ones after it; the caller still sees the rejection.
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Folds one event into a summary; true when summary.json should be rewritten. */
function applyEvent(s: RunSummary, event: EngineEvent): boolean {
  switch (event.type) {
    case 'started':
      s.backend = event.backend;
      s.totalEpochs = event.totalEpochs;
      return true;
    case 'epoch':
      s.epochs = event.epoch;
      s.final = event.accuracy;
      return false;
    case 'finished':
      s.epochs = event.epochs;
      s.final = event.final;
      return true;
    case 'failed':
      s.error = event.message;
      return true;
    case 'log':
    case 'probe':
      return false;
  }
}

/** The run's writer process is known to be gone: only decidable on the machine it ran on. */
function writerGone(s: RunSummary): boolean {
  if (s.pid === undefined) return false;
  if (s.host !== undefined && s.host !== os.hostname()) return false;
  return !isAlive(s.pid);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface EventsFile {
  events: EngineEvent[];
  /** The file ends in a partial line (the writer died mid-write); that line is dropped. */
  truncated: boolean;
  /** Complete lines that are not valid events (not counting the truncated tail). */
  invalidLines: number;
}

export function parseEventsText(text: string): EventsFile {
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const events: EngineEvent[] = [];
  let invalidLines = 0;
  const parseLine = (line: string): EngineEvent | undefined => {
    try {
      const r = parseEngineEvent(JSON.parse(line));
      return r.ok ? r.value : undefined;
    } catch {
      return undefined;
    }
  };
  for (const line of lines) {
    if (!line.trim()) continue;
    const e = parseLine(line);
    if (e) events.push(e);
    else invalidLines++;
  }
  let truncated = false;
  if (tail.trim()) {
    truncated = true;
    // Cut right before its newline, the line may still be whole.
    const e = parseLine(tail);
    if (e) events.push(e);
  }
  return { events, truncated, invalidLines };
}

/** Best summary from what is on disk; for folders whose summary.json is missing or bad. */
function reconstruct(
  id: string,
  experiment: Experiment | undefined,
  events: EngineEvent[],
  problem: string,
): RunSummary {
  const s: RunSummary = {
    id,
    name: experiment?.name ?? id,
    status: 'died',
    startedAt: idToIso(id),
    epochs: 0,
    totalEpochs: experiment?.training.epochs ?? 0,
  };
  for (const e of events) applyEvent(s, e);
  const started = events.find((e) => e.type === 'started');
  if (started?.type === 'started') s.startedAt = started.time;
  if (endFromEvents(s, events)) {
    // finished or failed, as recorded
  } else if (!experiment && events.length === 0) {
    s.status = 'failed';
    s.error = `${problem}; no spec.json or events to recover from`;
  } else {
    s.error = `${problem}; the run did not record an end`;
  }
  return s;
}

/** Takes the outcome from a finished or failed event; false when the events record no end. */
function endFromEvents(s: RunSummary, events: EngineEvent[]): boolean {
  const end = events.find((e) => e.type === 'finished' || e.type === 'failed');
  if (end?.type !== 'finished' && end?.type !== 'failed') return false;
  s.status = end.type;
  s.endedAt = end.time;
  return true;
}

/**
 * A run summary.json still calls running: summary.json is written at the start and the end
 * only, so how far the run got (epochs, last accuracies) is in events.jsonl. A run whose
 * writer is gone (killed with its engine) shows what it recorded, as died, or with the
 * outcome it recorded when only the final summary write was lost.
 */
function progressFromEvents(summary: RunSummary, events: EngineEvent[]): RunSummary {
  const s = { ...summary };
  for (const e of events) applyEvent(s, e);
  if (!writerGone(s)) return s;
  if (endFromEvents(s, events)) return s;
  const last = s.epochs ? ` after epoch ${s.epochs} of ${s.totalEpochs}` : ' before its first epoch';
  return { ...s, status: 'died', error: s.error ?? `the process recording this run exited${last} without recording an end` };
}

function idToIso(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : new Date(0).toISOString();
}

/** The run's spec.json, parsed; undefined when missing or invalid. */
export async function readSpec(dir: string): Promise<Experiment | undefined> {
  try {
    const text = await readText(path.join(dir, SPEC_FILE));
    return text === undefined ? undefined : parseExperiment(JSON.parse(text));
  } catch {
    return undefined;
  }
}

async function readSlurmState(dir: string): Promise<SlurmObservation | undefined> {
  try {
    const r = SlurmObservationSchema.safeParse(JSON.parse((await readText(path.join(dir, SLURM_STATE_FILE))) ?? 'null'));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records what Slurm says about a member. Once its task has ended, summary.json gets the outcome
 * too; when Slurm puts a started task back in the queue (requeue, preemption or node failure with
 * --requeue), summary.json says queued again, so the next attempt shows as starting, not as the
 * previous attempt's end or as died with its pid.
 */
export async function writeSlurmState(dir: string, obs: SlurmObservation): Promise<RunSummary | undefined> {
  await writeJsonAtomic(path.join(dir, SLURM_STATE_FILE), obs);
  const queuedAgain = SLURM_QUEUED.has(obs.state);
  if (!isSlurmEnded(obs.state) && !queuedAgain) return undefined;
  const text = await readText(path.join(dir, SUMMARY_FILE)).catch(() => undefined);
  const r = text === undefined ? undefined : RunSummarySchema.safeParse(JSON.parse(text));
  if (!r?.success) return undefined;
  if (queuedAgain) return markRequeued(dir, r.data, obs);
  const merged = withSlurmState(r.data, obs);
  // The task is over (its writer gone): summary.json says how it ended from now on.
  if (merged.status !== r.data.status || merged.error !== r.data.error || merged.slurm?.state !== r.data.slurm?.state) {
    await writeJsonAtomic(path.join(dir, SUMMARY_FILE), { ...merged, endedAt: merged.endedAt ?? obs.time });
  }
  return merged;
}

/** A started member Slurm queued again: summary.json says queued, keeping its epochs and attempts. */
async function markRequeued(dir: string, recorded: RunSummary, obs: SlurmObservation): Promise<RunSummary | undefined> {
  // Not started yet, or done; or Slurm's word is older than the attempt now running.
  if (recorded.status === 'queued' || recorded.status === 'finished') return undefined;
  if (recorded.slurm?.attemptStartedAt && obs.time < recorded.slurm.attemptStartedAt) return undefined;
  const s: RunSummary = { ...recorded };
  // A task killed without a chance to record its end still says running: its epochs are in the events.
  if (s.status === 'running') for (const e of (await readEventsFile(dir)).events) applyEvent(s, e);
  Object.assign(s, { status: 'queued', error: requeuedError(s.epochs) });
  delete s.endedAt;
  delete s.pid;
  await writeJsonAtomic(path.join(dir, SUMMARY_FILE), s);
  return withSlurmState(s, obs);
}

async function readSummaryFile(dir: string): Promise<{ summary?: RunSummary; problem: string }> {
  let text: string | undefined;
  try {
    text = await readText(path.join(dir, SUMMARY_FILE));
  } catch (err) {
    return { problem: `summary.json unreadable (${(err as Error).message})` };
  }
  if (text === undefined) return { problem: 'summary.json missing' };
  try {
    const r = RunSummarySchema.safeParse(JSON.parse(text));
    if (r.success) return { summary: r.data.slurm ? withSlurmState(r.data, await readSlurmState(dir)) : r.data, problem: '' };
    return { problem: `summary.json invalid (${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message})` };
  } catch (err) {
    return { problem: `summary.json is not valid JSON (${(err as Error).message})` };
  }
}

async function readEventsFile(dir: string): Promise<EventsFile> {
  const text = await readText(path.join(dir, EVENTS_FILE)).catch(() => undefined);
  return text === undefined ? { events: [], truncated: false, invalidLines: 0 } : parseEventsText(text);
}

/** One run folder's summary as listRuns has it (merged with Slurm's word on a sweep member). Never throws. */
export function readSummary(dir: string): Promise<RunSummary> {
  return summarize(dir);
}

/**
 * Puts an ended Slurm member back in the queue under a new job (resubmission): status queued,
 * the new placement, Slurm's old word dropped. Its events stay; the task appends to them.
 */
export async function requeueSummary(dir: string, placement: SlurmPlacement): Promise<void> {
  const text = await readText(path.join(dir, SUMMARY_FILE));
  const r = text === undefined ? undefined : RunSummarySchema.safeParse(JSON.parse(text));
  if (!r?.success) throw new Error(`${dir}: summary.json is missing or invalid; cannot resubmit this member`);
  const s: RunSummary = { ...r.data, status: 'queued', slurm: { ...placement, attempts: r.data.slurm?.attempts ?? 0 } };
  delete s.endedAt;
  delete s.error;
  delete s.pid;
  await fs.rm(path.join(dir, SLURM_STATE_FILE), { force: true });
  await writeJsonAtomic(path.join(dir, SUMMARY_FILE), s);
}

/** Never throws: problems become a 'failed' summary with an error. `events`: the folder's, when already read. */
async function summarize(dir: string, events?: Promise<EventsFile>): Promise<RunSummary> {
  const id = path.basename(dir);
  const readEvents = () => (events ??= readEventsFile(dir));
  const { summary, problem } = await readSummaryFile(dir);
  if (summary) {
    if (summary.status !== 'running') return { ...summary, id };
    const s = progressFromEvents({ ...summary, id }, (await readEvents()).events);
    return s.status === 'died' ? ((await endRecordedMeanwhile(dir, id)) ?? s) : s;
  }
  const [experiment, file] = await Promise.all([readSpec(dir), readEvents()]);
  return reconstruct(id, experiment, file.events, problem);
}

/**
 * summary.json read again after its writer was found gone: a writer that recorded its end and
 * exited between the first read and the pid check did not die (seen as a flash of 'died' in
 * the Runs view when a run ends). Undefined when it still says running.
 */
async function endRecordedMeanwhile(dir: string, id: string): Promise<RunSummary | undefined> {
  const { summary } = await readSummaryFile(dir);
  return summary && summary.status !== 'running' ? { ...summary, id } : undefined;
}

async function isRunFolder(dir: string): Promise<boolean> {
  for (const f of [SUMMARY_FILE, SPEC_FILE, EVENTS_FILE]) {
    try {
      await fs.access(path.join(dir, f));
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
}

/**
 * How the writer of a run folder stands, from summary.json alone (cheap enough to poll):
 * its recorded status, or 'died' when it still says running and its process is gone.
 */
export async function writerStatus(dir: string): Promise<{ status: RunStatus; error?: string } | undefined> {
  const { summary } = await readSummaryFile(dir);
  if (!summary) return undefined;
  if (summary.status === 'running' && writerGone(summary)) {
    const ended = await endRecordedMeanwhile(dir, summary.id);
    if (ended) return { status: ended.status, ...(ended.error ? { error: ended.error } : {}) };
    return { status: 'died', error: 'the process recording this run exited without recording an end' };
  }
  return { status: summary.status, ...(summary.error ? { error: summary.error } : {}) };
}

/** Runs in runsDir, newest first. A missing runsDir has no runs. Never throws. */
export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(runsDir, e.name));
  const runs = await Promise.all(
    dirs.map(async (dir) => ((await isRunFolder(dir)) ? summarize(dir).catch(() => undefined) : undefined)),
  );
  return runs
    .filter((r): r is RunSummary => r !== undefined)
    .sort((a, b) => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
}

/** Everything recorded for one run. Tolerates a partial last line and bad lines. */
export async function readRun(dir: string): Promise<{
  summary: RunSummary;
  experiment: Experiment | undefined;
  events: EngineEvent[];
  truncated: boolean;
  invalidLines: number;
}> {
  const events = readEventsFile(dir);
  const [experiment, file, summary] = await Promise.all([readSpec(dir), events, summarize(dir, events)]);
  return { summary, experiment, ...file };
}

/** What a dashboard shows for a run that is not live in this window: everything on disk. */
export async function readRunView(dir: string): Promise<RunView> {
  const r = await readRun(dir);
  const notice =
    r.truncated || r.invalidLines > 0
      ? `events.jsonl ends in a partial line${r.invalidLines > 1 ? ` and has ${r.invalidLines} unreadable lines` : ''} (the run was interrupted while writing); everything before it is shown.`
      : undefined;
  return {
    id: r.summary.id,
    name: r.summary.name,
    status: r.summary.status,
    totalEpochs: r.summary.totalEpochs,
    startedAt: r.summary.startedAt,
    error: r.summary.error,
    notice,
    ...(r.experiment ? { probes: configuredProbes(r.experiment) } : {}),
    events: r.events,
  };
}

/** The probes a spec configures, by name ("memorization", "pruning", ...). */
export function configuredProbes(experiment: Experiment): string[] {
  return Object.entries(experiment.probes ?? {})
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k]) => k);
}
