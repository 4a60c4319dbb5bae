// Which engine trains a start command: the PyTorch engine (torchBridge.ts) or the TF.js loop
// (train.ts), and on which backend. auto takes the fastest that is present and passes its
// self-check: torch on a GPU, tfjs-node-gpu, torch on the CPU, tfjs-node, wasm, cpu; every
// engine it passes over is recorded with the reason in started.backendNote.
import type { EngineCommandSchema, EngineEvent } from '../protocol/engineMessages';
import type { BackendName, DeviceName } from '../protocol/experiment';
import type { TorchSelfCheck } from '../protocol/torchEngine';
import type { z } from 'zod';
import { tryNative } from './backend';
import { nativeSearchDirs } from './nativeBackend';
import { CHOOSE_PYTHON, prepareHandOver, removeHandOver, resolvePython, TorchEngineProcess, trainOnTorch, type TorchHandOver } from './torchBridge';
import type { Dataset } from './data/dataset';
import { train } from './train';

export type StartCommand = Extract<z.infer<typeof EngineCommandSchema>, { type: 'start' }>;

export interface RunStartOptions {
  signal: AbortSignal;
  /** Phases (seconds) before runStart, reported in started.startup by the TF.js engine. */
  startupPhases?: Record<string, number>;
  onEvent(e: EngineEvent): void;
}

const now = () => new Date().toISOString();

/** Trains the command's experiment to its end (started ... finished | failed, or cancelled); never throws. */
export async function runStart(command: StartCommand, opts: RunStartOptions): Promise<void> {
  const { experiment } = command;
  const { signal, onEvent } = opts;
  // The experiment file wins over the host's / CLI's settings, as for every field.
  const choice: BackendName = experiment.backend ?? command.backend;
  const device: DeviceName = experiment.device ?? command.device ?? 'auto';
  const python = resolvePython(command.python);
  const baseDir = command.baseDir ?? process.cwd();
  const phases: Record<string, number> = { ...opts.startupPhases };

  const tfjs = (backend: Exclude<BackendName, 'torch'>, backendNotes: string[] = [], dataset?: Dataset) =>
    train(experiment, {
      backend,
      backendNotes,
      dataset,
      nativeModuleDirs: command.nativeModuleDirs,
      baseDir,
      runDir: command.runDir,
      ...(command.resume ? { resume: true } : {}),
      evalThread: command.evalThread === 'on' ? true : command.evalThread === 'off' ? false : 'auto',
      startupPhases: phases,
      signal,
      onEvent,
    });
  const torch = (check: TorchSelfCheck, engine: TorchEngineProcess, handOver: TorchHandOver) =>
    trainOnTorch({ python, check, engine, handOver, baseDir, runDir: command.runDir, ...(command.resume ? { resume: true } : {}), signal, onEvent });
  const fail = (message: string) => onEvent({ type: 'failed', time: now(), message });
  const cancelledEarly = () => onEvent({ type: 'log', level: 'info', message: 'Run cancelled before training started.' });

  if (experiment.model.module) {
    // User TF.js code runs only on TF.js: under auto that is simply the choice.
    if (choice === 'torch') {
      fail('backend "torch": model.module is TF.js code, which only the TF.js engine runs. Describe the model with model.layers or model.topology to train it on torch, or use backend "auto" or "wasm".');
      return;
    }
    await tfjs(choice === 'auto' ? 'auto' : choice);
    return;
  }
  const pytorch = experiment.model.pytorch;
  if (choice !== 'auto' && choice !== 'torch') {
    if (pytorch) {
      fail(`backend "${choice}": model.pytorch (${pytorch.class} in ${pytorch.file}) is a torch module, which only the PyTorch engine trains. Use backend "torch" or "auto" (with torch installed in reglens.python.interpreter).`);
      return;
    }
    await tfjs(choice);
    return;
  }

  // The engine imports torch and checks itself (its hello) while the dataset is built and
  // written here: one torch import per run, overlapped with the hand-over.
  const checkStart = performance.now();
  const engine = new TorchEngineProcess(python, device, signal);
  const handOver = await prepareHandOver(experiment, baseDir, command.runDir, () => engine.check?.ok !== false);
  const check = await engine.ready;
  // Under auto a TF.js run first waits for Python's answer on torch (the dataset is built
  // meanwhile): part of its time to first epoch.
  phases.torchCheck = (performance.now() - checkStart) / 1000;
  const plan = await choose(check);
  if (plan.kind !== 'torch') {
    // Killed before anything else trains: it waits for a start command that will not come.
    engine.discard();
    removeHandOver(handOver);
  }
  switch (plan.kind) {
    case 'torch':
      return torch(check, engine, handOver);
    case 'tfjs':
      return tfjs(plan.backend, plan.notes, handOver.data);
    case 'failed':
      return fail(plan.message);
    case 'cancelled':
      return cancelledEarly();
  }

  async function choose(check: TorchSelfCheck): Promise<Plan> {
    if (signal.aborted) return { kind: 'cancelled' };
    if (choice === 'torch') {
      if (check.ok) return { kind: 'torch' };
      return { kind: 'failed', message: `backend "torch" cannot run with ${python}: ${reasonOf(check)}` };
    }
    if (!check.ok) {
      if (pytorch) return { kind: 'failed', message: `model.pytorch (${pytorch.class} in ${pytorch.file}) needs the PyTorch engine, which cannot run with ${python}: ${reasonOf(check)}` };
      return { kind: 'tfjs', backend: 'auto', notes: [`torch not used: ${check.reason ?? 'its self-check failed'}`] };
    }
    // A torch module trains on torch whatever else is installed.
    if (check.device !== 'cpu' || device === 'cpu' || pytorch) return { kind: 'torch' };
    // torch would train on the CPU: a CUDA tfjs-node-gpu, when installed and working, is faster.
    const gpu = await tryNative('@tensorflow/tfjs-node-gpu', nativeSearchDirs(command.nativeModuleDirs ?? []));
    return gpu === undefined ? { kind: 'tfjs', backend: 'tensorflow-gpu', notes: [] } : { kind: 'torch' };
  }
}

/** The self-check's reason, with how to pick another interpreter unless Python's reason says so already. */
function reasonOf(check: TorchSelfCheck): string {
  const reason = (check.reason ?? 'the torch self-check failed').replace(/\.?\s*$/, '.');
  const hint = /reglens\.python\.interpreter/.test(reason) ? '' : ` ${CHOOSE_PYTHON}`;
  return `${reason}${hint}`;
}

type Plan =
  | { kind: 'torch' }
  | { kind: 'tfjs'; backend: Exclude<BackendName, 'torch'>; notes: string[] }
  | { kind: 'failed'; message: string }
  | { kind: 'cancelled' };
