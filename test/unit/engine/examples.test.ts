// The claims in the examples' descriptions, checked on shortened runs of the real files
// (same data, model and seed; fewer epochs) through the real engine. The full runs, with
// the claims that need all their epochs, are in docs/results.md (bench/examples.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../../../src/engine/backend';
import { train } from '../../../src/engine/train';
import type { EngineEvent, EpochEvent, FinishedEvent } from '../../../src/protocol/engineMessages';
import { parseEngineEvent } from '../../../src/protocol/engineMessages';
import { parseExperimentText } from '../../../src/protocol/experiment';
import { expandSweep } from '../../../src/protocol/sweep';

const examples = path.join(__dirname, '../../../examples');

interface MemberRun {
  label: string;
  epochs: EpochEvent[];
  finished: FinishedEvent;
  corrupted: number;
  train: number;
}

/** Every member of the example's sweep, trained for at most `epochs` epochs. */
async function runExample(file: string, epochs: number): Promise<MemberRun[]> {
  const experiment = parseExperimentText(fs.readFileSync(path.join(examples, file), 'utf8'), file);
  const runs: MemberRun[] = [];
  for (const member of expandSweep(experiment)) {
    const events: EngineEvent[] = [];
    const shortened = { ...member.experiment, training: { ...member.experiment.training, epochs: Math.min(epochs, member.experiment.training.epochs) } };
    await train(shortened, {
      backend: 'wasm',
      baseDir: examples,
      // The same numbers either way (tested in train.test.ts); one core is enough for a test.
      evalThread: false,
      onEvent: (e) => {
        const r = parseEngineEvent(JSON.parse(JSON.stringify(e)));
        assert.ok(r.ok, `invalid event ${JSON.stringify(e)}`);
        events.push(e);
      },
    });
    const started = events.find((e) => e.type === 'started');
    const finished = events[events.length - 1];
    assert.ok(started?.type === 'started' && finished.type === 'finished', `${file} ${member.label}: ${JSON.stringify(finished)}`);
    runs.push({
      label: member.label,
      epochs: events.flatMap((e) => (e.type === 'epoch' ? [e] : [])),
      finished,
      corrupted: started.dataset.corrupted,
      train: started.dataset.train,
    });
  }
  return runs;
}

const corruptedAt = (r: MemberRun, epoch: number) => r.epochs[epoch - 1].accuracy.corruptedTrain!;
const bestTestEpoch = (r: MemberRun) => r.epochs.reduce((b, e) => (e.accuracy.test > b.accuracy.test ? e : b)).epoch;
const lowestTestLossEpoch = (r: MemberRun) => r.epochs.reduce((b, e) => (e.testLoss! < b.testLoss! ? e : b)).epoch;

describe('examples do what their descriptions say (shortened runs)', () => {
  before(() => selectBackend('wasm'));

  it('mnist-noisy-dropout: dropout 0.5 delays memorization; early stopping on test accuracy restores a later, higher peak', async () => {
    const [plain, dropout] = await runExample('mnist-noisy-dropout.reglens.json', 20);
    assert.deepEqual([plain.label, dropout.label], ['rate=0', 'rate=0.5']);
    // "about 19% against 45% at epoch 20"
    assert.ok(corruptedAt(dropout, 20) < 0.6 * corruptedAt(plain, 20), `${corruptedAt(dropout, 20)} vs ${corruptedAt(plain, 20)}`);
    for (const r of [plain, dropout]) {
      const es = r.finished.earlyStopping!;
      assert.equal(es.monitor, 'testAccuracy');
      assert.equal(es.bestEpoch, bestTestEpoch(r));
      assert.equal(es.restoredEpoch, es.bestEpoch);
      assert.deepEqual(r.finished.final, r.epochs[es.bestEpoch - 1].accuracy, 'the final numbers are the restored epoch\'s');
      if (es.stoppedAt !== null) assert.equal(es.stoppedAt - es.bestEpoch, 15, 'patience 15');
      // Why the example monitors the accuracy: the test loss still finds new lows after the accuracy has peaked.
      assert.ok(lowestTestLossEpoch(r) > es.bestEpoch, `${r.label}: lowest test loss at ${lowestTestLossEpoch(r)}, best accuracy at ${es.bestEpoch}`);
    }
    assert.ok(plain.finished.earlyStopping!.stoppedAt !== null, 'without dropout it stops within 20 epochs');
    // "dropout 0.5 peaks later and higher"
    assert.ok(dropout.finished.earlyStopping!.bestEpoch > plain.finished.earlyStopping!.bestEpoch);
    assert.ok(dropout.finished.final!.test > plain.finished.final!.test);
  });

  it('mnist-cutmix: CutMix on every batch fits far fewer of the pair-flipped labels by epoch 10', async () => {
    const [off, on] = await runExample('mnist-cutmix.reglens.json', 10);
    assert.deepEqual([off.label, on.label], ['prob=0', 'prob=1']);
    // "about 88% ... by epoch 10; with CutMix about 50%"
    assert.ok(corruptedAt(off, 10) > 0.8, `${corruptedAt(off, 10)}`);
    assert.ok(corruptedAt(on, 10) < 0.7 * corruptedAt(off, 10), `${corruptedAt(on, 10)} vs ${corruptedAt(off, 10)}`);
  });

  it('mnist-coteaching: forget rate 0 selects the clean fraction; 0.4 selects mostly clean samples by epoch 10', async () => {
    const [keepAll, forget] = await runExample('mnist-coteaching.reglens.json', 10);
    assert.deepEqual([keepAll.label, forget.label], ['forgetRate=0', 'forgetRate=0.4']);
    const cleanFraction = 1 - keepAll.corrupted / keepAll.train;
    assert.ok(Math.abs(cleanFraction - 0.6) < 1e-9);
    for (const e of keepAll.epochs) assert.ok(Math.abs(e.labelPrecision! - cleanFraction) < 1e-9);
    // "climbs to about 95% by epoch 12" (about 90% at 10)
    assert.ok(forget.epochs[0].labelPrecision! < 0.65 && forget.epochs[9].labelPrecision! > 0.85, `${forget.epochs.map((e) => e.labelPrecision)}`);
  });

  it('moons-mlp: without L2 the MLP fits a growing share of the flipped points; with L2 far fewer', async () => {
    const [plain, l2] = await runExample('moons-mlp.reglens.json', 100);
    assert.deepEqual([plain.label, l2.label], ['l2=0', 'l2=0.0005']);
    assert.ok(corruptedAt(plain, 100) > corruptedAt(plain, 50), 'growing');
    assert.ok(corruptedAt(l2, 100) < 0.5 * corruptedAt(plain, 100), `${corruptedAt(l2, 100)} vs ${corruptedAt(plain, 100)}`);
    assert.ok(l2.epochs[99].accuracy.test > plain.epochs[99].accuracy.test);
  });
});
