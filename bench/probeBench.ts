// Probe speed for `npm run bench` (issue 3, Speed): all-unit ablation in one rank-1 pass vs
// a per-unit loop of masked passes, measured side by side on the same model and data;
// MC dropout with T = 30 over 5,000 examples; the process's peak RSS. Medians.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/engine/backend';
import { makeModularDataset, oneHotPairs } from '../src/engine/data/modular';
import { buildModel } from '../src/engine/model';
import { ablationScores } from '../src/engine/probes/ablation';
import { mcDropoutProbe } from '../src/engine/probes/mcDropout';
import { probeNetwork } from '../src/engine/probes/network';
import { buildEvalData } from '../src/engine/probes/probes';
import { parseExperiment } from '../src/protocol/experiment';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f: () => void) => {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
};
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

export async function benchProbes(log: (s: string) => void = (s) => process.stderr.write(s + '\n')) {
  await selectBackend('wasm');
  const spec = { kind: 'modular', p: 97, operation: 'add', trainFraction: 0.5, labelNoise: { kind: 'symmetric', rate: 0.3 } } as const;
  const data = makeModularDataset(spec, 0);
  const probeData = {
    xTrain: tf.tensor2d(oneHotPairs(data.train.pairs, 97), [data.train.pairs.length, 194]),
    xTest: tf.tensor2d(oneHotPairs(data.test.pairs, 97), [data.test.pairs.length, 194]),
    trainLabels: data.train.labels,
    corrupted: data.train.corrupted,
    testLabels: data.test.labels,
  };
  const evalData = buildEvalData(probeData);
  let peakRss = rssMiB();
  const layersOf = (dropout: number) =>
    parseExperiment({
      name: 'bench',
      dataset: spec,
      model: {
        layers: [
          { type: 'dense', units: 512, useBias: false, init: 'normal', initStd: 0.1 },
          ...(dropout ? [{ type: 'dropout', rate: dropout } as const] : []),
          { type: 'activation', fn: 'square' },
          { type: 'dense', units: 97, useBias: false, init: 'normal', initStd: 0.0441941738 },
        ],
      },
      training: {},
    }).model.layers;

  // Ablation: quadratic 194-512-97 (the hidden layer feeds the output), 9,409 examples.
  const layers = layersOf(0);
  const model = buildModel(layers, 194, 0);
  const net = probeNetwork(model, layers);
  const layer = net.hidden[0];
  const rank1: number[] = [];
  for (let i = 0; i < 3; i++) rank1.push(time(() => ablationScores(net, layer, evalData, 'rank1')));
  peakRss = Math.max(peakRss, rssMiB());
  log(`  ablation rank-1 (512 units, ${evalData.labels.length} examples): ${rank1.map((s) => s.toFixed(2)).join(', ')} s`);
  const loop = time(() => ablationScores(net, layer, evalData, 'loop'));
  peakRss = Math.max(peakRss, rssMiB());
  log(`  ablation per-unit loop: ${loop.toFixed(2)} s`);
  const batched = time(() => ablationScores(net, layer, evalData, 'batched'));
  log(`  ablation batched masked passes: ${batched.toFixed(2)} s`);
  model.dispose();

  // MC dropout: dropout 0.3 on the first layer's pre-activation, T = 30, 5,000 examples.
  const mcLayers = layersOf(0.3);
  const mcModel = buildModel(mcLayers, 194, 0);
  const mcNet = probeNetwork(mcModel, mcLayers);
  const mc: number[] = [];
  for (let i = 0; i < 3; i++) {
    mc.push(
      time(() =>
        mcDropoutProbe(mcNet, evalData, {
          passes: 30,
          examples: 5000,
          seed: i,
          round: 0,
          evalLogits: (x) => mcModel.apply(x, false),
          nTrain: data.train.pairs.length,
        }),
      ),
    );
    peakRss = Math.max(peakRss, rssMiB());
  }
  log(`  MC dropout T=30 x 5000: ${mc.map((s) => s.toFixed(2)).join(', ')} s`);
  mcModel.dispose();
  evalData.x.dispose();
  probeData.xTrain.dispose();
  probeData.xTest.dispose();
  // ru_maxrss (KiB on Linux): the true peak, including moments between the samples above.
  const maxRss = process.resourceUsage().maxRSS / 1024;
  return {
    backend: tf.getBackend(),
    ablation: {
      model: 'quadratic 194-512-97, 9409 examples (train + test), 512 units',
      rank1Seconds: median(rank1),
      rank1Samples: rank1,
      loopSeconds: loop,
      batchedSeconds: batched,
      loopOverRank1: loop / median(rank1),
    },
    mcDropout: { passes: 30, examples: 5000, seconds: median(mc), samples: mc },
    rssMiB: { sampledPeak: peakRss, maxRss, limit: 400 },
  };
}
