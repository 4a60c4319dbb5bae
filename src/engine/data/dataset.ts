// One in-memory shape for every dataset kind: dense float features, integer labels,
// the corrupted mask and a seeded train/test split. The trainer, the regularizers and
// the probes only ever see this (modular runs also carry their pairs for the IPR probe).
import * as path from 'node:path';
import type { DatasetSpec } from '../../protocol/experiment';
import { deriveRng, shuffle } from '../prng';
import { loadCsv } from './csv';
import { corruptLabels } from './labelNoise';
import { loadMnist } from './mnist';
import { makeModularDataset, ModularDataset, oneHotPairs } from './modular';
import { makeMoons, makeSpirals } from './synthetic';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface TrainSplit {
  n: number;
  /** Row-major [n, inputSize]; images are HWC per row. */
  x: Float32Array;
  /** Labels the model trains on (corrupted where corrupted[i] is 1). */
  labels: Int32Array;
  trueLabels: Int32Array;
  corrupted: Uint8Array;
  corruptedCount: number;
  /** Index of each example in the source (pair index, MNIST digit, CSV data row...). */
  source: Int32Array;
}

export interface TestSplit {
  n: number;
  x: Float32Array;
  labels: Int32Array;
  trueLabels: Int32Array;
  source: Int32Array;
}

export interface Dataset {
  kind: DatasetSpec['kind'];
  inputSize: number;
  classes: number;
  /** Set for image datasets: CutMix and conv layers need it. */
  image?: ImageShape;
  /** Column names (CSV) so feature groups can name columns. */
  featureNames?: string[];
  /** The label-noise rate asked for (co-teaching's default forget rate). */
  noiseRate: number;
  train: TrainSplit;
  test: TestSplit;
  /** Modular arithmetic only: p and the (m, n) pairs, for the Fourier IPR probe. */
  modular?: ModularDataset;
}

/** A dataset the experiment describes cannot be built. `field`: the experiment field to fix, when one is to blame. */
export class DatasetError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** Raw examples before splitting and noise; the common tail of every loader. */
export interface RawExamples {
  n: number;
  inputSize: number;
  classes: number;
  x: Float32Array;
  labels: Int32Array;
}

/** Seeded split: the first round(testFraction * n) of a seeded permutation are the test set. */
export function splitIndices(n: number, testFraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffle(deriveRng(seed, 'split'), order);
  const nTest = Math.min(n - 1, Math.max(1, Math.round(testFraction * n)));
  return { test: order.slice(0, nTest).sort(), train: order.slice(nTest).sort() };
}

export function takeRows(x: Float32Array, d: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i] * d, rows[i] * d + d), i * d);
  return out;
}

/** Splits raw examples and corrupts the training labels (seeded; mask kept). */
export function assemble(
  raw: RawExamples,
  split: { train: Int32Array; test: Int32Array },
  noise: { kind: 'symmetric' | 'pairflip'; rate: number } | undefined,
  seed: number,
  kind: DatasetSpec['kind'],
): Dataset {
  const d = raw.inputSize;
  const trainTrue = Int32Array.from(split.train, (i) => raw.labels[i]);
  const testTrue = Int32Array.from(split.test, (i) => raw.labels[i]);
  const noisy = corruptLabels(trainTrue, raw.classes, noise, seed);
  return {
    kind,
    inputSize: d,
    classes: raw.classes,
    noiseRate: noise?.rate ?? 0,
    train: {
      n: split.train.length,
      x: takeRows(raw.x, d, split.train),
      labels: noisy.labels,
      trueLabels: trainTrue,
      corrupted: noisy.corrupted,
      corruptedCount: noisy.count,
      source: split.train,
    },
    test: { n: split.test.length, x: takeRows(raw.x, d, split.test), labels: testTrue, trueLabels: testTrue, source: split.test },
  };
}

/**
 * Builds the dataset of an experiment, deterministically from (spec, seed).
 * baseDir: the folder relative CSV paths resolve against (the experiment file's).
 */
export function makeDataset(spec: DatasetSpec, seed: number, baseDir = process.cwd()): Dataset {
  return applyLabelFixes(buildDataset(spec, seed, baseDir), spec);
}

function buildDataset(spec: DatasetSpec, seed: number, baseDir: string): Dataset {
  switch (spec.kind) {
    case 'modular': {
      const m = makeModularDataset(spec, seed);
      return {
        kind: 'modular',
        inputSize: m.inputSize,
        classes: m.classes,
        noiseRate: spec.labelNoise?.rate ?? 0,
        train: {
          n: m.train.pairs.length,
          x: oneHotPairs(m.train.pairs, m.p),
          labels: m.train.labels,
          trueLabels: m.train.trueLabels,
          corrupted: m.train.corrupted,
          corruptedCount: m.train.corruptedCount,
          source: m.train.pairs,
        },
        test: { n: m.test.pairs.length, x: oneHotPairs(m.test.pairs, m.p), labels: m.test.labels, trueLabels: m.test.trueLabels, source: m.test.pairs },
        modular: m,
      };
    }
    case 'mnist': {
      const raw = loadMnist();
      if (spec.train + spec.test > raw.n) {
        throw new DatasetError(`dataset: train + test = ${spec.train + spec.test} but the mnist package has ${raw.n} digits`, 'dataset.train');
      }
      const order = new Int32Array(raw.n);
      for (let i = 0; i < raw.n; i++) order[i] = i;
      shuffle(deriveRng(seed, 'split'), order);
      const split = { train: order.slice(0, spec.train).sort(), test: order.slice(spec.train, spec.train + spec.test).sort() };
      return { ...assemble(raw, split, spec.labelNoise, seed, 'mnist'), image: { height: 28, width: 28, channels: 1 } };
    }
    case 'moons': {
      const raw = makeMoons(spec.samples, spec.noise, seed);
      return assemble(raw, splitIndices(raw.n, spec.testFraction, seed), spec.labelNoise, seed, 'moons');
    }
    case 'spirals': {
      const raw = makeSpirals(spec.samples, spec.classes, spec.turns, spec.noise, seed);
      return assemble(raw, splitIndices(raw.n, spec.testFraction, seed), spec.labelNoise, seed, 'spirals');
    }
    case 'csv': {
      const file = path.resolve(baseDir, spec.path);
      const csv = loadCsv(file, spec);
      const split = splitIndices(csv.n, spec.testFraction, seed);
      const ds = assemble(csv, split, spec.labelNoise, seed, 'csv');
      if (spec.standardize) standardize(ds);
      return { ...ds, featureNames: csv.featureNames };
    }
  }
}

/** Zero mean, unit variance per feature from training statistics (test uses the same). */
export function standardize(ds: Dataset): void {
  const d = ds.inputSize;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  const { x, n } = ds.train;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[j] += (x[i * d + j] - mean[j]) ** 2;
  // A constant column keeps std 1 rather than dividing by zero.
  const std = Array.from(sq, (s) => Math.sqrt(s / n) || 1);
  for (const xs of [ds.train.x, ds.test.x]) {
    for (let k = 0; k < xs.length; k++) xs[k] = (xs[k] - mean[k % d]) / std[k % d];
  }
}

/**
 * dataset.relabel, then dataset.excludeExamples (both by source index) on the training split.
 * Done here, before the hand-over, so both engines train on the fixed split. `corrupted`
 * stays the truth: a row is corrupted when its label differs from its true label.
 */
export function applyLabelFixes(ds: Dataset, spec: Pick<DatasetSpec, 'excludeExamples' | 'relabel'>): Dataset {
  const { excludeExamples: exclude, relabel } = spec;
  if (!exclude?.length && !relabel?.length) return ds;
  const tr = ds.train;
  const row = new Map<number, number>();
  tr.source.forEach((s, i) => row.set(s, i));
  const rowOf = (source: number, field: string): number => {
    const i = row.get(source);
    if (i === undefined) {
      throw new DatasetError(`dataset.${field}: example ${source} is not in the training split (use the "source" column of the label-error export of a run with the same dataset and seed)`, `dataset.${field}`);
    }
    return i;
  };
  const labels = Int32Array.from(tr.labels);
  const corrupted = Uint8Array.from(tr.corrupted);
  for (const r of relabel ?? []) {
    if (r.label >= ds.classes) throw new DatasetError(`dataset.relabel: label ${r.label} of example ${r.example} is not a class (0..${ds.classes - 1})`, 'dataset.relabel');
    const i = rowOf(r.example, 'relabel');
    labels[i] = r.label;
    corrupted[i] = labels[i] === tr.trueLabels[i] ? 0 : 1;
  }
  const drop = new Set((exclude ?? []).map((s) => rowOf(s, 'excludeExamples')));
  if (drop.size >= tr.n) throw new DatasetError(`dataset.excludeExamples: leaves no training example (${tr.n} excluded)`, 'dataset.excludeExamples');
  const keep = Int32Array.from({ length: tr.n }, (_, i) => i).filter((i) => !drop.has(i));
  const pick = <T extends Int32Array | Uint8Array>(a: T): T => a.filter((_, i) => !drop.has(i)) as T;
  const kept = pick(corrupted);
  const train = {
    n: keep.length,
    x: takeRows(tr.x, ds.inputSize, keep),
    labels: pick(labels),
    trueLabels: pick(tr.trueLabels),
    corrupted: kept,
    corruptedCount: kept.reduce((a, b) => a + b, 0),
    source: pick(tr.source),
  };
  const modular = ds.modular ? { ...ds.modular, train: { ...ds.modular.train, pairs: train.source, labels: train.labels, trueLabels: train.trueLabels, corrupted: train.corrupted, corruptedCount: train.corruptedCount } } : undefined;
  return { ...ds, train, ...(modular ? { modular } : {}) };
}
