// One engine run recorded in a run folder, outside VS Code: RunFolder.create, startEngine,
// every event appended (in arrival order) before finish() writes the outcome. The CLI runs
// single experiments and sweep members through this; the host has RunManager, which adds
// live state for dashboards on top of the same two pieces.
import type { EarlyStoppingOutcome, EngineEvent, EvalThreadChoice } from '../protocol/engineMessages';
import type { BackendName, DeviceName, Experiment } from '../protocol/experiment';
import { startEngine } from './engineProcess';
import type { EngineHandle, EngineOutcome } from './engineProcess';
import { RunFolder } from './runFolder';
import type { RunSummary } from './runFolder';

export interface RecordedRunOptions {
  enginePath: string;
  runsDir: string;
  experiment: Experiment;
  /** Absolute path of the experiment file, recorded in summary.json. */
  experimentFile?: string;
  backend: BackendName;
  /** PyTorch device and interpreter for the torch engine (--device, --python). */
  device?: DeviceName;
  python?: string;
  nativeModuleDirs?: string[];
  /** Where relative dataset, topology and module paths resolve. */
  baseDir?: string;
  evalThread?: EvalThreadChoice;
  onEvent?(event: EngineEvent): void;
  onStderr?(text: string): void;
  /** Called once, on the first event that could not be written. */
  onWriteError?(message: string): void;
  /** Put the tail of the engine's output into the error of a run whose engine died (when it was not shown live). */
  engineOutputInError?: boolean;
  /**
   * An existing run folder to continue (a Slurm member's task, again after a requeue): the
   * engine resumes from its checkpoint, and what the folder already records is not written
   * twice (a second started event becomes a log line; epochs up to lastEpoch are dropped).
   */
  reopened?: { folder: RunFolder; lastEpoch: number; startedBefore: boolean };
  /** Why a cancelled run was cancelled (recorded as its error), asked when it ends. */
  cancelledBecause?(): string | undefined;
  /** Environment for the engine process (merged over this process's). */
  engineEnv?: Record<string, string>;
}

export interface RecordedRunResult {
  outcome: EngineOutcome;
  summary: RunSummary;
  /** Mean of the epochs' own timings; null before the first epoch. */
  secondsPerEpoch: number | null;
  /** An event or the summary could not be written: the record is incomplete. */
  writeFailed: boolean;
  /** What early stopping did (from the finished event), when the experiment asked for it. */
  earlyStopping?: EarlyStoppingOutcome;
  /** Co-teaching: the last epoch's fraction of clean labels among the samples selected for training. */
  labelPrecision?: number;
}

export interface RecordedRun {
  readonly id: string;
  readonly dir: string;
  readonly handle: EngineHandle;
  readonly ended: Promise<RecordedRunResult>;
}

/** Creates the run folder (rejects on disk errors, before any engine starts) and starts the engine. */
export async function startRecordedRun(opts: RecordedRunOptions): Promise<RecordedRun> {
  const folder = opts.reopened?.folder ?? (await RunFolder.create(opts.runsDir, opts.experiment, opts.experimentFile ? { experimentFile: opts.experimentFile } : {}));
  const recordedUpTo = opts.reopened?.lastEpoch ?? 0;
  let skipStarted = opts.reopened?.startedBefore ?? false;
  let pending: Promise<void> = Promise.resolve();
  let writeError: string | undefined;
  let failure: string | undefined;
  let seconds = 0;
  let epochs = 0;
  let engineOutput = '';
  let earlyStopping: EarlyStoppingOutcome | undefined;
  let labelPrecision: number | undefined;

  const handle = startEngine({
    enginePath: opts.enginePath,
    experiment: opts.experiment,
    backend: opts.backend,
    ...(opts.device ? { device: opts.device } : {}),
    ...(opts.python ? { python: opts.python } : {}),
    ...(opts.nativeModuleDirs ? { nativeModuleDirs: opts.nativeModuleDirs } : {}),
    ...(opts.baseDir ? { baseDir: opts.baseDir } : {}),
    ...(opts.evalThread ? { evalThread: opts.evalThread } : {}),
    runDir: folder.dir,
    ...(opts.reopened ? { resume: true } : {}),
    ...(opts.engineEnv ? { env: opts.engineEnv } : {}),
    onEvent(raw) {
      const event = continuing(raw);
      if (!event) return;
      pending = pending
        .then(() => folder.append(event))
        .catch((err: Error) => {
          if (writeError) return;
          writeError = `could not write ${folder.dir}: ${err.message}`;
          opts.onWriteError?.(writeError);
        });
      if (event.type === 'epoch') {
        seconds += event.seconds;
        epochs = event.epoch;
        labelPrecision = event.labelPrecision ?? labelPrecision;
      } else if (event.type === 'finished') earlyStopping = event.earlyStopping;
      else if (event.type === 'failed') failure = event.message;
      opts.onEvent?.(event);
    },
    onStderr(text) {
      // Kept for the error of a run whose engine dies.
      engineOutput = (engineOutput + text).slice(-4000);
      opts.onStderr?.(text);
    },
  });

  /** What of a resumed run's events is new: epochs it already recorded (retrained since the checkpoint) are not appended again. */
  function continuing(event: EngineEvent): EngineEvent | undefined {
    if (event.type === 'started' && skipStarted) {
      skipStarted = false;
      return { type: 'log', level: 'info', message: `Continued on ${event.backend} (${event.time}) after epoch ${recordedUpTo} was recorded.` };
    }
    if ((event.type === 'epoch' || event.type === 'probe') && event.epoch <= recordedUpTo && event.epoch > 0) return undefined;
    return event;
  }

  const ended = handle.done.then(async ({ outcome, code, signal }): Promise<RecordedRunResult> => {
    await pending;
    const error =
      outcome === 'failed'
        ? failure
        : outcome === 'died'
          ? `the engine exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})${opts.engineOutputInError && engineOutput ? `:\n${engineOutput}` : ''}`
          : outcome === 'cancelled'
            ? (opts.cancelledBecause?.() ?? writeError)
            : writeError;
    let summary: RunSummary;
    let summaryFailed = false;
    try {
      summary = await folder.finish(outcome, error);
    } catch (err) {
      summaryFailed = true;
      opts.onWriteError?.(`could not write the run summary: ${(err as Error).message}`);
      summary = { ...folder.summary(), status: outcome, ...(error !== undefined ? { error } : {}) };
    }
    return {
      outcome,
      summary,
      secondsPerEpoch: epochs ? seconds / epochs : null,
      writeFailed: writeError !== undefined || summaryFailed,
      ...(earlyStopping ? { earlyStopping } : {}),
      ...(labelPrecision !== undefined ? { labelPrecision } : {}),
    };
  });

  return { id: folder.id, dir: folder.dir, handle, ended };
}
