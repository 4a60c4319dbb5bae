// The PyTorch engine's Node side, inside dist/engine.js (docs/torch-engine.md). engine.js
// stays the process the host and CLI fork, so run folders, events.jsonl, sweeps and `died`
// detection are the same for both engines; for a torch run it materialises the dataset as
// .npy, spawns `python -m reglens.engine` from the package shipped beside dist/, relays the
// start command and cancel, and validates every event Python sends before passing it on.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineEvent } from '../protocol/engineMessages';
import { EngineCommandSchema, parseEngineEvent } from '../protocol/engineMessages';
import type { DeviceName, Experiment } from '../protocol/experiment';
import { TorchSelfCheckSchema, type TorchSelfCheck } from '../protocol/torchEngine';
import { DatasetError, makeDataset } from './data/dataset';
import { writeDatasetNpy, type HandOver } from './data/datasetNpy';
import { ExperimentShapeError, resolveGroups } from './experimentShape';
import { ModelSourceError, resolveModel } from './modelSource';

/** Importing torch (and initialising CUDA) on a cold disk can take tens of seconds. */
export const SELF_CHECK_TIMEOUT_MS = 180_000;

/** How the interpreter can be changed, for every message that blames the interpreter. */
export const CHOOSE_PYTHON =
  'Choose the interpreter with the reglens.python.interpreter setting (when empty: the Python extension\'s interpreter for the workspace folder), or --python / REGLENS_PYTHON for the CLI.';

/** The interpreter: the host's or CLI's choice, else REGLENS_PYTHON, else python3 on PATH. */
export function resolvePython(fromCommand: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (fromCommand) return fromCommand;
  if (env.REGLENS_PYTHON) return env.REGLENS_PYTHON;
  return process.platform === 'win32' ? 'python' : 'python3';
}

/** The folder holding the `reglens` package: python/ beside dist/ (bundle and .vsix), or the repository's when run from src/. */
export function pythonPackageDir(): string | undefined {
  const candidates = [path.join(__dirname, '..', 'python'), path.join(__dirname, '..', '..', 'python')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'reglens', 'engine', '__main__.py')));
}

function pythonEnv(): NodeJS.ProcessEnv {
  const pkg = pythonPackageDir();
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
  // First, so a different `reglens` installed in the interpreter cannot shadow the shipped one.
  if (pkg) env.PYTHONPATH = env.PYTHONPATH ? `${pkg}${path.delimiter}${env.PYTHONPATH}` : pkg;
  // Electron's flag means nothing to Python, but NODE_OPTIONS could break a Node child Python starts.
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

const lastLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();

const notUsable = (python: string, reason: string): TorchSelfCheck => ({ ok: false, python, torch: null, device: null, deviceName: null, reason });

function spawnFailure(python: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') {
    return `Python interpreter "${python}" not found. The torch backend runs PyTorch in Python 3: install Python 3 and torch >= 1.13 (https://pytorch.org/get-started/locally/). ${CHOOSE_PYTHON}`;
  }
  if (err.code === 'EACCES') return `Python interpreter "${python}" cannot be executed (permission denied). ${CHOOSE_PYTHON}`;
  return `Python interpreter "${python}" could not be started (${err.code ?? err.message}). ${CHOOSE_PYTHON}`;
}

/**
 * `python -m reglens.engine --self-check --device <device>`: whether this interpreter can
 * train with torch, on which device. Never throws: every failure is a result with a reason.
 */
export function torchSelfCheck(python: string, device: DeviceName, signal?: AbortSignal): Promise<TorchSelfCheck> {
  if (!pythonPackageDir()) return Promise.resolve(notUsable(python, `the RegLens Python package (python/reglens) is missing next to ${__dirname}; reinstall RegLens.`));
  return new Promise((resolve) => {
    const child = spawn(python, ['-m', 'reglens.engine', '--self-check', '--device', device], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: pythonEnv(),
      timeout: SELF_CHECK_TIMEOUT_MS,
      signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    let settled = false;
    const done = (r: TorchSelfCheck) => {
      if (!settled) resolve(r);
      settled = true;
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') done(notUsable(python, 'the run was cancelled during the torch self-check'));
      else if (child.pid === undefined) done(notUsable(python, spawnFailure(python, err)));
    });
    child.on('close', (code, sig) => {
      const line = lastLine(stdout);
      let parsed: TorchSelfCheck | undefined;
      try {
        const r = TorchSelfCheckSchema.safeParse(JSON.parse(line ?? ''));
        if (r.success) parsed = r.data;
      } catch {
        // Not JSON: reported below with what the interpreter printed.
      }
      if (parsed && (code === 0 || code === 3)) {
        // The exit code is the contract; a result that contradicts it is not trusted.
        done(code === 0 && parsed.ok ? parsed : { ...parsed, ok: false, reason: parsed.reason ?? `the self-check exited with code ${code}` });
        return;
      }
      const how = sig === 'SIGTERM' && code === null ? `did not answer within ${SELF_CHECK_TIMEOUT_MS / 1000} s` : code !== null ? `exited with code ${code}` : `was killed by ${sig}`;
      const said = lastLine(stderr) ?? line;
      done(notUsable(python, `"${python} -m reglens.engine --self-check" ${how}${said ? `: ${said}` : ''}. RegLens needs Python 3.8 or later with torch >= 1.13. ${CHOOSE_PYTHON}`));
    });
  });
}

/** Traceback text from the end of Python's stderr, and "Error: message (at file:line in fn)" for the run's message. */
export function lastTraceback(stderr: string): { summary: string; stack: string } | undefined {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  const start = lines.map((l) => l.startsWith('Traceback (most recent call last)')).lastIndexOf(true);
  if (start < 0) return undefined;
  const tb = lines.slice(start);
  const error = tb[tb.length - 1].trim();
  const frames = tb.map((l) => /^\s*File "(.+)", line (\d+), in (.+)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const frame = frames[frames.length - 1];
  const where = frame ? ` (at ${path.basename(frame[1])}:${frame[2]} in ${frame[3]})` : '';
  return { summary: `${error}${where}`, stack: tb.slice(-40).join('\n') };
}

/** Keeps only the end of a growing text (what a failure message quotes). */
function tail(text: string, max = 64 * 1024): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

export interface TorchRunOptions {
  experiment: Experiment;
  python: string;
  /** A passing self-check of that interpreter: its device is the one the run trains on. */
  check: TorchSelfCheck;
  baseDir: string;
  runDir?: string;
  /** Why faster engines in the auto order were not used; prefixed to started.backendNote. */
  notes?: string[];
  /** The engine process, started while the self-check ran (else started here). */
  engine?: TorchEngineProcess;
  signal?: AbortSignal;
  onEvent(e: EngineEvent): void;
  /** Python's stdout and stderr (the run log); default: this process's stderr. */
  onOutput?(text: string): void;
}

const now = () => new Date().toISOString();

/**
 * What the Python engine is handed: the dataset written as .npy into dataDir, and the
 * experiment with its model as layers (initial weights of a saved model go into dataDir too).
 * Also used by scripts/prepare-gpu-check.ts to prepare a run for another machine.
 */
export async function prepareTorchRun(experiment: Experiment, baseDir: string, dataDir: string): Promise<Experiment> {
  const data = makeDataset(experiment.dataset, experiment.seed, baseDir);
  if (experiment.model.module) throw new ModelSourceError('model.module is TF.js code, which the torch engine cannot run; use model.layers or model.topology, or a TF.js backend (auto, wasm)');
  const resolved = await resolveModel(experiment.model, baseDir, { inputSize: data.inputSize, classes: data.classes, image: data.image, seed: experiment.seed });
  if (resolved.inputSize !== undefined && resolved.weights && resolved.inputSize !== data.inputSize) {
    throw new ExperimentShapeError(`model.topology: the saved model takes ${resolved.inputSize} inputs but the dataset has ${data.inputSize}`);
  }
  const fgd = experiment.training.regularizers?.featureGroupDropout;
  const extra: HandOver = {};
  if (fgd) {
    const columns = resolveGroups(fgd.groups, data);
    extra.featureGroups = fgd.groups.map((g, i) => ({ name: g.name, columns: columns[i] }));
  }
  if (resolved.weights) {
    extra.initialWeights = [...resolved.weights].map(([name, values]) => ({ name, values, shape: resolved.weightShapes?.get(name) ?? [values.length] }));
  }
  writeDatasetNpy(dataDir, data, extra);
  const { topology: _topology, ...model } = experiment.model;
  return { ...experiment, model: { ...model, layers: resolved.layers } };
}

/**
 * Trains one experiment in the Python engine: started, epochs, probes, then finished or
 * failed, as train() does for TF.js (never throws). Cancelled: Python's info log, no finished.
 * The dataset folder (<runDir>/data) is removed afterwards unless REGLENS_KEEP_DATA is set.
 */
export async function trainOnTorch(opts: TorchRunOptions): Promise<void> {
  const { onEvent } = opts;
  const output = opts.onOutput ?? ((t: string) => void process.stderr.write(t));
  const dataDir = opts.runDir ? path.join(opts.runDir, 'data') : fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-data-'));
  const fail = (message: string, stack?: string) => onEvent({ type: 'failed', time: now(), message, ...(stack ? { stack } : {}) });
  try {
    let experiment: Experiment;
    try {
      experiment = await prepareTorchRun(opts.experiment, opts.baseDir, dataDir);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const userError = e instanceof ExperimentShapeError || e instanceof ModelSourceError || e instanceof DatasetError;
      fail(e.message, userError ? undefined : e.stack);
      return;
    }
    if (opts.signal?.aborted) return;
    await runPython(opts, experiment, dataDir, output);
  } finally {
    // A pre-started engine the run never reached (bad experiment, cancelled) must not linger.
    opts.engine?.discard();
    if (!process.env.REGLENS_KEEP_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * `python -m reglens.engine`, started before its start command is ready: the engine's own
 * imports then overlap the self-check and the dataset hand-over instead of following them.
 * Messages and output that arrive before attach() are kept for it.
 */
export class TorchEngineProcess {
  private readonly child: ChildProcess;
  private readonly early: { message?: unknown; output?: string }[] = [];
  private listener?: { onMessage(m: unknown): void; onOutput(t: string): void };
  /** The end of the engine's stderr, for a failure message. */
  stderr = '';
  spawnError?: NodeJS.ErrnoException;
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly python: string) {
    this.child = spawn(python, ['-m', 'reglens.engine'], {
      stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      env: pythonEnv(),
      // Its own process group: Ctrl+C in a terminal reaches the CLI, which turns it into a
      // cancel that stops after the current step, instead of a KeyboardInterrupt mid-step.
      // A parent that dies still stops it: the channel reaches EOF (docs/torch-engine.md).
      detached: process.platform !== 'win32',
    });
    // Commands come over the IPC channel; nothing ever reads stdin.
    this.child.stdin?.end();
    for (const [stream, isErr] of [
      [this.child.stdout, false],
      [this.child.stderr, true],
    ] as const) {
      stream?.setEncoding('utf8');
      stream?.on('data', (t: string) => {
        if (isErr) this.stderr = tail(this.stderr + t);
        if (this.listener) this.listener.onOutput(t);
        else this.early.push({ output: t });
      });
    }
    this.child.on('message', (m: unknown) => {
      if (this.listener) this.listener.onMessage(m);
      else this.early.push({ message: m });
    });
    // After a failed spawn 'close' follows 'error' (code -2): the error is what to report.
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      if (this.child.pid === undefined) this.spawnError = err;
    });
    this.closed = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get connected(): boolean {
    return this.child.connected;
  }

  attach(onMessage: (m: unknown) => void, onOutput: (t: string) => void): void {
    this.listener = { onMessage, onOutput };
    for (const e of this.early.splice(0)) {
      if (e.output !== undefined) onOutput(e.output);
      else onMessage(e.message);
    }
  }

  send(message: unknown, onError: (err: Error) => void): void {
    if (!this.child.connected) return;
    this.child.send(message as object, (err) => {
      if (err) onError(err);
    });
  }

  /** Not needed after all (self-check failed, another engine chosen, cancelled): it has not trained. */
  discard(): void {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) this.child.kill('SIGKILL');
  }
}

/** The start command the Python engine receives, parsed (so complete: docs/torch-engine.md "Command"). */
export function torchStartCommand(experiment: Experiment, where: { device: DeviceName; python: string; dataDir: string; baseDir: string; runDir?: string }) {
  return EngineCommandSchema.parse({
    type: 'start',
    experiment,
    backend: 'torch',
    device: where.device,
    python: where.python,
    dataDir: path.resolve(where.dataDir),
    baseDir: path.resolve(where.baseDir),
    ...(where.runDir ? { runDir: path.resolve(where.runDir) } : {}),
  });
}

async function runPython(opts: TorchRunOptions, experiment: Experiment, dataDir: string, output: (t: string) => void): Promise<void> {
  const { onEvent, python } = opts;
  const start = torchStartCommand(experiment, { device: opts.check.device ?? 'auto', python, dataDir, baseDir: opts.baseDir, runDir: opts.runDir });
  const engine = opts.engine ?? new TorchEngineProcess(python);
  let ended = false; // finished or failed seen
  let cancelled = false;
  engine.attach((raw) => {
    const parsed = parseEngineEvent(raw);
    if (!parsed.ok) {
      onEvent({ type: 'log', level: 'warning', message: `invalid message from the PyTorch engine ignored: ${parsed.error}` });
      return;
    }
    let event = parsed.value;
    if (event.type === 'finished' || event.type === 'failed') ended = true;
    if (event.type === 'started' && opts.notes?.length) {
      event = { ...event, backendNote: [...opts.notes, ...(event.backendNote ? [event.backendNote] : [])].join(' ') };
    }
    onEvent(event);
  }, output);
  const onAbort = () => {
    cancelled = true;
    engine.send({ type: 'cancel' }, () => undefined);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  engine.send(start, (err) => output(`RegLens: could not send the experiment to the PyTorch engine: ${err.message}\n`));
  if (opts.signal?.aborted) onAbort();
  // 'close': every message and all output have arrived.
  const { code, signal } = await engine.closed;
  opts.signal?.removeEventListener('abort', onAbort);
  if (engine.spawnError) {
    onEvent({ type: 'failed', time: now(), message: spawnFailure(python, engine.spawnError) });
    return;
  }
  if (ended || (cancelled && code === 0)) return;
  const tb = lastTraceback(engine.stderr);
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const said = tb?.summary ?? lastLine(engine.stderr);
  onEvent({
    type: 'failed',
    time: now(),
    message: `The PyTorch engine (${python}) ${how} before the run ended${said ? `: ${said}` : ''}. Every epoch reported so far is kept; its output is in the run log.`,
    ...(tb ? { stack: tb.stack } : {}),
  });
}
