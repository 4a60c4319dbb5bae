// Pieces the benchmark scripts share: the grok MLP of the speed target, and a run (train()
// in this process, or the PyTorch engine through trainOnTorch as engine.js runs it) that
// collects its epochs, probes and logs for a JSON summary.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStart } from '../src/engine/engineChoice';
import { train } from '../src/engine/train';
import type { EngineEvent, Probe } from '../src/protocol/engineMessages';
import { parseExperiment } from '../src/protocol/experiment';
import type { Experiment, ExperimentInput } from '../src/protocol/experiment';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type LayerInput = NonNullable<ExperimentInput['model']['layers']>[number];

/** The 194-512-512-97 ReLU MLP whose epoch time issue 3 compares with PyTorch. */
export const GROK_MLP_LAYERS: LayerInput[] = [
  { type: 'dense', units: 512, init: 'he' },
  { type: 'activation', fn: 'relu' },
  { type: 'dense', units: 512, init: 'he' },
  { type: 'activation', fn: 'relu' },
  { type: 'dense', units: 97 },
];

/** One epoch of the grok MLP on modular addition (p = 97, xi = 0.3), batch 512. */
export function grokMlpExperiment(name: string): Experiment {
  return parseExperiment({
    name,
    seed: 0,
    dataset: { kind: 'modular', p: 97, operation: 'add', trainFraction: 0.5, labelNoise: { kind: 'symmetric', rate: 0.3 } },
    model: { layers: GROK_MLP_LAYERS },
    training: { epochs: 1, batchSize: 512 },
  });
}

export type EpochEvent = Extract<EngineEvent, { type: 'epoch' }>;

export interface CollectedRun {
  epochs: EpochEvent[];
  probes: { epoch: number; probe: Probe }[];
  logs: string[];
  backend: string;
  failed?: string;
  wallSeconds: number;
  medianEpochSeconds: number | null;
}

/** What trains a results run: a TF.js backend in this process, or the PyTorch engine in `python`. */
export type RunEngine = { backend: 'wasm' | 'cpu' } | { backend: 'torch'; python: string };

/** The command-line flags that select `engine` (for the `command` field of a results file). */
export const engineFlags = (engine: RunEngine) => (engine.backend === 'wasm' ? '' : engine.backend === 'torch' ? ` --backend torch --python ${engine.python}` : ` --backend ${engine.backend}`);

/** Trains `experiment` (TF.js in this process, or torch on the CPU) and keeps what a results file needs. */
export async function collectRun(experiment: Experiment, engine: RunEngine, onEpoch: (e: EpochEvent) => void): Promise<CollectedRun> {
  const run: CollectedRun = { epochs: [], probes: [], logs: [], backend: '', wallSeconds: 0, medianEpochSeconds: null };
  const onEvent = (e: EngineEvent) => {
    if (e.type === 'started') run.backend = e.backend;
    if (e.type === 'epoch') {
      run.epochs.push(e);
      onEpoch(e);
    }
    if (e.type === 'probe') run.probes.push({ epoch: e.epoch, probe: e.probe });
    if (e.type === 'log') run.logs.push(`${e.level}: ${e.message}`);
    if (e.type === 'failed') run.failed = e.message;
  };
  const t0 = performance.now();
  if (engine.backend === 'torch') {
    // engine.js's own path: the engine process, its hello, the hand-over, the relayed events.
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-results-'));
    try {
      await runStart({ type: 'start', experiment, backend: 'torch', device: 'cpu', python: engine.python, baseDir: process.cwd(), runDir }, { signal: new AbortController().signal, onEvent });
    } finally {
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  } else {
    await train(experiment, { backend: engine.backend, onEvent });
  }
  run.wallSeconds = (performance.now() - t0) / 1000;
  const secs = run.epochs.map((e) => e.seconds).sort((a, b) => a - b);
  run.medianEpochSeconds = secs.length ? secs[Math.floor(secs.length / 2)] : null;
  return run;
}
