// Starts the training engine (dist/engine.js) in a child process and relays its
// events. Used by the extension host and the CLI alike. Training runs out of
// process so a crash or a runaway run cannot take the host down, and so a run
// can always be stopped (SIGKILL after a grace period).
import { fork } from 'node:child_process';
import type { EngineCommand, EngineEvent, EvalThreadChoice } from '../protocol/engineMessages';
import { parseEngineEvent } from '../protocol/engineMessages';
import type { BackendName, DeviceName, Experiment } from '../protocol/experiment';

export type EngineOutcome = 'finished' | 'failed' | 'cancelled' | 'died';

export interface EngineHandle {
  pid: number | undefined;
  cancel(): void;
  done: Promise<{ code: number | null; signal: string | null; outcome: EngineOutcome }>;
}

export interface StartEngineOptions {
  enginePath: string;
  experiment: Experiment;
  backend: BackendName;
  /** PyTorch device (reglens.training.device / --device); the experiment's own wins in the engine. */
  device?: DeviceName;
  /** Python for the torch engine (setting, Python extension, --python); the engine's default: REGLENS_PYTHON, else python3. */
  python?: string;
  onEvent(e: EngineEvent): void;
  /** The engine's stdout and stderr (diagnostics for humans, never protocol). */
  onStderr?(text: string): void;
  /** Where the engine looks for @tensorflow/tfjs-node(-gpu) (see resolveNativeBackend). */
  nativeModuleDirs?: string[];
  /** The experiment file's folder: relative dataset, topology and module paths resolve against it. */
  baseDir?: string;
  /** The run folder (the pruned model is saved there). */
  runDir?: string;
  /** reglens.training.evaluationThread / --eval-thread; the engine's default is auto. */
  evalThread?: EvalThreadChoice;
  /** Continue from <runDir>/checkpoint/ when there is one. */
  resume?: boolean;
  /** Extra environment for the engine. */
  env?: Record<string, string>;
  /** Node flags for the child; default none (the parent's, e.g. --inspect, must not leak in). */
  execArgv?: string[];
}

/** How long a cancelled engine gets to stop by itself before SIGKILL. */
export const CANCEL_GRACE_MS = 3000;

export function startEngine(opts: StartEngineOptions): EngineHandle {
  const child = fork(opts.enginePath, [], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: opts.execArgv ?? [],
    // Inside VS Code process.execPath is Electron: make it behave as plain Node.
    env: { ...process.env, ...opts.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  let sawFinished = false;
  let sawFailed = false;
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;

  const deliver = (event: EngineEvent) => {
    try {
      opts.onEvent(event);
    } catch (err) {
      // A bug in the listener must not look like an engine failure.
      opts.onStderr?.(`RegLens: event listener threw: ${(err as Error).stack ?? err}\n`);
    }
  };

  child.on('message', (raw: unknown) => {
    const parsed = parseEngineEvent(raw);
    if (!parsed.ok) {
      deliver({ type: 'log', level: 'warning', message: `invalid message from the engine ignored: ${parsed.error}` });
      return;
    }
    if (parsed.value.type === 'finished') sawFinished = true;
    if (parsed.value.type === 'failed') sawFailed = true;
    deliver(parsed.value);
  });

  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    stream.setEncoding('utf8');
    // Always drain: a full pipe would block the engine.
    stream.on('data', (text: string) => opts.onStderr?.(text));
  }

  const done = new Promise<{ code: number | null; signal: string | null; outcome: EngineOutcome }>((resolve) => {
    let settled = false;
    const settle = (code: number | null, signal: string | null) => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      const outcome: EngineOutcome = sawFinished ? 'finished' : sawFailed ? 'failed' : cancelled ? 'cancelled' : 'died';
      resolve({ code, signal, outcome });
    };
    // 'close' (not 'exit'): by then every IPC message and all output has been delivered.
    child.on('close', (code, signal) => settle(code, signal));
    child.on('error', (err) => {
      // Spawn failure: there will be no 'close' when the process never started.
      if (child.pid === undefined) {
        opts.onStderr?.(`RegLens: could not start the engine: ${err.message}\n`);
        settle(null, null);
      }
    });
  });

  const alive = () => child.exitCode === null && child.signalCode === null;

  const start: EngineCommand = {
    type: 'start',
    experiment: opts.experiment,
    backend: opts.backend,
    ...(opts.device ? { device: opts.device } : {}),
    ...(opts.python ? { python: opts.python } : {}),
    ...(opts.nativeModuleDirs ? { nativeModuleDirs: opts.nativeModuleDirs } : {}),
    ...(opts.baseDir ? { baseDir: opts.baseDir } : {}),
    ...(opts.runDir ? { runDir: opts.runDir } : {}),
    ...(opts.evalThread ? { evalThread: opts.evalThread } : {}),
    ...(opts.resume ? { resume: true } : {}),
  };
  child.send(start, (err) => {
    if (err) opts.onStderr?.(`RegLens: could not send the experiment to the engine: ${err.message}\n`);
  });

  return {
    pid: child.pid,
    cancel() {
      if (cancelled || !alive()) return;
      cancelled = true;
      if (child.connected) child.send({ type: 'cancel' }, () => undefined);
      killTimer = setTimeout(() => {
        if (alive()) child.kill('SIGKILL');
      }, CANCEL_GRACE_MS);
    },
    done,
  };
}
