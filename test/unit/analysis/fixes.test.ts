// Quick fixes that act on what the diagnostic says: AdamW with a decoupled weight decay (and a
// title saying so), parameter groups for weight-decay-bias-norm, dropout-only train mode for an
// MC loop in eval mode. Each one, applied, makes its finding go away.
import { strict as assert } from 'node:assert';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { decoupledWeightDecay } from '../../../src/analysis/rules/adamWeightDecay';

const MODEL = ['import torch', 'from torch import nn', 'model = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))'];

describe('quick fixes', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const only = (text: string, rule: string) => analyzer.analyze(text, 'python').result.findings.filter((f) => f.ruleId === rule);

  it('decoupled weight decay: L2-scale values become 1e-2, larger ones are kept, variables are not guessed', () => {
    assert.equal(decoupledWeightDecay(1e-4), '1e-2');
    assert.equal(decoupledWeightDecay(5e-4), '1e-2');
    assert.equal(decoupledWeightDecay(0.05), undefined);
    assert.equal(decoupledWeightDecay(undefined), undefined);
  });

  it('Use torch.optim.AdamW proposes a decoupled weight_decay and says so in its title', () => {
    const text = [...MODEL, 'opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)', ''].join('\n');
    const [f] = only(text, 'adam-weight-decay');
    assert.equal(f.fixes[0].title, 'Use torch.optim.AdamW (weight_decay 1e-4 → 1e-2)');
    const fixed = applyEdits(text, f.fixes[0].edits);
    assert.match(fixed, /torch\.optim\.AdamW\(model\.parameters\(\), lr=1e-3, weight_decay=1e-2\)/);
    assert.deepEqual(only(fixed, 'adam-weight-decay'), []);
    const large = text.replace('weight_decay=1e-4', 'weight_decay=0.05');
    assert.equal(only(large, 'adam-weight-decay')[0].fixes[0].title, 'Use torch.optim.AdamW (weight_decay 0.05 kept)');
    const variable = text.replace('weight_decay=1e-4', 'weight_decay=args.wd');
    const v = only(variable, 'adam-weight-decay')[0].fixes[0];
    assert.match(v.title, /check weight_decay/);
    assert.match(applyEdits(variable, v.edits), /AdamW\(model\.parameters\(\), lr=1e-3, weight_decay=args\.wd\)/);
  });

  it('weight-decay-bias-norm: parameter groups wired into the optimizer call clear the finding', () => {
    const text = [...MODEL, 'opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)', ''].join('\n');
    const [f] = only(text, 'weight-decay-bias-norm');
    assert.equal(f.fixes.length, 1);
    const fixed = applyEdits(text, f.fixes[0].edits);
    assert.match(fixed, /SGD\(\[\{"params": \[p for p in model\.parameters\(\) if p\.ndim >= 2\]\}, \{"params": \[p for p in model\.parameters\(\) if p\.ndim < 2\], "weight_decay": 0\.0\}\], lr=0\.1/);
    assert.equal(analyzer.analyze(fixed, 'python').result.parseErrors, 0);
    assert.deepEqual(only(fixed, 'weight-decay-bias-norm'), []);
    const keyword = text.replace('SGD(model.parameters()', 'SGD(params=model.parameters()');
    assert.match(applyEdits(keyword, only(keyword, 'weight-decay-bias-norm')[0].fixes[0].edits), /SGD\(params=\[\{"params"/);
  });

  it('mc-loop-no-variance in eval mode: switching only the dropout modules back on clears it', () => {
    const text = [
      'import torch', 'from torch import nn', 'net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.3))', '',
      'def mc_dropout(x, T=10):', '    net.eval()', '    return torch.stack([net(x) for _ in range(T)])', '',
    ].join('\n');
    const [f] = only(text, 'mc-loop-no-variance');
    assert.equal(f.fixes[0].title, 'Switch only the dropout layers back to train mode');
    const fixed = applyEdits(text, f.fixes[0].edits);
    assert.match(fixed, /    net\.eval\(\)\n    for _m in net\.modules\(\):\n        if isinstance\(_m, torch\.nn\.modules\.dropout\._DropoutNd\):\n            _m\.train\(\)/);
    assert.deepEqual(only(fixed, 'mc-loop-no-variance'), []);
  });
});
