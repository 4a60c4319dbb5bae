import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { createPythonAnalyzer, type PythonAnalyzer } from '../../../src/analysis/python/parser';
import { fixture } from './fixtures';

const FIXTURES = [
  'mlp_dropout_before_bn.py',
  'mlp_one_line.py',
  'cnn_torch_nn.py',
  'clean_models.py',
  'syntax_errors.py',
  'non_ascii.py',
  'tabs_bare_imports.py',
  'bare_import_no_dropout.py',
  'flax_not_torch.py',
];

// Python-ish fragments so random input reaches the Sequential/import code paths, not just ERROR nodes.
const TOKENS = [
  'import torch.nn as nn\n', 'from torch.nn import ', 'Sequential', 'nn.Sequential(', 'nn.Dropout(0.5)', 'nn.BatchNorm1d(4)',
  'nn.ReLU()', 'Dropout', ', ', ',', '(', ')', '[', ']', '\n', '    ', '\t', '# é😀 comment\n', '*', '**k', 'p=', '"""',
  "'", 'def f(', 'class A(nn.Module):\n', ':', 'lambda', '\\\n', '\r\n', '😀', '\u0000', '\uD800',
];

describe('Python analyzer robustness', () => {
  let analyzer: PythonAnalyzer;
  before(async () => {
    analyzer = await createPythonAnalyzer();
  });
  after(() => analyzer.dispose());

  it('reports parse errors for broken files without throwing', () => {
    const result = analyzer.analyze(fixture('syntax_errors.py'));
    assert.ok(result.parseErrors >= 1);
    assert.equal(analyzer.analyze(fixture('clean_models.py')).parseErrors, 0);
    assert.deepEqual(analyzer.analyze(''), { findings: [], lenses: [], models: [], parseErrors: 0 });
  });

  it('never throws and stays fast on random and mutated Python', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...FIXTURES), fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 20 }))
      .map(([name, a, b, insert]) => {
        const text = fixture(name);
        const start = a % (text.length + 1);
        const end = Math.min(text.length, start + (b % 40));
        return text.slice(0, start) + insert + text.slice(end);
      });
    const tokens = fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((t) => t.join(''));
    const random = fc.string({ unit: 'binary', maxLength: 300 });
    fc.assert(
      fc.property(fc.oneof(mutated, tokens, random), (text) => {
        const started = performance.now();
        const result = analyzer.analyze(text);
        const elapsed = performance.now() - started;
        assert.ok(Array.isArray(result.findings) && Array.isArray(result.lenses));
        assert.ok(Number.isInteger(result.parseErrors) && result.parseErrors >= 0);
        // Generous bound: these inputs are tiny; this catches hangs, not regressions.
        assert.ok(elapsed < 2000, `analyze took ${elapsed} ms`);
        // Every offered edit set must be applicable (no overlaps, positions inside the text).
        for (const f of result.findings) for (const fix of f.fixes) applyEdits(text, fix.edits);
        for (const lens of result.lenses) applyEdits(text, lens.edits);
      }),
      { numRuns: 300 },
    );
  });

  it('analyses a generated 5,000-line file', () => {
    const block = (i: number): string =>
      [
        `class Block${i}(nn.Module):`,
        '    def __init__(self):',
        '        super().__init__()',
        '        self.net = nn.Sequential(',
        `            nn.Linear(${i + 1}, 64),`,
        '            nn.ReLU(),',
        '            nn.Dropout(0.1),',
        '            nn.BatchNorm1d(64),',
        '            nn.Linear(64, 10),',
        '        )',
        '',
        '    def forward(self, x):',
        '        return self.net(x)',
        '',
      ].join('\n');
    const blocks = Array.from({ length: 357 }, (_, i) => block(i));
    const text = `import torch.nn as nn\n\n${blocks.join('\n')}`;
    assert.ok(text.split('\n').length >= 5000);
    analyzer.analyze(text); // warm
    const result = analyzer.analyze(text);
    assert.equal(result.parseErrors, 0);
    assert.equal(result.findings.length, 357);
    assert.equal(result.lenses.length, 0);
  });
});
