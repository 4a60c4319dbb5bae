// Paired, in-process speed comparison of two ways to run an epoch of the ReLU MLP
// 194-512-512-97 (p = 97, batch 512, Adam + decoupled decay, then predictions on the
// full train and test sets: the work of one train() epoch). Epochs of variant A and B
// alternate (A B B A A B ...) in one process, so load from other jobs on a shared machine
// hits both alike; the report gives each variant's median and the median of the per-pair
// ratio B/A.
//   npx tsx bench/pairedEpochs.ts --variant hostBatch [--pairs 15] [--out FILE]
// Variants (A = the engine as it was, B = the lever):
//   hostBatch: mini-batches copied from the host arrays (what train.ts now does) vs tf.gather
//              on device tensors (what it did before). Kept: B/A 0.946 and 0.949.
//   (fuse, removed: dense + ReLU as one tf.fused.matMul with a hand-written gradient vs
//   matMul, add, relu; measured B/A 1.010, 0.963, 1.008, so the fused path was not kept and
//   its switch is gone from model.ts: bench-results/paired-fuse*.json.)
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../src/engine/backend';
import { makeDataset } from '../src/engine/data/dataset';
import { predict } from '../src/engine/evaluate';
import { buildModel, Model } from '../src/engine/model';
import { meanCE, perSampleCE } from '../src/engine/regularizers/loss';
import { deriveRng, shuffle } from '../src/engine/prng';
import { grokMlpExperiment } from './benchShared';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'fuse' },
      pairs: { type: 'string', default: '15' },
      out: { type: 'string' },
    },
  });
  const variant = values.variant!;
  if (variant !== 'hostBatch') throw new Error(`unknown variant ${variant} (only hostBatch; the fuse variant was removed with the fused path)`);
  const b = await selectBackend('wasm');
  if (b.name !== 'wasm') throw new Error(`got backend ${b.name}`);
  const exp = grokMlpExperiment('paired');
  const data = makeDataset(exp.dataset, 0);
  const n = data.train.n;
  const d = data.inputSize;
  const K = data.classes;
  const xTrain = tf.tensor2d(data.train.x, [n, d]);
  const xTest = tf.tensor2d(data.test.x, [data.test.n, d]);
  const yTrain = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(data.train.labels, 'int32'), K), 'float32') as tf.Tensor2D);
  const yTest = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(data.test.labels, 'int32'), K), 'float32') as tf.Tensor2D);
  const yHost = yTrain.dataSync() as Float32Array;

  const make = (): Model => buildModel(exp.model.layers, d, 0);
  interface Arm {
    model: Model;
    opt: tf.Optimizer;
    host: boolean;
    order: Int32Array;
    rng: () => number;
  }
  const arm = (host: boolean): Arm => ({
    model: make(),
    opt: tf.train.adam(5e-3, 0.9, 0.98),
    host,
    order: Int32Array.from({ length: n }, (_, i) => i),
    rng: deriveRng(0, 'batches'),
  });
  const A = arm(false);
  const B = arm(true);
  const decay = 1 - 5e-3 * 5;

  // One train() epoch: shuffled batches, minimize, decoupled decay, loss summed on device,
  // then predictions on train and test (and the test loss).
  const epoch = (a: Arm): number => {
    const t0 = performance.now();
    shuffle(a.rng, a.order);
    let lossSum = tf.scalar(0);
    for (let s = 0; s < n; s += 512) {
      const rows = a.order.subarray(s, Math.min(s + 512, n));
      const size = rows.length;
      let xb: tf.Tensor2D;
      let yb: tf.Tensor2D;
      const tmp: tf.Tensor[] = [];
      if (a.host) {
        const xs = new Float32Array(size * d);
        const ys = new Float32Array(size * K);
        for (let i = 0; i < size; i++) {
          const r = rows[i];
          xs.set(data.train.x.subarray(r * d, r * d + d), i * d);
          ys.set(yHost.subarray(r * K, r * K + K), i * K);
        }
        xb = tf.tensor2d(xs, [size, d]);
        yb = tf.tensor2d(ys, [size, K]);
      } else {
        const idx = tf.tensor1d(rows, 'int32');
        tmp.push(idx);
        xb = tf.gather(xTrain, idx);
        yb = tf.gather(yTrain, idx);
      }
      tmp.push(xb, yb);
      const loss = a.opt.minimize(() => meanCE(a.model.forward(xb, { mode: 'train' }).logits, yb), true, a.model.variables)!;
      tf.tidy(() => {
        for (const v of a.model.variables) v.assign(tf.mul(v, decay));
      });
      const next = tf.tidy(() => tf.add(lossSum, tf.mul(loss, size)) as tf.Scalar);
      lossSum.dispose();
      loss.dispose();
      tf.dispose(tmp);
      lossSum = next;
    }
    lossSum.dataSync();
    lossSum.dispose();
    predict(a.model, xTrain);
    const [p, l] = tf.tidy(() => {
      const logits = a.model.forward(xTest, { mode: 'eval' }).logits;
      return [tf.argMax(logits, 1), tf.sum(perSampleCE(logits, yTest))];
    });
    p.dataSync();
    l.dataSync();
    tf.dispose([p, l]);
    return (performance.now() - t0) / 1000;
  };

  // Warm-up (XNNPACK setup, first allocations), then ABBA-ordered pairs.
  epoch(A);
  epoch(B);
  const pairs = Number(values.pairs);
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      sa.push(epoch(A));
      sb.push(epoch(B));
    } else {
      sb.push(epoch(B));
      sa.push(epoch(A));
    }
    process.stderr.write(`pair ${i + 1}/${pairs}: A ${sa[i].toFixed(3)} s, B ${sb[i].toFixed(3)} s\n`);
  }
  const ratios = sa.map((x, i) => sb[i] / x);
  // Same seeds and data: both arms must have learned the same (the batches are identical).
  const accA = predict(A.model, xTest);
  const accB = predict(B.model, xTest);
  let agree = 0;
  for (let i = 0; i < accA.length; i++) if (accA[i] === accB[i]) agree++;
  const report = {
    time: new Date().toISOString(),
    command: `npx tsx bench/pairedEpochs.ts --variant ${variant} --pairs ${pairs}`,
    variant,
    note: 'seconds per epoch (10 steps of batch 512 + predictions on train and test), ReLU MLP 194-512-512-97, wasm; A = engine default, B = the lever; epochs alternate ABBA in one process',
    medianA: median(sa),
    medianB: median(sb),
    medianRatioBOverA: median(ratios),
    samplesA: sa,
    samplesB: sb,
    testPredictionAgreement: agree / accA.length,
  };
  const out = values.out ?? `bench-results/paired-${variant}.json`;
  fs.writeFileSync(out, JSON.stringify(report, null, 1) + '\n');
  console.log(`${variant}: A ${report.medianA.toFixed(3)} s/epoch, B ${report.medianB.toFixed(3)} s/epoch, median B/A ${report.medianRatioBOverA.toFixed(3)}; test predictions agree ${(100 * report.testPredictionAgreement).toFixed(1)}%`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
