import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExperimentError, MAX_SWEEP_MEMBERS, parseExperimentText } from '../../../src/protocol/experiment';
import type { ExperimentInput } from '../../../src/protocol/experiment';
import { expandSweep, isSweep, sweepSize } from '../../../src/protocol/sweep';
import { tinyExperiment } from '../helpers/experiments';

/** The tiny experiment as file text with the given sweep (parsed like a file, so the schema checks it). */
function withSweep(sweep: unknown, overrides: Partial<ExperimentInput> = {}): string {
  return JSON.stringify({ ...tinyExperiment(), ...overrides, sweep }, null, 2);
}

function errorOf(fn: () => unknown): ExperimentError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ExperimentError, String(err));
    return err;
  }
  assert.fail('expected an ExperimentError');
}

const expandText = (text: string) => expandSweep(parseExperimentText(text, 's.reglens.json'));

describe('sweep expansion', () => {
  it('expands the cartesian product, first key slowest, each member a plain validated experiment', () => {
    const members = expandText(withSweep({ 'training.optimizer.weightDecay': [0, 2, 5], seed: [1, 2] }));
    assert.equal(members.length, 6);
    assert.deepEqual(
      members.map((m) => [m.experiment.training.optimizer.weightDecay, m.experiment.seed]),
      [[0, 1], [0, 2], [2, 1], [2, 2], [5, 1], [5, 2]],
    );
    assert.deepEqual(members.map((m) => m.index), [0, 1, 2, 3, 4, 5]);
    for (const m of members) {
      assert.equal('sweep' in m.experiment, false, 'members have no sweep field');
      // Everything not swept is the base experiment's.
      assert.equal(m.experiment.training.epochs, 30);
      assert.equal(m.experiment.dataset.kind, 'modular');
    }
    // Members do not share objects: changing one leaves the others alone.
    members[0].experiment.training.optimizer.lr = 1;
    assert.equal(members[1].experiment.training.optimizer.lr, 0.01);
  });

  it('names members "<name> [field=value]" by the last path segment, the whole path when two end alike', () => {
    const names = expandText(withSweep({ 'training.optimizer.weightDecay': [0, 2] })).map((m) => m.experiment.name);
    assert.deepEqual(names, ['tiny [weightDecay=0]', 'tiny [weightDecay=2]']);
    const two = expandText(withSweep({ 'training.optimizer.lr': [0.1], 'training.optimizer.weightDecay': [1] }))[0];
    assert.equal(two.experiment.name, 'tiny [lr=0.1, weightDecay=1]');
    assert.equal(two.label, 'lr=0.1, weightDecay=1');
    const clash = expandText(
      withSweep({ 'model.layers.0.units': [8], 'model.layers.2.units': [11] }),
    )[0];
    assert.equal(clash.experiment.name, 'tiny [model.layers.0.units=8, model.layers.2.units=11]');
    assert.equal(clash.experiment.model.layers[0].type === 'dense' && clash.experiment.model.layers[0].units, 8);
  });

  it('creates absent optional sections, so a regularizer can be swept in', () => {
    const members = expandText(withSweep({ 'training.regularizers.labelSmoothing': [0, 0.1] }));
    assert.deepEqual(members.map((m) => m.experiment.training.regularizers?.labelSmoothing), [0, 0.1]);
  });

  it('without a sweep yields the experiment itself', () => {
    const e = tinyExperiment();
    assert.equal(isSweep(e), false);
    assert.equal(sweepSize(e), 1);
    const [only] = expandSweep(e);
    assert.equal(only.experiment.name, 'tiny');
    assert.equal(only.label, '');
  });

  it('rejects a value that makes a member invalid, naming the sweep key, the run and the field', () => {
    const err = errorOf(() => expandText(withSweep({ 'training.optimizer.weightDecay': [0, -1] })));
    assert.equal(err.field, 'training.optimizer.weightDecay');
    assert.match(err.message, /^sweep\["training\.optimizer\.weightDecay"\] = -1 makes run 2 \("weightDecay=-1"\) invalid: training\.optimizer\.weightDecay: /);
  });

  it('rejects paths that do not exist, naming the path', () => {
    const typo = errorOf(() => expandText(withSweep({ 'training.optimiser.lr': [0.1] })));
    assert.equal(typo.field, 'training.optimiser');
    assert.match(typo.message, /sweep\["training\.optimiser\.lr"\].*training\.optimiser: no such field/);
    const intoNumber = errorOf(() => expandText(withSweep({ 'training.epochs.max': [3] })));
    assert.match(intoNumber.message, /^sweep\["training\.epochs\.max"\]: training\.epochs is 30, not an object/);
    const pastEnd = errorOf(() => expandText(withSweep({ 'model.layers.9.units': [3] })));
    assert.match(pastEnd.message, /^sweep\["model\.layers\.9\.units"\]: model\.layers has 3 item\(s\)/);
  });

  it('rejects a malformed sweep in the schema, naming the field and its line', () => {
    const cases: [unknown, RegExp][] = [
      [{ 'training.epochs': [] }, /sweep\["training\.epochs"\]: give at least one value/],
      [{ 'not a path': [1] }, /sweep\["not a path"\]: must be a dotted path/],
      [{ name: ['a', 'b'] }, /sweep\["name"\]: "name" cannot be swept/],
      [{ seed: [1, 1] }, /sweep\["seed"\]\.1: value 1 is listed twice/],
      [{ 'training.optimizer': [{}], 'training.optimizer.lr': [0.1] }, /sweep\["training\.optimizer\.lr"\]: overlaps "training\.optimizer"/],
      [{}, /sweep: give at least one field to sweep/],
      [{ seed: [1, 2], x: 3 }, /sweep\["x"\]: /],
    ];
    for (const [sweep, re] of cases) {
      const text = withSweep(sweep);
      const err = errorOf(() => parseExperimentText(text, 's.reglens.json'));
      assert.match(err.message, re, JSON.stringify(sweep));
      // Located in the file: on the "sweep" line or inside it.
      const sweepLine = text.slice(0, text.indexOf('"sweep"')).split('\n').length;
      assert.ok(err.line !== undefined && err.line >= sweepLine, `line ${err.line} for ${JSON.stringify(sweep)}`);
    }
  });

  it(`caps a sweep at ${MAX_SWEEP_MEMBERS} runs with an error naming the sweep field`, () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i);
    assert.equal(expandText(withSweep({ seed: values(8), 'training.batchSize': values(8).map((i) => i + 1) })).length, 64);
    const err = errorOf(() => parseExperimentText(withSweep({ seed: values(5), 'training.batchSize': values(13).map((i) => i + 1) }), 's.reglens.json'));
    assert.equal(err.field, 'sweep');
    assert.match(err.message, /sweep: expands to 65 runs \(5 × 13\); at most 64/);
  });

  it('the shipped sweep example expands to weight decay 0 and 5', () => {
    const text = fs.readFileSync(path.join(__dirname, '../../../examples/grok-sweep.reglens.json'), 'utf8');
    const members = expandText(text);
    assert.deepEqual(members.map((m) => m.experiment.training.optimizer.weightDecay), [0, 5]);
    assert.match(members[1].experiment.name, /\[weightDecay=5\]$/);
  });
});
