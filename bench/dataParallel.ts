// Would data-parallel training over worker_threads speed up an epoch on wasm? Each step
// splits the batch in two: this thread and one worker (its own wasm instance) compute the
// gradients of a half each on the same weights, this thread averages them, applies Adam
// and ships the new weights. Compared, alternating in one process, with the engine's
// single-thread step (optimizer.minimize on the whole batch). ReLU MLP 194-512-512-97,
// batch 512, p = 97, training steps only.
//   npx tsx bench/dataParallel.ts [--rounds 3] [--epochs 6] [--out bench-results/data-parallel.json]
// Measured here: 1.27x on 2 cores (docs/results.md). Not built into the engine: the per-step
// weight and gradient exchange eats most of the second core, batch norm would see half-batch
// statistics and co-teaching two models, and sweeps already get 1.51x from parallel processes.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../src/engine/backend';
import { makeDataset } from '../src/engine/data/dataset';
import { buildModel, type Model } from '../src/engine/model';
import { meanCE } from '../src/engine/regularizers/loss';
import { grokMlpExperiment } from './benchShared';

const K = 97;
const BATCH = 512;

interface StepRequest {
  weights: Float32Array[];
  xs: Float32Array;
  ys: Float32Array;
  n: number;
}
interface StepReply {
  grads: Float32Array[];
  ms: number;
}

async function setup() {
  const b = await selectBackend('wasm');
  if (b.name !== 'wasm') throw new Error(`wasm backend unavailable (${b.name})`);
  const exp = grokMlpExperiment('data-parallel');
  const data = makeDataset(exp.dataset, 0);
  return { data, model: buildModel(exp.model.layers, data.inputSize, 0) };
}

/** Gradients of the mean loss on one (half) batch, copied out of wasm memory. */
function gradients(model: Model, xs: Float32Array, ys: Float32Array, n: number): Float32Array[] {
  const x = tf.tensor2d(xs, [n, model.inputSize]);
  const y = tf.tensor2d(ys, [n, K]);
  const { value, grads } = tf.variableGrads(() => meanCE(model.forward(x, { mode: 'train' }).logits, y), model.variables);
  // Read outside any tf.tidy: tidy walks a returned object, typed arrays element by element.
  const out = model.variables.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([x, y, value, ...Object.values(grads)]);
  return out;
}

async function worker(): Promise<void> {
  const { model } = await setup();
  parentPort!.on('message', (m: StepRequest) => {
    model.variables.forEach((v, i) => {
      const t = tf.tensor(m.weights[i], v.shape);
      v.assign(t);
      t.dispose();
    });
    const t0 = performance.now();
    const grads = gradients(model, m.xs, m.ys, m.n);
    const reply: StepReply = { grads, ms: performance.now() - t0 };
    parentPort!.postMessage(reply, grads.map((g) => g.buffer as ArrayBuffer));
  });
  parentPort!.postMessage('ready');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      epochs: { type: 'string', default: '6' },
      out: { type: 'string', default: 'bench-results/data-parallel.json' },
    },
  });
  const { data, model } = await setup();
  const d = data.inputSize;
  const n = data.train.n;
  const opt = tf.train.adam(5e-3, 0.9, 0.98);
  // Under tsx the worker needs the TypeScript loader too.
  const w = new Worker(__filename, __filename.endsWith('.ts') ? { execArgv: ['--require', 'tsx/cjs'] } : {});
  await new Promise((resolve) => w.once('message', resolve));
  const batch = (rows: Int32Array) => {
    const xs = new Float32Array(rows.length * d);
    const ys = new Float32Array(rows.length * K);
    rows.forEach((r, i) => {
      xs.set(data.train.x.subarray(r * d, r * d + d), i * d);
      ys[i * K + data.train.labels[r]] = 1;
    });
    return { xs, ys };
  };
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const single = async () => {
    for (let s = 0; s < n; s += BATCH) {
      const rows = order.subarray(s, Math.min(s + BATCH, n));
      const { xs, ys } = batch(rows);
      const x = tf.tensor2d(xs, [rows.length, d]);
      const y = tf.tensor2d(ys, [rows.length, K]);
      const loss = opt.minimize(() => meanCE(model.forward(x, { mode: 'train' }).logits, y), true, model.variables)!;
      loss.dataSync();
      tf.dispose([x, y, loss]);
    }
  };
  const workerMs: number[] = [];
  const parallel = async () => {
    for (let s = 0; s < n; s += BATCH) {
      const rows = order.subarray(s, Math.min(s + BATCH, n));
      const h = Math.ceil(rows.length / 2);
      const a = batch(rows.subarray(0, h));
      const b = batch(rows.subarray(h));
      const weights = model.variables.map((v) => (v.dataSync() as Float32Array).slice());
      const reply = new Promise<StepReply>((resolve) => w.once('message', resolve));
      const req: StepRequest = { weights, xs: b.xs, ys: b.ys, n: rows.length - h };
      w.postMessage(req, [...weights.map((x) => x.buffer as ArrayBuffer), b.xs.buffer as ArrayBuffer, b.ys.buffer as ArrayBuffer]);
      const ga = gradients(model, a.xs, a.ys, h);
      const gb = await reply;
      workerMs.push(gb.ms);
      const fa = h / rows.length;
      const named: { name: string; tensor: tf.Tensor }[] = [];
      model.variables.forEach((v, i) => {
        const g = new Float32Array(ga[i].length);
        for (let j = 0; j < g.length; j++) g[j] = fa * ga[i][j] + (1 - fa) * gb.grads[i][j];
        named.push({ name: v.name, tensor: tf.tensor(g, v.shape) });
      });
      opt.applyGradients(named);
      tf.dispose(named.map((t) => t.tensor));
    }
  };
  const epochs = Number(values.epochs);
  const samples = { oneThread: [] as number[], twoThreads: [] as number[] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [key, f] of [['oneThread', single], ['twoThreads', parallel]] as const) {
      await f(); // warm-up epoch, not counted
      for (let e = 0; e < epochs; e++) {
        const t0 = performance.now();
        await f();
        samples[key].push((performance.now() - t0) / 1000);
      }
      process.stderr.write(`round ${round + 1} ${key}: median ${median(samples[key].slice(-epochs)).toFixed(3)} s/epoch\n`);
    }
  }
  await w.terminate();
  const report = {
    time: new Date().toISOString(),
    note: 'seconds per epoch of training steps, ReLU MLP 194-512-512-97, batch 512, wasm; twoThreads = this thread + one worker, half a batch each, gradients averaged',
    oneThreadMedian: median(samples.oneThread),
    twoThreadsMedian: median(samples.twoThreads),
    speedup: median(samples.oneThread) / median(samples.twoThreads),
    workerHalfStepMsMedian: median(workerMs),
    samples,
  };
  fs.mkdirSync('bench-results', { recursive: true });
  fs.writeFileSync(values.out!, JSON.stringify(report, null, 1) + '\n');
  console.log(`one thread ${report.oneThreadMedian.toFixed(3)} s, two threads ${report.twoThreadsMedian.toFixed(3)} s: ${report.speedup.toFixed(2)}x -> ${values.out}`);
}

if (isMainThread) {
  main().catch((err: Error) => {
    console.error(`data-parallel bench: ${err.message}`);
    process.exitCode = 1;
  });
} else {
  void worker();
}
