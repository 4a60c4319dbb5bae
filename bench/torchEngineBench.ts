// The PyTorch side of `npm run bench`: the torch engine (python -m reglens.engine, started
// by engine.js's own code, src/engine/engineChoice.ts runStart) and the hand-written peer
// (bench/peer/torch_epoch.py) on the same model, data, optimizer and batch, at a given
// thread count; and how long Python takes to import torch. Every function returns why
// there is no number instead of throwing, so the benchmark runs without torch.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Experiment } from '../src/protocol/experiment';
import { TorchSelfCheckSchema, type TorchSelfCheck } from '../src/protocol/torchEngine';
import { runStart } from '../src/engine/engineChoice';
import { prepareTorchRun, pythonPackageDir, torchStartCommand } from '../src/engine/torchBridge';
import { median } from './benchShared';

export const PEER_SETUP = 'apt-get install -y python3-torch libopenblas0-pthread (scripts/ensure-torch-peer.sh)';

export type Unavailable = { available: false; reason: string };

export type TorchCheck = { available: true; python: string; check: TorchSelfCheck; selfCheckSeconds: number } | Unavailable;

/** The shipped package first on PYTHONPATH, as engine.js runs Python. */
function pythonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: [pythonPackageDir(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), ...extra };
}

/** `python -m reglens.engine --self-check --device cpu`, timed: whether the torch columns can be measured, and why not. */
export async function checkTorch(python: string): Promise<TorchCheck> {
  const t0 = performance.now();
  const r = spawnSync(python, ['-m', 'reglens.engine', '--self-check', '--device', 'cpu'], { encoding: 'utf8', env: pythonEnv() });
  const selfCheckSeconds = (performance.now() - t0) / 1000;
  if (r.error) return { available: false, reason: `Python interpreter "${python}" not found (${r.error.message}); for this machine: ${PEER_SETUP}` };
  let check: TorchSelfCheck | undefined;
  try {
    const parsed = TorchSelfCheckSchema.safeParse(JSON.parse(r.stdout.trim().split('\n').pop() ?? ''));
    if (parsed.success) check = parsed.data;
  } catch {
    // not JSON: reported below
  }
  if (!check?.ok || r.status !== 0) {
    return { available: false, reason: `${check?.reason ?? (r.stderr.trim().split('\n').pop() || `the self-check exited ${r.status}`)}; for this machine: ${PEER_SETUP}` };
  }
  return { available: true, python, check, selfCheckSeconds };
}

/** Seconds Python spends in `import torch` (timed inside Python, so without the interpreter's own start). */
export function importTorchSeconds(python: string): number | Unavailable {
  const r = spawnSync(python, ['-c', 'import time; t = time.perf_counter(); import torch; print(time.perf_counter() - t)'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { available: false, reason: r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}` };
  return Number(r.stdout.trim());
}

export interface EpochTimes {
  /** Median seconds of the training steps of an epoch (first epoch dropped as warm-up). */
  trainSeconds: number;
  /** Median seconds of a whole epoch: training steps plus evaluation of the train and test sets. */
  epochSeconds: number;
  trainSamples: number[];
  epochSamples: number[];
}

export type EngineTimes = ({ available: true; backendNote: string | null } & EpochTimes) | Unavailable;

const warm = <T>(xs: T[]) => (xs.length > 2 ? xs.slice(1) : xs);

/**
 * The torch engine training `experiment` on the CPU with `threads` torch threads
 * (REGLENS_TORCH_THREADS), through engine.js's own runStart in this process: the hello, the
 * .npy hand-over, the Python process and the validated events, all as in a real run.
 */
export async function measureTorchEngine(torch: TorchCheck, experiment: Experiment, threads: number): Promise<EngineTimes> {
  if (!torch.available) return torch;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-bench-torch-'));
  const epochs: { seconds: number; trainSeconds: number }[] = [];
  let failed: string | undefined;
  let note: string | null = null;
  // Read by the Python child at spawn (it inherits this environment). OpenBLAS (Debian's
  // torch) keeps its own pool of one thread per core unless told, as the peer tells it.
  const saved = { REGLENS_TORCH_THREADS: process.env.REGLENS_TORCH_THREADS, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS };
  process.env.REGLENS_TORCH_THREADS = String(threads);
  process.env.OPENBLAS_NUM_THREADS = String(threads);
  try {
    await runStart(
      { type: 'start', experiment, backend: 'torch', device: 'cpu', python: torch.python, baseDir: process.cwd(), runDir },
      {
        signal: new AbortController().signal,
        onEvent: (e) => {
          if (e.type === 'started') note = e.backendNote ?? null;
          if (e.type === 'epoch') epochs.push({ seconds: e.seconds, trainSeconds: e.trainSeconds ?? e.seconds });
          if (e.type === 'failed') failed = e.message;
        },
      },
    );
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(runDir, { recursive: true, force: true });
  }
  if (failed) return { available: false, reason: `the torch engine failed: ${failed}` };
  const trainSamples = epochs.map((e) => e.trainSeconds);
  const epochSamples = epochs.map((e) => e.seconds);
  return { available: true, backendNote: note, trainSeconds: median(warm(trainSamples)), epochSeconds: median(warm(epochSamples)), trainSamples, epochSamples };
}

export type PeerTimes = ({ available: true; torch: string; blas: string; threads: number } & EpochTimes) | Unavailable;

/** A script of bench/peer/ from the bundle (dist/) or from source (bench/). */
function peerScript(name = 'torch_epoch.py'): string {
  for (const dir of [path.join(__dirname, '..', 'bench', 'peer'), path.join(__dirname, 'peer')]) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return path.join('bench', 'peer', name);
}

/** The hand-written PyTorch step of the same model (the spec the engine's step is held to). */
export function measurePeer(python: string, modelId: string, epochs: number, threads: number): PeerTimes {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
  const r = spawnSync(python, [peerScript(), '--model', modelId, '--epochs', String(epochs), '--threads', String(threads)], { encoding: 'utf8', env });
  if (r.error) return { available: false, reason: `${python}: ${r.error.message}; install with ${PEER_SETUP}` };
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return { available: false, reason: /No module named 'torch'/.test(r.stderr) ? `PyTorch is not installed for ${python}: ${PEER_SETUP}` : `torch_epoch.py exited ${r.status}: ${last}` };
  }
  return { available: true, ...(JSON.parse(r.stdout) as Omit<Extract<PeerTimes, { available: true }>, 'available'>) };
}

export type PairedTimes =
  | { available: true; pairs: number; engineTrain: number; peerTrain: number; engineEpoch: number; peerEpoch: number; engineOverPeerTrain: number; engineOverPeerEpoch: number; pairsEngineFasterTrain: number }
  | Unavailable;

/**
 * The engine's loop and the peer's, epoch by epoch in one Python process
 * (bench/peer/engine_vs_peer.py), on the hand-over engine.js writes for `experiment`: the
 * ratio least disturbed by other load on the machine.
 */
export async function measurePaired(torch: TorchCheck, experiment: Experiment, modelId: string, threads: number, pairs: number): Promise<PairedTimes> {
  if (!torch.available) return torch;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-bench-paired-'));
  try {
    const dataDir = path.join(dir, 'data');
    const layers = await prepareTorchRun(experiment, process.cwd(), dataDir);
    const commandFile = path.join(dir, 'command.json');
    fs.writeFileSync(commandFile, JSON.stringify(torchStartCommand(layers, { device: 'cpu', python: torch.python, dataDir, baseDir: dir })));
    const env = pythonEnv({ OPENBLAS_NUM_THREADS: String(threads) });
    const args = [peerScript('engine_vs_peer.py'), '--command', commandFile, '--model', modelId, '--pairs', String(pairs), '--threads', String(threads)];
    const r = spawnSync(torch.python, args, { encoding: 'utf8', env });
    if (r.error || r.status !== 0) return { available: false, reason: `engine_vs_peer.py: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
    return { available: true, ...JSON.parse(r.stdout) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
