import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/engine/backend';
import { train } from '../../../src/engine/train';
import { parseEngineEvent } from '../../../src/protocol/engineMessages';
import type { EngineEvent } from '../../../src/protocol/engineMessages';
import type { Experiment } from '../../../src/protocol/experiment';
import { tinyExperiment } from '../helpers/experiments';

async function collect(
  experiment: Experiment,
  backend: 'wasm' | 'cpu',
  signal?: AbortSignal,
  onEpoch?: (e: EngineEvent) => void,
  evalThread?: boolean,
): Promise<{ events: EngineEvent[]; tensors: number[] }> {
  const events: EngineEvent[] = [];
  const tensors: number[] = [];
  await train(experiment, {
    backend,
    signal,
    evalThread,
    onEvent: (e) => {
      // Every event must pass the same validation the host applies.
      const r = parseEngineEvent(JSON.parse(JSON.stringify(e)));
      assert.ok(r.ok, `invalid event ${JSON.stringify(e)}: ${r.ok ? '' : r.error}`);
      events.push(e);
      if (e.type === 'epoch') {
        tensors.push(tf.memory().numTensors);
        onEpoch?.(e);
      }
    },
  });
  return { events, tensors };
}

const epochsOf = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'epoch' ? [e] : []));

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`train() on ${backend}`, () => {
    // tf.memory() needs an initialised backend before the first measurement.
    before(() => selectBackend(backend));
    it('learns, emits started / epoch x N / finished, and leaks no tensors', async () => {
      const before = tf.memory().numTensors;
      const { events, tensors } = await collect(tinyExperiment({ epochs: 30 }), backend);
      assert.equal(tf.memory().numTensors, before, 'tensors left after train()');
      assert.equal(tf.getBackend(), backend);

      const started = events[0];
      assert.equal(started.type, 'started');
      if (started.type !== 'started') return;
      assert.equal(started.backend, backend);
      assert.equal(started.totalEpochs, 30);
      assert.deepEqual(started.dataset, { train: 97, corrupted: 19, test: 24, inputSize: 22, classes: 11 });
      assert.equal(started.parameters, 22 * 64 + 64 + 64 * 11 + 11);

      const epochs = epochsOf(events);
      assert.deepEqual(
        epochs.map((e) => e.epoch),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      const last = events[events.length - 1];
      assert.equal(last.type, 'finished');
      if (last.type !== 'finished') return;
      assert.equal(last.epochs, 30);
      assert.deepEqual(last.final, epochs[29].accuracy);

      // Learning: loss falls, training accuracy (clean and memorized corrupted) rises.
      const first = epochs[0];
      const end = epochs[29];
      assert.ok(end.loss < first.loss * 0.7, `loss ${first.loss} -> ${end.loss}`);
      assert.ok(end.accuracy.cleanTrain > first.accuracy.cleanTrain + 0.3, JSON.stringify(end.accuracy));
      assert.ok(end.accuracy.cleanTrain > 0.6, JSON.stringify(end.accuracy));
      assert.notEqual(end.accuracy.corruptedTrain, null);

      // The training steps are timed apart from the evaluation that follows them.
      for (const e of epochs) assert.ok(e.trainSeconds !== undefined && e.trainSeconds > 0 && e.trainSeconds <= e.seconds, `${e.trainSeconds} of ${e.seconds} s`);

      // Flat tensor count across epochs (optimizer slots exist from the first step on).
      assert.ok(tensors.every((n) => n === tensors[0]), `tensor counts ${tensors.join(',')}`);
    });

    it('honours cancellation between batches', async () => {
      const controller = new AbortController();
      const before = tf.memory().numTensors;
      const { events } = await collect(tinyExperiment({ epochs: 50 }), backend, controller.signal, (e) => {
        if (e.type === 'epoch' && e.epoch === 2) controller.abort();
      });
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(epochsOf(events).map((e) => e.epoch), [1, 2]);
      assert.ok(!events.some((e) => e.type === 'finished' || e.type === 'failed'));
      const last = events[events.length - 1];
      assert.ok(last.type === 'log' && /cancel/i.test(last.message));
    });
  });
}

describe('train() results', () => {
    before(() => selectBackend('wasm'));
  it('is reproducible from the seed, and wasm and cpu agree', async () => {
    const exp = tinyExperiment({ epochs: 3 });
    const a = epochsOf((await collect(exp, 'wasm')).events);
    const b = epochsOf((await collect(exp, 'wasm')).events);
    const c = epochsOf((await collect(exp, 'cpu')).events);
    assert.deepEqual(a.map((e) => e.loss), b.map((e) => e.loss));
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(a[i].loss - c[i].loss) < 1e-3, `${a[i].loss} vs ${c[i].loss}`);
  });

  it('trains with dropout, square, gelu, tanh, sigmoid and no-bias layers', async () => {
    const { events } = await collect(
      tinyExperiment({
        epochs: 2,
        layers: [
          { type: 'dropout', rate: 0.1 },
          { type: 'dense', units: 16, useBias: false, init: 'normal', initStd: 0.1 },
          { type: 'activation', fn: 'square' },
          { type: 'dense', units: 16, init: 'glorot' },
          { type: 'activation', fn: 'gelu' },
          { type: 'dropout', rate: 0.5 },
          { type: 'dense', units: 16, init: 'normal' },
          { type: 'activation', fn: 'tanh' },
          { type: 'dense', units: 16 },
          { type: 'activation', fn: 'sigmoid' },
          { type: 'dense', units: 11 },
        ],
      }),
      'wasm',
    );
    assert.equal(events[events.length - 1].type, 'finished');
  });

  it('reports no corrupted-train accuracy without label noise', async () => {
    const { events } = await collect(tinyExperiment({ epochs: 1, noise: 0 }), 'wasm');
    const e = epochsOf(events)[0];
    assert.equal(e.accuracy.corruptedTrain, null);
  });

  it('fails with a clear message when the model does not output one value per class', async () => {
    const before = tf.memory().numTensors;
    const { events } = await collect(tinyExperiment({ layers: [{ type: 'dense', units: 7 }] }), 'wasm');
    assert.equal(tf.memory().numTensors, before);
    const last = events[events.length - 1];
    assert.equal(last.type, 'failed');
    assert.match(last.type === 'failed' ? last.message : '', /model\.layers.*7.*11 classes/);
  });

  it('fails instead of emitting a NaN loss', async () => {
    const { events } = await collect(
      tinyExperiment({
        epochs: 5,
        lr: 1e30,
        layers: [{ type: 'dense', units: 64 }, { type: 'activation', fn: 'square' }, { type: 'dense', units: 11 }],
      }),
      'wasm',
    );
    const last = events[events.length - 1];
    assert.equal(last.type, 'failed');
    assert.match(last.type === 'failed' ? last.message : '', /loss became/);
  });
});

describe('train() with the evaluation on a second thread (wasm)', () => {
  before(() => selectBackend('wasm'));
  afterEach(() => delete process.env.REGLENS_TEST_EVAL_THREAD_CRASH_AFTER);
  // What must not change when the evaluation moves: everything but the timings.
  const outcome = (events: EngineEvent[]): object[] =>
    events.flatMap((e): object[] =>
      e.type === 'epoch' ? [{ epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, testLoss: e.testLoss }] : e.type === 'probe' ? [{ epoch: e.epoch, probe: e.probe.kind }] : [],
    );
  // Probes every 3 epochs: those epochs are evaluated on the training thread, the others on the second one.
  const withProbes = () => ({ ...tinyExperiment({ epochs: 8 }), probes: { memorization: { every: 3, method: 'ablation' as const } } }) as Experiment;

  it('reports the same epochs, in order, as evaluating on the training thread', async () => {
    const here = await collect(withProbes(), 'wasm', undefined, undefined, false);
    const before = tf.memory().numTensors;
    const there = await collect(withProbes(), 'wasm', undefined, undefined, true);
    assert.equal(tf.memory().numTensors, before, 'tensors left after train()');
    assert.deepEqual(outcome(there.events), outcome(here.events));
    assert.deepEqual(epochsOf(there.events).map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(outcome(here.events).some((e) => 'probe' in e), 'the probes ran');
    assert.equal(there.events[there.events.length - 1].type, 'finished');
  });

  it('matches in place for batch norm, dropout and nested dropout layers too', async () => {
    const layers = [
      { type: 'dense', units: 48, init: 'he' },
      { type: 'batchNorm' },
      { type: 'activation', fn: 'relu' },
      { type: 'nestedDropout', distribution: 'geometric', rho: 0.9 },
      { type: 'dropout', rate: 0.2 },
      { type: 'dense', units: 11 },
    ] as const;
    const exp = () => tinyExperiment({ epochs: 5, layers: layers as unknown as NonNullable<Parameters<typeof tinyExperiment>[0]>['layers'] });
    const here = await collect(exp(), 'wasm', undefined, undefined, false);
    const there = await collect(exp(), 'wasm', undefined, undefined, true);
    assert.deepEqual(outcome(there.events), outcome(here.events));
    assert.ok(there.events.some((e) => e.type === 'log' && /second thread/.test(e.message)), 'the thread was used');
  });

  it('reports an epoch already trained when cancelled, and none after it', async () => {
    const controller = new AbortController();
    const { events } = await collect(tinyExperiment({ epochs: 50 }), 'wasm', controller.signal, (e) => {
      if (e.type === 'epoch' && e.epoch === 2) controller.abort();
    }, true);
    // Epoch 2 is reported while epoch 3 trains; epoch 3 is reported too, then the run stops.
    assert.deepEqual(epochsOf(events).map((e) => e.epoch), [1, 2, 3]);
    assert.ok(!events.some((e) => e.type === 'finished' || e.type === 'failed'));
    const last = events[events.length - 1];
    assert.ok(last.type === 'log' && /cancel/i.test(last.message));
  });

  it('reports epoch 1 before epoch 2 trains (not held back for the thread\'s start-up)', async () => {
    const controller = new AbortController();
    const { events } = await collect(tinyExperiment({ epochs: 50 }), 'wasm', controller.signal, (e) => {
      if (e.type === 'epoch' && e.epoch === 1) controller.abort();
    }, true);
    // Had epoch 1 gone to the thread, its event would have come after epoch 2 trained, and epoch 2 would follow it.
    assert.deepEqual(epochsOf(events).map((e) => e.epoch), [1]);
    assert.ok(events.some((e) => e.type === 'log' && /second thread/.test(e.message)), 'the thread was started');
  });

  it('loses no epoch when the thread crashes: it evaluates the saved weights itself and says so', async () => {
    const here = await collect(tinyExperiment({ epochs: 6 }), 'wasm', undefined, undefined, false);
    process.env.REGLENS_TEST_EVAL_THREAD_CRASH_AFTER = '2';
    const there = await collect(tinyExperiment({ epochs: 6 }), 'wasm', undefined, undefined, true);
    assert.deepEqual(outcome(there.events), outcome(here.events));
    const notes = there.events.flatMap((e) => (e.type === 'log' && e.level === 'warning' ? [e.message] : []));
    assert.equal(notes.length, 1, notes.join('\n'));
    // Epoch 1 is evaluated on the training thread; the thread evaluates 2 and 3, then dies on 4.
    assert.match(notes[0], /Evaluating on the training thread from epoch 4 on: the evaluation thread exited \(code 3\)/);
    assert.equal(there.events[there.events.length - 1].type, 'finished');
  });
});
