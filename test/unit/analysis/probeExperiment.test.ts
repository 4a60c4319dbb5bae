import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import type { DetectedModel } from '../../../src/analysis/modelGraph';
import { isModuleProbeable, isProbeable, moduleDropoutTarget, moduleProbeExperiments, PROBE_DATASETS, probeExperiments, probeFileNames } from '../../../src/analysis/probeExperiment';
import type { SourceLanguage } from '../../../src/analysis/treeSitterRuntime';
import { parseExperiment } from '../../../src/protocol/experiment';

const ROOT = join(__dirname, '..', '..', 'fixtures');

describe('probe experiments from model code', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const modelsOf = (text: string, language: SourceLanguage = 'python'): DetectedModel[] =>
    analyzer.analyze(text, language).graph!.models.filter(isProbeable);
  const layerTypes = (e: { model: { layers?: { type: string }[] } }) => e.model.layers!.map((l) => l.type);

  it('turns an nn.Sequential into a plain and a dropout-regularized experiment that validate', () => {
    const [model] = modelsOf(readFileSync(join(ROOT, 'workspace', 'probe_mlp.py'), 'utf8'));
    const probe = probeExperiments(model, { dataset: 'mnist', modelName: 'model' })!;
    const plain = parseExperiment(probe.plain);
    const regularized = parseExperiment(probe.regularized);
    assert.deepEqual(
      plain.model.layers.map((l) => (l.type === 'dense' ? `dense ${l.units}` : l.type === 'activation' ? l.fn : l.type)),
      ['dense 256', 'relu', 'dense 128', 'relu', 'dense 10'],
    );
    assert.deepEqual(layerTypes(regularized), ['dense', 'activation', 'dropout', 'dense', 'activation', 'dropout', 'dense']);
    assert.equal(probe.regularizer, 'dropout 0.3 after 2 hidden activations');
    assert.deepEqual(plain.dataset, { kind: 'mnist', train: 2000, test: 1000, labelNoise: { kind: 'symmetric', rate: 0.3 } });
    assert.equal(plain.training.optimizer.weightDecay, 0);
    assert.ok(probe.notes.some((n) => /leakyrelu approximated by relu/.test(n)), probe.notes.join('\n'));
    assert.ok(!probe.notes.some((n) => /Flatten/.test(n)), 'Flatten is implicit');
  });

  it('an nn.Module subclass becomes two model.pytorch experiments: as written, and dropout hooked after its last hidden Linear', () => {
    const models = analyzer.analyze(readFileSync(join(ROOT, 'workspace', 'probe_module.py'), 'utf8'), 'python').graph!.models;
    const model = models.find(isModuleProbeable)!;
    assert.equal(model.name, 'ResidualNet');
    assert.ok(!isProbeable(model), 'not a layer list');
    assert.equal(moduleDropoutTarget(model), 'res');
    const probe = moduleProbeExperiments(model, { dataset: 'moons', epochs: 3, file: 'probe_module.py', args: { hidden: 32 } })!;
    const plain = parseExperiment(probe.plain);
    const regularized = parseExperiment(probe.regularized);
    assert.deepEqual(plain.model, { layers: [], pytorch: { file: 'probe_module.py', class: 'ResidualNet', args: { hidden: 32 } } });
    assert.deepEqual(regularized.model.pytorch?.addDropout, { after: 'res', rate: 0.3 });
    assert.equal(probe.regularizer, 'dropout 0.3 after res');
    assert.equal(plain.training.epochs, 3);
    assert.ok(plain.probes?.mcDropout && plain.probes.dynamics);
    assert.deepEqual(plain.probes.memorization, { every: 3, method: 'auto', layer: 'res' }, 'the neuron map of the hooked layer, after training');
    // One Linear only: nowhere to hook dropout before the classifier, so weight decay.
    const [single] = analyzer
      .analyze('from torch import nn\nclass Lin(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(2, 2)\n    def forward(self, x):\n        return self.fc(x)\n', 'python')
      .graph!.models.filter(isModuleProbeable);
    const wd = moduleProbeExperiments(single, { dataset: 'moons', file: 'lin.py', args: {} })!;
    assert.equal(wd.regularizer, 'decoupled weight decay 0.01');
    assert.equal(parseExperiment(wd.regularized).training.optimizer.weightDecay, 0.01);
  });

  it('rewires the output layer to the dataset classes and drops the output activation', () => {
    const text = 'import keras\nfrom keras import layers\nm = keras.Sequential([\n  layers.Dense(64, activation="relu"),\n  layers.Dropout(0.2),\n  layers.Dense(10, activation="softmax"),\n])\n';
    const [model] = modelsOf(text);
    const probe = probeExperiments(model, { dataset: 'moons', labelNoise: { kind: 'pairflip', rate: 0.2 }, epochs: 3, modelName: 'm' })!;
    const plain = parseExperiment(probe.plain);
    assert.deepEqual(layerTypes(plain), ['dense', 'activation', 'dropout', 'dense']);
    assert.equal((plain.model.layers[3] as { units: number }).units, 2);
    assert.equal(plain.training.epochs, 3);
    assert.equal(plain.dataset.labelNoise?.kind, 'pairflip');
    // Every hidden activation already has dropout: the suggestion is weight decay.
    const regularized = parseExperiment(probe.regularized);
    assert.equal(probe.regularizer, 'decoupled weight decay 0.01');
    assert.equal(regularized.training.optimizer.weightDecay, 0.01);
    assert.deepEqual(layerTypes(regularized), layerTypes(plain));
  });

  it('reads TF.js tf.sequential layer configs and model.add chains', () => {
    const text = readFileSync(join(ROOT, 'tfjs', 'rules_negative.js'), 'utf8');
    const [model] = modelsOf(text, 'javascript');
    const probe = probeExperiments(model, { dataset: 'spirals', modelName: 'buildModel' })!;
    const plain = parseExperiment(probe.plain);
    assert.deepEqual(layerTypes(plain), ['dense', 'activation', 'batchNorm', 'dropout', 'dense']);
    assert.equal((plain.model.layers[4] as { units: number }).units, 3);

    const add = 'const tf = require("@tensorflow/tfjs");\nconst model = tf.sequential();\nmodel.add(tf.layers.dense({units: 32, activation: "tanh"}));\nmodel.add(tf.layers.dense({units: 4}));\n';
    const [chain] = modelsOf(add, 'javascript');
    assert.equal(chain.style, 'add');
    const p2 = probeExperiments(chain, { dataset: 'moons', modelName: 'model' })!;
    assert.deepEqual(layerTypes(parseExperiment(p2.regularized)), ['dense', 'activation', 'dropout', 'dense']);
  });

  it('keeps non-literal widths and rates valid, and skips models without dense layers', () => {
    const text = 'import torch.nn as nn\nm = nn.Sequential(nn.Linear(d, h), nn.Dropout(p), nn.GELU(), nn.Linear(h, k))\nc = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU())\n';
    const models = modelsOf(text);
    assert.equal(models.length, 1, 'the conv-only model is not probeable');
    for (const d of PROBE_DATASETS) {
      const probe = probeExperiments(models[0], { dataset: d.id, modelName: 'm' })!;
      parseExperiment(probe.plain);
      parseExperiment(probe.regularized);
      assert.ok(probe.notes.some((n) => /not a literal; used 64 units/.test(n)));
      assert.ok(probe.notes.some((n) => /rate is not a literal/.test(n)));
    }
  });

  it('names the files after the source file stem', () => {
    assert.deepEqual(probeFileNames('/w/models/mlp.py'), { plain: 'mlp.probe.reglens.json', regularized: 'mlp.probe-regularized.reglens.json' });
    assert.deepEqual(probeFileNames('C:\\w\\net.model.ts'), { plain: 'net.model.probe.reglens.json', regularized: 'net.model.probe-regularized.reglens.json' });
  });
});
