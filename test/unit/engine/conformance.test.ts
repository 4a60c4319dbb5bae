// Cross-engine conformance (issue 12, item 6): the TF.js engine (wasm, in this process)
// against the PyTorch engine (python/tests/conformance_driver.py, one spawn of a torch Python).
// Both sides run their engine's own code: train() here, the engine's _Run there, on the same
// hand-over data (src/engine/data/datasetNpy.ts), the same initial weights and the same
// mini-batches (the TS loop's shuffle order replayed by the driver); the probes' payload
// functions from the same weights; the regularizers' draws judged by the same statistics
// (python/tests/stat_laws.py). docs/results.md "Conformance" records what is compared and why
// the tolerances are what they are.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { findTorchPython } from '../../../scripts/torch-python';
import { selectBackend } from '../../../src/engine/backend';
import { makeDataset, type Dataset, type ImageShape } from '../../../src/engine/data/dataset';
import { writeDatasetNpy } from '../../../src/engine/data/datasetNpy';
import { readNpy, writeNpy } from '../../../src/engine/data/npy';
import { buildModel, nestedSampler, type Model } from '../../../src/engine/model';
import { detectDynamics, type DynamicsPoint } from '../../../src/engine/probes/dynamics';
import { LabelErrorTracker, labelErrorsPayload } from '../../../src/engine/probes/labelErrorsPayload';
import { mcDropoutProbe } from '../../../src/engine/probes/mcDropout';
import { probeNetwork, type ProbeNetwork } from '../../../src/engine/probes/network';
import { buildEvalData, memorizationScores, nestedOrderingProbe, pruningProbe, type ProbeContext, type ProbeData } from '../../../src/engine/probes/probes';
import { deriveRng, mulberry32, randNormal, shuffle } from '../../../src/engine/prng';
import { cutmixBatch } from '../../../src/engine/regularizers/cutmix';
import { forgetRate, smallLossIndices } from '../../../src/engine/regularizers/sampling';
import { train } from '../../../src/engine/train';
import type { EngineEvent, LabelErrorsProbe } from '../../../src/protocol/engineMessages';
import { parseExperiment, type Experiment, type ExperimentInput, type LayerSpec } from '../../../src/protocol/experiment';

const ROOT = path.join(__dirname, '..', '..', '..');
const DRIVER = path.join(ROOT, 'python', 'tests', 'conformance_driver.py');

/**
 * Trained weights: |torch - wasm| <= TRAIN_TOL * (1 + |wasm|), element-wise, after 12 steps.
 * Why this size: both engines compute in float32 (unit roundoff u = 6e-8) but sum in different
 * orders (XNNPACK vs OpenBLAS / MKL blocking, batch means over 24-32 rows, 6-16-wide dot
 * products), so each gradient carries a relative error of a few u. Adam turns it into a weight
 * error of about lr * (relative error of m / sqrt(v)) per step (well conditioned: no gradient
 * near 0 relative to its own rounding, see the cases), SGD into lr * |gradient error|; with
 * lr <= 0.1 and 12 steps that is ~1e-7, which is what is measured (the test prints the largest
 * difference of every case: 5e-8 to 1.5e-7). 1e-5 leaves a margin of ~70 for other BLAS builds
 * and thread counts and sits far below every semantic difference the negative controls plant
 * (2.6e-3 to 0.28, each checked to be > 10x the tolerance).
 */
const TRAIN_TOL = 1e-5;
/** Probe payloads (item 6b): |torch - wasm| <= 1e-4 * max(1, |wasm|); integers, names and ranks exactly. */
const PROBE_TOL = 1e-4;

type Json = any;

// ---- data ----

/** A CSV of d Gaussian features (times `scale`) and a label from a random linear teacher. */
function writeCsv(file: string, rows: number, d: number, classes: number, scale: number, seed: number): void {
  const rng = mulberry32(seed);
  const teacher = Array.from({ length: d * classes }, () => randNormal(rng));
  const lines = ['f0,' + Array.from({ length: d - 1 }, (_, j) => `f${j + 1}`).join(',') + ',label'];
  for (let i = 0; i < rows; i++) {
    const x = Array.from({ length: d }, () => randNormal(rng));
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < classes; c++) {
      let v = 0.7 * randNormal(rng);
      for (let j = 0; j < d; j++) v += x[j] * teacher[j * classes + c];
      if (v > bestV) [best, bestV] = [c, v];
    }
    lines.push([...x.map((v) => String(v * scale)), String(best)].join(','));
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

const dense = (units: number, extra: { useBias?: boolean; init?: 'glorot' | 'he' | 'normal' } = {}) => ({ type: 'dense' as const, units, ...extra });
const act = (fn: 'relu' | 'tanh' | 'sigmoid' | 'gelu' | 'square') => ({ type: 'activation' as const, fn });

// ---- (a) training cases ----

interface TrainCase {
  name: string;
  /** Why the case exists: what it would catch. */
  what: string;
  experiment: Experiment;
  /** A deliberately broken torch run (conformance_driver.py): the tolerance must catch it. */
  mutant?: string;
}

function trainCases(csv: string, tinyCsv: string): TrainCase[] {
  const base = (name: string, layers: ExperimentInput['model']['layers'], training: ExperimentInput['training'], dataset: Partial<ExperimentInput['dataset']> = {}): Experiment =>
    parseExperiment({
      name,
      seed: 7,
      dataset: { kind: 'csv', path: csv, testFraction: 0.2, ...dataset } as ExperimentInput['dataset'],
      model: { layers },
      training: { epochs: 3, batchSize: 32, ...training },
    } satisfies ExperimentInput);
  const mlp = (fn: 'relu' | 'tanh' | 'sigmoid' | 'gelu' = 'tanh') => [dense(16), act(fn), dense(4)];
  const adam = (extra: object = {}) => ({ kind: 'adam' as const, lr: 1e-2, beta1: 0.8, beta2: 0.95, ...extra });
  return [
    { name: 'adam', what: 'Adam with non-default betas', experiment: base('adam', mlp(), { optimizer: adam() }) },
    {
      // Inputs of 1e-5 make the first kernel's gradients ~1e-7, the size of epsilon: TF.js's
      // 1e-7 and torch's default 1e-8 give visibly different steps. Relative precision of the
      // gradients is unchanged (float32 scales), so the case stays well conditioned.
      name: 'adamEpsilon',
      what: "Adam's epsilon (1e-7, added to sqrt(v_hat))",
      experiment: base('adamEpsilon', mlp(), { optimizer: { kind: 'adam', lr: 1e-3 } }, { path: tinyCsv, standardize: false }),
      mutant: 'adamEps1e-8',
    },
    { name: 'weightDecay', what: 'decoupled weight decay after the step, biases included', experiment: base('weightDecay', mlp(), { optimizer: adam({ weightDecay: 0.5 }) }), mutant: 'noDecay' },
    { name: 'l2', what: 'coupled L2 = lambda * sum W^2 over kernels', experiment: base('l2', mlp('gelu'), { optimizer: adam(), regularizers: { l2: 0.02 } }), mutant: 'halfL2' },
    {
      name: 'labelSmoothing',
      what: 'label smoothing (1 - eps) y + eps / K',
      experiment: base('labelSmoothing', mlp('sigmoid'), { optimizer: adam(), regularizers: { labelSmoothing: 0.3 } }),
      mutant: 'smoothOverOthers',
    },
    {
      // No bias before batch norm: BN removes the batch mean, so that bias's gradient is exactly
      // 0 in theory and float noise in practice, which Adam would blow up to +-lr steps.
      name: 'batchNorm',
      what: 'batch norm: batch statistics (biased variance), TF momentum for the running statistics',
      experiment: base('batchNorm', [dense(16, { useBias: false }), { type: 'batchNorm', momentum: 0.8, epsilon: 1e-3 }, act('tanh'), dense(4)], { optimizer: adam() }),
      mutant: 'torchMomentum',
    },
    { name: 'sgd', what: 'plain SGD', experiment: base('sgd', mlp('relu'), { optimizer: { kind: 'sgd', lr: 0.1 } }) },
    {
      name: 'softTargets',
      what: "torch's soft-target loss path (candidate dropout keeping every class) with smoothing and decay",
      experiment: base('softTargets', mlp(), { optimizer: adam({ weightDecay: 0.1 }), regularizers: { labelSmoothing: 0.1, candidateDropout: { keep: 1 } } }),
    },
    {
      name: 'multiSample',
      what: 'multi-sample dropout at rate 0: the features / head split, M losses averaged',
      experiment: base('multiSample', [dense(16), act('gelu'), dense(8), act('tanh'), dense(4)], { optimizer: adam(), regularizers: { multiSampleDropout: { samples: 3, rate: 0 } } }),
    },
  ];
}

/** What train() gives: every named weight and the epoch losses. */
interface TsRun {
  weights: Map<string, Float32Array>;
  initial: Map<string, Float32Array>;
  losses: number[];
  events: EngineEvent[];
}

async function trainOnWasm(experiment: Experiment, baseDir: string): Promise<TsRun> {
  const events: EngineEvent[] = [];
  let weights: Map<string, Float32Array> | undefined;
  await train(experiment, {
    backend: 'wasm',
    baseDir,
    evalThread: false,
    onEvent: (e) => events.push(e),
    onTrained: (m) => (weights = namedValues(m)),
  });
  const failed = events.find((e) => e.type === 'failed');
  assert.ok(!failed, `wasm run ${experiment.name} failed: ${JSON.stringify(failed)}`);
  assert.ok(weights, 'onTrained was not called');
  return { weights, initial: new Map(), losses: events.flatMap((e) => (e.type === 'epoch' ? [e.loss] : [])), events };
}

function namedValues(m: Model): Map<string, Float32Array> {
  return new Map(m.namedWeights().map(({ name, variable }) => [name, Float32Array.from(variable.dataSync() as Float32Array)]));
}

/** The row order of every epoch, as train.ts shuffles it (one stream, shuffled in place epoch after epoch). */
function epochOrders(seed: number, n: number, epochs: number): Int32Array {
  const rng = deriveRng(seed, 'batches');
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const out = new Int32Array(n * epochs);
  for (let e = 0; e < epochs; e++) {
    shuffle(rng, order);
    out.set(order, e * n);
  }
  return out;
}

/** Writes the hand-over folder with the seeded initial weights train() will start from; returns them. */
function handOver(experiment: Experiment, data: Dataset, dir: string): Map<string, Float32Array> {
  const model = buildModel(experiment.model.layers, data.inputSize, experiment.seed, data.image, 'init');
  try {
    const initialWeights = model.namedWeights().map(({ name, variable }) => ({ name, shape: variable.shape, values: Float32Array.from(variable.dataSync() as Float32Array) }));
    writeDatasetNpy(dir, data, { initialWeights });
    return new Map(initialWeights.map((w) => [w.name, w.values]));
  } finally {
    model.dispose();
  }
}

/** Largest |a - b| / (1 + |b|) over the elements. */
function relDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return worst;
}

// ---- (b) probe cases ----

interface ProbeCase {
  name: string;
  layers: LayerSpec[];
  model: Model;
  image?: ImageShape;
  probeData: ProbeData;
  memorization: { want: 'auto' | 'ipr' | 'ablation'; layer?: string }[];
  pruningSteps: number;
  mc: { passes: number; examples: number; seed: number; round: number };
}

function tsProbes(c: ProbeCase): Json {
  const net = probeNetwork(c.model, c.layers);
  const data = buildEvalData(c.probeData);
  const ctx: ProbeContext = { model: c.model, layers: c.layers, spec: undefined, data: c.probeData, seed: 0, totalEpochs: 1, onEvent: () => undefined };
  try {
    const mem = c.memorization.map((m) => memorizationScores(ctx, net, () => data, m.want, m.layer));
    const nestedLayer = net.layer(net.nestedLayers[0] ?? net.hidden[net.hidden.length - 1].name)!;
    // MC dropout at rate 0: the probe's MC passes are the deterministic pass. The TS network
    // has no MC split without a rate > 0, so it is given the deterministic one here (the torch
    // side runs its MC path with include_zero_rate); everything after the probabilities is the
    // probe's own code on both sides.
    const deterministic: ProbeNetwork = { ...net, hasDropout: true, mcSplit: () => ({ prefix: (x) => tf.clone(x), rest: (h) => net.logits(h) }) };
    const mc = mcDropoutProbe(deterministic, data, {
      ...c.mc,
      evalLogits: (x) => net.logits(x),
      nTrain: c.probeData.trainLabels.length,
      ...(c.image ? { image: { width: c.image.width, height: c.image.height } } : {}),
    });
    return {
      memorization: mem.map((m) => m.probe),
      pruning: pruningProbe(net, mem[0].scores, data, c.pruningSteps),
      nestedOrdering: nestedOrderingProbe(net, nestedLayer, data),
      mcDropout: mc,
    };
  } finally {
    data.x.dispose();
  }
}

function writeProbeCase(c: ProbeCase, dir: string): Json {
  const wdir = path.join(dir, 'weights');
  const names: string[] = [];
  for (const { name, variable } of c.model.namedWeights()) {
    fs.mkdirSync(path.dirname(path.join(wdir, name)), { recursive: true });
    writeNpy(path.join(wdir, `${name}.npy`), Float32Array.from(variable.dataSync() as Float32Array), variable.shape);
    names.push(name);
  }
  const ddir = path.join(dir, 'data');
  fs.mkdirSync(ddir, { recursive: true });
  const d = c.probeData;
  writeNpy(path.join(ddir, 'x_train.npy'), d.xTrain.dataSync() as Float32Array, d.xTrain.shape);
  writeNpy(path.join(ddir, 'x_test.npy'), d.xTest.dataSync() as Float32Array, d.xTest.shape);
  writeNpy(path.join(ddir, 'train_labels.npy'), d.trainLabels, [d.trainLabels.length]);
  writeNpy(path.join(ddir, 'corrupted.npy'), d.corrupted, [d.corrupted.length]);
  writeNpy(path.join(ddir, 'test_labels.npy'), d.testLabels, [d.testLabels.length]);
  return {
    name: c.name,
    layers: c.layers,
    inputSize: c.model.inputSize,
    image: c.image ?? null,
    weights: wdir,
    weightNames: names,
    data: ddir,
    modularP: d.modularP ?? null,
    memorization: c.memorization,
    pruningSteps: c.pruningSteps,
    mc: c.mc,
  };
}

function probeDataOf(data: Dataset): ProbeData {
  return {
    xTrain: tf.tensor2d(data.train.x, [data.train.n, data.inputSize]),
    xTest: tf.tensor2d(data.test.x, [data.test.n, data.inputSize]),
    trainLabels: data.train.labels,
    corrupted: data.train.corrupted,
    testLabels: data.test.labels,
    ...(data.modular ? { modularP: data.modular.p } : {}),
  };
}

const isNum = (v: unknown): v is number => typeof v === 'number';
/** The largest scaled difference seen by close() since the last reset (printed per case). */
let worstProbeDiff = 0;
const close = (a: number, b: number) => {
  const d = Math.abs(a - b) / Math.max(1, Math.abs(a));
  worstProbeDiff = Math.max(worstProbeDiff, d);
  return d <= PROBE_TOL;
};

/** Deep comparison of two payloads: same keys, same strings / integers, numbers within PROBE_TOL. */
function assertPayload(ts: Json, py: Json, where: string): void {
  if (isNum(ts) && isNum(py)) {
    assert.ok(close(ts, py), `${where}: wasm ${ts} vs torch ${py}`);
    return;
  }
  if (ts === null || py === null || typeof ts !== 'object' || typeof py !== 'object') {
    assert.deepEqual(py, ts, `${where}: wasm ${JSON.stringify(ts)} vs torch ${JSON.stringify(py)}`);
    return;
  }
  if (Array.isArray(ts)) {
    assert.ok(Array.isArray(py) && py.length === ts.length, `${where}: wasm has ${ts.length} entries, torch ${Array.isArray(py) ? py.length : typeof py}`);
    ts.forEach((v, i) => assertPayload(v, py[i], `${where}[${i}]`));
    return;
  }
  assert.deepEqual(Object.keys(py).sort(), Object.keys(ts).sort(), `${where}: keys`);
  for (const k of Object.keys(ts)) {
    if (k === 'mostUncertain' || k === 'activeLearning') assertRanking(ts[k], py[k], k === 'mostUncertain' ? 'entropy' : 'score', `${where}.${k}`);
    else if (k.endsWith('Histogram') && Math.max(...ts[k].edges, ...py[k].edges) < PROBE_TOL) assertNoiseHistogram(ts[k], py[k], `${where}.${k}`);
    else assertPayload(ts[k], py[k], `${where}.${k}`);
  }
}

/**
 * A histogram whose edges all lie within the tolerance of 0 bins values that are 0 up to
 * rounding (the mutual information at rate 0: H[mean] - mean H of identical passes, clamped at
 * 0, is 1e-17-sized float64 noise on each engine): which bin a value lands in is noise, so only
 * the edges and each split's total are compared.
 */
function assertNoiseHistogram(ts: Json, py: Json, where: string): void {
  assertPayload(ts.edges, py.edges, `${where}.edges`);
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  for (const split of ['clean', 'corrupted', 'test']) assert.equal(sum(py[split]), sum(ts[split]), `${where}.${split}: total`);
}

/**
 * A list ranked by a float (most uncertain examples, the active-learning ranking): the value at
 * every rank agrees; an example whose rank differs may only have swapped with one of an equal
 * value (within the tolerance), and every example both lists hold agrees field by field.
 */
function assertRanking(ts: Json[], py: Json[], key: string, where: string): void {
  assert.equal(py.length, ts.length, `${where}: length`);
  ts.forEach((t, i) => assert.ok(close(t[key], py[i][key]), `${where}[${i}].${key}: wasm ${t[key]} vs torch ${py[i][key]}`));
  // An example is its split and its index in that split.
  const id = (e: Json) => `${e.split ?? ''} ${e.index}`;
  const byId = new Map(py.map((p) => [id(p), p]));
  const last = ts.length ? ts[ts.length - 1][key] : 0;
  for (const t of ts) {
    const p = byId.get(id(t));
    if (p) assertPayload(t, p, `${where}{${id(t)}}`);
    else assert.ok(close(t[key], last), `${where}: example ${id(t)} (${key} ${t[key]}) is missing on torch and is not a tie at the cut`);
  }
}

// ---- the run ----

describe('conformance: the TF.js engine (wasm) and the PyTorch engine', function () {
  this.timeout(180_000);
  let dir = '';
  const cases: { c: TrainCase; ts: TsRun }[] = [];
  const probeCases: { c: ProbeCase; ts: Json }[] = [];
  const dynamicsSeries: DynamicsPoint[][] = [];
  const forgetGrid: [number, number, number][] = [];
  const smallLoss: { losses: number[]; rate: number }[] = [];
  const laws: Json = { nested: [], cutmix: [], dropout: [] };
  const labelErrorInputs: Json[] = [];
  const labelErrorPayloads: LabelErrorsProbe[] = [];
  let result: Json;

  before(async () => {
    const python = findTorchPython();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-conformance-'));
    await selectBackend('wasm');
    const csv = path.join(dir, 'features.csv');
    const tinyCsv = path.join(dir, 'tiny-features.csv');
    writeCsv(csv, 150, 6, 4, 1, 1);
    writeCsv(tinyCsv, 150, 6, 4, 1e-5, 1);

    // (a) the TS side trains; the driver trains the same steps on torch.
    const training: Json[] = [];
    for (const c of trainCases(csv, tinyCsv)) {
      const data = makeDataset(c.experiment.dataset, c.experiment.seed, dir);
      const dataDir = path.join(dir, 'train', c.name);
      const initial = handOver(c.experiment, data, dataDir);
      const orders = path.join(dataDir, 'orders.npy');
      const epochs = c.experiment.training.epochs;
      writeNpy(orders, epochOrders(c.experiment.seed, data.train.n, epochs), [epochs, data.train.n]);
      const ts = await trainOnWasm(c.experiment, dir);
      ts.initial = initial;
      cases.push({ c, ts });
      training.push({ name: c.name, dataDir, experiment: c.experiment, orders });
      if (c.mutant) training.push({ name: `${c.name}~${c.mutant}`, dataDir, experiment: c.experiment, orders, mutant: c.mutant });
    }

    // (d) the labelErrors probe in a run trained on both engines with the same steps.
    {
      const e = parseExperiment({
        name: 'labelErrors',
        seed: 7,
        dataset: { kind: 'csv', path: csv, testFraction: 0.2, labelNoise: { kind: 'symmetric', rate: 0.3 } },
        model: { layers: [dense(16), act('relu'), dense(4)] },
        training: { epochs: 10, batchSize: 32, optimizer: { kind: 'adam', lr: 1e-2, beta1: 0.8, beta2: 0.95 } },
        probes: { labelErrors: { topK: 5, mcPasses: 3 } },
      } satisfies ExperimentInput);
      const data = makeDataset(e.dataset, e.seed, dir);
      const dataDir = path.join(dir, 'train', e.name);
      handOver(e, data, dataDir);
      const orders = path.join(dataDir, 'orders.npy');
      writeNpy(orders, epochOrders(e.seed, data.train.n, e.training.epochs), [e.training.epochs, data.train.n]);
      const ts = await trainOnWasm(e, dir);
      cases.push({ c: { name: e.name, what: 'the labelErrors probe', experiment: e }, ts });
      training.push({ name: e.name, dataDir, experiment: e, orders });
    }
    // (d) the payload from the same inputs: ties on purpose (coarse grids), both engines rank by index.
    for (const [n, K, epochs, seed] of [
      [60, 4, 5, 1],
      [33, 3, 1, 2],
    ]) {
      const r = mulberry32(400 + seed);
      const labels = Int32Array.from({ length: n }, () => Math.floor(r() * K));
      const preds = Array.from({ length: epochs }, () => Array.from({ length: n }, () => Math.floor(r() * K)));
      const margins = Array.from({ length: epochs }, () => Array.from({ length: n }, () => Math.round((r() - 0.5) * 8) / 2));
      const probs = new Float32Array(n * K);
      for (let i = 0; i < n; i++) {
        const w = Array.from({ length: K }, () => Math.floor(r() * 5) + 1);
        const total = w.reduce((a, b) => a + b, 0);
        w.forEach((v, c) => (probs[i * K + c] = v / total));
      }
      const corrupted = Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
      const mcGiven = Float32Array.from({ length: n }, () => Math.floor(r() * 10) / 10);
      const tracker = new LabelErrorTracker(labels);
      preds.forEach((p, t) => tracker.update(p, Float32Array.from(margins[t])));
      const input = { methods: ['aum', 'forgetting', 'smallLoss', 'confidentLearning', 'mcDropout'] as const, labels, classes: K, source: Array.from({ length: n }, (_, i) => 3 * i), corrupted, checkpointEpoch: epochs };
      labelErrorPayloads.push(labelErrorsPayload({ ...input, methods: [...input.methods], tracker, checkpoint: 'bestTestAccuracy', probs, mcGiven, topK: 5 }));
      labelErrorInputs.push({ ...input, labels: Array.from(labels), preds, margins, probs: Array.from(probs), mcGiven: Array.from(mcGiven) });
    }

    // (b) trained weights (TS), then every deterministic probe payload on both sides.
    const modular = parseExperiment({
      name: 'probes-modular',
      seed: 4,
      dataset: { kind: 'modular', p: 13, trainFraction: 0.6, labelNoise: { kind: 'symmetric', rate: 0.25 } },
      model: { layers: [dense(48, { init: 'he' }), act('relu'), { type: 'dropout', rate: 0 }, dense(13)] },
      training: { epochs: 40, batchSize: 32, optimizer: { kind: 'adam', lr: 0.01 } },
    } satisfies ExperimentInput);
    const mlp = parseExperiment({
      name: 'probes-mlp',
      seed: 5,
      dataset: { kind: 'csv', path: csv, testFraction: 0.3, labelNoise: { kind: 'symmetric', rate: 0.2 } },
      model: { layers: [dense(24), act('relu'), { type: 'nestedDropout', sigma: 8 }, dense(16), act('tanh'), { type: 'dropout', rate: 0 }, dense(4)] },
      training: { epochs: 30, batchSize: 16, optimizer: { kind: 'adam', lr: 0.01 } },
    } satisfies ExperimentInput);
    for (const [e, memorization] of [
      [modular, [{ want: 'auto' }, { want: 'ablation', layer: 'dense_0' }]],
      [mlp, [{ want: 'auto' }, { want: 'ablation', layer: 'dense_0' }]],
    ] as const) {
      const data = makeDataset(e.dataset, e.seed, dir);
      const run = await trainOnWasm(e, dir);
      const model = buildModel(e.model.layers, data.inputSize, e.seed, data.image, 'init', run.weights);
      dynamicsSeries.push(dynamicsOf(run.events));
      probeCases.push({
        c: { name: e.name, layers: e.model.layers, model, probeData: probeDataOf(data), memorization: memorization.map((m) => ({ ...m })), pruningSteps: 4, mc: { passes: 3, examples: 60, seed: e.seed, round: 2 } },
        ts: undefined,
      });
    }
    // Conv + batch norm (the probes' model-API path on TS, NCHW inside torch): seeded weights
    // with non-trivial batch-norm state, on random 8x8 images.
    const image = { height: 8, width: 8, channels: 1 };
    const convLayers = parseExperiment({
      name: 'conv',
      dataset: { kind: 'moons' },
      training: {},
      model: {
        layers: [
          { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same' },
          act('relu'),
          { type: 'maxPool', poolSize: 2 },
          { type: 'flatten' },
          dense(12),
          act('relu'),
          { type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 },
          { type: 'dropout', rate: 0 },
          dense(3),
        ],
      },
    } satisfies ExperimentInput).model.layers;
    const rng = mulberry32(9);
    const bnState = new Map<string, Float32Array>([
      ['batch_norm_0/gamma', Float32Array.from({ length: 12 }, () => 0.5 + rng())],
      ['batch_norm_0/beta', Float32Array.from({ length: 12 }, () => rng() - 0.5)],
      ['batch_norm_0/moving_mean', Float32Array.from({ length: 12 }, () => rng())],
      ['batch_norm_0/moving_variance', Float32Array.from({ length: 12 }, () => 0.2 + rng())],
    ]);
    const convModel = buildModel(convLayers, 64, 9, image, 'init', bnState);
    const images = (n: number) => tf.tensor2d(Float32Array.from({ length: n * 64 }, () => rng()), [n, 64]);
    const labels = (n: number) => Int32Array.from({ length: n }, () => Math.floor(rng() * 3));
    probeCases.push({
      c: {
        name: 'probes-conv',
        layers: convLayers,
        model: convModel,
        image,
        probeData: { xTrain: images(80), xTest: images(40), trainLabels: labels(80), corrupted: Uint8Array.from({ length: 80 }, () => (rng() < 0.25 ? 1 : 0)), testLabels: labels(40) },
        memorization: [{ want: 'ablation' }],
        pruningSteps: 3,
        mc: { passes: 2, examples: 50, seed: 3, round: 0 },
      },
      ts: undefined,
    });
    for (const p of probeCases) p.ts = tsProbes(p.c);
    const probes = probeCases.map((p) => writeProbeCase(p.c, path.join(dir, 'probes', p.c.name)));

    // Dynamics: the two runs' series and two made to fire both detectors.
    dynamicsSeries.push(
      Array.from({ length: 30 }, (_, i) => ({ epoch: i + 1, trainLoss: 2 / (i + 1), testLoss: 1 + ((i - 10) / 10) ** 2, corruptedTrain: i < 12 ? i / 12 : Math.max(0, 1 - (i - 12) / 6) })),
      Array.from({ length: 12 }, (_, i) => ({ epoch: i + 1, trainLoss: 1, testLoss: 1, corruptedTrain: null })),
    );

    // (c) the TS side's draws, judged by the driver with the torch side's statistics.
    for (let T = 0; T <= 12; T++) for (const tau of [0.2, 0.45]) for (const tk of [1, 5, 10]) forgetGrid.push([T, tau, tk]);
    const lossRng = mulberry32(3);
    for (const rate of [0, 0.2, 0.5, 0.99]) {
      // Ties on purpose (values on a coarse grid): both engines break them by index.
      smallLoss.push({ losses: Array.from({ length: 37 }, () => Math.floor(lossRng() * 8) / 4), rate });
    }
    const nestedSpecs = [
      { units: 16, distribution: 'halfGaussian' as const, sigma: 4, rho: 0.9 },
      { units: 16, distribution: 'geometric' as const, sigma: 10, rho: 0.8 },
    ];
    for (const [i, spec] of nestedSpecs.entries()) {
      const sample = nestedSampler(spec.units, spec);
      const r = mulberry32(100 + i);
      const counts = new Array(spec.units).fill(0);
      for (let k = 0; k < 20000; k++) counts[sample(r) - 1]++;
      laws.nested.push({ ...spec, draws: 20000, seed: 200 + i, tsCounts: counts });
    }
    for (const beta of [0.5, 1, 2]) {
      const im = { height: 7, width: 9, channels: 1 };
      const r = mulberry32(300 + beta * 10);
      const n = 3;
      const x = Float32Array.from({ length: n * 63 }, (_, k) => Math.floor(k / 63));
      const y = Float32Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
      const sampled: number[] = [];
      const lam: number[] = [];
      for (let k = 0; k < 6000; k++) {
        const m = cutmixBatch(x, y, n, n, im, beta, r);
        sampled.push(m.sampledLambda);
        lam.push(m.lambda);
        if (k < 300) {
          // The label weight is the unpasted area, pixel for pixel.
          const moved = Array.from(m.perm).findIndex((p, i) => p !== i);
          if (moved >= 0) {
            let changed = 0;
            for (let j = 0; j < 63; j++) if (m.x[moved * 63 + j] !== x[moved * 63 + j]) changed++;
            assert.ok(Math.abs(changed / 63 - (1 - m.lambda)) < 1e-12, `pasted ${changed}/63 but lambda ${m.lambda}`);
          }
        }
      }
      laws.cutmix.push({ height: 7, width: 9, beta, sampled, lam });
    }
    for (const rate of [0.1, 0.5]) laws.dropout.push({ rate, ...tsDropoutCounts(rate, 400, 500) });

    const job = { out: path.join(dir, 'out'), training, probes, dynamics: dynamicsSeries, forgetRates: forgetGrid, smallLoss, laws, labelErrors: labelErrorInputs };
    fs.mkdirSync(job.out, { recursive: true });
    const jobFile = path.join(dir, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify(job));
    const r = spawnSync(python, [DRIVER, jobFile], {
      encoding: 'utf8',
      timeout: 150_000,
      env: { ...process.env, PYTHONPATH: path.join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1' },
    });
    assert.equal(r.status, 0, `${python} ${DRIVER} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
    result = JSON.parse(fs.readFileSync(path.join(job.out, 'result.json'), 'utf8'));
  });

  after(() => {
    for (const p of probeCases) {
      p.c.model.dispose();
      tf.dispose([p.c.probeData.xTrain, p.c.probeData.xTest]);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const torchWeights = (name: string): Map<string, Float32Array> => {
    const out = new Map<string, Float32Array>();
    for (const w of result.training[name].weights as string[]) out.set(w, readNpy(path.join(dir, 'out', name, `${w}.npy`)).values as Float32Array);
    return out;
  };

  describe('(a) the same training steps give the same weights', () => {
    for (const name of ['adam', 'adamEpsilon', 'weightDecay', 'l2', 'labelSmoothing', 'batchNorm', 'sgd', 'softTargets', 'multiSample']) {
      it(`${name}: every weight (and batch-norm state) within ${TRAIN_TOL} after 12 steps; the epoch losses agree`, () => {
        const { c, ts } = cases.find((k) => k.c.name === name)!;
        const torch = torchWeights(name);
        assert.deepEqual([...torch.keys()].sort(), [...ts.weights.keys()].sort(), 'weight names (TF.js names, via weight_names)');
        let worst = 0;
        let moved = 0;
        for (const [w, values] of ts.weights) {
          const d = relDiff(torch.get(w)!, values);
          assert.ok(d <= TRAIN_TOL, `${c.what}: ${w} differs by ${d.toExponential(2)} (tolerance ${TRAIN_TOL})`);
          worst = Math.max(worst, d);
          moved = Math.max(moved, relDiff(values, ts.initial.get(w)!));
        }
        // The comparison means something only if training moved the weights far beyond it.
        assert.ok(moved > 100 * TRAIN_TOL, `training moved the weights by only ${moved}`);
        const losses: number[] = result.training[name].losses;
        assert.equal(losses.length, ts.losses.length);
        ts.losses.forEach((l, i) => assert.ok(Math.abs(l - losses[i]) <= TRAIN_TOL * (1 + l), `epoch ${i + 1} loss: wasm ${l} vs torch ${losses[i]}`));
        console.log(`      ${name}: largest weight difference ${worst.toExponential(2)}, weights moved ${moved.toExponential(2)}`);
        if (c.mutant) {
          // Negative control: the same run with one semantic broken is caught by the tolerance.
          const broken = torchWeights(`${name}~${c.mutant}`);
          const off = Math.max(...[...ts.weights].map(([w, v]) => relDiff(broken.get(w)!, v)));
          assert.ok(off > 10 * TRAIN_TOL, `${c.mutant} moves the weights by only ${off.toExponential(2)}: the tolerance could not catch it`);
          console.log(`      ${name}~${c.mutant}: ${off.toExponential(2)} (caught)`);
        }
      });
    }
  });

  describe('(b) the same weights give the same probe payloads', () => {
    for (const name of ['probes-modular', 'probes-mlp', 'probes-conv']) {
      it(`${name}: memorization (IPR / ablation), pruning curves, acc(k) nested ordering, MC dropout at rate 0 agree to ${PROBE_TOL}`, () => {
        const { ts } = probeCases.find((p) => p.c.name === name)!;
        const py = result.probes[name];
        worstProbeDiff = 0;
        assertPayload(ts, py, name);
        console.log(`      ${name}: largest difference ${worstProbeDiff.toExponential(2)}`);
        if (name === 'probes-modular') assert.equal(ts.memorization[0].method, 'ipr');
        assert.equal(ts.memorization[ts.memorization.length - 1].method, 'ablation');
        // acc(k) keeps the first k units: at k = all units nothing is truncated, so it is the
        // model's own test accuracy, as the pruning curve's first point (nothing pruned).
        assert.equal(ts.nestedOrdering.accuracy[ts.nestedOrdering.accuracy.length - 1], ts.pruning.memorizingFirst.test[0]);
        assert.ok(ts.mcDropout.examples > 0 && ts.mcDropout.summary.meanMutualInformation.test < 1e-6, 'rate 0: no disagreement between passes');
      });
    }
    it('dynamics: unlearning and degradation epochs of the same series agree', () => {
      dynamicsSeries.forEach((s, i) => assert.deepEqual(result.dynamics[i], detectDynamics(s), `series ${i}`));
      assert.ok(result.dynamics.some((d: Json) => d.unlearningEpoch !== null) && result.dynamics.some((d: Json) => d.degradationEpoch !== null), 'a series fires each detector');
    });
  });

  describe('(d) label errors', () => {
    it('the same per-epoch predictions, margins and checkpoint probabilities give the same payload (scores to 1e-12, rankings and metrics exactly)', () => {
      labelErrorPayloads.forEach((ts, i) => {
        const py: LabelErrorsProbe = result.labelErrors[i];
        assert.deepEqual(Object.keys(py).sort(), Object.keys(ts).sort());
        for (const k of ['examples', 'epochsTracked', 'checkpointEpoch', 'checkpoint', 'given', 'suggested', 'source', 'corrupted'] as const) assert.deepEqual(py[k], ts[k], k);
        ts.methods.forEach((m, j) => {
          const pm = py.methods[j];
          assert.equal(pm.method, m.method);
          assert.equal(pm.flagged, m.flagged, `${m.method} flagged`);
          m.scores!.forEach((v, e) => assert.ok(Math.abs(v - pm.scores![e]) <= 1e-12 * (1 + Math.abs(v)), `${m.method} score ${e}: ${v} vs ${pm.scores![e]}`));
          const tm = m.metrics!;
          const pmm = pm.metrics!;
          assert.ok(Math.abs(tm.auroc! - pmm.auroc!) < 1e-12 && Math.abs(tm.averagePrecision - pmm.averagePrecision) < 1e-12, `${m.method} metrics`);
          assert.deepEqual({ ...pmm, auroc: 0, averagePrecision: 0 }, { ...tm, auroc: 0, averagePrecision: 0 }, `${m.method} precision, recall, PR curve`);
        });
      });
    });

    it('trained with the same steps, both engines emit the same payload shape, checkpoint and (nearly) the same scores and AUROC', () => {
      const ts = cases.find((k) => k.c.name === 'labelErrors')!.ts.events.flatMap((e) => (e.type === 'probe' ? [e.probe] : []));
      const py: LabelErrorsProbe[] = result.training.labelErrors.probes;
      assert.equal(ts.length, 1);
      assert.equal(py.length, 1);
      const [a, b] = [ts[0] as LabelErrorsProbe, py[0]];
      assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
      assert.deepEqual(b.methods.map((m) => Object.keys(m).sort()), a.methods.map((m) => Object.keys(m).sort()));
      for (const k of ['examples', 'epochsTracked', 'checkpointEpoch', 'given', 'source', 'corrupted'] as const) assert.deepEqual(b[k], a[k], k);
      assert.equal(b.methods.find((m) => m.method === 'mcDropout')!.unavailable, a.methods.find((m) => m.method === 'mcDropout')!.unavailable);
      for (const m of a.methods) {
        if (!m.scores) continue;
        const pm = b.methods.find((x) => x.method === m.method)!;
        // Same weights to ~1e-7 (part (a)): margins and probabilities agree to float32 rounding.
        const worst = Math.max(...m.scores.map((v, e) => Math.abs(v - pm.scores![e]) / (1 + Math.abs(v))));
        assert.ok(worst < 1e-5, `${m.method}: scores differ by ${worst}`);
        assert.ok(Math.abs(m.metrics!.auroc! - pm.metrics!.auroc!) < 0.01, `${m.method}: AUROC wasm ${m.metrics!.auroc} vs torch ${pm.metrics!.auroc}`);
        console.log(`      ${m.method}: AUROC wasm ${m.metrics!.auroc!.toFixed(4)}, torch ${pm.metrics!.auroc!.toFixed(4)}, largest score difference ${worst.toExponential(2)}`);
      }
    });
  });

  describe('(c) the stochastic regularizers follow the same laws', () => {
    it("co-teaching: R(T) = min(T tau / Tk, tau) is the same number on both engines; both keep max(1, floor((1 - R) n)) samples, ties by index", () => {
      forgetGrid.forEach(([T, tau, tk], i) => assert.equal(result.forgetRates[i], forgetRate(T, tau, tk), `R(${T}) tau ${tau} Tk ${tk}`));
      smallLoss.forEach((s, i) => {
        const ts = Array.from(smallLossIndices(s.losses, s.rate));
        assert.equal(ts.length, Math.max(1, Math.floor((1 - s.rate) * s.losses.length)));
        assert.deepEqual(result.smallLoss[i], ts, `rate ${s.rate}`);
      });
    });
    it(`nested dropout: k follows the exact p(k) on each engine and the two engines' histograms agree (chi-square, p > 1e-6)`, () => {
      for (const r of result.laws.nested) {
        assert.ok(r.tsFit.p > 1e-6, `TS ${r.distribution}: ${JSON.stringify(r.tsFit)}`);
        assert.ok(r.torchFit.p > 1e-6, `torch ${r.distribution}: ${JSON.stringify(r.torchFit)}`);
        assert.ok(r.twoSample.p > 1e-6, `TS vs torch ${r.distribution}: ${JSON.stringify(r.twoSample)}`);
        assert.ok(r.wrongFit.p < 1e-6, `the test cannot tell ${r.distribution} from a nearby law: ${JSON.stringify(r.wrongFit)}`);
      }
    });
    it('CutMix (TS): lambda_0 ~ Beta(beta, beta) (KS with the DKW bound, mean and variance z < 5) and the label weight has the exact clipped-box mean (z < 5)', () => {
      for (const r of result.laws.cutmix) {
        assert.ok(r.ks < r.ksBound, `Beta(${r.beta}): KS ${r.ks} >= ${r.ksBound}`);
        assert.ok(Math.abs(r.moments.mean) < 5 && Math.abs(r.moments.variance) < 5, `Beta(${r.beta}) moments: ${JSON.stringify(r.moments)}`);
        assert.ok(Math.abs(r.z) < 5, `Beta(${r.beta}): mean lambda z = ${r.z}`);
        assert.ok(Math.abs(r.zUnclipped) > 5, `Beta(${r.beta}): cannot tell clipping from none (z = ${r.zUnclipped})`);
      }
    });
    it('dropout (TS layer): each unit kept independently with probability 1 - rate, kept units scaled by 1 / (1 - rate)', () => {
      for (const r of result.laws.dropout) {
        assert.ok(Math.abs(r.z) < 5, `rate ${r.rate}: z = ${r.z}`);
        assert.ok(r.rows.p > 1e-6 && r.columns.p > 1e-6, `rate ${r.rate}: dispersion ${JSON.stringify(r)}`);
      }
    });
  });
});

/** The dynamics probe's series from a run's epoch events. */
function dynamicsOf(events: EngineEvent[]): DynamicsPoint[] {
  return events.flatMap((e) => (e.type === 'epoch' ? [{ epoch: e.epoch, trainLoss: e.loss, testLoss: e.testLoss ?? NaN, corruptedTrain: e.accuracy.corruptedTrain }] : []));
}

/** Kept units per row and column of the TS dropout layer in training mode (ones in, identity kernel before it). */
function tsDropoutCounts(rate: number, rows: number, width: number): { rowCounts: number[]; columnCounts: number[]; width: number; rowsN: number } {
  const eye = new Float32Array(width * width);
  for (let i = 0; i < width; i++) eye[i * width + i] = 1;
  const layers = parseExperiment({
    name: 'dropout',
    dataset: { kind: 'moons' },
    training: {},
    model: { layers: [dense(width, { useBias: false }), { type: 'dropout', rate }, dense(2)] },
  } satisfies ExperimentInput).model.layers;
  const m = buildModel(layers, width, 0, undefined, 'init', new Map([['dense_0/kernel', eye]]));
  const seeds = mulberry32(17);
  try {
    const h = tf.tidy(() => m.forward(tf.ones([rows, width]) as tf.Tensor2D, { mode: 'train', nextSeed: () => Math.floor(seeds() * 2 ** 31), capture: 'dense_0' }).hidden!);
    const v = h.dataSync() as Float32Array;
    h.dispose();
    const rowCounts = new Array(rows).fill(0);
    const columnCounts = new Array(width).fill(0);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < width; j++) {
        const x = v[i * width + j];
        if (x !== 0) {
          assert.ok(Math.abs(x - 1 / (1 - rate)) < 1e-6, `kept unit scaled to ${x}, not 1 / (1 - ${rate})`);
          rowCounts[i]++;
          columnCounts[j]++;
        }
      }
    }
    return { rowCounts, columnCounts, width, rowsN: rows };
  } finally {
    m.dispose();
  }
}
