import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExperimentError, parseExperimentText } from '../../../src/protocol/experiment';
import { locateJsonPath } from '../../../src/protocol/jsonLocate';

const examplePath = path.join(__dirname, '../../../examples/grok-corrupted.reglens.json');
const example = fs.readFileSync(examplePath, 'utf8');
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

function errorOf(text: string): ExperimentError {
  try {
    parseExperimentText(text, 'x.reglens.json');
  } catch (err) {
    assert.ok(err instanceof ExperimentError);
    return err;
  }
  assert.fail('expected an ExperimentError');
}

describe('experiment parsing', () => {
  it('accepts the shipped example', () => {
    const e = parseExperimentText(example);
    assert.equal(e.training.epochs, 200);
    assert.equal(e.dataset.labelNoise?.rate, 0.3);
  });

  it('names the bad field and its line', () => {
    const err = errorOf(example.replace('"epochs": 200', '"epochs": -5'));
    assert.equal(err.field, 'training.epochs');
    assert.equal(err.line, lineOf(example, '"epochs"'));
    assert.match(err.message, new RegExp(`^x\\.reglens\\.json:${err.line}:\\d+: training\\.epochs: `));
  });

  it('names fields inside arrays', () => {
    const err = errorOf(example.replace('"fn": "square"', '"fn": "cube"'));
    assert.equal(err.field, 'model.layers.1.fn');
    assert.equal(err.line, lineOf(example, '"fn"'));
  });

  it('points at an unknown key', () => {
    const err = errorOf(example.replace('"p": 97,', '"p": 97,\n    "modulus": 5,'));
    assert.equal(err.field, 'dataset');
    assert.equal(err.line, lineOf(example, '"p": 97') + 1);
    assert.match(err.message, /modulus/);
  });

  it('names a missing required field', () => {
    const err = errorOf(JSON.stringify({ name: 'x', dataset: { kind: 'modular' }, model: { layers: [{ type: 'dense', units: 3 }] } }));
    assert.equal(err.field, 'training');
  });

  it('names the line and column of a JSON syntax error', () => {
    const err = errorOf(example.replace('"seed": 0,', '"seed": 0,,'));
    assert.equal(err.field, undefined);
    assert.equal(err.line, lineOf(example, '"seed"'));
    assert.match(err.message, /^x\.reglens\.json:\d+:\d+: invalid JSON/);
  });

  it('locates JSON paths with escapes, nesting and arrays', () => {
    const text = '{\n "a\\"b": [1, {"c": "}"}],\n "d": {"e": [true, null, -1.5e3]}\n}';
    assert.deepEqual(locateJsonPath(text, ['a"b', 1, 'c']), { line: 2, column: 20 });
    assert.deepEqual(locateJsonPath(text, ['d', 'e', 2]), { line: 3, column: 26 });
    // Missing: the deepest ancestor that exists.
    assert.deepEqual(locateJsonPath(text, ['d', 'zz']), { line: 3, column: 7 });
    assert.deepEqual(locateJsonPath(text, ['d'], 'e'), { line: 3, column: 8 });
  });
});
