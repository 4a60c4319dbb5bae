// The modular-arithmetic task of Doshi et al. (ICLR 2024): (m op n) mod p with
// input one-hot(m) ++ one-hot(n). Pure JS; tensors are made by the trainer.
import { deriveRng, shuffle } from '../prng';
import { corruptLabels, NoiseKind } from './labelNoise';

export interface ModularSpec {
  p: number;
  operation: 'add' | 'sub' | 'mul';
  trainFraction: number;
  labelNoise?: { kind: NoiseKind; rate: number };
}

export interface Split {
  /** Pair indices m * p + n. */
  pairs: Int32Array;
  /** Labels the model sees (train: possibly corrupted; test: true). */
  labels: Int32Array;
  trueLabels: Int32Array;
}

export interface ModularDataset {
  p: number;
  inputSize: number;
  classes: number;
  train: Split & { corrupted: Uint8Array; corruptedCount: number };
  test: Split;
}

export function modularLabel(m: number, n: number, p: number, op: ModularSpec['operation']): number {
  switch (op) {
    case 'add':
      return (m + n) % p;
    case 'sub':
      return (((m - n) % p) + p) % p;
    case 'mul':
      return (m * n) % p;
  }
}

/** Deterministic from (spec, seed): the same seed gives the same split and the same noise. */
export function makeModularDataset(spec: ModularSpec, seed: number): ModularDataset {
  const { p } = spec;
  const total = p * p;
  const order = new Int32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  shuffle(deriveRng(seed, 'split'), order);
  // At least one example on each side, whatever the fraction.
  const nTrain = Math.min(total - 1, Math.max(1, Math.round(spec.trainFraction * total)));
  const trainPairs = order.slice(0, nTrain).sort();
  const testPairs = order.slice(nTrain).sort();
  const labelsOf = (pairs: Int32Array) =>
    pairs.map((k) => modularLabel(Math.floor(k / p), k % p, p, spec.operation));
  const trainTrue = labelsOf(trainPairs);
  const testTrue = labelsOf(testPairs);
  const noisy = corruptLabels(trainTrue, p, spec.labelNoise, seed);
  return {
    p,
    inputSize: 2 * p,
    classes: p,
    train: {
      pairs: trainPairs,
      labels: noisy.labels,
      trueLabels: trainTrue,
      corrupted: noisy.corrupted,
      corruptedCount: noisy.count,
    },
    test: { pairs: testPairs, labels: testTrue, trueLabels: testTrue },
  };
}

/** Row-major one-hot(m) ++ one-hot(n) features, shape [pairs.length, 2p]. */
export function oneHotPairs(pairs: Int32Array, p: number): Float32Array {
  const out = new Float32Array(pairs.length * 2 * p);
  for (let i = 0; i < pairs.length; i++) {
    const k = pairs[i];
    out[i * 2 * p + Math.floor(k / p)] = 1;
    out[i * 2 * p + p + (k % p)] = 1;
  }
  return out;
}

