// Writes a Dataset (dataset.ts) as the PyTorch engine's hand-over folder: .npy arrays plus
// meta.json (docs/torch-engine.md, "Dataset hand-over"). The TypeScript side builds every
// dataset, so both engines train on the very same arrays and no dataset code is written twice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetMetaSchema, type DatasetMeta } from '../../protocol/torchEngine';
import type { Dataset } from './dataset';
import { writeNpy } from './npy';

export interface HandOver {
  /** featureGroupDropout groups, already resolved to indices (experimentShape.resolveGroups). */
  featureGroups?: { name: string; columns: Int32Array }[];
  /** Initial weights by name (dense_0/kernel, ...), TF layout, with their shapes. */
  initialWeights?: { name: string; shape: number[]; values: Float32Array }[];
}

/** Writes <dir>/*.npy and <dir>/meta.json (dir is created); returns the meta written. */
export function writeDatasetNpy(dir: string, data: Dataset, extra: HandOver = {}): DatasetMeta {
  fs.mkdirSync(dir, { recursive: true });
  const npy = (name: string, values: Float32Array | Int32Array | Uint8Array, shape: number[]) => writeNpy(path.join(dir, `${name}.npy`), values, shape);
  const { train, test, inputSize } = data;
  npy('train_x', train.x, [train.n, inputSize]);
  npy('train_labels', train.labels, [train.n]);
  npy('train_true_labels', train.trueLabels, [train.n]);
  npy('train_corrupted', train.corrupted, [train.n]);
  npy('train_source', train.source, [train.n]);
  npy('test_x', test.x, [test.n, inputSize]);
  npy('test_labels', test.labels, [test.n]);
  npy('test_true_labels', test.trueLabels, [test.n]);
  npy('test_source', test.source, [test.n]);
  if (data.modular) {
    npy('modular_train_pairs', data.modular.train.pairs, [data.modular.train.pairs.length]);
    npy('modular_test_pairs', data.modular.test.pairs, [data.modular.test.pairs.length]);
  }
  const weights = extra.initialWeights ?? [];
  for (const w of weights) {
    const file = path.join(dir, 'initial', `${w.name}.npy`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeNpy(file, w.values, w.shape);
  }
  // Parsed, not just typed: what Python reads must pass the same schema it validates with.
  const meta = DatasetMetaSchema.parse({
    format: 1,
    kind: data.kind,
    inputSize,
    classes: data.classes,
    noiseRate: data.noiseRate,
    corruptedCount: train.corruptedCount,
    train: train.n,
    test: test.n,
    image: data.image ?? null,
    featureNames: data.featureNames ?? null,
    featureGroups: extra.featureGroups ? extra.featureGroups.map((g) => ({ name: g.name, columns: Array.from(g.columns) })) : null,
    modular: data.modular ? { p: data.modular.p } : null,
    initialWeights: weights.length ? weights.map((w) => w.name) : null,
  } satisfies DatasetMeta);
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}
