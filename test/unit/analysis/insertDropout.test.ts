import { strict as assert } from 'node:assert';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { createPythonAnalyzer, type PythonAnalyzer } from '../../../src/analysis/python/parser';
import type { ModelLens } from '../../../src/analysis/textTypes';
import { fixture, range } from './fixtures';

describe('lens Insert Dropout', () => {
  let analyzer: PythonAnalyzer;
  before(async () => {
    analyzer = await createPythonAnalyzer();
  });
  after(() => analyzer.dispose());

  function lenses(text: string): ModelLens[] {
    return analyzer.analyze(text).lenses;
  }

  /** Applies a lens and checks the result still parses and the lens is gone for that model. */
  function apply(text: string, lens: ModelLens): string {
    const out = applyEdits(text, lens.edits);
    const after = analyzer.analyze(out);
    assert.equal(after.parseErrors, 0);
    assert.ok(!after.lenses.some((l) => l.range.start.line === lens.range.start.line), 'lens should disappear');
    return out;
  }

  it('inserts nn.Dropout on its own line after the last hidden activation, indented like its neighbours', () => {
    const text = fixture('non_ascii.py');
    const found = lenses(text);
    assert.equal(found.length, 1);
    const [lens] = found;
    assert.equal(lens.kind, 'insertDropout');
    assert.equal(lens.title, 'Insert Dropout');
    assert.deepEqual(lens.range, range(7, 7, 7, 21));
    assert.equal(apply(text, lens), text.replace('    nn.Tanh(),\n', '    nn.Tanh(),\n    nn.Dropout(p=0.1),\n'));
  });

  it('uses torch.nn. for torch.nn.Sequential and picks the last hidden activation', () => {
    const text = fixture('cnn_torch_nn.py');
    const found = lenses(text);
    // features (…ReLU, AdaptiveAvgPool2d) and head (…GELU, Linear); the outer Sequential has no activation.
    assert.deepEqual(
      found.map((l) => l.range),
      [range(4, 15, 4, 35), range(15, 11, 15, 31)],
    );
    assert.equal(
      apply(text, found[1]),
      text.replace('        torch.nn.GELU(),\n', '        torch.nn.GELU(),\n        torch.nn.Dropout(p=0.1),\n'),
    );
    assert.equal(
      apply(text, found[0]),
      text.replace(
        '        torch.nn.ReLU(inplace=True),\n        torch.nn.AdaptiveAvgPool2d(1),\n',
        '        torch.nn.ReLU(inplace=True),\n        torch.nn.Dropout(p=0.1),\n        torch.nn.AdaptiveAvgPool2d(1),\n',
      ),
    );
  });

  it('inserts inline when the Sequential is on one line', () => {
    const text = 'import torch.nn as nn\nm = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 1))\n';
    const [lens] = lenses(text);
    assert.deepEqual(lens.range, range(1, 4, 1, 62));
    assert.equal(
      apply(text, lens),
      'import torch.nn as nn\nm = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Dropout(p=0.1), nn.Linear(8, 1))\n',
    );
  });

  it('goes after a trailing comment and keeps tabs for bare imports that already have Dropout', () => {
    const text = fixture('tabs_bare_imports.py');
    const found = lenses(text);
    assert.equal(found.length, 1, 'build() already has Dropout after its ReLU');
    assert.deepEqual(found[0].range, range(14, 8, 14, 19));
    assert.equal(found[0].edits.length, 1, 'Dropout is already imported');
    assert.equal(
      apply(text, found[0]),
      text.replace('\t\tLinear(32, 32),\n\t\tReLU(),\n', '\t\tLinear(32, 32),\n\t\tReLU(),\n\t\tDropout(p=0.1),\n'),
    );
  });

  it('adds Dropout to the torch.nn import when written bare and not imported', () => {
    const text = fixture('bare_import_no_dropout.py');
    const [lens] = lenses(text);
    assert.equal(lens.edits.length, 2);
    assert.equal(
      apply(text, lens),
      text
        .replace('    SiLU,\n)', '    SiLU, Dropout,\n)')
        .replace('    SiLU(),  # last hidden activation\n', '    SiLU(),  # last hidden activation\n    Dropout(p=0.1),\n'),
    );
  });

  it('reuses an aliased Dropout import', () => {
    const text = 'from torch.nn import Sequential, ReLU, Linear, Dropout as Drop\nm = Sequential(Linear(2, 2), ReLU(), Linear(2, 1))\n';
    const [lens] = lenses(text);
    assert.equal(
      apply(text, lens),
      'from torch.nn import Sequential, ReLU, Linear, Dropout as Drop\nm = Sequential(Linear(2, 2), ReLU(), Drop(p=0.1), Linear(2, 1))\n',
    );
  });

  it('offers nothing when Dropout already follows the last hidden activation, or no activation is hidden', () => {
    assert.deepEqual(lenses(fixture('mlp_dropout_before_bn.py')), []);
    assert.deepEqual(lenses(fixture('clean_models.py')), []);
    assert.deepEqual(lenses('import torch.nn as nn\nm = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())\n'), []);
    assert.deepEqual(lenses(fixture('flax_not_torch.py')), []);
  });

  it('offers nothing for an OrderedDict Sequential, whose layers are ("name", layer) pairs', () => {
    const text = [
      'import torch.nn as nn',
      'from collections import OrderedDict',
      'head = nn.Sequential(OrderedDict([',
      '    ("fc1", nn.Linear(512, 256)),',
      '    ("act", nn.ReLU()),',
      '    ("fc2", nn.Linear(256, 10)),',
      ']))',
      '',
    ].join('\n');
    assert.deepEqual(lenses(text), []);
  });
});
