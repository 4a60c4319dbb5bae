import { strict as assert } from 'node:assert';
import { withPythonTree } from '../../../src/analysis/python/parser';
import { type PytorchModel, readPytorchModel } from '../../../src/analysis/python/pytorch';
import { fixture, range, rangeOf } from './fixtures';

function read(text: string): Promise<PytorchModel> {
  return withPythonTree(text, readPytorchModel);
}

describe('PyTorch model graph', () => {
  it('reads the layers of a one-per-line nn.Sequential in order, with kinds, names and arguments', async () => {
    const text = fixture('mlp_dropout_before_bn.py');
    const { sequentials } = await read(text);
    assert.equal(sequentials.length, 1);
    const seq = sequentials[0];
    assert.equal(seq.calleeText, 'nn.Sequential');
    assert.equal(seq.modulePrefix, 'nn.');
    assert.deepEqual(seq.range, range(8, 19, 14, 9));
    assert.deepEqual(
      seq.layers.map((l) => [l.kind, l.constructorName, l.calleeText]),
      [
        ['linear', 'Linear', 'nn.Linear'],
        ['activation', 'ReLU', 'nn.ReLU'],
        ['dropout', 'Dropout', 'nn.Dropout'],
        ['batchnorm', 'BatchNorm1d', 'nn.BatchNorm1d'],
        ['linear', 'Linear', 'nn.Linear'],
      ],
    );
    const dropout = seq.layers[2];
    assert.deepEqual(dropout.args, [{ name: 'p', text: '0.3', range: rangeOf(text, 11, '0.3') }]);
    assert.deepEqual(dropout.range, range(11, 12, 11, 29));
    assert.deepEqual(dropout.rangeWithComma, range(11, 12, 11, 30));
    assert.equal(dropout.text, 'nn.Dropout(p=0.3)');
    // The last layer has no trailing comma.
    const last = seq.layers[4];
    assert.deepEqual(last.rangeWithComma, last.range);
    assert.deepEqual(
      last.args.map((a) => a.text),
      ['256', 'num_classes'],
    );
  });

  it('resolves torch.nn.* calls, Dropout2d/BatchNorm2d, and nested Sequentials', async () => {
    const { sequentials } = await read(fixture('cnn_torch_nn.py'));
    assert.deepEqual(
      sequentials.map((s) => [s.calleeText, s.modulePrefix, s.layers.length]),
      [
        ['torch.nn.Sequential', 'torch.nn.', 9],
        ['torch.nn.Sequential', 'torch.nn.', 4],
        ['torch.nn.Sequential', 'torch.nn.', 2],
      ],
    );
    assert.deepEqual(
      sequentials[0].layers.slice(0, 4).map((l) => [l.kind, l.constructorName]),
      [
        ['conv', 'Conv2d'],
        ['dropout', 'Dropout2d'],
        ['batchnorm', 'BatchNorm2d'],
        ['activation', 'ReLU'],
      ],
    );
    assert.deepEqual(
      sequentials[0].layers[0].args.map((a) => [a.name, a.text]),
      [
        [undefined, '3'],
        [undefined, '32'],
        ['kernel_size', '3'],
        ['padding', '1'],
      ],
    );
    // Variables as layers are kept as 'other' so adjacency is never invented across them.
    assert.deepEqual(
      sequentials[2].layers.map((l) => [l.kind, l.constructorName, l.text]),
      [
        ['other', '', 'features'],
        ['other', '', 'head'],
      ],
    );
  });

  it('resolves bare names imported from torch.nn, including aliases and star imports', async () => {
    const aliased = await read('from torch.nn import Sequential as Seq, Dropout as Drop, BatchNorm1d\nm = Seq(Drop(0.1), BatchNorm1d(4))\n');
    assert.equal(aliased.sequentials.length, 1);
    assert.equal(aliased.sequentials[0].modulePrefix, '');
    assert.deepEqual(
      aliased.sequentials[0].layers.map((l) => [l.kind, l.constructorName, l.calleeText]),
      [
        ['dropout', 'Dropout', 'Drop'],
        ['batchnorm', 'BatchNorm1d', 'BatchNorm1d'],
      ],
    );
    const star = await read('from torch.nn import *\nm = Sequential(Linear(2, 2), GELU())\n');
    assert.deepEqual(
      star.sequentials[0].layers.map((l) => l.kind),
      ['linear', 'activation'],
    );
  });

  it('ignores a bare Sequential that was not imported from torch.nn', async () => {
    const { sequentials } = await read('from keras import Sequential\nm = Sequential([Dense(2)])\n');
    assert.equal(sequentials.length, 0);
  });

  it('accepts nn aliases of torch.nn and rejects nn bound to another library', async () => {
    const tnn = await read('import torch.nn as tnn\nm = tnn.Sequential(tnn.ReLU())\n');
    assert.equal(tnn.sequentials[0].modulePrefix, 'tnn.');
    assert.equal(tnn.sequentials[0].layers[0].kind, 'activation');
    const fromTorch = await read('from torch import nn\nm = nn.Sequential(nn.SiLU())\n');
    assert.equal(fromTorch.sequentials[0].layers[0].kind, 'activation');
    const flax = await read(fixture('flax_not_torch.py'));
    assert.equal(flax.sequentials.length, 0);
  });

  it('keeps keyword arguments and splats of Sequential out of the positional layers, or as opaque', async () => {
    const { sequentials } = await read('import torch.nn as nn\nm = nn.Sequential(*blocks, nn.ReLU(), # c\n nn.Linear(2, 2))\n');
    assert.deepEqual(
      sequentials[0].layers.map((l) => [l.kind, l.text]),
      [
        ['other', '*blocks'],
        ['activation', 'nn.ReLU()'],
        ['linear', 'nn.Linear(2, 2)'],
      ],
    );
  });
});
