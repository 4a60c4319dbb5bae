import * as assert from 'node:assert/strict';
import {
  alignSeries,
  bucketStarts,
  detectUnlearningEpoch,
  downsampleIndices,
  expectedCalibrationError,
  histogram,
  sortOrder,
  unlearning,
} from '../../../webview/dashboard/stats';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { viridisCss, viridisLut } from '../../../webview/dashboard/colorScale';

describe('dashboard stats', () => {
  it('bins values into equal-width bins, clamping the maximum into the last bin', () => {
    const h = histogram([0, 0.1, 0.5, 0.99, 1], 4, 0, 1);
    assert.deepEqual(h.edges, [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(h.counts, [2, 0, 1, 2]);
  });

  it('finds the range itself, ignores non-finite values and survives a constant layer', () => {
    const h = histogram([2, 4, NaN, Infinity], 2);
    assert.deepEqual(h.edges, [2, 3, 4]);
    assert.deepEqual(h.counts, [1, 1]);
    const c = histogram([3, 3, 3], 3);
    assert.equal(c.counts.reduce((a, b) => a + b, 0), 3);
    assert.ok(c.edges[0] < 3 && c.edges[3] > 3);
  });

  it('shows a bimodal score distribution as two separated groups', () => {
    const scores = [...Array(50).fill(0.05), ...Array(14).fill(0.95)];
    const h = histogram(scores, 10, 0, 1);
    assert.equal(h.counts[0], 50);
    assert.equal(h.counts[9], 14);
    assert.equal(h.counts.slice(1, 9).reduce((a, b) => a + b, 0), 0);
  });

  it('sorts units by descending score, ties in index order', () => {
    assert.deepEqual(sortOrder([0.1, 0.9, 0.5, 0.9]), [1, 3, 2, 0]);
    assert.deepEqual(sortOrder(new Float32Array([])), []);
  });

  it('recomputes ECE as the count-weighted gap between accuracy and confidence', () => {
    const ece = expectedCalibrationError([
      { confidence: 0.9, accuracy: 0.6, count: 10 },
      { confidence: 0.5, accuracy: 0.5, count: 30 },
    ]);
    assert.ok(Math.abs(ece! - 0.075) < 1e-12);
    assert.equal(expectedCalibrationError([]), undefined);
  });

  it('downsamples with an even stride that keeps the first and last point', () => {
    assert.deepEqual(downsampleIndices(5, 10), [0, 1, 2, 3, 4]);
    const d = downsampleIndices(2000, 500);
    assert.equal(d.length, 500);
    assert.equal(d[0], 0);
    assert.equal(d[d.length - 1], 1999);
    for (let i = 1; i < d.length; i++) assert.ok(d[i] > d[i - 1]);
  });

  it('buckets snapshots into at most maxCols heatmap columns covering all of them', () => {
    assert.deepEqual(bucketStarts(3, 10), [0, 1, 2, 3]);
    const b = bucketStarts(2000, 600);
    assert.equal(b.length, 601);
    assert.equal(b[0], 0);
    assert.equal(b[600], 2000);
  });

  it('marks unlearning only where corrupted accuracy rose, fell by the margin and stayed down', () => {
    const epochs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // Rose 10% -> 90%, under 70% (20 points down) from epoch 4 on, for 7 epochs.
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.5, 0.9, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05, 0.05]), 4);
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]), undefined, 'still rising');
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.5, 0.9, 0.8, 0.75, 0.8, 0.78, 0.76, 0.8, 0.79]), undefined, 'a dip is not unlearning');
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.5, 0.9, 0.6, 0.4, 0.3, 0.2, 0.1, 0.75, 0.2]), undefined, 'came back above the threshold');
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.5, 0.9, 0.9, 0.9, 0.9, 0.6, 0.5, 0.4, 0.3]), undefined, 'down for only 4 epochs so far');
    assert.equal(detectUnlearningEpoch(epochs, [0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]), undefined, 'highest at the start: never memorized');
    assert.equal(detectUnlearningEpoch(epochs, Array(10).fill(null)), undefined, 'no corrupted labels');
    // A low peak asks for half of it: 24% -> under 12%.
    assert.equal(detectUnlearningEpoch(epochs, [0.02, 0.1, 0.24, 0.2, 0.11, 0.08, 0.05, 0.03, 0.02, 0.01]), 5);
  });

  it('says none on the recorded runs the issue names and marks the real unlearning of grok with weight decay', () => {
    const file = path.join(__dirname, '..', '..', 'fixtures', 'runs', 'corrupted-curves.json');
    const runs = (JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: Record<string, { epochs: number[]; corrupted: (number | null)[] }> }).runs;
    const verdictOf = (prefix: string) => {
      const key = Object.keys(runs).find((k) => k.startsWith(prefix));
      assert.ok(key, `no recorded run '${prefix}'`);
      return unlearning(runs[key].epochs, runs[key].corrupted)!;
    };
    // The issue: "marker at epoch 29 on a run whose corrupted-train accuracy stays at 20-35%" and "at epoch 1 for a moons run".
    for (const none of ['probes-modular fixture', 'probes-moons fixture', 'moons-mlp', 'MNIST residual CNN', 'grok-corrupted weight decay 0']) {
      const v = verdictOf(none);
      assert.equal(v.epoch, undefined, `${none}: ${v.reason}`);
      assert.match(v.reason, /^No unlearning/);
    }
    for (const [yes, lo, hi] of [['grok-corrupted weight decay 5, 300 epochs, seed A', 60, 120], ['grok-corrupted weight decay 5, 300 epochs, seed B', 50, 90], ['grok-corrupted, 120 epochs', 50, 80], ['grok-corrupted weight decay 5, 200 epochs', 59, 59]] as const) {
      const v = verdictOf(yes);
      assert.ok(v.epoch !== undefined && v.epoch >= lo && v.epoch <= hi, `${yes}: ${v.reason}`);
      assert.ok(v.epoch > v.peakEpoch);
      assert.match(v.reason, new RegExp(`^Unlearning from epoch ${v.epoch}: .*peaked at \\d+%`));
    }
  });

  it('aligns runs of different lengths on the union of their epochs', () => {
    const a = alignSeries([
      { x: [1, 2, 3], y: [0.1, 0.2, 0.3] },
      { x: [2, 4], y: [0.5, null] },
    ]);
    assert.deepEqual(a.x, [1, 2, 3, 4]);
    assert.deepEqual(a.ys, [
      [0.1, 0.2, 0.3, null],
      [null, 0.5, null, null],
    ]);
  });

  it('has a viridis lookup table from dark purple to yellow', () => {
    assert.equal(viridisLut.length, 768);
    assert.equal(viridisCss(0), 'rgb(68,1,84)');
    assert.equal(viridisCss(1), 'rgb(253,231,37)');
    assert.equal(viridisCss(NaN), 'rgb(68,1,84)');
  });
});
