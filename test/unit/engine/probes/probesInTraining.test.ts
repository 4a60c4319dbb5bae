import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../../src/engine/backend';
import { NO_DROPOUT_MESSAGE } from '../../../../src/engine/probes/mcDropout';
import { train } from '../../../../src/engine/train';
import { parseEngineEvent } from '../../../../src/protocol/engineMessages';
import type { EngineEvent, Probe } from '../../../../src/protocol/engineMessages';
import { parseExperiment } from '../../../../src/protocol/experiment';
import type { ExperimentInput } from '../../../../src/protocol/experiment';

function experiment(layers: ExperimentInput['model']['layers'], epochs = 6, alsoLayers?: 'all' | string[]) {
  return parseExperiment({
    name: 'probes',
    seed: 2,
    dataset: { kind: 'modular', p: 11, trainFraction: 0.8, labelNoise: { kind: 'symmetric', rate: 0.2 } },
    model: { layers },
    training: { epochs, batchSize: 32, optimizer: { kind: 'adam', lr: 0.01 } },
    probes: {
      memorization: { every: 2, ...(alsoLayers ? { alsoLayers } : {}) },
      pruning: { steps: 4, save: true },
      mcDropout: { passes: 8, examples: 60 },
      nestedOrdering: {},
      dynamics: { every: 3 },
    },
  });
}

async function run(layers: ExperimentInput['model']['layers'], epochs?: number, alsoLayers?: 'all' | string[]) {
  const events: EngineEvent[] = [];
  const tensors: number[] = [];
  await train(experiment(layers, epochs, alsoLayers), {
    backend: 'wasm',
    onEvent: (e) => {
      // Every probe event passes the host's validation, after a JSON round trip.
      const r = parseEngineEvent(JSON.parse(JSON.stringify(e)));
      assert.ok(r.ok, `invalid event: ${r.ok ? '' : r.error}`);
      events.push(e);
      if (e.type === 'epoch') tensors.push(tf.memory().numTensors);
    },
  });
  const failed = events.find((e) => e.type === 'failed');
  assert.equal(failed, undefined, JSON.stringify(failed));
  const warnings = events.filter((e) => e.type === 'log' && e.level !== 'info');
  const probes = events.flatMap((e) => (e.type === 'probe' ? [e.probe] : []));
  return { events, tensors, probes, warnings };
}

const of = <K extends Probe['kind']>(probes: Probe[], kind: K) => probes.filter((p): p is Extract<Probe, { kind: K }> => p.kind === kind);

describe('probes inside train()', () => {
  before(() => selectBackend('wasm'));

  it('emits valid IPR, pruning, MC, nested and dynamics events and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const { tensors, probes, warnings } = await run(
      [
        { type: 'dense', units: 32, useBias: false },
        { type: 'dropout', rate: 0.3 },
        { type: 'activation', fn: 'square' },
        { type: 'dense', units: 11, useBias: false },
      ],
      8,
    );
    assert.equal(tf.memory().numTensors, before, 'tensors left after train() with probes');
    assert.ok(tensors.every((n) => n === tensors[0]), `tensor count not flat across epochs: ${tensors}`);
    assert.deepEqual(warnings, []);
    const scores = of(probes, 'neuronScores');
    assert.equal(scores.length, 4, 'epochs 2, 4, 6 and the final snapshot');
    assert.equal(scores[0].method, 'ipr');
    assert.equal(scores[0].raw.length, 32);
    for (const v of scores[0].raw) assert.ok(v >= 1 / 22 - 1e-9 && v <= 1);
    const [pruning] = of(probes, 'pruning');
    assert.equal(pruning.units, 32);
    assert.match(pruning.saveNote ?? '', /not saved/);
    const [mc] = of(probes, 'mcDropout');
    assert.equal(mc.unavailable, undefined);
    assert.equal(mc.examples, 60);
    const s = mc.summary!;
    for (const split of ['clean', 'test'] as const) {
      assert.ok(s.meanEntropy[split] >= 0);
      assert.ok(s.meanMutualInformation[split] >= 0);
      assert.ok(s.meanMutualInformation[split] <= s.meanEntropy[split] + 1e-9);
    }
    for (const u of mc.mostUncertain!) assert.ok(u.mutualInformation >= 0 && u.mutualInformation <= u.entropy + 1e-9);
    assert.ok(s.ece >= 0 && s.ece <= 1);
    assert.ok(mc.activeLearning!.length > 0);
    const [nested] = of(probes, 'nestedOrdering');
    assert.equal(nested.k.length, 32);
    assert.ok(nested.kStar >= 1 && nested.kStar <= 32);
    const dyn = of(probes, 'dynamics');
    assert.equal(dyn.length, 3, 'epochs 3, 6 and the final one');
    assert.equal(dyn[dyn.length - 1].series!.testLoss.length, 8);
  });

  it('MC dropout without dropout says unavailable instead of reporting zeros', async () => {
    const { probes } = await run([
      { type: 'dense', units: 16 },
      { type: 'activation', fn: 'relu' },
      { type: 'dense', units: 11 },
    ], 2);
    const [mc] = of(probes, 'mcDropout');
    assert.equal(mc.unavailable, NO_DROPOUT_MESSAGE);
    assert.equal(mc.summary, undefined);
  });

  it('falls back to the model forward helpers for batch norm (ablation scores, MC with BN in inference mode)', async () => {
    const before = tf.memory().numTensors;
    const { probes, warnings } = await run([
      { type: 'dense', units: 16 },
      { type: 'activation', fn: 'relu' },
      { type: 'batchNorm' } as never,
      { type: 'dropout', rate: 0.2 },
      { type: 'dense', units: 12 },
      { type: 'activation', fn: 'relu' },
      { type: 'dense', units: 11 },
    ], 2);
    assert.deepEqual(warnings, []);
    assert.equal(tf.memory().numTensors, before);
    const [pruning] = of(probes, 'pruning');
    assert.equal(pruning.method, 'ipr');
    const [mc] = of(probes, 'mcDropout');
    assert.equal(mc.unavailable, undefined);
    assert.ok(mc.summary!.meanMutualInformation.test >= 0);
    assert.equal(of(probes, 'nestedOrdering')[0].layer, 'dense_1');
  });

  it('scores every hidden layer with alsoLayers "all", the primary layer first, quietly using ablation off the IPR layer', async () => {
    const layers: ExperimentInput['model']['layers'] = [
      { type: 'dense', units: 24, useBias: false },
      { type: 'activation', fn: 'square' },
      { type: 'dense', units: 8 },
      { type: 'activation', fn: 'relu' },
      { type: 'dense', units: 11 },
    ];
    const { probes, warnings } = await run(layers, 4, 'all');
    assert.deepEqual(warnings, []);
    const scores = of(probes, 'neuronScores');
    // Epochs 2 and 4 (the last): both layers each time, dense_0 (IPR, the primary) first.
    assert.deepEqual(scores.map((s) => `${s.layer}:${s.method}:${s.scores.length}`), ['dense_0:ipr:24', 'dense_1:ablation:8', 'dense_0:ipr:24', 'dense_1:ablation:8']);
    // Pruning stays on the primary layer.
    assert.equal(of(probes, 'pruning')[0].layer, 'dense_0');
    const named = of((await run(layers, 2, ['dense_1'])).probes, 'neuronScores');
    assert.deepEqual(named.map((s) => s.layer), ['dense_0', 'dense_1']);
  });
});
