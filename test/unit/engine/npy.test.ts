// The dataset hand-over to the PyTorch engine, read back by the real numpy (docs/torch-engine.md).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeDataset } from '../../../src/engine/data/dataset';
import { writeDatasetNpy } from '../../../src/engine/data/datasetNpy';
import { decodeNpy, encodeNpy, NpyError, readNpy, writeNpy } from '../../../src/engine/data/npy';
import { resolveGroups } from '../../../src/engine/experimentShape';
import { DatasetMetaSchema } from '../../../src/protocol/torchEngine';
import { parseExperiment } from '../../../src/protocol/experiment';
import { findTorchPython } from '../../../scripts/torch-python';

/** Runs a Python snippet (argv[1] is `dir`) in the torch interpreter; returns its stdout parsed as JSON. */
function numpy(code: string, dir: string): any {
  const r = spawnSync(findTorchPython(), ['-c', code, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('.npy files for the PyTorch engine', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-npy-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('numpy.load reads float32, int32 and uint8 arrays of any rank with their values', () => {
    const f = Float32Array.from([0.5, -1.25, 3e-8, 1e30, -0, 7]);
    const i = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 5]);
    const u = Uint8Array.from([0, 1, 255]);
    writeNpy(path.join(dir, 'f.npy'), f, [2, 3]);
    writeNpy(path.join(dir, 'i.npy'), i, [5]);
    writeNpy(path.join(dir, 'u.npy'), u, [3, 1, 1]);
    writeNpy(path.join(dir, 'empty.npy'), new Float32Array(0), [0, 4]);
    const out = numpy(
      `import json, sys, numpy as np
d = sys.argv[1]
res = {}
for name in ['f', 'i', 'u', 'empty']:
    a = np.load(d + '/' + name + '.npy', allow_pickle=False)
    res[name] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'c': bool(a.flags['C_CONTIGUOUS']), 'values': a.ravel().tolist()}
print(json.dumps(res))`,
      dir,
    );
    assert.deepEqual(out.f.shape, [2, 3]);
    assert.equal(out.f.dtype, '<f4');
    assert.deepEqual(out.f.values, Array.from(f));
    assert.deepEqual(out.i, { dtype: '<i4', shape: [5], c: true, values: Array.from(i) });
    assert.deepEqual(out.u, { dtype: '|u1', shape: [3, 1, 1], c: true, values: [0, 1, 255] });
    assert.deepEqual(out.empty, { dtype: '<f4', shape: [0, 4], c: true, values: [] });
  });

  it('aligns the data to 64 bytes, as numpy does, and reads back what numpy.save writes', () => {
    for (const shape of [[1], [3, 7], [2, 2, 2, 2]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy(new Float32Array(n), shape);
      assert.equal((bytes.length - 4 * n) % 64, 0, `header of shape [${shape}] is a multiple of 64 bytes`);
    }
    numpy(
      `import json, sys, numpy as np
d = sys.argv[1]
np.save(d + '/np_f.npy', np.arange(12, dtype=np.float32).reshape(3, 4) / 8)
np.save(d + '/np_i.npy', np.array([3, -4], dtype=np.int32))
np.save(d + '/np_u.npy', np.array([[1], [0]], dtype=np.uint8))
print('{}')`,
      dir,
    );
    const f = readNpy(path.join(dir, 'np_f.npy'));
    assert.deepEqual([f.descr, f.shape, Array.from(f.values)], ['<f4', [3, 4], Array.from({ length: 12 }, (_, k) => k / 8)]);
    assert.deepEqual(Array.from(readNpy(path.join(dir, 'np_i.npy')).values), [3, -4]);
    const u = readNpy(path.join(dir, 'np_u.npy'));
    assert.deepEqual([u.descr, u.shape, Array.from(u.values)], ['|u1', [2, 1], [1, 0]]);
  });

  it('refuses a shape that does not hold the values, and files that are not .npy', () => {
    assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), NpyError);
    assert.throws(() => decodeNpy(Buffer.from('not numpy at all')), /bad magic/);
  });

  it('writes a modular dataset as the contract says: arrays, pairs and meta.json', () => {
    const exp = parseExperiment({
      name: 'handover',
      seed: 3,
      dataset: { kind: 'modular', p: 7, operation: 'add', trainFraction: 0.5, labelNoise: { kind: 'symmetric', rate: 0.3 } },
      model: { layers: [{ type: 'dense', units: 7 }] },
      training: { epochs: 1 },
    });
    const data = makeDataset(exp.dataset, exp.seed);
    const out = path.join(dir, 'modular');
    const meta = writeDatasetNpy(out, data);
    assert.deepEqual(DatasetMetaSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'meta.json'), 'utf8'))), meta);
    assert.equal(meta.modular?.p, 7);
    assert.equal(meta.corruptedCount, data.train.corruptedCount);
    assert.ok(meta.corruptedCount > 0, 'the fixture has corrupted labels');
    const seen = numpy(
      `import json, sys, numpy as np
d = sys.argv[1]
names = ['train_x', 'train_labels', 'train_true_labels', 'train_corrupted', 'train_source', 'test_x', 'test_labels', 'test_true_labels', 'test_source', 'modular_train_pairs', 'modular_test_pairs']
arrays = {n: np.load(d + '/' + n + '.npy') for n in names}
print(json.dumps({n: {'dtype': a.dtype.str, 'shape': list(a.shape), 'sum': float(a.astype(np.float64).sum())} for n, a in arrays.items()}))`,
      out,
    );
    const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
    const { train, test } = data;
    const expect: Record<string, [string, number[], ArrayLike<number>]> = {
      train_x: ['<f4', [train.n, 14], train.x],
      train_labels: ['<i4', [train.n], train.labels],
      train_true_labels: ['<i4', [train.n], train.trueLabels],
      train_corrupted: ['|u1', [train.n], train.corrupted],
      train_source: ['<i4', [train.n], train.source],
      test_x: ['<f4', [test.n, 14], test.x],
      test_labels: ['<i4', [test.n], test.labels],
      test_true_labels: ['<i4', [test.n], test.trueLabels],
      test_source: ['<i4', [test.n], test.source],
      modular_train_pairs: ['<i4', [train.n], data.modular!.train.pairs],
      modular_test_pairs: ['<i4', [test.n], data.modular!.test.pairs],
    };
    for (const [name, [dtype, shape, values]] of Object.entries(expect)) {
      assert.deepEqual(seen[name], { dtype, shape, sum: sum(values) }, name);
    }
    // Corrupted examples are exactly those whose trained label differs from the true one.
    const corrupted = readNpy(path.join(out, 'train_corrupted.npy')).values;
    const labels = readNpy(path.join(out, 'train_labels.npy')).values;
    const truth = readNpy(path.join(out, 'train_true_labels.npy')).values;
    for (let k = 0; k < train.n; k++) assert.equal(corrupted[k] === 1, labels[k] !== truth[k]);
  });

  it('resolves CSV feature-group names to column indices in meta.json', () => {
    const csv = path.join(dir, 'table.csv');
    fs.writeFileSync(csv, 'a,b,c,label\n' + Array.from({ length: 20 }, (_, k) => `${k},${k % 3},${-k},${k % 2}`).join('\n') + '\n');
    const exp = parseExperiment({
      name: 'csv handover',
      dataset: { kind: 'csv', path: csv, labelColumn: 'label' },
      model: { layers: [{ type: 'dense', units: 2 }] },
      training: { epochs: 1, regularizers: { featureGroupDropout: { rate: 0.5, groups: [{ name: 'ac', columns: ['c', 'a'] }, { name: 'b', columns: [1] }] } } },
    });
    const data = makeDataset(exp.dataset, exp.seed, dir);
    const fgd = exp.training.regularizers!.featureGroupDropout!;
    const cols = resolveGroups(fgd.groups, data);
    const meta = writeDatasetNpy(path.join(dir, 'csv'), data, { featureGroups: fgd.groups.map((g, i) => ({ name: g.name, columns: cols[i] })) });
    assert.deepEqual(meta.featureNames, ['a', 'b', 'c']);
    assert.deepEqual(meta.featureGroups, [
      { name: 'ac', columns: [2, 0] },
      { name: 'b', columns: [1] },
    ]);
  });
});
