import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/engine/backend';
import { makeDataset } from '../../../src/engine/data/dataset';
import { buildModel } from '../../../src/engine/model';
import { loadTopologyFile, translateTopology } from '../../../src/engine/modelSource';
import { train } from '../../../src/engine/train';
import { parseEngineEvent } from '../../../src/protocol/engineMessages';
import type { EngineEvent, Probe } from '../../../src/protocol/engineMessages';
import { parseExperiment } from '../../../src/protocol/experiment';
import type { Experiment, ExperimentInput } from '../../../src/protocol/experiment';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-models-'));

/** The tiny modular task of the train tests (22 inputs, 11 classes), with any model source. */
function experiment(model: ExperimentInput['model'], extra: Partial<ExperimentInput> = {}, epochs = 25): Experiment {
  return parseExperiment({
    name: 'models',
    seed: 3,
    dataset: { kind: 'modular', p: 11, trainFraction: 0.8, labelNoise: { kind: 'symmetric', rate: 0.2 } },
    model,
    training: { epochs, batchSize: 32, optimizer: { kind: 'adam', lr: 0.01, weightDecay: 0 } },
    ...extra,
  } satisfies ExperimentInput);
}

async function run(exp: Experiment, opts: { baseDir?: string; runDir?: string } = {}): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  await train(exp, {
    backend: 'wasm',
    ...opts,
    onEvent: (e) => {
      const r = parseEngineEvent(JSON.parse(JSON.stringify(e)));
      assert.ok(r.ok, `invalid event ${JSON.stringify(e)}`);
      events.push(e);
    },
  });
  return events;
}

function assertLearned(events: EngineEvent[]): void {
  const last = events[events.length - 1];
  assert.equal(last.type, 'finished', JSON.stringify(last));
  const epochs = events.flatMap((e) => (e.type === 'epoch' ? [e] : []));
  assert.ok(epochs[epochs.length - 1].loss < epochs[0].loss * 0.7, `loss ${epochs[0].loss} -> ${epochs[epochs.length - 1].loss}`);
  assert.ok(epochs[epochs.length - 1].accuracy.cleanTrain > 0.6, JSON.stringify(epochs[epochs.length - 1].accuracy));
}

/** What tf.LayersModel.save() writes for Sequential([Dense(64, relu), Dropout(0.1), Dense(11, softmax)]) (TF.js 4.x). */
const tfjsModelJson = {
  format: 'layers-model',
  generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
  convertedBy: null,
  modelTopology: {
    class_name: 'Sequential',
    config: {
      name: 'sequential_1',
      layers: [
        {
          class_name: 'Dense',
          config: {
            units: 64,
            activation: 'relu',
            use_bias: true,
            kernel_initializer: { class_name: 'HeNormal', config: { scale: 2, mode: 'fan_in', distribution: 'normal', seed: null } },
            bias_initializer: { class_name: 'Zeros', config: {} },
            name: 'dense_Dense1',
            trainable: true,
            batch_input_shape: [null, 22],
            dtype: 'float32',
          },
        },
        { class_name: 'Dropout', config: { rate: 0.1, noise_shape: null, seed: null, name: 'dropout_Dropout1', trainable: true } },
        {
          class_name: 'Dense',
          config: { units: 11, activation: 'softmax', use_bias: true, kernel_initializer: { class_name: 'VarianceScaling', config: {} }, name: 'dense_Dense2', trainable: true },
        },
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  },
  weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'dense_Dense1/kernel', shape: [22, 64], dtype: 'float32' }] }],
};

describe('model sources', () => {
  before(() => selectBackend('wasm'));

  describe('Keras / TF.js topology translation', () => {
    it('maps a TF.js model.json onto the engine layers (softmax output dropped, init kept)', () => {
      assert.deepEqual(translateTopology(tfjsModelJson), [
        { type: 'dense', units: 64, useBias: true, init: 'he' },
        { type: 'activation', fn: 'relu' },
        { type: 'dropout', rate: 0.1 },
        { type: 'dense', units: 11, useBias: true, init: 'glorot' },
      ]);
    });

    it('reads Keras 3 configs (InputLayer, module keys, conv/pool/BN) and single-chain functional models', () => {
      const keras3 = {
        module: 'keras',
        class_name: 'Sequential',
        config: {
          name: 'cnn',
          layers: [
            { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 28, 28, 1], name: 'input_layer' } },
            { module: 'keras.layers', class_name: 'Conv2D', config: { name: 'conv', filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'relu', use_bias: true } },
            { module: 'keras.layers', class_name: 'MaxPooling2D', config: { name: 'pool', pool_size: [2, 2], strides: [2, 2], padding: 'valid' } },
            { module: 'keras.layers', class_name: 'BatchNormalization', config: { name: 'bn', axis: -1, momentum: 0.99, epsilon: 0.001 } },
            { module: 'keras.layers', class_name: 'Flatten', config: { name: 'flat' } },
            { module: 'keras.layers', class_name: 'Dense', config: { name: 'out', units: 10, activation: 'linear', use_bias: false } },
          ],
        },
      };
      assert.deepEqual(translateTopology(keras3), [
        { type: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', useBias: true },
        { type: 'activation', fn: 'relu' },
        { type: 'maxPool', poolSize: 2 },
        { type: 'batchNorm', momentum: 0.99, epsilon: 0.001 },
        { type: 'flatten' },
        { type: 'dense', units: 10, useBias: false, init: 'glorot' },
      ]);
      const functional = {
        class_name: 'Functional',
        config: {
          layers: [
            { class_name: 'InputLayer', name: 'in', config: { name: 'in' }, inbound_nodes: [] },
            { class_name: 'Dense', name: 'h', config: { name: 'h', units: 8, activation: 'tanh' }, inbound_nodes: [[['in', 0, 0, {}]]] },
            { class_name: 'Dense', name: 'o', config: { name: 'o', units: 3 }, inbound_nodes: [[['h', 0, 0, {}]]] },
          ],
        },
      };
      assert.deepEqual(
        translateTopology(functional).map((l) => l.type),
        ['dense', 'activation', 'dense'],
      );
    });

    it('names the layer it cannot translate', () => {
      const withLstm = structuredClone(tfjsModelJson);
      withLstm.modelTopology.config.layers.splice(1, 0, { class_name: 'LSTM', config: { units: 8, name: 'lstm_LSTM1' } } as never);
      assert.throws(() => translateTopology(withLstm), /layer 1 "lstm_LSTM1" \(LSTM\): layer type LSTM is not supported; supported: InputLayer, Dense/);
      const midSoftmax = structuredClone(tfjsModelJson);
      midSoftmax.modelTopology.config.layers[0].config.activation = 'softmax';
      assert.throws(() => translateTopology(midSoftmax), /"dense_Dense1".*softmax is only supported as the output/);
      assert.throws(() => translateTopology({ hello: 1 }), /not a Keras \/ TF.js model topology/);
      const branchy = {
        class_name: 'Model',
        config: {
          layers: [
            { class_name: 'InputLayer', config: { name: 'a' }, inbound_nodes: [] },
            { class_name: 'Dense', config: { name: 'b', units: 2 }, inbound_nodes: [[['a', 0, 0, {}]]] },
            { class_name: 'Dense', config: { name: 'c', units: 2 }, inbound_nodes: [[['a', 0, 0, {}]]] },
          ],
        },
      };
      assert.throws(() => translateTopology(branchy), /"c" is not fed by "b"/);
    });

    it('trains a model given as model.topology (relative to the experiment folder)', async () => {
      const dir = path.join(root, 'topology');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(tfjsModelJson));
      const events = await run(experiment({ topology: 'model.json' }), { baseDir: dir });
      assertLearned(events);
      const started = events.find((e) => e.type === 'started');
      assert.equal(started?.type === 'started' && started.parameters, 22 * 64 + 64 + 64 * 11 + 11);
      assert.ok(events.some((e) => e.type === 'log' && /Model from model\.json: dense\(64\) → relu → dropout\(0\.1\) → dense\(11\)/.test(e.message)));
    });

    it('fails the run with the translation error, no stack', async () => {
      const events = await run(experiment({ topology: 'missing.json' }), { baseDir: root });
      const last = events[events.length - 1];
      assert.equal(last.type, 'failed');
      assert.match(last.type === 'failed' ? last.message : '', /model\.topology: cannot read .*missing\.json \(ENOENT\)/);
      assert.equal(last.type === 'failed' && last.stack, undefined);
    });

    it('rejects an experiment with two model sources, or none', () => {
      assert.throws(() => experiment({ layers: [{ type: 'dense', units: 11 }], topology: 'm.json' }), /model\.topology: give exactly one of layers, topology, module and pytorch/);
      assert.throws(() => experiment({}), /model\.layers: give the model as layers/);
    });
  });

  describe('TF.js modules (bundled with esbuild at run time)', () => {
    const dir = path.join(root, 'module');
    before(() => {
      fs.mkdirSync(dir, { recursive: true });
      // TypeScript with a relative import, and '@tensorflow/tfjs-core', which this folder
      // cannot resolve: the engine's own tf is handed in for it.
      fs.writeFileSync(
        path.join(dir, 'widths.ts'),
        'export const hidden: number = 48;\n',
      );
      fs.writeFileSync(
        path.join(dir, 'model.ts'),
        `import * as tf from '@tensorflow/tfjs-core';
import { hidden } from './widths';
interface Ctx { tf: typeof tf; inputSize: number; classes: number; seed: number }
export function createModel(ctx: Ctx) {
  if (ctx.tf.getBackend() !== tf.getBackend()) throw new Error('not the engine tf');
  return [
    { type: 'dense', units: hidden, init: 'he' },
    { type: 'activation', fn: 'relu' },
    { type: 'dense', units: ctx.classes },
  ];
}
`,
      );
      // A factory returning a tf.LayersModel stand-in: only its toJSON() topology is used.
      fs.writeFileSync(
        path.join(dir, 'layersModel.js'),
        `module.exports = async ({ classes }) => ({
  toJSON: () => ({ class_name: 'Sequential', config: { layers: [
    { class_name: 'Dense', config: { name: 'd1', units: 64, activation: 'relu', batch_input_shape: [null, 22] } },
    { class_name: 'Dense', config: { name: 'd2', units: classes, activation: 'softmax' } },
  ] } }),
});
`,
      );
      fs.writeFileSync(path.join(dir, 'broken.ts'), 'export function createModel() { throw new Error("no GPU here"); }\n');
      fs.writeFileSync(path.join(dir, 'syntax.ts'), 'export function createModel( {\n');
    });

    it('trains the layer list a TypeScript factory returns', async () => {
      const events = await run(experiment({ module: { path: 'model.ts' } }), { baseDir: dir });
      assertLearned(events);
      const started = events.find((e) => e.type === 'started');
      assert.equal(started?.type === 'started' && started.parameters, 22 * 48 + 48 + 48 * 11 + 11);
    });

    it('trains the topology of a model a (default-export) factory returns', async () => {
      const events = await run(experiment({ module: { path: 'layersModel.js' } }), { baseDir: dir });
      assertLearned(events);
    });

    it('reports factory errors, bundling errors and missing exports by name', async () => {
      const fail = async (module: { path: string; export?: string }) => {
        const events = await run(experiment({ module }, {}, 1), { baseDir: dir });
        const last = events[events.length - 1];
        assert.equal(last.type, 'failed');
        return last.type === 'failed' ? last.message : '';
      };
      assert.match(await fail({ path: 'broken.ts' }), /model\.module: the factory "createModel" threw: no GPU here/);
      assert.match(await fail({ path: 'syntax.ts' }), /model\.module: could not bundle .*syntax\.ts: .*syntax\.ts:\d+: /);
      assert.match(await fail({ path: 'model.ts', export: 'makeNet' }), /has no function export "makeNet" \(exports: createModel\)/);
    });
  });

  describe('probes.pruning.save', () => {
    const exp = () =>
      experiment(
        { layers: [{ type: 'dense', units: 32, init: 'he' }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 11 }] },
        { probes: { memorization: { method: 'ablation' }, pruning: { steps: 8, save: true } } },
        20,
      );
    const pruningOf = (events: EngineEvent[]) =>
      events.flatMap((e) => (e.type === 'probe' && e.probe.kind === 'pruning' ? [e.probe] : []))[0] as Extract<Probe, { kind: 'pruning' }>;

    it('writes <runDir>/pruned-model/ that reloads into the pruned network', async () => {
      const runDir = path.join(root, 'run-1');
      fs.mkdirSync(runDir);
      const events = await run(exp(), { runDir });
      const probe = pruningOf(events);
      assert.equal(probe.savedModel, 'pruned-model/model.json');
      assert.equal(probe.saveNote, undefined);
      const saved = JSON.parse(fs.readFileSync(path.join(runDir, probe.savedModel), 'utf8'));
      assert.equal(saved.format, 'reglens-layers');
      assert.equal(saved.pruned.units.length, probe.modeSplit!.pruned);
      assert.ok(saved.pruned.units.length > 0, 'some units pruned');
      assert.equal(fs.statSync(path.join(runDir, 'pruned-model', 'weights.bin')).size, 4 * (22 * 32 + 32 + 32 * 11 + 11));

      // Reloaded (as model.topology would), the model's test accuracy is the probe's at the split.
      const loaded = loadTopologyFile(path.join(runDir, probe.savedModel));
      assert.ok('weights' in loaded && loaded.weights);
      const ex = exp();
      const data = makeDataset(ex.dataset, ex.seed);
      const model = buildModel(loaded.layers, data.inputSize, 99, undefined, 'init', loaded.weights);
      const kernel = model.dense[1].kernel.arraySync();
      for (const j of saved.pruned.units) assert.ok(kernel[j].every((v: number) => v === 0), `row ${j} zeroed`);
      const pred = tf.tidy(() => tf.argMax(model.apply(tf.tensor2d(data.test.x, [data.test.n, data.inputSize]), false), 1).dataSync());
      const acc = Array.from(pred).reduce((n: number, p: number, i: number) => n + (p === data.test.labels[i] ? 1 : 0), 0) / data.test.n;
      const at = probe.pruned.indexOf(probe.modeSplit!.pruned);
      assert.ok(Math.abs(acc - probe.memorizingFirst.test[at]) < 1e-9, `reloaded ${acc} vs probe ${probe.memorizingFirst.test[at]}`);
      assert.equal(saved.pruned.accuracy.test, probe.memorizingFirst.test[at]);
      model.dispose();

      // And it trains further from those weights as model.topology.
      const again = await run(experiment({ topology: path.join(runDir, probe.savedModel) }, {}, 2));
      assert.equal(again[again.length - 1].type, 'finished');
      assert.ok(again.some((e) => e.type === 'log' && /saved weights loaded/.test(e.message)));
    });

    it('says why nothing was saved without a run folder', async () => {
      const probe = pruningOf(await run(exp()));
      assert.equal(probe.savedModel, undefined);
      assert.match(probe.saveNote ?? '', /without a run folder/);
    });
  });
});
