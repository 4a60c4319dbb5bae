import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../../../src/engine/backend';
import { buildModel, nestedSampler } from '../../../src/engine/model';
import { mulberry32 } from '../../../src/engine/prng';
import { cutmixBatch } from '../../../src/engine/regularizers/cutmix';
import { l2Penalty, meanCE, multiSampleDropoutLoss, perSampleCE, smooth } from '../../../src/engine/regularizers/loss';
import { candidateMask, featureGroupMask, forgetRate, smallLossIndices } from '../../../src/engine/regularizers/sampling';
import { train } from '../../../src/engine/train';
import type { EngineEvent } from '../../../src/protocol/engineMessages';
import { parseEngineEvent } from '../../../src/protocol/engineMessages';
import { parseExperiment } from '../../../src/protocol/experiment';
import type { ExperimentInput, LayerSpec } from '../../../src/protocol/experiment';

const layers = (input: ExperimentInput['model']['layers']): LayerSpec[] =>
  parseExperiment({ name: 't', dataset: { kind: 'modular' }, model: { layers: input }, training: {} }).model.layers;

async function run(input: ExperimentInput, backend: 'wasm' | 'cpu' = 'wasm') {
  const events: EngineEvent[] = [];
  const tensors: number[] = [];
  const before = tf.memory().numTensors;
  await train(parseExperiment(input), {
    backend,
    onEvent: (e) => {
      const r = parseEngineEvent(JSON.parse(JSON.stringify(e)));
      assert.ok(r.ok, `invalid event ${JSON.stringify(e)}`);
      events.push(e);
      if (e.type === 'epoch') tensors.push(tf.memory().numTensors);
    },
  });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by train()');
  assert.ok(tensors.every((n) => n === tensors[0]), `tensor count not flat: ${tensors.join(',')}`);
  const last = events[events.length - 1];
  return { events, epochs: events.flatMap((e) => (e.type === 'epoch' ? [e] : [])), last };
}

const moons = (regularizers: NonNullable<ExperimentInput['training']>['regularizers'], extra: Partial<ExperimentInput> = {}): ExperimentInput => ({
  name: 'moons',
  seed: 1,
  dataset: { kind: 'moons', samples: 400, noise: 0.1, labelNoise: { kind: 'symmetric', rate: 0.3 } },
  model: { layers: [{ type: 'dense', units: 32, init: 'he' }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 2 }] },
  training: { epochs: 6, batchSize: 64, optimizer: { kind: 'adam', lr: 0.01 }, regularizers },
  ...extra,
});

describe('regularizers', () => {
  before(() => selectBackend('wasm'));

  it('batch norm: batch statistics in training (and running stats updated), running stats at evaluation', () => {
    const m = buildModel(layers([{ type: 'dense', units: 6 }, { type: 'batchNorm', momentum: 0.5 }, { type: 'dense', units: 2 }]), 4, 0);
    tf.tidy(() => {
      const x = tf.randomNormal([64, 4], 3, 2, 'float32', 1) as tf.Tensor2D;
      const h = m.forward(x, { mode: 'train', capture: 'dense_0' }).hidden!;
      const { mean, variance } = tf.moments(h, 0);
      assert.ok(Math.max(...tf.abs(mean).dataSync()) < 1e-4);
      assert.ok(Math.max(...tf.abs(tf.sub(variance, 1)).dataSync()) < 1e-2);
      // momentum 0.5: running mean moved half-way from 0 to the batch mean.
      assert.ok(Math.max(...tf.abs(m.stateVariables[0]).dataSync()) > 0.01);
      const he = m.forward(x, { mode: 'eval', capture: 'dense_0' }).hidden!;
      assert.ok(Math.max(...tf.abs(tf.moments(he, 0).mean).dataSync()) > 0.05, 'eval must not use batch statistics');
    });
    m.dispose();
  });

  it('nested dropout: one prefix mask per batch in training, identity at evaluation; samplers follow their laws', () => {
    const hg = nestedSampler(100, { distribution: 'halfGaussian', sigma: 10, rho: 0.9 });
    const geo = nestedSampler(100, { distribution: 'geometric', sigma: 10, rho: 0.9 });
    const rng = mulberry32(7);
    const ks = Array.from({ length: 4000 }, () => hg(rng));
    const gs = Array.from({ length: 4000 }, () => geo(rng));
    // Half-Gaussian, sigma 10: E[k] ~ 1 + sigma / sqrt(pi) = 6.6; P(k > 30) ~ 0.
    const mean = ks.reduce((a, b) => a + b, 0) / ks.length;
    assert.ok(Math.abs(mean - (1 + 10 / Math.sqrt(Math.PI))) < 0.5, `half-Gaussian mean ${mean}`);
    assert.ok(ks.every((k) => k >= 1 && k <= 30));
    const gmean = gs.reduce((a, b) => a + b, 0) / gs.length;
    assert.ok(Math.abs(gmean - 10) < 1, `geometric mean ${gmean} (1/(1-rho) = 10)`);

    const m = buildModel(layers([{ type: 'dense', units: 40 }, { type: 'activation', fn: 'sigmoid' }, { type: 'nestedDropout', sigma: 10 }, { type: 'dense', units: 2 }]), 3, 0);
    tf.tidy(() => {
      const x = tf.randomNormal([8, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
      const h = m.forward(x, { mode: 'train', rng: mulberry32(1), capture: 'dense_0' }).hidden!.arraySync();
      const k = h[0].findIndex((v) => v === 0);
      assert.ok(k > 0 && k < 40, `prefix length ${k}`);
      for (const row of h) {
        assert.ok(row.slice(0, k).every((v) => v !== 0) && row.slice(k).every((v) => v === 0), 'same prefix for every row');
      }
      const he = m.forward(x, { mode: 'eval', capture: 'dense_0' }).hidden!.dataSync();
      assert.ok(he.every((v) => v !== 0));
    });
    m.dispose();
  });

  it('multi-sample dropout averages the M losses (not the logits) and evaluates with one dropout-free pass', () => {
    const m = buildModel(layers([{ type: 'dense', units: 16 }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 3 }]), 4, 0);
    tf.tidy(() => {
      const x = tf.randomNormal([32, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
      const y = tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32'), 3), 'float32') as tf.Tensor2D;
      const f = m.forward(x, { mode: 'train', featuresOnly: true }).logits;
      const seeds = [11, 22, 33, 44];
      let s = 0;
      const got = multiSampleDropoutLoss(f, m, y, 4, 0.5, () => seeds[s++]).dataSync()[0];
      const heads = seeds.map((seed) => m.head(tf.dropout(f, 0.5, undefined, seed) as tf.Tensor2D));
      const want = heads.reduce((a, h) => a + meanCE(h, y).dataSync()[0], 0) / 4;
      assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
      const avgLogits = meanCE(tf.div(tf.addN(heads), 4) as tf.Tensor2D, y).dataSync()[0];
      assert.ok(Math.abs(got - avgLogits) > 1e-4, 'must not equal the CE of averaged logits');
      // Evaluation: the head of the (dropout-free) features is the model's eval output.
      const evalOut = m.apply(x, false).dataSync();
      const viaHead = m.head(m.forward(x, { mode: 'eval', featuresOnly: true }).logits).dataSync();
      assert.deepEqual(Array.from(evalOut), Array.from(viaHead));
    });
    m.dispose();
  });

  it('CutMix: the clipped box sets lambda, pixels come from the permuted image inside it, labels mix by area', () => {
    const image = { height: 8, width: 8, channels: 1 };
    const n = 4;
    const x = new Float32Array(n * 64);
    for (let i = 0; i < n; i++) x.fill(i + 1, i * 64, i * 64 + 64);
    const y = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) y[i * 4 + i] = 1;
    let clipped = 0;
    for (let seed = 0; seed < 40; seed++) {
      const r = cutmixBatch(x, y, n, 4, image, 1, mulberry32(seed));
      const { x1, y1, x2, y2 } = r.box;
      assert.equal(r.lambda, 1 - ((x2 - x1) * (y2 - y1)) / 64);
      if (Math.abs(r.lambda - r.sampledLambda) > 0.1) clipped++;
      for (let i = 0; i < n; i++) {
        for (let py = 0; py < 8; py++) {
          for (let px = 0; px < 8; px++) {
            const inside = px >= x1 && px < x2 && py >= y1 && py < y2;
            assert.equal(r.x[i * 64 + py * 8 + px], inside ? r.perm[i] + 1 : i + 1);
          }
        }
        const row = Array.from(r.y.subarray(i * 4, i * 4 + 4));
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
        if (r.perm[i] !== i) {
          assert.ok(Math.abs(row[i] - r.lambda) < 1e-6 && Math.abs(row[r.perm[i]] - (1 - r.lambda)) < 1e-6);
        }
      }
    }
    assert.ok(clipped > 0, 'some boxes are clipped, so the recomputed lambda differs from the sampled one');
  });

  it('co-teaching: forget-rate schedule and small-loss selection', () => {
    assert.deepEqual([0, 1, 5, 10, 20].map((t) => +forgetRate(t, 0.4, 10).toFixed(6)), [0, 0.04, 0.2, 0.4, 0.4]);
    const sel = smallLossIndices([5, 1, 3, 0.5, 9, 2, 7, 4, 8, 6], 0.35);
    assert.deepEqual(Array.from(sel), [3, 1, 5, 2, 7, 0]); // floor(0.65 * 10) = 6 smallest
  });

  it('co-teaching trains two networks and reports label precision above the clean fraction', async () => {
    const { epochs, last } = await run(moons({ coTeaching: { gradualEpochs: 3 } }, { training: { epochs: 8, batchSize: 64, optimizer: { kind: 'adam', lr: 0.01 }, regularizers: { coTeaching: { gradualEpochs: 3 } } } }));
    assert.equal(last.type, 'finished');
    assert.ok(epochs.every((e) => e.labelPrecision !== undefined));
    // Epoch 1 keeps everything (R = 0): precision is the clean fraction, 0.7.
    assert.ok(Math.abs(epochs[0].labelPrecision! - 0.7) < 0.01, `epoch 1 ${epochs[0].labelPrecision}`);
    const end = epochs[epochs.length - 1].labelPrecision!;
    assert.ok(end > 0.85, `label precision ${end} once R = tau`);
  });

  it('feature-group dropout zeroes whole groups per sample with probability p, nothing else', () => {
    const groups = [Int32Array.from([0, 1]), Int32Array.from([3])];
    const m = featureGroupMask(mulberry32(3), 2000, 5, groups, 0.3);
    let dropped = 0;
    for (let i = 0; i < 2000; i++) {
      const r = m.subarray(i * 5, i * 5 + 5);
      assert.equal(r[0], r[1], 'a group is dropped all-or-none');
      assert.equal(r[2], 1);
      assert.equal(r[4], 1);
      dropped += r[0] === 0 ? 1 : 0;
    }
    assert.ok(Math.abs(dropped / 2000 - 0.3) < 0.04, `rate ${dropped / 2000}`);
  });

  it('candidate dropout: a softmax over the kept classes with targets re-indexed, targets always kept', () => {
    const mask = candidateMask(mulberry32(1), 10, 0.5, [7, 2]);
    assert.equal(mask.reduce((a, b) => a + b, 0), 5);
    assert.ok(mask[7] === 1 && mask[2] === 1);
    tf.tidy(() => {
      const logits = tf.randomNormal([2, 10], 0, 2, 'float32', 4) as tf.Tensor2D;
      const y = tf.cast(tf.oneHot(tf.tensor1d([7, 2], 'int32'), 10), 'float32') as tf.Tensor2D;
      const got = perSampleCE(logits, y, tf.tensor1d(mask)).dataSync();
      const kept = [...mask.keys()].filter((c) => mask[c]);
      const L = logits.arraySync();
      [7, 2].forEach((t, i) => {
        const sub = kept.map((c) => L[i][c]);
        const lse = Math.log(sub.reduce((a, v) => a + Math.exp(v), 0));
        const want = lse - sub[kept.indexOf(t)];
        assert.ok(Math.abs(got[i] - want) < 1e-4, `${got[i]} vs ${want}`);
      });
    });
  });

  it('L2 is lambda * sum of squared kernels (biases excluded); label smoothing moves eps/K mass', () => {
    const m = buildModel(layers([{ type: 'dense', units: 5 }, { type: 'batchNorm' }, { type: 'dense', units: 3 }]), 4, 0);
    tf.tidy(() => {
      for (const v of m.variables) if (v.rank === 1) v.assign(tf.mul(tf.onesLike(v), 3));
      const want = m.kernels.reduce((a, k) => a + tf.sum(tf.square(k)).dataSync()[0], 0) * 0.01;
      assert.ok(Math.abs(l2Penalty(m, 0.01).dataSync()[0] - want) < 1e-6);
      const s = smooth(tf.tensor2d([[0, 1, 0, 0]]), 0.2).dataSync();
      assert.deepEqual(Array.from(s).map((v) => +v.toFixed(4)), [0.05, 0.85, 0.05, 0.05]);
    });
    m.dispose();
  });

  it('early stopping ends the run with a log, testLoss is reported every epoch', async () => {
    const { epochs, events, last } = await run(moons({ earlyStopping: { patience: 2, minDelta: 1000 } }));
    assert.equal(epochs.length, 3, 'best at epoch 1 (the first finite loss), stop 2 epochs later');
    assert.ok(epochs.every((e) => typeof e.testLoss === 'number' && e.testLoss > 0));
    assert.ok(events.some((e) => e.type === 'log' && /Early stopping after epoch 3/.test(e.message)));
    assert.ok(last.type === 'finished' && last.epochs === 3);
    assert.deepEqual(last.earlyStopping, { monitor: 'testLoss', stoppedAt: 3, bestEpoch: 1, best: epochs[0].testLoss, restoredEpoch: null });
  });

  it('early stopping on test accuracy restores the best epoch: final numbers and probes are that epoch\'s', async () => {
    // 30% noise and a wide MLP at a high rate: the test accuracy peaks early and then wanders.
    const wide = (restoreBest: boolean): ExperimentInput =>
      moons(undefined, {
          model: {
            layers: [
              { type: 'dense', units: 128, init: 'he' },
              { type: 'activation', fn: 'relu' },
              { type: 'dense', units: 128, init: 'he' },
              { type: 'activation', fn: 'relu' },
              { type: 'dense', units: 2 },
            ],
          },
          training: { epochs: 60, batchSize: 32, optimizer: { kind: 'adam', lr: 0.01 }, regularizers: { earlyStopping: { patience: 10, monitor: 'testAccuracy', restoreBest } } },
          probes: { pruning: { steps: 2 } },
        });
    const restored = await run(wide(true));
    const tests = restored.epochs.map((e) => e.accuracy.test);
    const bestEpoch = tests.indexOf(Math.max(...tests)) + 1;
    assert.ok(restored.last.type === 'finished');
    const outcome = restored.last.earlyStopping!;
    assert.ok(outcome.stoppedAt !== null && outcome.stoppedAt < 60, 'it stopped early');
    assert.equal(outcome.stoppedAt, restored.epochs.length);
    assert.equal(outcome.bestEpoch, bestEpoch, 'the first epoch with the highest test accuracy');
    assert.equal(outcome.stoppedAt - bestEpoch, 10, 'patience 10 epochs after the best');
    assert.ok(bestEpoch < outcome.stoppedAt && tests[outcome.stoppedAt - 1] < tests[bestEpoch - 1], 'the last epoch is worse than the best');
    assert.equal(outcome.restoredEpoch, bestEpoch);
    assert.deepEqual(restored.last.final, restored.epochs[bestEpoch - 1].accuracy);
    assert.ok(restored.events.some((e) => e.type === 'log' && e.message.startsWith(`Restored the weights of epoch ${bestEpoch}`)));
    // The pruning probe runs on the model as it ended: its unpruned point is the best epoch's accuracy.
    const pruned = (r: typeof restored) => r.events.flatMap((e) => (e.type === 'probe' && e.probe.kind === 'pruning' ? [e.probe] : []))[0];
    assert.equal(pruned(restored).memorizingFirst.test[0], tests[bestEpoch - 1]);

    const kept = await run(wide(false));
    assert.ok(kept.last.type === 'finished');
    assert.deepEqual(kept.epochs.map((e) => e.accuracy.test), tests, 'same run until the stop');
    assert.equal(kept.last.earlyStopping!.restoredEpoch, null);
    assert.deepEqual(kept.last.final, kept.epochs[kept.epochs.length - 1].accuracy);
    assert.equal(pruned(kept).memorizingFirst.test[0], tests[tests.length - 1]);
  });

  it('MNIST with batch norm, nested dropout, CutMix, multi-sample dropout, L2, smoothing and candidate dropout: learns, no leak', async () => {
    const { epochs, last } = await run({
      name: 'mnist-all',
      seed: 2,
      dataset: { kind: 'mnist', train: 600, test: 300, labelNoise: { kind: 'symmetric', rate: 0.2 } },
      model: {
        layers: [
          { type: 'dense', units: 64, init: 'he' },
          { type: 'batchNorm' },
          { type: 'activation', fn: 'relu' },
          { type: 'nestedDropout', sigma: 30 },
          { type: 'dense', units: 10 },
        ],
      },
      training: {
        epochs: 4,
        batchSize: 64,
        optimizer: { kind: 'adam', lr: 0.003 },
        regularizers: { cutmix: { prob: 0.5 }, multiSampleDropout: { samples: 3, rate: 0.3 }, l2: 1e-4, labelSmoothing: 0.1, candidateDropout: { keep: 0.7 } },
      },
    });
    assert.equal(last.type, 'finished', JSON.stringify(last));
    assert.ok(epochs[3].accuracy.test > 0.6, `test accuracy ${epochs[3].accuracy.test}`);
  });

  it('feature-group dropout by column index trains on moons; bad columns are rejected naming the field', async () => {
    const ok = await run(moons({ featureGroupDropout: { rate: 0.2, groups: [{ name: 'x', columns: [0] }] } }));
    assert.equal(ok.last.type, 'finished');
    const bad = await run(moons({ featureGroupDropout: { rate: 0.2, groups: [{ name: 'x', columns: [5] }] } }));
    assert.ok(bad.last.type === 'failed' && /featureGroupDropout\.groups\.0\.columns/.test(bad.last.message));
    const cut = await run(moons({ cutmix: {} }));
    assert.ok(cut.last.type === 'failed' && /cutmix: CutMix .* needs an image dataset/.test(cut.last.message));
  });

  it('conv2d on MNIST falls back from wasm to cpu with a reason, and trains', async () => {
    const { events, last } = await run({
      name: 'conv',
      dataset: { kind: 'mnist', train: 128, test: 64 },
      model: {
        layers: [
          { type: 'conv2d', filters: 4, kernelSize: 3 },
          { type: 'activation', fn: 'relu' },
          { type: 'maxPool', poolSize: 4 },
          { type: 'flatten' },
          { type: 'dense', units: 10 },
        ],
      },
      training: { epochs: 1, batchSize: 64 },
    });
    const started = events.find((e) => e.type === 'started');
    assert.ok(started?.type === 'started' && started.backend === 'cpu' && /Conv2DBackpropFilter/.test(started.backendNote ?? ''));
    assert.equal(last.type, 'finished');
    await selectBackend('wasm');
  });
});
