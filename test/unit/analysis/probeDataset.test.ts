import { strict as assert } from 'node:assert';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import type { DetectedModel } from '../../../src/analysis/modelGraph';
import { isModuleProbeable, isProbeable, modelInputSize, suggestedDataset } from '../../../src/analysis/probeExperiment';
import type { SourceLanguage } from '../../../src/analysis/treeSitterRuntime';

describe('probe dataset that fits the model', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());
  const model = (text: string, language: SourceLanguage = 'python'): DetectedModel =>
    analyzer.analyze(text, language).graph!.models.filter((m) => isProbeable(m) || isModuleProbeable(m))[0];

  it('784 inputs -> MNIST, 2 inputs -> two moons (PyTorch, positional and keyword)', () => {
    const mnist = model('import torch.nn as nn\nmodel = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))\n');
    assert.deepEqual(suggestedDataset(mnist), { id: 'mnist', inputs: 784 });
    const moons = model('import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(in_features=2, out_features=32), nn.ReLU(), nn.Linear(32, 2))\n');
    assert.deepEqual(suggestedDataset(moons), { id: 'moons', inputs: 2 });
  });

  it('reads Keras input_shape and TF.js inputShape', () => {
    const keras = model('from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(128, activation="relu", input_shape=(784,)), keras.layers.Dense(10)])\n');
    assert.equal(modelInputSize(keras), 784);
    const tfjs = model("const tf = require('@tensorflow/tfjs');\nconst model = tf.sequential({layers: [tf.layers.dense({units: 32, inputShape: [2], activation: 'relu'}), tf.layers.dense({units: 2})]});\n", 'javascript');
    assert.deepEqual(suggestedDataset(tfjs), { id: 'moons', inputs: 2 });
  });

  it('suggests nothing when the input size is not literal or fits no dataset', () => {
    assert.equal(suggestedDataset(model('import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(n_in, 64), nn.ReLU(), nn.Linear(64, 3))\n')), undefined);
    assert.equal(suggestedDataset(model('import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 3))\n')), undefined);
  });
});
