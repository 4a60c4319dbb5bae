import * as assert from 'node:assert/strict';
import { ABSENT, comparePreselection, differingFields, groupRuns, runLabels } from '../../../src/runs/runNaming';

const spec = (weightDecay: number, extra: Record<string, unknown> = {}) => ({
  name: 'modular addition, weight decay 5',
  seed: 0,
  dataset: { kind: 'modular', p: 97, labelNoise: { kind: 'symmetric', rate: 0.3 } },
  model: { layers: [{ type: 'dense', units: 512 }, { type: 'dropout', rate: 0.1 }] },
  training: { epochs: 300, optimizer: { kind: 'adamw', lr: 0.001, weightDecay } },
  ...extra,
});

describe('run naming by differing spec fields', () => {
  it('names two runs of one experiment by the field that differs, not by their shared (stale) name', () => {
    const fields = differingFields([spec(0), spec(5)]);
    assert.deepEqual(fields, [{ key: 'weightDecay', path: 'training.optimizer.weightDecay', values: ['0', '5'] }]);
    const labels = runLabels([
      { id: 'a', name: 'modular addition, weight decay 5', spec: spec(0), group: 'x.reglens.json' },
      { id: 'b', name: 'modular addition, weight decay 5', spec: spec(5), group: 'x.reglens.json' },
    ]);
    assert.deepEqual(labels.map((l) => l.difference), ['weightDecay=0', 'weightDecay=5']);
    assert.match(labels[0].label, /^weightDecay=0 · modular addition/);
  });

  it('ignores name and description, and lists every differing field with a unique short key', () => {
    const a = spec(0, { name: 'A', description: 'first' });
    const b = spec(0, { name: 'B', description: 'second', seed: 1 });
    (b.model.layers[1] as { rate: number }).rate = 0.5;
    (b.dataset.labelNoise as { rate: number }).rate = 0.2;
    const fields = differingFields([a, b]);
    assert.deepEqual(
      fields.map((f) => [f.key, f.values]),
      [
        ['seed', ['0', '1']],
        ['labelNoise.rate', ['0.3', '0.2']],
        ['layers.1.rate', ['0.1', '0.5']],
      ],
    );
  });

  it('shows a field only one run has as absent in the other', () => {
    const b = spec(0, { backend: 'torch' });
    assert.deepEqual(differingFields([spec(0), b]), [{ key: 'backend', path: 'backend', values: [ABSENT, 'torch'] }]);
  });

  it('keeps the name of a run alone in its group, of identical runs, and of runs without a readable spec', () => {
    const labels = runLabels([
      { id: 'a', name: 'alone', spec: spec(0), group: 'a.json' },
      { id: 'b', name: 'twin', spec: spec(1), group: 'b.json' },
      { id: 'c', name: 'twin', spec: spec(1), group: 'b.json' },
      { id: 'd', name: 'broken', spec: undefined, group: 'd.json' },
      { id: 'e', name: 'broken', spec: undefined, group: 'd.json' },
    ]);
    assert.deepEqual(labels.map((l) => l.label), ['alone', 'twin', 'twin', 'broken', 'broken']);
  });

  it('shortens many differences to three and a count', () => {
    const b = spec(1, { seed: 3, backend: 'wasm', device: 'cpu' });
    const labels = runLabels([
      { id: 'a', name: 'n', spec: spec(0) },
      { id: 'b', name: 'n', spec: b },
    ]);
    assert.equal(labels[0].difference, 'seed=0, weightDecay=0, backend=—, +1 more');
    assert.equal(labels[1].difference, 'seed=3, weightDecay=1, backend=wasm, +1 more');
  });

  it('pre-selects the clicked run and the newest other run of its experiment for Compare', () => {
    const all = [
      { id: 'new-other', name: 'other', experimentFile: '/w/o.json' },
      { id: 'newer', name: 'x', experimentFile: '/w/x.json' },
      { id: 'clicked', name: 'x', experimentFile: '/w/x.json' },
    ];
    assert.deepEqual(comparePreselection(all, ['clicked']), ['clicked', 'newer']);
    assert.deepEqual(comparePreselection(all, ['new-other']), ['new-other', 'newer']);
    assert.deepEqual(comparePreselection([all[2]], ['clicked']), ['clicked']);
    assert.deepEqual(comparePreselection(all, []), []);
  });
});

describe('runNaming: groupRuns (Runs view top level)', () => {
  const run = (id: string, group: string) => ({ id, group, nested: false });
  it('puts the runs of an experiment with several under one node, where its newest run was, and leaves single runs alone', () => {
    const top = groupRuns([run('c', 'exp-a'), run('b', 'exp-b'), run('a', 'exp-a')], (first) => `name of ${first.group}`);
    assert.equal(top.length, 2);
    const [a, b] = top;
    assert.ok('kind' in a && a.kind === 'experiment');
    assert.equal(a.name, 'name of exp-a');
    assert.deepEqual(a.runs.map((r) => [r.id, r.nested]), [['c', true], ['a', true]]);
    assert.ok(!('kind' in b));
    assert.deepEqual(b, run('b', 'exp-b'));
  });
  it('gives an empty list for no runs', () => assert.deepEqual(groupRuns([], () => ''), []));
});
