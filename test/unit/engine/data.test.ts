import * as assert from 'node:assert/strict';
import { corruptLabels } from '../../../src/engine/data/labelNoise';
import { makeModularDataset, modularLabel, oneHotPairs } from '../../../src/engine/data/modular';
import { deriveRng, mulberry32, shuffle } from '../../../src/engine/prng';

describe('engine data', () => {
  it('mulberry32 is deterministic and in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
    }
    assert.notEqual(deriveRng(1, 'split')(), deriveRng(1, 'init')());
  });

  it('shuffle is a permutation', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    shuffle(mulberry32(1), xs);
    assert.deepEqual([...xs].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  });

  it('labels follow the operation', () => {
    assert.equal(modularLabel(5, 9, 11, 'add'), 3);
    assert.equal(modularLabel(2, 9, 11, 'sub'), 4);
    assert.equal(modularLabel(5, 9, 11, 'mul'), 1);
  });

  it('splits deterministically from the seed, disjoint and complete', () => {
    const spec = { p: 13, operation: 'add' as const, trainFraction: 0.5 };
    const a = makeModularDataset(spec, 7);
    const b = makeModularDataset(spec, 7);
    const c = makeModularDataset(spec, 8);
    assert.deepEqual(a.train.pairs, b.train.pairs);
    assert.notDeepEqual(a.train.pairs, c.train.pairs);
    assert.equal(a.train.pairs.length, Math.round(0.5 * 169));
    const all = new Set([...a.train.pairs, ...a.test.pairs]);
    assert.equal(all.size, 169);
    assert.equal(a.train.pairs.length + a.test.pairs.length, 169);
    for (let i = 0; i < a.test.pairs.length; i++) {
      const k = a.test.pairs[i];
      assert.equal(a.test.labels[i], (Math.floor(k / 13) + (k % 13)) % 13);
    }
  });

  it('one-hot features encode m and n', () => {
    const x = oneHotPairs(Int32Array.from([2 * 5 + 3]), 5);
    assert.deepEqual([...x], [0, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
  });

  it('symmetric noise corrupts exactly the rate, always to a wrong label, with a true mask', () => {
    const spec = { p: 31, operation: 'add' as const, trainFraction: 0.5, labelNoise: { kind: 'symmetric' as const, rate: 0.3 } };
    const d = makeModularDataset(spec, 1);
    const n = d.train.labels.length;
    let count = 0;
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      if (d.train.corrupted[i]) {
        count++;
        assert.notEqual(d.train.labels[i], d.train.trueLabels[i]);
        seen.add((d.train.labels[i] - d.train.trueLabels[i] + 31) % 31);
      } else {
        assert.equal(d.train.labels[i], d.train.trueLabels[i]);
      }
    }
    assert.equal(count, Math.round(0.3 * n));
    assert.equal(d.train.corruptedCount, count);
    // Wrong labels are spread over many classes, not a fixed shift.
    assert.ok(seen.size > 20, `only ${seen.size} distinct offsets`);
    assert.deepEqual(makeModularDataset(spec, 1).train.labels, d.train.labels);
  });

  it('pairflip maps c to c + 1 mod K', () => {
    const trueLabels = Int32Array.from({ length: 200 }, (_, i) => i % 10);
    const r = corruptLabels(trueLabels, 10, { kind: 'pairflip', rate: 0.25 }, 5);
    assert.equal(r.count, 50);
    for (let i = 0; i < 200; i++) {
      assert.equal(r.labels[i], r.corrupted[i] ? (trueLabels[i] + 1) % 10 : trueLabels[i]);
    }
  });

  it('no noise leaves labels alone and the mask empty', () => {
    const r = corruptLabels(Int32Array.from([1, 2, 3]), 5, undefined, 0);
    assert.deepEqual([...r.labels], [1, 2, 3]);
    assert.equal(r.count, 0);
    assert.deepEqual([...r.corrupted], [0, 0, 0]);
  });
});
