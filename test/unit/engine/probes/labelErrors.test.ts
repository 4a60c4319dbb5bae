import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../../src/engine/backend';
import { defaultMethod, derivedExperiment, labelErrorsCsv, suspects } from '../../../../src/host/export/labelErrorsCsv';
import { DatasetError, makeDataset } from '../../../../src/engine/data/dataset';
import { auroc, aumScores, confidentLearning, forgettingScores, rankByScore, rankingMetrics, smallLossScores } from '../../../../src/engine/probes/labelErrors';
import { LabelErrorTracker, labelErrorsPayload, topExamples } from '../../../../src/engine/probes/labelErrorsPayload';
import { predictWithMargins } from '../../../../src/engine/evaluate';
import { train } from '../../../../src/engine/train';
import { parseEngineEvent, type EngineEvent, type LabelErrorsProbe } from '../../../../src/protocol/engineMessages';
import { parseExperiment } from '../../../../src/protocol/experiment';
import { buildModel, type Model } from '../../../../src/engine/model';
import { assignWeights, weightsOf } from '../../../../src/engine/evalThread';
import { LabelErrorsRun } from '../../../../src/engine/probes/labelErrorsProbe';
import { probeNetwork } from '../../../../src/engine/probes/network';

/** The hand example of confident learning: example 2 is labeled 0 but looks like class 1. */
const CL_LABELS = Int32Array.from([0, 0, 0, 1, 1, 2]);
const CL_PROBS = Float32Array.from([0.9, 0.05, 0.05, 0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.85, 0.05, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8]);

describe('label errors: scores and metrics (METHODS §11)', () => {
  it('AUROC is 1 for a perfect ranking, 0 for the inverse, 0.5 for a constant, 0.75 with a tie (Mann-Whitney by hand)', () => {
    const truth = [1, 1, 0, 0, 0];
    assert.equal(auroc([5, 4, 3, 2, 1], truth), 1);
    assert.equal(auroc([1, 2, 3, 4, 5], truth), 0);
    assert.equal(auroc([7, 7, 7, 7, 7], truth), 0.5);
    // pos vs neg: one tie (1/2), one win (1): 1.5 / 2.
    assert.equal(auroc([1, 1, 0], [1, 0, 0]), 0.75);
    assert.equal(auroc([1, 2], [0, 0]), null);
  });

  it('precision and recall at k = #corrupted, average precision and the PR curve match a hand ranking', () => {
    // Ranking by score: 0 (hit), 3 (miss), 1 (hit), 2 (miss), 4 (hit)  -> 3 positives, top 3 holds 2.
    const scores = [0.9, 0.7, 0.2, 0.8, 0.1];
    const truth = [1, 1, 0, 0, 1];
    assert.deepEqual(rankByScore(scores), [0, 3, 1, 2, 4]);
    const m = rankingMetrics(scores, truth)!;
    assert.equal(m.k, 3);
    assert.equal(m.precisionAtK, 2 / 3);
    assert.equal(m.recallAtK, 2 / 3);
    assert.ok(Math.abs(m.averagePrecision - (1 + 2 / 3 + 3 / 5) / 3) < 1e-12);
    assert.deepEqual(m.pr.k, [1, 2, 3, 4, 5]);
    assert.deepEqual(m.pr.precision, [1, 1 / 2, 2 / 3, 2 / 4, 3 / 5]);
    assert.deepEqual(m.pr.recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3, 1]);
    // Ties rank by index, so equal scores give a deterministic top k.
    assert.deepEqual(rankByScore([1, 2, 2, 1]), [1, 2, 0, 3]);
    // Downsampled to at most 100 points, ending at the whole set.
    const big = rankingMetrics(Array.from({ length: 1000 }, (_, i) => -i), Array.from({ length: 1000 }, (_, i) => (i < 100 ? 1 : 0)))!;
    assert.equal(big.pr.k.length, 100);
    assert.equal(big.pr.k[99], 1000);
    assert.equal(big.precisionAtK, 1);
    assert.equal(big.auroc, 1);
  });

  it('confident learning: thresholds, confident joint and prune-by-noise-rate on a hand example', () => {
    const cl = confidentLearning(CL_PROBS, CL_LABELS, 3);
    // t_0 = (0.9 + 0.8 + 0.1) / 3, t_1 = (0.85 + 0.7) / 2, t_2 = 0.8 (float32 inputs).
    const f = (v: number) => Math.fround(v);
    assert.ok(Math.abs(cl.thresholds[0] - (f(0.9) + f(0.8) + f(0.1)) / 3) < 1e-12);
    assert.ok(Math.abs(cl.thresholds[1] - (f(0.85) + f(0.7)) / 2) < 1e-12);
    // Example 4 (p_1 = 0.7 < t_1) is above no threshold: it counts nowhere.
    assert.deepEqual(cl.joint, [
      [2, 1, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    assert.deepEqual(Array.from(cl.flagged), [0, 0, 1, 0, 0, 0]);
    assert.equal(rankByScore(cl.scores)[0], 2);
    assert.ok(Math.abs(cl.scores[2] - (1 + (1 - f(0.1)))) < 1e-12);
    // A class nobody is labeled with has no threshold and takes no example.
    const none = confidentLearning(Float32Array.from([0.2, 0.8, 0.9, 0.1]), Int32Array.from([0, 0]), 2);
    assert.ok(Number.isNaN(none.thresholds[1]));
    assert.deepEqual(none.joint, [
      [1, 0],
      [0, 0],
    ]);
  });

  it('forgetting counts correct -> incorrect transitions; never-learned ranks above any learned example; AUM is minus the mean margin', () => {
    const t = new LabelErrorTracker(Int32Array.from([0, 0, 0]));
    // Example 0: right, wrong, right, wrong (2 forgets); 1: always right; 2: never right.
    const preds = [
      [0, 0, 1],
      [1, 0, 1],
      [0, 0, 1],
      [1, 0, 1],
    ];
    const margins = [
      [1, 2, -1],
      [-1, 2, -2],
      [1, 4, -3],
      [-3, 4, -2],
    ];
    preds.forEach((p, e) => t.update(p, margins[e]));
    assert.deepEqual(Array.from(t.forgets), [2, 0, 0]);
    const f = forgettingScores(t.forgets, t.everCorrect, t.epochs);
    assert.deepEqual(Array.from(f), [2, 0, 5]);
    assert.deepEqual(Array.from(aumScores(t.marginSum, t.epochs)), [0.5, -3, 2]);
    assert.throws(() => t.update([0], [1]), /expected 3 predictions/);
    assert.ok(Math.abs(smallLossScores(Float32Array.from([0.25, 0.75]), Int32Array.from([1]), 2)[0] + Math.log(0.75)) < 1e-7);
  });

  it('the payload carries every method, the truth metrics, suggested labels, and mcDropout as unavailable without passes', () => {
    const t = new LabelErrorTracker(CL_LABELS);
    t.update([0, 0, 1, 1, 0, 2], [2, 2, -1, 2, -0.5, 2]);
    const p = labelErrorsPayload({
      methods: ['aum', 'forgetting', 'smallLoss', 'confidentLearning', 'mcDropout'],
      tracker: t,
      labels: CL_LABELS,
      classes: 3,
      source: [10, 11, 12, 13, 14, 15],
      corrupted: [0, 0, 1, 0, 0, 0],
      checkpoint: 'bestTestAccuracy',
      checkpointEpoch: 1,
      probs: CL_PROBS,
      mcGiven: 'no dropout',
      topK: 2,
    });
    assert.deepEqual(p.suggested, [0, 0, 1, 1, 1, 2]);
    assert.deepEqual(p.corrupted, [0, 0, 1, 0, 0, 0]);
    const cl = p.methods.find((m) => m.method === 'confidentLearning')!;
    assert.equal(cl.flagged, 1);
    assert.equal(cl.metrics!.precisionAtK, 1);
    assert.equal(cl.metrics!.auroc, 1);
    assert.deepEqual(p.methods.find((m) => m.method === 'mcDropout'), { method: 'mcDropout', unavailable: 'no dropout' });
    assert.ok(parseEngineEvent({ type: 'probe', epoch: 1, probe: p }).ok);
    assert.ok(topExamples(p, 2).includes(2));
    // No truth (nothing corrupted): scores, no metrics.
    const blind = labelErrorsPayload({ ...{ methods: ['aum' as const], tracker: t, labels: CL_LABELS, classes: 3, source: [0, 1, 2, 3, 4, 5], checkpoint: 'last' as const, checkpointEpoch: 1, probs: CL_PROBS, mcGiven: 'x', topK: 2 }, corrupted: [0, 0, 0, 0, 0, 0] });
    assert.equal(blind.corrupted, undefined);
    assert.equal(blind.methods[0].metrics, undefined);
  });
});

describe('label errors in train() (TF.js, wasm)', () => {
  before(() => selectBackend('wasm'));

  it('margins come from the eval-mode logits: z_y - max_{j != y} z_j', () => {
    const logits = tf.tensor2d([
      [1, 3, 2],
      [5, -1, 0],
    ]);
    const fake = { apply: (x: tf.Tensor2D) => tf.clone(x) } as unknown as Model;
    const r = predictWithMargins(fake, logits, Int32Array.from([2, 0]));
    assert.deepEqual(Array.from(r.pred), [1, 0]);
    assert.deepEqual(Array.from(r.margin), [-1, 5]);
    logits.dispose();
  });

  /** Events of a noisy two-moons run with the probe. */
  async function moons(evalThread: boolean): Promise<EngineEvent[]> {
    const events: EngineEvent[] = [];
    await train(
      parseExperiment({
        name: 'label errors',
        seed: 3,
        dataset: { kind: 'moons', samples: 600, noise: 0.1, testFraction: 0.25, labelNoise: { kind: 'symmetric', rate: 0.3 } },
        model: { layers: [{ type: 'dense', units: 64 }, { type: 'activation', fn: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 64 }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 2 }] },
        training: { epochs: 40, batchSize: 64, optimizer: { kind: 'adam', lr: 0.01 } },
        probes: { labelErrors: { topK: 5, mcPasses: 4 } },
      }),
      {
        backend: 'wasm',
        evalThread,
        onEvent: (e) => {
          const r = parseEngineEvent(JSON.parse(JSON.stringify(e)));
          assert.ok(r.ok, r.ok ? '' : r.error);
          events.push(e);
        },
      },
    );
    return events;
  }
  const labelErrorsOf = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'probe' && e.probe.kind === 'labelErrors' ? [e.probe as LabelErrorsProbe] : []));

  it('a noisy two-moons run ranks its corrupted labels well above chance with every method', async () => {
    const before = tf.memory().numTensors;
    const events = await moons(false);
    assert.equal(events.find((e) => e.type === 'failed'), undefined);
    assert.equal(events.filter((e) => e.type === 'log' && e.level === 'warning').length, 0);
    const probe = labelErrorsOf(events);
    assert.equal(probe.length, 1);
    const p = probe[0];
    assert.equal(p.examples, 450);
    assert.equal(p.epochsTracked, 40);
    assert.equal(p.corrupted!.reduce((a: number, b) => a + b, 0), p.methods[0].metrics!.k);
    for (const m of p.methods) {
      assert.equal(m.scores!.length, 450, m.method);
      assert.ok(m.metrics!.auroc! > 0.8, `${m.method}: AUROC ${m.metrics!.auroc}`);
    }
    assert.equal(p.images, undefined);
    assert.ok(p.checkpointEpoch >= 1 && p.checkpointEpoch <= 40);
    assert.equal(tf.memory().numTensors, before);
    // Epochs evaluated on the second thread return the same margins and the same checkpoint.
    const threaded = await moons(true);
    assert.ok(threaded.some((e) => e.type === 'log' && /second thread/.test(e.message)));
    assert.deepEqual(labelErrorsOf(threaded), probe);
  });

  it('reads the best epoch\'s weights for the probabilities and puts the final weights back', () => {
    const layers = parseExperiment({ name: 'x', dataset: { kind: 'moons' }, model: { layers: [{ type: 'dense', units: 4 }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 2 }] }, training: {} }).model.layers;
    const model = buildModel(layers, 2, 1, undefined, 'init');
    const x = tf.tensor2d([0.5, -1, 2, 0.3, -0.7, 1.1], [3, 2]);
    const labels = Int32Array.from([0, 1, 1]);
    const spec = { methods: ['smallLoss' as const], topK: 3, checkpoint: 'bestTestAccuracy' as const, mcPasses: 2 };
    const run = new LabelErrorsRun(spec, model, probeNetwork(model, layers), { xTrain: x, trainLabels: labels, corrupted: Uint8Array.from([0, 1, 0]), classes: 2 }, 1);
    const atBest = tf.tidy(() => tf.softmax(model.apply(x, false)).dataSync() as Float32Array);
    const epochEvent = (epoch: number, test: number) => ({ type: 'epoch' as const, epoch, loss: 1, seconds: 0, accuracy: { cleanTrain: 0, corruptedTrain: 0, test } });
    const margins = predictWithMargins(model, x, labels);
    run.afterEpoch(epochEvent(1, 0.9), { trainPred: margins.pred, trainMargin: margins.margin, weights: () => weightsOf(model) });
    // Epoch 2 is worse on test and changes the weights: the probe must read epoch 1's.
    const later = weightsOf(model).map((w) => w.map((v) => v * -2));
    assignWeights(model, later);
    run.afterEpoch(epochEvent(2, 0.5), { trainPred: margins.pred, trainMargin: margins.margin, weights: () => weightsOf(model) });
    const p = run.finish(2);
    assert.equal(p.checkpointEpoch, 1);
    const loss = p.methods[0].scores!;
    labels.forEach((y, i) => assert.ok(Math.abs(loss[i] + Math.log(atBest[i * 2 + y])) < 1e-6));
    weightsOf(model).forEach((w, i) => assert.deepEqual(Array.from(w), Array.from(later[i])));
    x.dispose();
    model.dispose();
  });
});

describe('label fixes of a derived run (dataset.excludeExamples, dataset.relabel)', () => {
  const spec = { kind: 'moons', samples: 200, noise: 0.1, testFraction: 0.2, labelNoise: { kind: 'symmetric', rate: 0.3 } } as const;
  const base = makeDataset(parseExperiment({ name: 'x', dataset: spec, model: { layers: [{ type: 'dense', units: 2 }] }, training: {} }).dataset, 4);
  const withFixes = (fixes: object) => makeDataset(parseExperiment({ name: 'x', dataset: { ...spec, ...fixes }, model: { layers: [{ type: 'dense', units: 2 }] }, training: {} }).dataset, 4);

  it('excludes training rows by source index and relabels others; corrupted follows the new label; the test split is untouched', () => {
    const bad = [...base.train.corrupted.keys()].filter((i) => base.train.corrupted[i]);
    const [a, b, c] = bad;
    const d = withFixes({ excludeExamples: [base.train.source[a], base.train.source[b]], relabel: [{ example: base.train.source[c], label: base.train.trueLabels[c] }] });
    assert.equal(d.train.n, base.train.n - 2);
    assert.ok(!d.train.source.includes(base.train.source[a]) && !d.train.source.includes(base.train.source[b]));
    const ci = d.train.source.indexOf(base.train.source[c]);
    assert.equal(d.train.labels[ci], base.train.trueLabels[c]);
    assert.equal(d.train.corrupted[ci], 0);
    assert.equal(d.train.corruptedCount, base.train.corruptedCount - 3);
    assert.deepEqual(Array.from(d.train.x.subarray(ci * 2, ci * 2 + 2)), Array.from(base.train.x.subarray(c * 2, c * 2 + 2)));
    assert.deepEqual(d.test, base.test);
    // A clean example given a wrong label becomes corrupted.
    const clean = [...base.train.corrupted.keys()].find((i) => !base.train.corrupted[i])!;
    const e = withFixes({ relabel: [{ example: base.train.source[clean], label: 1 - base.train.trueLabels[clean] }] });
    assert.equal(e.train.corruptedCount, base.train.corruptedCount + 1);
  });

  it('names the field and the fix for an example outside the training split or a label outside the classes', () => {
    const testSource = base.test.source[0];
    assert.throws(() => withFixes({ excludeExamples: [testSource] }), (err: Error) => err instanceof DatasetError && err.field === 'dataset.excludeExamples' && /not in the training split/.test(err.message));
    assert.throws(() => withFixes({ relabel: [{ example: base.train.source[0], label: 5 }] }), /dataset.relabel: label 5 .* not a class \(0..1\)/);
  });
});

describe('the cleaning loop: suspects and the derived experiment', () => {
  const probe = (): LabelErrorsProbe => ({
    kind: 'labelErrors',
    examples: 4,
    epochsTracked: 3,
    checkpointEpoch: 2,
    checkpoint: 'bestTestAccuracy',
    given: [0, 1, 1, 0],
    suggested: [0, 0, 1, 1],
    source: [10, 20, 30, 40],
    corrupted: [0, 1, 0, 1],
    methods: [
      { method: 'aum', scores: [0.1, 0.9, 0.2, 0.8], metrics: rankingMetrics([0.1, 0.9, 0.2, 0.8], [0, 1, 0, 1])! },
      { method: 'smallLoss', scores: [0.5, 0.1, 0.9, 0.2], metrics: rankingMetrics([0.5, 0.1, 0.9, 0.2], [0, 1, 0, 1])! },
      { method: 'mcDropout', unavailable: 'no dropout' },
    ],
  });
  const experiment = { name: 'run', dataset: { kind: 'moons' as const, relabel: [{ example: 20, label: 1 }] }, model: { layers: [{ type: 'dense' as const, units: 2 }] }, training: {}, sweep: { seed: [1, 2] } };

  it('ranks suspects by the method with the best AUROC and lists their source index, labels and truth', () => {
    assert.equal(defaultMethod(probe()), 'aum');
    assert.deepEqual(suspects(probe(), 'aum', 2), [
      { rank: 1, index: 1, source: 20, given: 1, suggested: 0, score: 0.9, corrupted: true },
      { rank: 2, index: 3, source: 40, given: 0, suggested: 1, score: 0.8, corrupted: true },
    ]);
    assert.deepEqual(suspects(probe(), 'mcDropout', 2), []);
  });

  it('retrain without the top k: the same experiment with their source indices excluded, no sweep, a name saying so', () => {
    const d = derivedExperiment(experiment, probe(), 'aum', 2, 'exclude');
    assert.deepEqual((d.dataset as { excludeExamples: number[] }).excludeExamples, [20, 40]);
    assert.equal(d.name, 'run (without the top 2 suspects, area under the margin)');
    assert.equal((d as { sweep?: unknown }).sweep, undefined);
    assert.ok(parseExperiment(d));
  });

  it('retrain with suggested labels: relabels the top k whose suggestion differs, replacing an earlier fix of the same example', () => {
    const d = derivedExperiment(experiment, probe(), 'smallLoss', 2, 'relabel');
    // smallLoss's top 2: rows 2 (suggested = given: nothing to change) and 0 (same).
    assert.deepEqual((d.dataset as { relabel: unknown }).relabel, [{ example: 20, label: 1 }]);
    const e = derivedExperiment(experiment, probe(), 'aum', 2, 'relabel');
    assert.deepEqual((e.dataset as { relabel: unknown }).relabel, [
      { example: 20, label: 0 },
      { example: 40, label: 1 },
    ]);
    assert.throws(() => derivedExperiment(experiment, probe(), 'mcDropout', 2, 'exclude'), /no MC-dropout disagreement scores/);
  });

  it('the CSV export has one row per example, ranks per method, most suspect first', () => {
    const text = labelErrorsCsv(probe(), 'aum');
    assert.equal(
      text,
      ['index,source,given_label,suggested_label,corrupted,aum_score,aum_rank,smallLoss_score,smallLoss_rank', '1,20,1,0,1,0.9,1,0.1,4', '3,40,0,1,1,0.8,2,0.2,3', '2,30,1,1,0,0.2,3,0.9,1', '0,10,0,0,0,0.1,4,0.5,2'].join('\n') + '\n',
    );
    const withCsv = labelErrorsCsv(probe(), 'aum', { lines: Array.from({ length: 50 }, (_, i) => i + 2), classNames: ['no', 'yes, "really"'] });
    assert.equal(withCsv.split('\n')[1], '1,20,22,1,0,"yes, ""really""",no,1,0.9,1,0.1,4');
  });
});
