import * as assert from 'node:assert/strict';
import { parseEngineEvent, type EngineEvent } from '../../../src/protocol/engineMessages';
import { heatmapGrid, RunModel } from '../../../webview/dashboard/runModel';

/** Every synthetic event goes through the real schema, so the tests match the engine contract. */
function ev(value: unknown): EngineEvent {
  const r = parseEngineEvent(value);
  if (!r.ok) throw new Error(`invalid synthetic event: ${r.error}`);
  return r.value;
}

const epoch = (n: number, corrupted: number) =>
  ev({ type: 'epoch', epoch: n, loss: 1 / n, accuracy: { cleanTrain: 0.9, corruptedTrain: corrupted, test: 0.8 }, seconds: 0.1 });
const scores = (n: number, s: number[]) =>
  ev({ type: 'probe', epoch: n, probe: { kind: 'neuronScores', layer: 'dense_0', method: 'ipr', scores: s, raw: s.map((x) => 1 - x) } });

describe('dashboard run model', () => {
  it('accumulates epochs and neuron snapshots incrementally', () => {
    const m = new RunModel([epoch(1, 0.2), scores(1, [0.1, 0.9, 0.5])]);
    m.apply([epoch(2, 0.5), scores(2, [0.2, 0.8, 0.6])]);
    assert.equal(m.epochs.length, 2);
    const h = m.neurons.get('dense_0')!;
    assert.deepEqual(h.epochs, [1, 2]);
    assert.equal(h.scores.length, 2);
    assert.ok(Math.abs(h.min - 0.1) < 1e-6 && Math.abs(h.max - 0.9) < 1e-6);
    assert.equal(m.neuronVersion, 2);
  });

  it('replaces a re-sent snapshot of the same epoch', () => {
    const m = new RunModel([scores(5, [0.1, 0.2]), scores(5, [0.3, 0.4])]);
    const h = m.neurons.get('dense_0')!;
    assert.deepEqual(h.epochs, [5]);
    assert.ok(Math.abs(h.scores[0][0] - 0.3) < 1e-6);
  });

  it('builds a heatmap grid sorted by the latest score with bucketed columns', () => {
    const events: EngineEvent[] = [];
    for (let e = 1; e <= 10; e++) events.push(scores(e, [0, e / 10, 1 - e / 20]));
    const g = heatmapGrid(new RunModel(events).neurons.get('dense_0')!, 5);
    assert.equal(g.rows, 3);
    assert.equal(g.cols, 5);
    assert.deepEqual(g.order, [1, 2, 0], 'unit 1 ends highest');
    assert.deepEqual(g.colEpochs, [2, 4, 6, 8, 10]);
    // Row 0 is unit 1, whose score rises: the last column is the brightest.
    assert.ok(g.values[4] > g.values[0]);
    for (const v of g.values) assert.ok(v >= 0 && v <= 1);
  });

  it('gives the same grid when updated live as when built from the whole history', () => {
    const snap = (e: number) => scores(e, [Math.sin(e), (e % 7) / 7, 1 / e, (e * 13) % 5]);
    const live = new RunModel([]);
    const grids: ReturnType<typeof heatmapGrid>[] = [];
    const all: EngineEvent[] = [];
    for (let e = 1; e <= 23; e++) {
      all.push(snap(e));
      live.apply([snap(e)]);
      // Drawn after every snapshot, as the dashboard does while training (cached running sums).
      grids.push(heatmapGrid(live.neurons.get('dense_0')!, 6));
    }
    // A re-sent last snapshot replaces the old one: the cache must not keep its sums.
    const resent = scores(23, [0.5, 0.5, 0.5, 0.5]);
    all.push(resent);
    live.apply([resent]);
    const fresh = heatmapGrid(new RunModel(all).neurons.get('dense_0')!, 6);
    const incremental = heatmapGrid(live.neurons.get('dense_0')!, 6);
    assert.deepEqual(incremental.order, fresh.order);
    assert.deepEqual(incremental.colEpochs, fresh.colEpochs);
    assert.equal(incremental.values.length, fresh.values.length);
    incremental.values.forEach((v, i) => assert.ok(Math.abs(v - fresh.values[i]) < 1e-6, `cell ${i}: ${v} vs ${fresh.values[i]}`));
    assert.notDeepEqual(Array.from(grids[22].values), Array.from(incremental.values), 'the replacement changed the picture');
  });

  it('judges unlearning from the curve, not from the dynamics probe\'s epoch', () => {
    const curve = [0.05, 0.3, 0.9, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05, 0.05];
    const m = new RunModel(curve.map((c, i) => epoch(i + 1, c)));
    assert.deepEqual(m.unlearningEpoch(), { epoch: 4 });
    m.apply([ev({ type: 'probe', epoch: 10, probe: { kind: 'dynamics', unlearningEpoch: 2, degradationEpoch: null } })]);
    assert.deepEqual(m.unlearningEpoch(), { epoch: 4 });
    const none = new RunModel([epoch(1, 0.5), epoch(2, 0.2), epoch(3, 0.1)]);
    none.apply([ev({ type: 'probe', epoch: 3, probe: { kind: 'dynamics', unlearningEpoch: 2, degradationEpoch: null } })]);
    assert.equal(none.unlearningEpoch(), undefined);
  });

  it('keeps the latest pruning, MC-dropout and nested-ordering probes', () => {
    const curve = { cleanTrain: [1, 0.9], corruptedTrain: [0.9, 0.1], test: [0.95, 0.96] };
    const m = new RunModel([
      ev({ type: 'probe', epoch: 3, probe: { kind: 'pruning', layer: 'dense_0', method: 'ipr', pruned: [0, 8], units: 64, memorizingFirst: curve, generalizingFirst: curve } }),
      ev({ type: 'probe', epoch: 3, probe: { kind: 'mcDropout', passes: 20, examples: 0, unavailable: 'The model has no dropout layer.' } }),
      ev({ type: 'probe', epoch: 3, probe: { kind: 'nestedOrdering', layer: 'dense_0', k: [1, 2], accuracy: [0.5, 0.9], kStar: 2, importance: [0.7, 0.3], rankCorrelation: -1 } }),
    ]);
    assert.equal(m.pruning?.probe.units, 64);
    assert.match(m.mcDropout?.probe.unavailable ?? '', /no dropout/);
    assert.equal(m.nested?.probe.kStar, 2);
  });
});
