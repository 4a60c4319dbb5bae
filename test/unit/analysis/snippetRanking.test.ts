// The Add Regularizer… picker order: what fits the detected model comes first, what cannot
// help (CutMix without images, modality dropout with one input, AdamW after AdamW) comes last,
// and every item says why.
import { strict as assert } from 'node:assert';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import type { SourceLanguage } from '../../../src/analysis/treeSitterRuntime';
import { rankSnippets } from '../../../src/snippets/snippetRanking';

const CNN = [
  'import torch', 'from torch import nn', '',
  'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()',
  '        self.conv = nn.Conv2d(3, 16, 3)', '        self.bn = nn.BatchNorm2d(16)', '        self.fc = nn.Linear(16 * 30 * 30, 10)', '',
  '    def forward(self, x):', '        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))', '',
  'model = Net()', 'opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)', '',
].join('\n');

const MLP = [
  'from tensorflow import keras', 'from tensorflow.keras import layers', '',
  'model = keras.Sequential([layers.Dense(64, activation="relu", input_shape=(20,)), layers.Dense(64, activation="relu"), layers.Dense(3)])',
  'model.compile(optimizer=keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=1e-2), loss="mse")', '',
].join('\n');

const TWO_INPUTS = [
  'from tensorflow import keras', 'from tensorflow.keras import layers', '',
  'text = keras.Input(shape=(128,))', 'image = keras.Input(shape=(64,))', 'h = layers.Concatenate()([text, image])',
  'h = layers.Dense(32, activation="relu")(h)', 'out = layers.Dense(2)(h)', 'model = keras.Model([text, image], out)', '',
].join('\n');

describe('Add Regularizer… ranking', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const ranked = (text: string, lang: SourceLanguage = 'python') => {
    const { graph } = analyzer.analyze(text, lang);
    const model = graph!.models.find((m) => !m.insideModule)!;
    return rankSnippets(graph!, model);
  };
  const ids = (r: ReturnType<typeof ranked>) => r.map((x) => x.snippet.id);

  it('an image CNN with coupled Adam decay: decoupled weight decay and CutMix first, vocabulary and modality dropout last', () => {
    const r = ranked(CNN);
    // (Layer snippets need a layer list; an nn.Module class gets the definition snippets.)
    assert.deepEqual(ids(r).slice(0, 2), ['decoupled-weight-decay', 'cutmix']);
    assert.deepEqual(ids(r).slice(-2).sort(), ['candidate-dropout', 'modality-dropout']);
    assert.match(r[0].reason, /L2, not decoupled/);
    assert.match(r.find((x) => x.snippet.id === 'candidate-dropout')!.reason, /not image classifiers/);
  });

  it('a flat MLP on non-image data that already uses AdamW: no CutMix or AdamW near the top', () => {
    const r = ranked(MLP);
    const at = (id: string) => ids(r).indexOf(id as (typeof r)[number]['snippet']['id']);
    assert.equal(ids(r)[0], 'dropout');
    assert.equal(ids(r).at(-1), 'decoupled-weight-decay');
    assert.match(r.at(-1)!.reason, /already uses AdamW/);
    assert.ok(at('cutmix') > at('co-teaching') && at('cutmix') > at('mc-dropout-predict'), ids(r).join(', '));
    assert.match(r[at('cutmix')].reason, /needs image inputs/);
  });

  it('a model with two inputs puts modality dropout near the top', () => {
    const r = ranked(TWO_INPUTS);
    assert.ok(ids(r).indexOf('modality-dropout') <= 3, ids(r).join(', '));
    assert.match(r.find((x) => x.snippet.id === 'modality-dropout')!.reason, /^2 inputs/);
  });

  it('TF.js: an image-shaped input counts as an image model; every item has a reason', () => {
    const text = "import * as tf from '@tensorflow/tfjs';\nconst model = tf.sequential({layers: [tf.layers.flatten({inputShape: [28, 28, 1]}), tf.layers.dense({units: 64, activation: 'relu'}), tf.layers.dense({units: 10})]});\n";
    const r = ranked(text, 'typescript');
    assert.ok(ids(r).indexOf('cutmix') < ids(r).indexOf('co-teaching'), ids(r).join(', '));
    for (const x of r) assert.ok(x.reason.length > 10 && !x.reason.includes('\n'), x.snippet.id);
  });
});
