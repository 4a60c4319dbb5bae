import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseEngineEvent, type EngineEvent } from '../../../src/protocol/engineMessages';
import { copyDestination, copySource, resolveSavedModel, savedModelOf } from '../../../src/host/export/prunedModel';
import { viridisLut, viridisRgba32 } from '../../../webview/dashboard/colorScale';
import { RunModel } from '../../../webview/dashboard/runModel';
import { dominantFrequency, integerTicks } from '../../../webview/dashboard/stats';
import { distinctLabels, prunedModelUi, runLabels, stableRunOrder } from '../../../webview/dashboard/viewModel';

function ev(value: unknown): EngineEvent {
  const r = parseEngineEvent(value);
  if (!r.ok) throw new Error(`invalid synthetic event: ${r.error}`);
  return r.value;
}

const curve = { cleanTrain: [0.9, 0.8], corruptedTrain: [0.5, 0.1], test: [0.8, 0.8] };
const pruning = (extra: Record<string, unknown> = {}) =>
  ev({ type: 'probe', epoch: 4, probe: { kind: 'pruning', layer: 'dense_0', method: 'ipr', pruned: [0, 8], units: 64, memorizingFirst: curve, generalizingFirst: curve, ...extra } });

describe('dashboard: integer epoch ticks', () => {
  it('never puts a tick between two epochs', () => {
    assert.deepEqual(integerTicks(1, 4, 0.5), [1, 2, 3, 4]);
    assert.deepEqual(integerTicks(1, 2, 0.2), [1, 2]);
    for (const [min, max, incr] of [
      [1, 2000, 137],
      [0.5, 7.3, 1.5],
      [3, 3, 0.1],
    ]) {
      const t = integerTicks(min, max, incr);
      assert.ok(t.every(Number.isInteger), `${t}`);
      assert.ok(t.every((v) => v >= min && v <= max), `${t} within [${min}, ${max}]`);
    }
  });

  it('uses a round step at least as wide as the one the axis found', () => {
    assert.deepEqual(integerTicks(0, 2000, 300), [0, 500, 1000, 1500, 2000]);
    assert.deepEqual(integerTicks(1, 100, 18), [20, 40, 60, 80, 100]);
  });

  it('gives nothing for an empty or invalid range', () => {
    assert.deepEqual(integerTicks(5, 4, 1), []);
    assert.deepEqual(integerTicks(NaN, 4, 1), []);
  });
});

describe('dashboard: heatmap colours', () => {
  it('packs the viridis table into opaque RGBA words in ImageData byte order', () => {
    const bytes = new Uint8Array(viridisRgba32.buffer);
    for (const i of [0, 1, 128, 255]) {
      assert.deepEqual([...bytes.subarray(i * 4, i * 4 + 4)], [viridisLut[i * 3], viridisLut[i * 3 + 1], viridisLut[i * 3 + 2], 255]);
    }
  });
});

describe('dashboard: neuron details', () => {
  it('names the strongest non-constant frequency of a unit spectrum', () => {
    const top = dominantFrequency([0.5, 0.1, 0.3, 0.1])!;
    assert.equal(top.k, 2);
    assert.ok(Math.abs(top.share - 0.3) < 1e-9);
    assert.equal(dominantFrequency([1]), undefined);
    assert.equal(dominantFrequency([0, 0, 0]), undefined);
  });

  it('keeps one history per scored layer (the layer picker lists them)', () => {
    const s = (layer: string, epoch: number, n: number) =>
      ev({ type: 'probe', epoch, probe: { kind: 'neuronScores', layer, method: 'ablation', scores: Array(n).fill(0.1), raw: Array(n).fill(0.1) } });
    const m = new RunModel([s('dense_0', 1, 64), s('dense_1', 1, 32), s('dense_0', 2, 64)]);
    assert.deepEqual([...m.neurons.keys()], ['dense_0', 'dense_1']);
    assert.equal(m.neurons.get('dense_0')!.epochs.length, 2);
    assert.equal(m.neurons.get('dense_1')!.scores[0].length, 32);
  });
});

describe('dashboard: pruned model', () => {
  it('shows the save button only when the engine saved a model', () => {
    const saved = prunedModelUi({ savedModel: 'pruned-model/model.json' }, 'vscode');
    assert.equal(saved.button, true);
    assert.match(saved.hint, /pruned-model\/model\.json/);
    const report = prunedModelUi({ savedModel: 'pruned-model/model.json' }, 'report');
    assert.equal(report.button, false, 'the static report has no host to copy files');
    const absent = prunedModelUi({}, 'vscode');
    assert.equal(absent.button, false);
    assert.match(absent.hint, /"probes\.pruning\.save": true/);
    const note = prunedModelUi({ saveNote: 'not saved: disk full' }, 'vscode');
    assert.equal(note.button, false);
    assert.match(note.hint, /disk full\.$/);
  });

  it('finds savedModel in the last pruning probe', () => {
    assert.equal(savedModelOf([pruning()]), undefined);
    assert.equal(savedModelOf([pruning({ savedModel: 'old/model.json' }), pruning({ savedModel: 'pruned-model/model.json' })]), 'pruned-model/model.json');
  });

  it('resolves savedModel inside the run folder only', () => {
    const run = path.resolve('/runs/r1');
    assert.equal(resolveSavedModel(run, 'pruned-model/model.json'), path.join(run, 'pruned-model', 'model.json'));
    assert.equal(resolveSavedModel(run, path.join(run, 'pruned-model')), path.join(run, 'pruned-model'));
    assert.throws(() => resolveSavedModel(run, '../r2/pruned-model'), /outside the run folder/);
    assert.throws(() => resolveSavedModel(run, '/etc'), /outside the run folder/);
    assert.throws(() => resolveSavedModel(run, '.'), /outside the run folder/);
  });

  it('copies the folder holding model.json, under a name that does not overwrite', () => {
    const run = path.resolve('/runs/r1');
    const model = path.join(run, 'pruned-model', 'model.json');
    assert.equal(copySource(run, model, true), path.join(run, 'pruned-model'));
    assert.equal(copySource(run, path.join(run, 'pruned-model'), false), path.join(run, 'pruned-model'));
    assert.equal(copySource(run, path.join(run, 'model.json'), true), path.join(run, 'model.json'));
    const target = path.resolve('/out');
    const taken = new Set([path.join(target, 'pruned-model'), path.join(target, 'pruned-model-r1')]);
    assert.equal(copyDestination(target, path.join(run, 'pruned-model'), 'r1', () => false), path.join(target, 'pruned-model'));
    assert.equal(copyDestination(target, path.join(run, 'pruned-model'), 'r1', (p) => taken.has(p)), path.join(target, 'pruned-model-r1-2'));
  });
});

describe('dashboard: compare legend', () => {
  it('names runs by their spec name, adding the run id only where names repeat', () => {
    assert.deepEqual(
      runLabels([
        { id: 'a', name: 'wd 0' },
        { id: 'b', name: 'wd 5' },
        { id: 'c', name: 'wd 0' },
      ]),
      ['wd 0 (a)', 'wd 5', 'wd 0 (c)'],
    );
  });
});

describe('dashboard: compare names and colours', () => {
  it('drops the words all legend labels share, keeping two for context', () => {
    assert.deepEqual(distinctLabels(['Modular addition, 30% corrupted labels, weight decay 5', 'Modular addition, 30% corrupted labels, weight decay 0']), ['…weight decay 5', '…weight decay 0']);
    assert.deepEqual(distinctLabels(['wd 0', 'wd 5']), ['wd 0', 'wd 5'], 'a short shared prefix stays');
    assert.deepEqual(distinctLabels(['same', 'same']), ['same', 'same']);
    assert.deepEqual(distinctLabels(['only one']), ['only one']);
    const two = distinctLabels(['Probes fixture: modular addition, nested', 'Probes fixture: two moons, co-teaching']);
    assert.equal(new Set(two).size, 2);
    assert.ok(two.every((l) => l.length < 36), JSON.stringify(two));
  });

  it('orders runs by id so colours do not follow the selection order', () => {
    const a = stableRunOrder([{ view: { id: '20261202-2' } }, { view: { id: '20261202-1' } }]).map((r) => r.view.id);
    const b = stableRunOrder([{ view: { id: '20261202-1' } }, { view: { id: '20261202-2' } }]).map((r) => r.view.id);
    assert.deepEqual(a, b);
  });
});
