import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';
import type { SourceLanguage } from '../../../src/analysis/treeSitterRuntime';

const ROOT = join(__dirname, '..', '..', 'fixtures');

export function languageOf(file: string): SourceLanguage {
  return file.endsWith('.py') ? 'python' : file.endsWith('.ts') ? 'typescript' : 'javascript';
}

describe('graph rules on positive and negative fixtures', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const findings = (file: string) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    return { text, result: analyzer.analyze(text, languageOf(file)).result };
  };
  const ids = (file: string) => findings(file).result.findings.map((f) => `${f.ruleId}@${f.range.start.line + 1}`).sort();

  const cases: Record<string, string[]> = {
    'python/rules_positive.py': [
      'adam-weight-decay@22', 'dropout-rate-range@12', 'functional-dropout-training@17', 'lora-dropout-zero-mc@23',
      'mc-dropout-flips-batchnorm@27', 'weight-decay-bias-norm@22',
    ],
    'python/rules_negative.py': [],
    'keras/rules_positive.py': ['dropout-before-batchnorm@8', 'dropout-rate-range@7', 'mc-dropout-flips-batchnorm@17'],
    'keras/rules_negative.py': [],
    'tfjs/rules_positive.ts': ['dropout-before-batchnorm@8', 'dropout-rate-range@19'],
    'tfjs/rules_negative.js': [],
  };
  for (const [file, expected] of Object.entries(cases)) {
    it(`${file}: ${expected.length ? expected.join(', ') : 'no findings'}`, () => {
      assert.deepEqual(ids(file), expected.sort());
    });
  }

  it('every quick fix applies, keeps the file parsing and clears its finding', () => {
    for (const file of Object.keys(cases)) {
      const { text, result } = findings(file);
      for (const f of result.findings) {
        for (const fix of f.fixes) {
          const fixed = applyEdits(text, fix.edits);
          const after = analyzer.analyze(fixed, languageOf(file)).result;
          assert.equal(after.parseErrors, 0, `${file}: ${fix.title} breaks parsing:\n${fixed}`);
          const same = after.findings.filter((g) => g.ruleId === f.ruleId && g.range.start.line === f.range.start.line);
          assert.equal(same.length, 0, `${file}: ${fix.title} leaves ${f.ruleId}`);
        }
      }
    }
  });

  it('Adam(weight_decay) -> AdamW; bare Adam is qualified and torch imported once', () => {
    const text = 'from torch.optim import Adam\nopt = Adam(params, weight_decay=0.01)\n';
    const f = analyzer.analyze(text, 'python').result.findings.find((x) => x.ruleId === 'adam-weight-decay')!;
    assert.equal(applyEdits(text, f.fixes[0].edits), 'from torch.optim import Adam\nimport torch\nopt = torch.optim.AdamW(params, weight_decay=0.01)\n');
    assert.equal(analyzer.analyze('import torch\nopt = torch.optim.Adam(p, weight_decay=0)\n', 'python').result.findings.length, 0);
  });

  it('MC-dropout fix switches only dropout layers to train mode', () => {
    const text = 'import torch\nfrom torch import nn\nnet = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.2))\n\n\ndef mc_sample(x):\n    net.train()\n    return [net(x) for _ in range(8)]\n';
    const f = analyzer.analyze(text, 'python').result.findings.find((x) => x.ruleId === 'mc-dropout-flips-batchnorm')!;
    const fixed = applyEdits(text, f.fixes[0].edits);
    assert.match(fixed, /    net\.eval\(\)\n    for _m in net\.modules\(\):\n        if isinstance\(_m, torch\.nn\.modules\.dropout\._DropoutNd\):\n            _m\.train\(\)\n/);
  });

  it('TF.js rate 0 and >= 1 are silently disabled; Keras 1.0 is out of range; torch 1.0 is allowed', () => {
    const ts = "import * as tf from '@tensorflow/tfjs';\nconst a = tf.layers.dropout({rate: 1});\nconst b = tf.layers.dropout({rate: 0.2});\n";
    assert.deepEqual(analyzer.analyze(ts, 'typescript').result.findings.map((f) => [f.ruleId, f.severity, f.range.start.line]), [['dropout-rate-range', 'warning', 1]]);
    const keras = 'from tensorflow.keras import layers\nd = layers.Dropout(rate=1.0)\n';
    assert.equal(analyzer.analyze(keras, 'python').result.findings[0]?.severity, 'error');
    assert.equal(analyzer.analyze('import torch.nn as nn\nd = nn.Dropout(p=1.0)\n', 'python').result.findings.length, 0);
  });

  it('inference without eval() and eval() left on in the epoch loop', () => {
    const noEval = 'import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))\nwith torch.no_grad():\n    y = model(x)\n';
    const f = analyzer.analyze(noEval, 'python').result.findings.filter((x) => x.ruleId === 'inference-without-eval');
    assert.equal(f.length, 1);
    assert.match(applyEdits(noEval, f[0].fixes[0].edits), /model\.eval\(\)\nwith torch\.no_grad\(\):/);
    const loop = [
      'import torch', 'from torch import nn', 'model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))',
      'for epoch in range(10):', '    for x, y in loader:', '        loss = crit(model(x), y)', '        loss.backward()', '        opt.step()',
      '    model.eval()', '    with torch.no_grad():', '        val = model(vx)', '',
    ].join('\n');
    const g = analyzer.analyze(loop, 'python').result.findings.filter((x) => x.ruleId === 'inference-without-eval');
    assert.deepEqual(g.map((x) => x.range.start.line), [8]);
    const fixed = applyEdits(loop, g[0].fixes[0].edits);
    assert.match(fixed, /for epoch in range\(10\):\n    model\.train\(\)\n/);
    assert.equal(analyzer.analyze(fixed, 'python').result.findings.filter((x) => x.ruleId === 'inference-without-eval').length, 0);
  });

  it('MC loop in eval mode cannot vary; multi-sample dropout averaging logits; CutMix without lambda recomputation', () => {
    const mc = 'import torch\nfrom torch import nn\nnet = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.3))\n\ndef mc_dropout(x, T=10):\n    net.eval()\n    return torch.stack([net(x) for _ in range(T)])\n';
    assert.deepEqual(analyzer.analyze(mc, 'python').result.findings.map((f) => f.ruleId), ['mc-loop-no-variance']);
    const msd = [
      'import torch', 'from torch import nn', 'class Head(nn.Module):', '    def __init__(self):', '        super().__init__()',
      '        self.dropouts = nn.ModuleList([nn.Dropout(0.5) for _ in range(8)])', '        self.fc = nn.Linear(64, 10)',
      '    def forward(self, x):', '        return torch.stack([self.fc(d(x)) for d in self.dropouts]).mean(0)', '',
    ].join('\n');
    const msdIds = analyzer.analyze(msd.replace('d(x)', 'self.drop(x)'), 'python').result.findings.map((f) => f.ruleId);
    assert.deepEqual(msdIds, ['multi-sample-dropout-logits']);
    const cut = [
      'import numpy as np', 'def cutmix(x, y, model, crit):', '    lam = np.random.beta(1.0, 1.0)', '    bbx1, bby1, bbx2, bby2 = rand_bbox(x.size(), lam)',
      '    x[:, :, bbx1:bbx2, bby1:bby2] = x[idx, :, bbx1:bbx2, bby1:bby2]', '    return crit(model(x), y)', '',
    ].join('\n');
    const msg = analyzer.analyze(cut, 'python').result.findings.find((f) => f.ruleId === 'cutmix-lambda')?.message ?? '';
    assert.match(msg, /not recomputed/);
    assert.match(msg, /loss does not mix the two labels/);
  });

  it('large dense head (threshold setting) and multi-epoch training with all dropout 0', () => {
    const head = 'from torch import nn\nhead = nn.Sequential(nn.Linear(512, 4096), nn.ReLU(), nn.Linear(4096, 10))\n';
    assert.deepEqual(analyzer.analyze(head, 'python').result.findings.map((f) => f.ruleId), ['large-dense-head-unregularized']);
    assert.equal(analyzer.analyze(head, 'python', { largeDenseHeadThreshold: 8192 }).result.findings.length, 0);
    const zero = 'from tensorflow.keras import layers, Sequential\nm = Sequential([layers.Dense(64, activation="relu"), layers.Dropout(0.0), layers.Dense(2)])\nm.fit(x, y, epochs=30)\n';
    const f = analyzer.analyze(zero, 'python').result.findings.filter((x) => x.ruleId === 'multi-epoch-no-dropout');
    assert.equal(f.length, 1);
    assert.match(applyEdits(zero, f[0].fixes[0].edits), /layers\.Dropout\(0\.1\)/);
  });
});
