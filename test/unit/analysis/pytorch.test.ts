// nn.Sequential as the model graph reads it (the one reader behind the dropout-before-batchnorm
// rule, the Insert Dropout lens and the probe lens).
import { strict as assert } from 'node:assert';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import type { DetectedModel } from '../../../src/analysis/modelGraph';
import { fixture, range, rangeOf } from './fixtures';

describe('PyTorch model graph', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const read = (text: string): DetectedModel[] =>
    analyzer.analyze(text, 'python').graph!.models.filter((m) => m.framework === 'pytorch' && m.style === 'sequential');
  const described = (m: DetectedModel) => m.layers.map((l) => [l.kind, l.name, l.call?.callee ?? '']);

  it('reads the layers of a one-per-line nn.Sequential in order, with kinds, names and arguments', () => {
    const text = fixture('mlp_dropout_before_bn.py');
    const sequentials = read(text);
    assert.equal(sequentials.length, 1);
    const seq = sequentials[0];
    assert.equal(seq.call?.callee, 'nn.Sequential');
    assert.deepEqual(seq.range, range(8, 19, 14, 9));
    assert.deepEqual(described(seq), [
      ['linear', 'Linear', 'nn.Linear'],
      ['activation', 'ReLU', 'nn.ReLU'],
      ['dropout', 'Dropout', 'nn.Dropout'],
      ['batchnorm', 'BatchNorm1d', 'nn.BatchNorm1d'],
      ['linear', 'Linear', 'nn.Linear'],
    ]);
    const dropout = seq.layers[2];
    assert.deepEqual(
      dropout.call!.args.map((a) => [a.name, a.text, a.range]),
      [['p', '0.3', rangeOf(text, 11, '0.3')]],
    );
    assert.equal(dropout.rate, 0.3);
    assert.deepEqual(dropout.range, range(11, 12, 11, 29));
    assert.equal(dropout.text, 'nn.Dropout(p=0.3)');
    assert.deepEqual(
      seq.layers[4].call!.args.map((a) => a.text),
      ['256', 'num_classes'],
    );
  });

  it('resolves torch.nn.* calls, Dropout2d/BatchNorm2d, and nested Sequentials', () => {
    const sequentials = read(fixture('cnn_torch_nn.py'));
    assert.deepEqual(
      sequentials.map((s) => [s.call?.callee, s.layers.length]),
      [
        ['torch.nn.Sequential', 9],
        ['torch.nn.Sequential', 4],
        ['torch.nn.Sequential', 2],
      ],
    );
    assert.deepEqual(
      sequentials[0].layers.slice(0, 4).map((l) => [l.kind, l.name]),
      [
        ['conv', 'Conv2d'],
        ['dropout', 'Dropout2d'],
        ['batchnorm', 'BatchNorm2d'],
        ['activation', 'ReLU'],
      ],
    );
    assert.deepEqual(
      sequentials[0].layers[0].call!.args.map((a) => [a.name, a.text]),
      [
        [undefined, '3'],
        [undefined, '32'],
        ['kernel_size', '3'],
        ['padding', '1'],
      ],
    );
    // Variables as layers are kept as 'other' so adjacency is never invented across them.
    assert.deepEqual(
      sequentials[2].layers.map((l) => [l.kind, l.text]),
      [
        ['other', 'features'],
        ['other', 'head'],
      ],
    );
  });

  it('resolves bare names imported from torch.nn, including aliases and star imports', () => {
    const aliased = read('from torch.nn import Sequential as Seq, Dropout as Drop, BatchNorm1d\nm = Seq(Drop(0.1), BatchNorm1d(4))\n');
    assert.equal(aliased.length, 1);
    assert.deepEqual(described(aliased[0]), [
      ['dropout', 'Dropout', 'Drop'],
      ['batchnorm', 'BatchNorm1d', 'BatchNorm1d'],
    ]);
    const star = read('from torch.nn import *\nm = Sequential(Linear(2, 2), GELU())\n');
    assert.deepEqual(
      star[0].layers.map((l) => l.kind),
      ['linear', 'activation'],
    );
  });

  it('ignores a bare Sequential that was not imported from torch.nn', () => {
    assert.equal(read('from keras import Sequential\nm = Sequential([Dense(2)])\n').length, 0);
  });

  it('accepts nn aliases of torch.nn and rejects nn bound to another library', () => {
    const tnn = read('import torch.nn as tnn\nm = tnn.Sequential(tnn.ReLU())\n');
    assert.equal(tnn[0].call?.callee, 'tnn.Sequential');
    assert.equal(tnn[0].layers[0].kind, 'activation');
    const fromTorch = read('from torch import nn\nm = nn.Sequential(nn.SiLU())\n');
    assert.equal(fromTorch[0].layers[0].kind, 'activation');
    assert.equal(read(fixture('flax_not_torch.py')).length, 0);
  });

  it('keeps keyword arguments and splats of Sequential out of the positional layers, or as opaque', () => {
    const [seq] = read('import torch.nn as nn\nm = nn.Sequential(*blocks, nn.ReLU(), # c\n nn.Linear(2, 2), **extra)\n');
    assert.deepEqual(
      seq.layers.map((l) => [l.kind, l.text]),
      [
        ['other', '*blocks'],
        ['activation', 'nn.ReLU()'],
        ['linear', 'nn.Linear(2, 2)'],
      ],
    );
  });
});
