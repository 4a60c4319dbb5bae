// Paired, in-process comparison of one multi-sample dropout training step, the M heads run
// one after another (the engine, regularizers/loss.ts) vs stacked along the batch axis into
// one head pass (the lever tried; no gain, median per-block ratios 1.057 and 1.036, so not kept:
// bench-results/msd-step.json). Model and data of the MNIST multi-sample dropout run in
// docs/results.md: 784 -> dense 256 (He) -> ReLU -> M = 8 masks at rate 0.5 -> dense 10,
// Adam lr 1e-3, batch 128, wasm. Blocks of steps alternate A B B A ... so load from other
// jobs hits both alike. Both arms start from the same weights and seeds; their losses are
// compared step by step (they must agree: the same masks, the same math).
//   npx tsx bench/msdStep.ts [--blocks 12] [--steps 10] [--out bench-results/msd-step.json]
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../src/engine/backend';
import { makeDataset } from '../src/engine/data/dataset';
import { buildModel, type Model } from '../src/engine/model';
import { meanCE, multiSampleDropoutLoss } from '../src/engine/regularizers/loss';
import { parseExperiment } from '../src/protocol/experiment';

const M = 8;
const RATE = 0.5;
const BATCH = 128;

/**
 * The lever: the M dropped copies stacked along the batch axis, one head pass, one mean. The
 * head is row-wise and every copy has the same rows, so this equals the average of the M
 * per-head means; each copy keeps its own seed, so the masks are the loop's.
 */
function stackedLoss(features: tf.Tensor2D, model: Model, y: tf.Tensor2D, nextSeed: () => number): tf.Scalar {
  const copies: tf.Tensor2D[] = [];
  for (let m = 0; m < M; m++) copies.push(tf.dropout(features, RATE, undefined, nextSeed()) as tf.Tensor2D);
  return meanCE(model.head(tf.concat(copies, 0)), tf.tile(y, [M, 1]));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { blocks: { type: 'string', default: '12' }, steps: { type: 'string', default: '10' }, out: { type: 'string', default: 'bench-results/msd-step.json' } } });
  const blocks = Number(values.blocks);
  const steps = Number(values.steps);
  const b = await selectBackend('wasm');
  if (b.name !== 'wasm') throw new Error(`got backend ${b.name}`);
  const exp = parseExperiment({
    name: 'msd-step',
    dataset: { kind: 'mnist', train: 8000, test: 2000 },
    model: { layers: [{ type: 'dense', units: 256, init: 'he' }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 10 }] },
    training: { epochs: 1, batchSize: BATCH, optimizer: { kind: 'adam', lr: 1e-3 } },
  });
  const data = makeDataset(exp.dataset, 0);
  const d = data.inputSize;
  const arms = (['loop', 'stacked'] as const).map((name) => {
    const model = buildModel(exp.model.layers, d, 0);
    let seed = 1;
    return { name, model, opt: tf.train.adam(1e-3), nextSeed: () => seed++, ms: [] as number[], losses: [] as number[], batch: 0 };
  });
  const batchAt = (i: number) => {
    const start = (i * BATCH) % (data.train.n - BATCH);
    const x = tf.tensor2d(data.train.x.subarray(start * d, (start + BATCH) * d), [BATCH, d]);
    const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(data.train.labels.subarray(start, start + BATCH), 'int32'), 10), 'float32') as tf.Tensor2D);
    return { x, y };
  };
  const runBlock = (arm: (typeof arms)[number]) => {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      const { x, y } = batchAt(arm.batch++);
      const loss = arm.opt.minimize(() => {
        const f = arm.model.forward(x, { mode: 'train', featuresOnly: true }).logits;
        return arm.name === 'loop' ? multiSampleDropoutLoss(f, arm.model, y, M, RATE, arm.nextSeed) : stackedLoss(f, arm.model, y, arm.nextSeed);
      }, true, arm.model.variables)!;
      arm.losses.push(loss.dataSync()[0]);
      loss.dispose();
      x.dispose();
      y.dispose();
    }
    arm.ms.push((performance.now() - t0) / steps);
  };
  runBlock(arms[0]); // warm-up of both code paths, not recorded
  runBlock(arms[1]);
  for (const a of arms) {
    a.ms.length = 0;
  }
  for (let i = 0; i < blocks; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const j of order) runBlock(arms[j]);
  }
  const maxLossGap = Math.max(...arms[0].losses.map((l, i) => Math.abs(l - arms[1].losses[i])));
  const ratios = arms[0].ms.map((a, i) => arms[1].ms[i] / a);
  const result = {
    benchmark: 'multi-sample dropout training step (M = 8, rate 0.5, 784-256-10, batch 128, wasm)',
    command: `npx tsx bench/msdStep.ts --blocks ${blocks} --steps ${steps}`,
    time: new Date().toISOString(),
    blocks,
    stepsPerBlock: steps,
    medianMsPerStep: { loop: median(arms[0].ms), stacked: median(arms[1].ms) },
    medianRatioStackedOverLoop: median(ratios),
    blocksStackedFaster: ratios.filter((r) => r < 1).length,
    maxLossGap,
    samples: { loop: arms[0].ms, stacked: arms[1].ms },
  };
  fs.mkdirSync('bench-results', { recursive: true });
  fs.writeFileSync(values.out!, JSON.stringify(result, null, 1));
  console.log(`loop ${result.medianMsPerStep.loop.toFixed(1)} ms/step, stacked ${result.medianMsPerStep.stacked.toFixed(1)} ms/step, median ratio ${result.medianRatioStackedOverLoop.toFixed(3)} (${result.blocksStackedFaster}/${blocks} blocks faster), max loss gap ${maxLossGap.toExponential(2)}`);
}

void main();
