// Where an epoch of the ReLU MLP 194-512-512-97 (batch 512, p = 97) goes on wasm:
// kernel time by op (tf.profile) for the training steps and for the evaluation passes.
//   npx tsx bench/profileStep.ts [--epochs N] [--out bench-results/profile-step.json]
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../src/engine/backend';
import { makeDataset } from '../src/engine/data/dataset';
import { predict } from '../src/engine/evaluate';
import { buildModel } from '../src/engine/model';
import { meanCE } from '../src/engine/regularizers/loss';
import { grokMlpExperiment } from './benchShared';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { epochs: { type: 'string', default: '3' }, out: { type: 'string', default: 'bench-results/profile-step.json' } } });
  const b = await selectBackend('wasm');
  if (b.name !== 'wasm') throw new Error(`got ${b.name}`);
  const exp = grokMlpExperiment('profile');
  const data = makeDataset(exp.dataset, 0);
  const model = buildModel(exp.model.layers, data.inputSize, 0);
  const n = data.train.n;
  const xTrain = tf.tensor2d(data.train.x, [n, data.inputSize]);
  const xTest = tf.tensor2d(data.test.x, [data.test.n, data.inputSize]);
  const yTrain = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(data.train.labels, 'int32'), 97), 'float32') as tf.Tensor2D);
  const opt = tf.train.adam(5e-3, 0.9, 0.98);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const trainEpoch = () => {
    for (let s = 0; s < n; s += 512) {
      const idx = tf.tensor1d(order.subarray(s, Math.min(s + 512, n)), 'int32');
      const xb = tf.gather(xTrain, idx);
      const yb = tf.gather(yTrain, idx);
      const loss = opt.minimize(() => meanCE(model.forward(xb, { mode: 'train' }).logits, yb), true, model.variables)!;
      tf.tidy(() => {
        for (const v of model.variables) v.assign(tf.mul(v, 1 - 5e-3 * 5));
      });
      loss.dataSync();
      tf.dispose([idx, xb, yb, loss]);
    }
  };
  const evalEpoch = () => {
    predict(model, xTrain);
    predict(model, xTest);
  };
  trainEpoch();
  evalEpoch();
  const epochs = Number(values.epochs);
  const wall = { train: [] as number[], eval: [] as number[] };
  const byKernel = { train: new Map<string, number>(), eval: new Map<string, number>() };
  for (let e = 0; e < epochs; e++) {
    let t = performance.now();
    trainEpoch();
    wall.train.push((performance.now() - t) / 1000);
    t = performance.now();
    evalEpoch();
    wall.eval.push((performance.now() - t) / 1000);
  }
  for (const [what, f] of [['train', trainEpoch], ['eval', evalEpoch]] as const) {
    const info = await tf.profile(f);
    for (const k of info.kernels) byKernel[what].set(k.name, (byKernel[what].get(k.name) ?? 0) + (k.kernelTimeMs as number));
  }
  const med = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];
  const report = {
    time: new Date().toISOString(),
    note: 'one epoch = 10 steps of batch 512 (train) + predict on train and test (eval); wall seconds medians; kernel ms from one profiled epoch (profiling adds overhead)',
    wallMedian: { train: med(wall.train), eval: med(wall.eval) },
    wall,
    kernelsMs: Object.fromEntries(
      (['train', 'eval'] as const).map((w) => [w, Object.fromEntries([...byKernel[w].entries()].sort((a, c) => c[1] - a[1]).map(([k, v]) => [k, Math.round(v * 10) / 10]))]),
    ),
  };
  fs.writeFileSync(values.out!, JSON.stringify(report, null, 1) + '\n');
  console.log(JSON.stringify(report, null, 1));
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
