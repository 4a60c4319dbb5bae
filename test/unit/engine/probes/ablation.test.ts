import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../../src/engine/backend';
import { buildModel } from '../../../../src/engine/model';
import { ablationScores, EvalData, maskedHits, prefixHits, rank1Hits } from '../../../../src/engine/probes/ablation';
import { probeNetwork } from '../../../../src/engine/probes/network';
import { nestedOrderingProbe, pruningProbe } from '../../../../src/engine/probes/probes';
import { deriveRng, randNormal } from '../../../../src/engine/prng';
import type { LayerSpec } from '../../../../src/protocol/experiment';
import { parseExperiment } from '../../../../src/protocol/experiment';

function layersOf(layers: unknown[]): LayerSpec[] {
  return parseExperiment({
    name: 't',
    dataset: { kind: 'modular', p: 5 },
    model: { layers },
    training: {},
  }).model.layers;
}

/** Random inputs and labels, a random split into clean / corrupted / test. */
function randomData(n: number, d: number, classes: number, seed: number): EvalData {
  const rng = deriveRng(seed, 'data');
  const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => randNormal(rng)), [n, d]);
  const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * classes));
  const group = Uint8Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : i < (3 * n) / 4 ? 1 : 2));
  const counts: [number, number, number] = [0, 0, 0];
  for (const g of group) counts[g]++;
  return { x, labels, group, counts };
}

describe('ablation, pruning and truncation probes on real small models', () => {
  before(() => selectBackend('wasm'));

  it('the probe network reproduces model.apply, and rank-1 ablation equals the masked pass (1e-5)', () => {
    const before = tf.memory().numTensors;
    const model = buildModel(layersOf([{ type: 'dense', units: 24 }, { type: 'activation', fn: 'relu' }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 7 }]), 10, 4);
    const net = probeNetwork(model, layersOf([{ type: 'dense', units: 24 }, { type: 'activation', fn: 'relu' }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 7 }]));
    const data = randomData(200, 10, 7, 1);
    const layer = net.hidden[0];
    assert.equal(layer.feedsOutput, true);
    tf.tidy(() => {
      const ref = model.apply(data.x, false).dataSync();
      const h = net.hiddenOf(data.x, layer);
      const mine = net.logitsFrom(h, layer).dataSync();
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(ref[i] - mine[i]) < 1e-5);
      // Logits without unit j: rank-1 update vs zeroing h_j and rerunning.
      const logits = net.logitsFrom(h, layer);
      const w = net.outKernel(layer);
      for (const j of [0, 5, 23]) {
        const rank1 = tf.sub(logits, tf.matMul(tf.slice(h, [0, j], [-1, 1]), tf.slice(w, [j, 0], [1, -1]))).dataSync();
        const mask = tf.tensor1d(Array.from({ length: 24 }, (_, k) => (k === j ? 0 : 1)));
        const masked = net.logitsFrom(tf.mul(h, mask) as tf.Tensor2D, layer).dataSync();
        for (let i = 0; i < masked.length; i++) assert.ok(Math.abs(rank1[i] - masked[i]) < 1e-5, `unit ${j}: ${rank1[i]} vs ${masked[i]}`);
      }
    });
    const r1 = ablationScores(net, layer, data, 'rank1');
    const loop = ablationScores(net, layer, data, 'loop');
    const batched = ablationScores(net, layer, data, 'batched');
    assert.deepEqual(r1.score, loop.score);
    assert.deepEqual(batched.score, loop.score);
    assert.deepEqual(r1.corruptedDrop, loop.corruptedDrop);
    assert.equal(r1.strategy, 'rank1');
    data.x.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  it('batched ablation of an inner layer equals the per-unit loop', () => {
    const spec = layersOf([
      { type: 'dense', units: 16 },
      { type: 'activation', fn: 'tanh' },
      { type: 'dense', units: 12 },
      { type: 'activation', fn: 'relu' },
      { type: 'dense', units: 5 },
    ]);
    const model = buildModel(spec, 6, 9);
    const net = probeNetwork(model, spec);
    const data = randomData(150, 6, 5, 2);
    assert.equal(net.hidden[0].feedsOutput, false);
    assert.equal(net.hidden[1].feedsOutput, true);
    const a = ablationScores(net, net.hidden[0], data, 'batched');
    const b = ablationScores(net, net.hidden[0], data, 'loop');
    assert.deepEqual(a.testDrop, b.testDrop);
    assert.deepEqual(a.score, b.score);
    assert.throws(() => ablationScores(net, net.hidden[0], data, 'rank1'), /feeding the output/);
    data.x.dispose();
    model.dispose();
  });

  it('pruning curves have one point per count, counts rise from 0 to all units', () => {
    const spec = layersOf([{ type: 'dense', units: 20 }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 4 }]);
    const model = buildModel(spec, 5, 1);
    const net = probeNetwork(model, spec);
    const data = randomData(120, 5, 4, 3);
    const layer = net.hidden[0];
    const a = ablationScores(net, layer, data);
    const p = pruningProbe(net, { layer, method: 'ablation', scores: a.score, raw: a.score }, data, 5);
    assert.equal(p.pruned[0], 0);
    assert.equal(p.pruned[p.pruned.length - 1], 20);
    for (let i = 1; i < p.pruned.length; i++) assert.ok(p.pruned[i] > p.pruned[i - 1], 'pruned counts strictly increase');
    assert.ok(p.pruned.includes(p.modeSplit!.pruned));
    for (const c of [p.memorizingFirst, p.generalizingFirst]) {
      assert.equal(c.cleanTrain.length, p.pruned.length);
      assert.equal(c.corruptedTrain.length, p.pruned.length);
      assert.equal(c.test.length, p.pruned.length);
    }
    // Nothing pruned: both orders agree; everything pruned: both orders agree too.
    assert.equal(p.memorizingFirst.test[0], p.generalizingFirst.test[0]);
    const last = p.pruned.length - 1;
    assert.equal(p.memorizingFirst.test[last], p.generalizingFirst.test[last]);
    data.x.dispose();
    model.dispose();
  });

  it('nested ordering: truncation curve, K* and a negative rank correlation on a constructed ordered layer', () => {
    // Hidden units = inputs (identity first layer), output rows scaled 2^-j: early units dominate.
    const H = 12;
    const C = 4;
    const spec = layersOf([{ type: 'dense', units: H, useBias: false }, { type: 'dense', units: C, useBias: false }]);
    const model = buildModel(spec, H, 0);
    const rng = deriveRng(5, 'w');
    model.dense[0].kernel.assign(tf.eye(H) as tf.Tensor2D);
    const w = new Float32Array(H * C);
    for (let j = 0; j < H; j++) for (let c = 0; c < C; c++) w[j * C + c] = randNormal(rng) * 2 ** -j;
    model.dense[1].kernel.assign(tf.tensor2d(w, [H, C]));
    const net = probeNetwork(model, spec);
    const base = randomData(400, H, C, 4);
    // Labels = the full model's prediction, so acc(H) = 1.
    const pred = tf.tidy(() => tf.argMax(model.apply(base.x, false), 1).dataSync() as Int32Array);
    const data: EvalData = { ...base, labels: Int32Array.from(pred) };
    const layer = net.hidden[0];
    const probe = nestedOrderingProbe(net, layer, data);
    assert.equal(probe.k.length, H);
    assert.equal(probe.accuracy[H - 1], 1);
    const firstPerfect = probe.accuracy.findIndex((a) => a === 1) + 1;
    const best = Math.max(...probe.accuracy.map((a, i) => a - 1e-5 * (i + 1)));
    assert.ok(Math.abs(probe.accuracy[probe.kStar - 1] - 1e-5 * probe.kStar - best) < 1e-12);
    assert.ok(probe.kStar <= firstPerfect);
    assert.ok(probe.accuracy[0] > 0.5, `unit 0 alone carries most of the accuracy (${probe.accuracy[0]})`);
    assert.ok(probe.rankCorrelation < -0.5, `rank correlation ${probe.rankCorrelation}`);
    // The cumulative (output-feeding) sweep agrees with explicit prefix masks through batched passes.
    const masks = new Float32Array(H * H);
    for (let k = 1; k <= H; k++) masks.fill(1, (k - 1) * H, (k - 1) * H + k);
    assert.deepEqual(Array.from(prefixHits(net, layer, data)), Array.from(maskedHits(net, layer, data, masks)));
    base.x.dispose();
    model.dispose();
  });

  it('rank1Hits handles argmax ties like tf.argMax (first maximum wins)', () => {
    // One example, 2 units, 3 classes; removing unit 0 leaves logits [1, 1, 0]: argmax = class 0.
    const data: EvalData = { x: undefined as never, labels: Int32Array.of(1), group: Uint8Array.of(2), counts: [0, 0, 1] };
    const hits = rank1Hits(Float32Array.of(1, 0), Float32Array.of(1, 2, 0), Float32Array.of(0, 1, 0, 0, 0, 0), 2, 3, data);
    assert.deepEqual(Array.from(hits), [0, 0, 0, 0, 0, 1]);
  });
});
