// Small experiments for tests: real training, seconds not minutes.
import { parseExperiment } from '../../../src/protocol/experiment';
import type { Experiment, ExperimentInput } from '../../../src/protocol/experiment';

/** (m + n) mod 11, 20% symmetric noise, ReLU MLP 22-64-11: learns the train set in ~30 epochs. */
export function tinyExperiment(overrides: { epochs?: number; noise?: number; layers?: ExperimentInput['model']['layers']; lr?: number; batchSize?: number } = {}): Experiment {
  return parseExperiment({
    name: 'tiny',
    seed: 3,
    dataset: {
      kind: 'modular',
      p: 11,
      operation: 'add',
      trainFraction: 0.8,
      labelNoise: { kind: 'symmetric', rate: overrides.noise ?? 0.2 },
    },
    model: {
      layers: overrides.layers ?? [
        { type: 'dense', units: 64, init: 'he' },
        { type: 'activation', fn: 'relu' },
        { type: 'dense', units: 11 },
      ],
    },
    training: {
      epochs: overrides.epochs ?? 30,
      batchSize: overrides.batchSize ?? 32,
      optimizer: { kind: 'adam', lr: overrides.lr ?? 0.01, weightDecay: 0 },
    },
  } satisfies ExperimentInput);
}

/** The grokking example at p = 97: ~0.5 s per epoch on wasm, for runs that must last a while. */
export function slowExperiment(epochs: number): Experiment {
  return parseExperiment({
    name: 'slow',
    seed: 0,
    dataset: { kind: 'modular', p: 97, trainFraction: 0.5, labelNoise: { kind: 'symmetric', rate: 0.3 } },
    model: {
      layers: [
        { type: 'dense', units: 512, useBias: false, init: 'normal', initStd: 0.1 },
        { type: 'activation', fn: 'square' },
        { type: 'dense', units: 97, useBias: false, init: 'normal', initStd: 0.0441941738 },
      ],
    },
    training: { epochs, batchSize: 512, optimizer: { kind: 'adam', lr: 0.005, weightDecay: 5 } },
  } satisfies ExperimentInput);
}
