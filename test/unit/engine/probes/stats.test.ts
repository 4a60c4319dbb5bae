import * as assert from 'node:assert/strict';
import { detectDynamics } from '../../../../src/engine/probes/dynamics';
import { mcStats } from '../../../../src/engine/probes/mcDropout';
import { ece, minMax, otsuThreshold, spearman } from '../../../../src/engine/probes/stats';

describe('probe statistics', () => {
  it('ECE equals a hand computation on a tiny case and reliability bins add up', () => {
    // 15 bins: 0.95 -> bin 14, 0.55 -> bin 8 ((0.5333, 0.6]), 0.5 -> bin 7.
    const conf = [0.95, 0.95, 0.55, 0.5];
    const correct = [1, 0, 1, 1];
    const r = ece(conf, correct, 15);
    const hand = (2 / 4) * Math.abs(0.5 - 0.95) + (1 / 4) * Math.abs(1 - 0.55) + (1 / 4) * Math.abs(1 - 0.5);
    assert.ok(Math.abs(r.ece - hand) < 1e-12, `${r.ece} vs ${hand}`);
    assert.equal(r.reliability.length, 15);
    assert.equal(r.reliability.reduce((s, b) => s + b.count, 0), 4);
    assert.equal(r.reliability[14].count, 2);
    assert.ok(r.ece >= 0 && r.ece <= 1);
  });

  it('MC statistics: entropy, BALD, variance, variation ratio by hand', () => {
    // One example, 2 classes, T = 2 passes: [1, 0] and [0, 1].
    const s = mcStats([Float32Array.of(1, 0), Float32Array.of(0, 1)], 1, 2);
    assert.ok(Math.abs(s.predictiveEntropy[0] - Math.log(2)) < 1e-7);
    assert.equal(s.expectedEntropy[0], 0);
    assert.ok(Math.abs(s.mutualInformation[0] - Math.log(2)) < 1e-7);
    assert.ok(Math.abs(s.variance[0] - 0.25) < 1e-7);
    assert.equal(s.variationRatio[0], 0.5);
    // Identical passes: no epistemic uncertainty at all.
    const same = mcStats([Float32Array.of(0.7, 0.3), Float32Array.of(0.7, 0.3)], 1, 2);
    assert.ok(same.mutualInformation[0] < 1e-7 && same.variance[0] < 1e-7 && same.variationRatio[0] === 0);
  });

  it('Spearman, min-max and Otsu', () => {
    assert.ok(Math.abs(spearman([1, 2, 3, 4], [10, 20, 25, 100]) - 1) < 1e-12);
    assert.ok(Math.abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
    assert.equal(spearman([1, 2, 3], [5, 5, 5]), 0);
    assert.deepEqual(minMax([2, 4, 3]), [0, 1, 0.5]);
    const t = otsuThreshold([0.01, 0.012, 0.011, 0.013, 0.24, 0.25, 0.23]);
    assert.ok(t > 0.013 && t < 0.23, `threshold ${t}`);
  });

  it('dynamics: finds the unlearning peak and multi-epoch degradation', () => {
    const corrupted = [0.1, 0.3, 0.5, 0.7, 0.8, 0.8, 0.75, 0.6, 0.4, 0.2, 0.1, 0.05, 0.02, 0.01, 0.01];
    const pts = corrupted.map((c, i) => ({
      epoch: i + 1,
      corruptedTrain: c,
      trainLoss: 2 - 0.1 * i,
      // Test loss falls until epoch 6, then rises.
      testLoss: i < 6 ? 2 - 0.2 * i : 1 + 0.3 * (i - 5),
    }));
    const d = detectDynamics(pts);
    assert.equal(d.unlearningEpoch, 5);
    // Raw test loss turns up at epoch 7; the 5-epoch trailing mean bottoms out one epoch later.
    assert.equal(d.degradationEpoch, 8);
    const flat = detectDynamics(pts.map((p) => ({ ...p, corruptedTrain: 0.9, testLoss: 3 - 0.1 * p.epoch })));
    assert.deepEqual(flat, { unlearningEpoch: null, degradationEpoch: null });
  });
});
