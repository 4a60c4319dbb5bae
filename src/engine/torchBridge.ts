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
import { ModelSignatureSchema, TorchEngineHelloSchema, type ModelSignature, type TorchSelfCheck } from '../protocol/torchEngine';
import { DatasetError, makeDataset, type Dataset } from './data/dataset';
import { writeDatasetNpy, type HandOver } from './data/datasetNpy';
import { ExperimentShapeError, resolveGroups } from './experimentShape';
import { ModelSourceError, resolveModel } from './modelSource';

/** Importing torch (and initialising CUDA) on a cold disk can take tens of seconds: the longest wait for the hello. */
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
 * `python -m reglens.engine --inspect-model FILE CLASS`: the constructor parameters of the
 * user's nn.Module subclass (which the dataset fills, which have no default), or why the class
 * cannot be imported (no torch, an import error, no such class); the one JSON line it prints
 * is validated against ModelSignatureSchema. Never throws. It imports the file, so it runs the
 * file's top-level code: the host calls it in trusted workspaces only.
 */
export function inspectTorchModel(python: string, file: string, className: string, signal?: AbortSignal): Promise<ModelSignature> {
  const failed = (reason: string): ModelSignature => ({ ok: false, file, class: className, parameters: [], reason });
  if (!pythonPackageDir()) return Promise.resolve(failed(`the RegLens Python package (python/reglens) is missing next to ${__dirname}; reinstall RegLens.`));
  return new Promise((resolve) => {
    const child = spawn(python, ['-m', 'reglens.engine', '--inspect-model', file, className], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: pythonEnv(),
      cwd: path.dirname(file),
      timeout: SELF_CHECK_TIMEOUT_MS,
      signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    let settled = false;
    const done = (r: ModelSignature) => {
      if (!settled) resolve(r);
      settled = true;
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') done(failed('cancelled'));
      else if (child.pid === undefined) done(failed(spawnFailure(python, err)));
    });
    child.on('close', (code, sig) => {
      const line = lastLine(stdout);
      let parsed: ModelSignature | undefined;
      try {
        const r = ModelSignatureSchema.safeParse(JSON.parse(line ?? ''));
        if (r.success) parsed = r.data;
      } catch {
        // Not JSON: reported below with what the interpreter printed.
      }
      // The exit code is the contract (0 ok, 3 not); a result that contradicts it is not trusted.
      if (parsed && code === 0 && parsed.ok) return done(parsed);
      if (parsed && code === 3) return done({ ...parsed, ok: false, reason: parsed.reason ?? 'the inspection failed' });
      const how = sig === 'SIGTERM' && code === null ? `did not answer within ${SELF_CHECK_TIMEOUT_MS / 1000} s` : code !== null ? `exited with code ${code}` : `was killed by ${sig}`;
      const said = lastLine(stderr) ?? line;
      done(failed(`"${python} -m reglens.engine --inspect-model" ${how}${said ? `: ${said}` : ''}. RegLens needs Python 3.8 or later with torch >= 1.13. ${CHOOSE_PYTHON}`));
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
  python: string;
  /** The engine process, its hello passed: its device is the one the run trains on. */
  engine: TorchEngineProcess;
  check: TorchSelfCheck;
  /** The dataset on disk and the experiment with its layers resolved (prepareHandOver). */
  handOver: TorchHandOver;
  baseDir: string;
  runDir?: string;
  /** Continue from <runDir>/checkpoint.pt when there is one (a requeued Slurm member). */
  resume?: boolean;
  /** Why faster engines in the auto order were not used; prefixed to started.backendNote. */
  notes?: string[];
  signal?: AbortSignal;
  onEvent(e: EngineEvent): void;
  /** Python's stdout and stderr (the run log); default: this process's stderr. */
  onOutput?(text: string): void;
}

const now = () => new Date().toISOString();
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the Python engine is handed, built while it imports torch. */
export interface TorchHandOver {
  /** Built first, and kept for a TF.js fallback: the dataset is built once either way. */
  data?: Dataset;
  /** Set once the arrays are on disk: the experiment with model.layers resolved. */
  experiment?: Experiment;
  dataDir?: string;
  /** Why it could not be built; a TF.js fallback builds the dataset again and reports the same. */
  error?: Error;
}

function featureGroupsOf(experiment: Experiment, data: Dataset): HandOver {
  const fgd = experiment.training.regularizers?.featureGroupDropout;
  if (!fgd) return {};
  const columns = resolveGroups(fgd.groups, data);
  return { featureGroups: fgd.groups.map((g, i) => ({ name: g.name, columns: columns[i] })) };
}

/** The dataset and the experiment as the Python engine takes them (layers resolved), and what else goes into the folder. */
async function buildHandOver(experiment: Experiment, baseDir: string, built: (data: Dataset) => void): Promise<{ data: Dataset; experiment: Experiment; extra: HandOver }> {
  const data = makeDataset(experiment.dataset, experiment.seed, baseDir);
  built(data);
  const extra = featureGroupsOf(experiment, data);
  // The Python engine imports and builds the user's class (relative to baseDir): only the data goes over.
  if (experiment.model.pytorch) return { data, experiment, extra };
  if (experiment.model.module) throw new ModelSourceError('model.module is TF.js code, which the torch engine cannot run; use model.layers or model.topology, or a TF.js backend (auto, wasm)');
  const resolved = await resolveModel(experiment.model, baseDir, { inputSize: data.inputSize, classes: data.classes, image: data.image, seed: experiment.seed });
  if (resolved.inputSize !== undefined && resolved.weights && resolved.inputSize !== data.inputSize) {
    throw new ExperimentShapeError(`model.topology: the saved model takes ${resolved.inputSize} inputs but the dataset has ${data.inputSize}`);
  }
  if (resolved.weights) {
    extra.initialWeights = [...resolved.weights].map(([name, values]) => ({ name, values, shape: resolved.weightShapes?.get(name) ?? [values.length] }));
  }
  const { topology: _topology, ...model } = experiment.model;
  return { data, experiment: { ...experiment, model: { ...model, layers: resolved.layers } }, extra };
}

/**
 * What the Python engine is handed: the dataset written as .npy into dataDir, and the
 * experiment with its model as layers (initial weights of a saved model go into dataDir too).
 * Used by scripts/prepare-gpu-check.ts to prepare a run for another machine.
 */
export async function prepareTorchRun(experiment: Experiment, baseDir: string, dataDir: string): Promise<Experiment> {
  const built = await buildHandOver(experiment, baseDir, () => undefined);
  writeDatasetNpy(dataDir, built.data, built.extra);
  return built.experiment;
}

/**
 * The hand-over of a run: the dataset as .npy in <runDir>/data (a temporary folder without
 * runDir) and the model as layers, while the engine process imports torch. `wanted` is asked
 * once the dataset is built (MNIST: about a second): an engine whose self-check already
 * failed needs no files. Never throws.
 */
export async function prepareHandOver(experiment: Experiment, baseDir: string, runDir: string | undefined, wanted: () => boolean): Promise<TorchHandOver> {
  const out: TorchHandOver = {};
  try {
    const built = await buildHandOver(experiment, baseDir, (data) => (out.data = data));
    // Building the dataset kept the event loop busy: let a hello that came meanwhile in.
    await yieldToEventLoop();
    if (!wanted()) return out;
    out.dataDir = runDir ? path.join(runDir, 'data') : fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-data-'));
    writeDatasetNpy(out.dataDir, built.data, built.extra);
    out.experiment = built.experiment;
  } catch (err) {
    out.error = err instanceof Error ? err : new Error(String(err));
  }
  return out;
}

/** The dataset folder is a pure function of the experiment and its seed: removed unless REGLENS_KEEP_DATA. */
export function removeHandOver(handOver: TorchHandOver): void {
  if (handOver.dataDir && !process.env.REGLENS_KEEP_DATA) fs.rmSync(handOver.dataDir, { recursive: true, force: true });
}

/**
 * Trains one experiment in the Python engine: started, epochs, probes, then finished or
 * failed, as train() does for TF.js (never throws). Cancelled: Python's info log, no finished.
 * The dataset folder is removed afterwards unless REGLENS_KEEP_DATA is set.
 */
export async function trainOnTorch(opts: TorchRunOptions): Promise<void> {
  const { onEvent, handOver } = opts;
  const output = opts.onOutput ?? ((t: string) => void process.stderr.write(t));
  try {
    const { error, experiment, dataDir } = handOver;
    if (error || !experiment || !dataDir) {
      const e = error ?? new Error('the dataset hand-over for the PyTorch engine was not written');
      const userError = e instanceof ExperimentShapeError || e instanceof ModelSourceError || e instanceof DatasetError;
      onEvent({ type: 'failed', time: now(), message: e.message, ...(userError || !e.stack ? {} : { stack: e.stack }) });
      return;
    }
    if (opts.signal?.aborted) return;
    await runPython(opts, experiment, dataDir, output);
  } finally {
    // An engine the run never reached (bad experiment, cancelled) must not linger.
    opts.engine.discard();
    removeHandOver(handOver);
  }
}

/**
 * `python -m reglens.engine --device <device>`, started as soon as a run might train on
 * torch. It imports torch, runs its self-check and sends it as its first message (the
 * hello), then waits for start: one torch import per run, made while engine.js builds and
 * writes the dataset. Messages and output after the hello that arrive before attach() are
 * kept for it.
 */
export class TorchEngineProcess {
  private readonly child?: ChildProcess;
  private readonly early: { message?: unknown; output?: string }[] = [];
  private listener?: { onMessage(m: unknown): void; onOutput(t: string): void };
  private settle!: (check: TorchSelfCheck) => void;
  /** The self-check from the hello, or why there is none (no Python, no torch, died, timed out, cancelled). Never rejects. */
  readonly ready: Promise<TorchSelfCheck>;
  /** What ready resolved with, once it has. */
  check?: TorchSelfCheck;
  /** The end of the engine's stderr, for a failure message. */
  stderr = '';
  spawnError?: NodeJS.ErrnoException;
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly python: string, device: DeviceName, signal?: AbortSignal) {
    this.ready = new Promise((resolve) => {
      this.settle = (check) => {
        if (this.check) return;
        this.check = check;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // A refusing engine exits by itself; one that broke its protocol is stopped.
        if (!check.ok) this.discard();
        resolve(check);
      };
    });
    const onAbort = () => this.settle(notUsable(python, 'the run was cancelled during the torch self-check'));
    const timer = setTimeout(() => this.settle(notUsable(python, `"${python} -m reglens.engine" did not send its self-check within ${SELF_CHECK_TIMEOUT_MS / 1000} s (importing torch hangs?). ${CHOOSE_PYTHON}`)), SELF_CHECK_TIMEOUT_MS);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (!pythonPackageDir()) {
      this.closed = Promise.resolve({ code: null, signal: null });
      this.settle(notUsable(python, `the RegLens Python package (python/reglens) is missing next to ${__dirname}; reinstall RegLens.`));
      return;
    }
    const child = spawn(python, ['-m', 'reglens.engine', '--device', device], {
      stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      env: pythonEnv(),
      // Its own process group: Ctrl+C in a terminal reaches the CLI, which turns it into a
      // cancel that stops after the current step, instead of a KeyboardInterrupt mid-step.
      // A parent that dies still stops it: the channel reaches EOF (docs/torch-engine.md).
      detached: process.platform !== 'win32',
    });
    this.child = child;
    // Commands come over the IPC channel; nothing ever reads stdin.
    child.stdin?.end();
    for (const [stream, isErr] of [
      [child.stdout, false],
      [child.stderr, true],
    ] as const) {
      stream?.setEncoding('utf8');
      stream?.on('data', (t: string) => {
        if (isErr) this.stderr = tail(this.stderr + t);
        if (this.listener) this.listener.onOutput(t);
        else this.early.push({ output: t });
      });
    }
    child.on('message', (m: unknown) => {
      if (!this.check) this.settle(this.hello(m));
      else if (this.listener) this.listener.onMessage(m);
      else this.early.push({ message: m });
    });
    // After a failed spawn 'close' follows 'error' (code -2): the error is what to report.
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        this.spawnError = err;
        this.settle(notUsable(python, spawnFailure(python, err)));
      }
    });
    this.closed = new Promise((resolve) =>
      child.on('close', (code, sig) => {
        // Gone before its hello: the interpreter is not one that can run the engine.
        const how = code !== null ? `exited with code ${code}` : `was killed by ${sig}`;
        const said = lastLine(this.stderr);
        this.settle(notUsable(python, `"${python} -m reglens.engine" ${how} before its self-check${said ? `: ${said}` : ''}. RegLens needs Python 3.8 or later with torch >= 1.13. ${CHOOSE_PYTHON}`));
        resolve({ code, signal: sig });
      }),
    );
  }

  private hello(m: unknown): TorchSelfCheck {
    const r = TorchEngineHelloSchema.safeParse(m);
    if (r.success) return r.data.selfCheck;
    const got = JSON.stringify(m)?.slice(0, 200);
    return notUsable(this.python, `the PyTorch engine's first message is not its hello (${r.error.issues[0]?.message ?? 'invalid'}: ${got}); engine.js and python/reglens come from different RegLens versions: reinstall RegLens.`);
  }

  get connected(): boolean {
    return this.child?.connected ?? false;
  }

  attach(onMessage: (m: unknown) => void, onOutput: (t: string) => void): void {
    this.listener = { onMessage, onOutput };
    for (const e of this.early.splice(0)) {
      if (e.output !== undefined) onOutput(e.output);
      else onMessage(e.message);
    }
  }

  send(message: unknown, onError: (err: Error) => void): void {
    if (!this.child?.connected) return;
    this.child.send(message as object, (err) => {
      if (err) onError(err);
    });
  }

  /** Not needed after all (self-check failed, another engine chosen, cancelled): it has not trained. */
  discard(): void {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill('SIGKILL');
  }
}

/** The start command the Python engine receives, parsed (so complete: docs/torch-engine.md "Command"). */
export function torchStartCommand(experiment: Experiment, where: { device: DeviceName; python: string; dataDir: string; baseDir: string; runDir?: string; resume?: boolean }) {
  return EngineCommandSchema.parse({
    type: 'start',
    experiment,
    backend: 'torch',
    device: where.device,
    python: where.python,
    dataDir: path.resolve(where.dataDir),
    baseDir: path.resolve(where.baseDir),
    ...(where.runDir ? { runDir: path.resolve(where.runDir) } : {}),
    ...(where.resume ? { resume: true } : {}),
  });
}

async function runPython(opts: TorchRunOptions, experiment: Experiment, dataDir: string, output: (t: string) => void): Promise<void> {
  const { onEvent, python } = opts;
  const start = torchStartCommand(experiment, { device: opts.check.device ?? 'auto', python, dataDir, baseDir: opts.baseDir, runDir: opts.runDir, resume: opts.resume });
  const { engine } = opts;
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
