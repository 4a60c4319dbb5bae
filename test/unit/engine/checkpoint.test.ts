// Checkpoint/resume of the TF.js loop (training.checkpointEvery; a Slurm member requeued or
// resubmitted): a run cancelled after epoch k and resumed from its checkpoint reports the same
// epochs as the run that never stopped (weights, Adam's moments, the batch order and the
// dropout stream all continue), with dropout and co-teaching so every saved piece matters.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHECKPOINT_FILE } from '../../../src/engine/checkpoint';
import { train } from '../../../src/engine/train';
import type { EngineEvent, EpochEvent } from '../../../src/protocol/engineMessages';
import { parseExperiment, type Experiment } from '../../../src/protocol/experiment';
import { tinyExperiment } from '../helpers/experiments';

function experiment(): Experiment {
  const e = tinyExperiment({
    epochs: 8,
    layers: [
      { type: 'dense', units: 32, init: 'he' },
      { type: 'activation', fn: 'relu' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 11 },
    ],
  });
  e.training.checkpointEvery = 3;
  e.training.regularizers = { coTeaching: { gradualEpochs: 4 } };
  return e;
}

async function run(e: Experiment, runDir: string, opts: { resume?: boolean; stopAfter?: number } = {}): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  const controller = new AbortController();
  await train(e, {
    backend: 'wasm',
    runDir,
    evalThread: false,
    signal: controller.signal,
    ...(opts.resume ? { resume: true } : {}),
    onEvent: (ev) => {
      events.push(ev);
      if (ev.type === 'epoch' && ev.epoch === opts.stopAfter) controller.abort();
    },
  });
  return events;
}

const epochs = (events: EngineEvent[]) => events.filter((e): e is EpochEvent => e.type === 'epoch');
const numbers = (e: EpochEvent) => ({ epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, labelPrecision: e.labelPrecision });

describe('checkpoint and resume (TF.js engine)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-ckpt-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a run stopped after epoch 7 and resumed continues from epoch 7 exactly as the uninterrupted run', async () => {
    fs.mkdirSync(path.join(dir, 'a'));
    const whole = epochs(await run(experiment(), path.join(dir, 'a')));
    assert.equal(whole.length, 8);
    fs.mkdirSync(path.join(dir, 'b'));
    const first = await run(experiment(), path.join(dir, 'b'), { stopAfter: 7 });
    assert.deepEqual(epochs(first).map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7]);
    // Saved after epochs 3 and 6 (never after the last): the resumed run retrains epoch 7.
    assert.ok(fs.existsSync(path.join(dir, 'b', CHECKPOINT_FILE)));
    const resumed = await run(experiment(), path.join(dir, 'b'), { resume: true });
    assert.ok(resumed.some((e) => e.type === 'log' && /Resumed from the checkpoint after epoch 6/.test(e.message)));
    assert.deepEqual(epochs(resumed).map(numbers), whole.slice(6).map(numbers));
    const finished = resumed.find((e) => e.type === 'finished');
    assert.equal(finished?.type === 'finished' && finished.epochs, 8);
  });

  it('the probes resume too: labelErrors ranks and dynamics reads all 8 epochs, exactly as the run that never stopped', async () => {
    const probed = () => {
      const e = experiment();
      return parseExperiment({ ...e, probes: { labelErrors: { methods: ['aum', 'forgetting', 'smallLoss', 'confidentLearning'] }, dynamics: {} } });
    };
    const finalProbes = (events: EngineEvent[]) =>
      Object.fromEntries(events.flatMap((e) => (e.type === 'probe' && (e.probe.kind === 'labelErrors' || e.probe.kind === 'dynamics') ? [[e.probe.kind, e.probe]] : [])));
    fs.mkdirSync(path.join(dir, 'a'));
    const whole = finalProbes(await run(probed(), path.join(dir, 'a')));
    assert.equal(whole.labelErrors?.kind === 'labelErrors' && whole.labelErrors.epochsTracked, 8);
    fs.mkdirSync(path.join(dir, 'b'));
    await run(probed(), path.join(dir, 'b'), { stopAfter: 7 });
    const resumed = finalProbes(await run(probed(), path.join(dir, 'b'), { resume: true }));
    // Forgetting events and AUM need every epoch's bookkeeping; the dynamics series every epoch's losses.
    assert.deepEqual(resumed.labelErrors, whole.labelErrors);
    assert.deepEqual(resumed.dynamics, whole.dynamics);
  });

  it('without a checkpoint, resume starts at epoch 1; a checkpoint of another experiment is refused with the fix', async () => {
    fs.mkdirSync(path.join(dir, 'c'));
    const fresh = await run(experiment(), path.join(dir, 'c'), { resume: true, stopAfter: 1 });
    assert.equal(epochs(fresh)[0].epoch, 1);
    await run(experiment(), path.join(dir, 'c'), { stopAfter: 3 });
    const other = experiment();
    other.training.optimizer.lr = 0.02;
    const refused = await run(other, path.join(dir, 'c'), { resume: true });
    const failed = refused.find((e) => e.type === 'failed');
    assert.match(failed?.type === 'failed' ? failed.message : '', /written for a different experiment.*delete it to start this run over/);
  });
});
