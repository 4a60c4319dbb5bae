import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCsv } from '../../../src/engine/data/csv';
import { DatasetError, makeDataset } from '../../../src/engine/data/dataset';
import { parseExperiment } from '../../../src/protocol/experiment';
import type { DatasetSpec, ExperimentInput } from '../../../src/protocol/experiment';

const spec = (dataset: ExperimentInput['dataset']): DatasetSpec =>
  parseExperiment({ name: 't', dataset, model: { layers: [{ type: 'dense', units: 2 }] }, training: {} }).dataset;

describe('engine datasets', () => {
  it('MNIST: disjoint seeded splits of 28x28 digits in [0,1], noise mask kept', () => {
    const a = makeDataset(spec({ kind: 'mnist', train: 500, test: 200, labelNoise: { kind: 'pairflip', rate: 0.2 } }), 1);
    const b = makeDataset(spec({ kind: 'mnist', train: 500, test: 200, labelNoise: { kind: 'pairflip', rate: 0.2 } }), 1);
    assert.equal(a.inputSize, 784);
    assert.deepEqual(a.image, { height: 28, width: 28, channels: 1 });
    assert.equal(a.train.n, 500);
    assert.equal(a.test.n, 200);
    assert.deepEqual(a.train.source, b.train.source);
    assert.deepEqual(a.train.labels, b.train.labels);
    const trainSet = new Set(a.train.source);
    assert.ok([...a.test.source].every((i) => !trainSet.has(i)), 'train and test overlap');
    assert.equal(a.train.corruptedCount, 100);
    for (let i = 0; i < a.train.n; i++) {
      if (a.train.corrupted[i]) assert.equal(a.train.labels[i], (a.train.trueLabels[i] + 1) % 10);
      else assert.equal(a.train.labels[i], a.train.trueLabels[i]);
    }
    assert.ok(a.train.x.every((v) => v >= 0 && v <= 1));
    assert.equal(new Set(a.train.trueLabels).size, 10);
    const c = makeDataset(spec({ kind: 'mnist', train: 500, test: 200 }), 2);
    assert.notDeepEqual(c.train.source, a.train.source);
  });

  it('two moons and spirals: seeded, balanced classes, split by testFraction', () => {
    const m = makeDataset(spec({ kind: 'moons', samples: 400, noise: 0.1, testFraction: 0.25, labelNoise: { kind: 'symmetric', rate: 0.1 } }), 5);
    assert.equal(m.classes, 2);
    assert.equal(m.test.n, 100);
    assert.equal(m.train.n, 300);
    assert.equal(m.train.corruptedCount, 30);
    assert.deepEqual(m.train.x, makeDataset(spec({ kind: 'moons', samples: 400, noise: 0.1, testFraction: 0.25 }), 5).train.x);
    const s = makeDataset(spec({ kind: 'spirals', samples: 300, classes: 3 }), 5);
    assert.equal(s.classes, 3);
    const counts = [0, 0, 0];
    for (const y of [...s.train.trueLabels, ...s.test.trueLabels]) counts[y]++;
    assert.deepEqual(counts, [100, 100, 100]);
  });

  it('CSV: header detection, label column by name, standardisation on train stats', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-csv-'));
    const rows = ['a,b,label'];
    for (let i = 0; i < 50; i++) rows.push(`${i},${2 * i + 10},${i % 2 ? 'cat' : 'dog'}`);
    fs.writeFileSync(path.join(dir, 'd.csv'), rows.join('\n') + '\n');
    const ds = makeDataset(spec({ kind: 'csv', path: 'd.csv', labelColumn: 'label' }), 0, dir);
    assert.deepEqual(ds.featureNames, ['a', 'b']);
    assert.equal(ds.classes, 2);
    assert.equal(ds.train.n + ds.test.n, 50);
    let mean = 0;
    let sq = 0;
    for (let i = 0; i < ds.train.n; i++) mean += ds.train.x[i * 2];
    mean /= ds.train.n;
    for (let i = 0; i < ds.train.n; i++) sq += (ds.train.x[i * 2] - mean) ** 2;
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sq / ds.train.n - 1) < 1e-4);
    // No header: all numeric first row.
    const p = parseCsv('1,2,0\n3,4,1\n', { header: 'auto', delimiter: ',' });
    assert.equal(p.n, 2);
    assert.deepEqual(p.featureNames, ['column 0', 'column 1']);
  });

  it('CSV errors name the file and line', () => {
    const opts = { header: 'auto', delimiter: ',' } as const;
    assert.throws(() => parseCsv('x,y,l\n1,2,0\n3,4\n', opts, 'f.csv'), /f\.csv:3: expected 3 columns, found 2/);
    assert.throws(() => parseCsv('x,y,l\n1,2,0\n3,oops,1\n', opts, 'f.csv'), /f\.csv:3: column "y" is "oops", not a number/);
    assert.throws(() => parseCsv('\nx,y,l\n1,2,0\n', { ...opts, labelColumn: 'nope' }, 'f.csv'), (e: DatasetError) => /^f\.csv:2: labelColumn "nope" is not in the header \(x, y, l\)$/.test(e.message) && e.field === 'dataset.labelColumn');
    assert.throws(() => makeDataset(spec({ kind: 'csv', path: 'missing.csv' }), 0, os.tmpdir()), (e: DatasetError) => /^CSV file not found: .*missing\.csv$/.test(e.message) && e.field === 'dataset.path');
  });
});
