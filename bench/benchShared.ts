// Pieces the benchmark scripts share: the grok MLP of the speed target, and a train() run
// that collects its epochs, probes and logs for a JSON summary.
import { train } from '../src/engine/train';
import type { EngineEvent, Probe } from '../src/protocol/engineMessages';
import { parseExperiment } from '../src/protocol/experiment';
import type { Experiment, ExperimentInput } from '../src/protocol/experiment';

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

/** Trains `experiment` in this process and keeps what a results file needs. */
export async function collectRun(experiment: Experiment, backend: 'wasm' | 'cpu', onEpoch: (e: EpochEvent) => void): Promise<CollectedRun> {
  const run: CollectedRun = { epochs: [], probes: [], logs: [], backend: '', wallSeconds: 0, medianEpochSeconds: null };
  const t0 = performance.now();
  await train(experiment, {
    backend,
    onEvent: (e) => {
      if (e.type === 'started') run.backend = e.backend;
      if (e.type === 'epoch') {
        run.epochs.push(e);
        onEpoch(e);
      }
      if (e.type === 'probe') run.probes.push({ epoch: e.epoch, probe: e.probe });
      if (e.type === 'log') run.logs.push(`${e.level}: ${e.message}`);
      if (e.type === 'failed') run.failed = e.message;
    },
  });
  run.wallSeconds = (performance.now() - t0) / 1000;
  const secs = run.epochs.map((e) => e.seconds).sort((a, b) => a - b);
  run.medianEpochSeconds = secs.length ? secs[Math.floor(secs.length / 2)] : null;
  return run;
}
