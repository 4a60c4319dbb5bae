import * as assert from 'node:assert/strict';
import {
  alignSeries,
  bucketStarts,
  detectUnlearningEpoch,
  downsampleIndices,
  expectedCalibrationError,
  histogram,
  sortOrder,
} from '../../../webview/dashboard/stats';
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

  it('marks the epoch after the corrupted-accuracy peak once it has clearly fallen', () => {
    const epochs = [1, 2, 3, 4, 5, 6];
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.5, 0.9, 0.7, 0.3, 0.05]), 4);
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), undefined, 'still rising');
    assert.equal(detectUnlearningEpoch(epochs, [0.1, 0.5, 0.9, 0.88, 0.87, 0.86]), undefined, 'a dip is not unlearning');
    assert.equal(detectUnlearningEpoch(epochs, [null, null, null, null, null, null]), undefined, 'no corrupted labels');
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
