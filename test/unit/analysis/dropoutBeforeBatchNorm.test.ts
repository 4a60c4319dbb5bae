import { strict as assert } from 'node:assert';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { createPythonAnalyzer, type PythonAnalyzer } from '../../../src/analysis/python/parser';
import { version } from '../../../package.json';
import { DROPOUT_BEFORE_BATCHNORM } from '../../../src/analysis/rules/dropoutBeforeBatchNorm';
import type { Finding } from '../../../src/analysis/textTypes';
import { fixture, range, rangeOf } from './fixtures';

describe('rule dropout-before-batchnorm', () => {
  let analyzer: PythonAnalyzer;
  before(async () => {
    analyzer = await createPythonAnalyzer();
  });
  after(() => analyzer.dispose());

  function findings(text: string): Finding[] {
    return analyzer.analyze(text).findings.filter((f) => f.ruleId === DROPOUT_BEFORE_BATCHNORM);
  }

  /** Applies the only fix and checks the result parses as well as before and the rule is quiet. */
  function fixOnce(text: string): string {
    const [finding] = findings(text);
    assert.ok(finding, 'expected a finding');
    assert.equal(finding.fixes.length, 1);
    const fixed = applyEdits(text, finding.fixes[0].edits);
    const after = analyzer.analyze(fixed);
    assert.equal(after.parseErrors, analyzer.analyze(text).parseErrors, 'the fix must not break parsing');
    assert.deepEqual(
      after.findings.filter((f) => f.ruleId === DROPOUT_BEFORE_BATCHNORM),
      [],
    );
    return fixed;
  }

  it('warns on the Dropout call in a one-per-line MLP, explaining variance shift', () => {
    const text = fixture('mlp_dropout_before_bn.py');
    const found = findings(text);
    assert.equal(found.length, 1);
    const [f] = found;
    assert.equal(f.severity, 'warning');
    assert.deepEqual(f.range, range(11, 12, 11, 29));
    assert.equal(f.message, 'Dropout directly before BatchNorm1d causes variance shift: move it after the norm');
    // The one-line message links to the rule's section of docs/rules.md at this version.
    assert.equal(f.docsUrl, `https://github.com/reglens/reglens/blob/v${version}/docs/rules.md#dropout-before-batchnorm`);
    assert.equal(f.fixes[0].title, 'Move Dropout after BatchNorm1d');
  });

  it('fix swaps whole lines: comments travel with their layer, commas and indentation stay', () => {
    const text = fixture('mlp_dropout_before_bn.py');
    const fixed = fixOnce(text);
    assert.equal(
      fixed,
      text.replace(
        '            nn.Dropout(p=0.3),  # regularize the wide layer\n            nn.BatchNorm1d(256),\n',
        '            nn.BatchNorm1d(256),\n            nn.Dropout(p=0.3),  # regularize the wide layer\n',
      ),
    );
  });

  it('fix keeps the comma-less last argument valid', () => {
    const text = 'import torch.nn as nn\nm = nn.Sequential(\n    nn.Linear(4, 4),\n    nn.Dropout(0.1),  # a\n    nn.BatchNorm1d(4)  # b\n)\n';
    assert.equal(
      fixOnce(text),
      'import torch.nn as nn\nm = nn.Sequential(\n    nn.Linear(4, 4),\n    nn.BatchNorm1d(4),  # b\n    nn.Dropout(0.1)  # a\n)\n',
    );
  });

  it('warns and fixes in the one-line form', () => {
    const text = fixture('mlp_one_line.py');
    const [f] = findings(text);
    assert.deepEqual(f.range, rangeOf(text, 2, 'nn.Dropout(0.5)'));
    assert.equal(
      fixOnce(text),
      text.replace('nn.Dropout(0.5), nn.BatchNorm1d(64)', 'nn.BatchNorm1d(64), nn.Dropout(0.5)'),
    );
  });

  it('warns on Dropout2d before BatchNorm2d in a torch.nn CNN', () => {
    const text = fixture('cnn_torch_nn.py');
    const found = findings(text);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0].range, range(6, 8, 6, 31));
    assert.equal(found[0].fixes[0].title, 'Move Dropout2d after BatchNorm2d');
    assert.match(found[0].message, /^Dropout2d directly before BatchNorm2d causes variance shift/);
    assert.equal(
      fixOnce(text),
      text.replace(
        '        torch.nn.Dropout2d(0.1),\n        torch.nn.BatchNorm2d(32),\n',
        '        torch.nn.BatchNorm2d(32),\n        torch.nn.Dropout2d(0.1),\n',
      ),
    );
  });

  it('reports UTF-16 ranges after non-ASCII text on the same and earlier lines', () => {
    const text = fixture('non_ascii.py');
    const [f] = findings(text);
    // 'réseau' puts é before the call: a UTF-8 byte column would be one too far.
    assert.deepEqual(f.range, range(4, 51, 4, 67));
    assert.deepEqual(f.range, rangeOf(text, 4, 'nn.Dropout(0.25)'));
    const fixed = fixOnce(text);
    assert.ok(fixed.includes('réseau = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Dropout(0.25))  # é😀\n'));
  });

  it('handles astral characters (surrogate pairs) before the finding', () => {
    const text = 'import torch.nn as nn\ntags = ["😀", "𝔘"]; m = nn.Sequential(nn.AlphaDropout(0.1), nn.BatchNorm3d(2))\n';
    const [f] = findings(text);
    assert.deepEqual(f.range, rangeOf(text, 1, 'nn.AlphaDropout(0.1)'));
    assert.equal(
      fixOnce(text),
      'import torch.nn as nn\ntags = ["😀", "𝔘"]; m = nn.Sequential(nn.BatchNorm3d(2), nn.AlphaDropout(0.1))\n',
    );
  });

  it('keeps tab indentation when fixing bare-imported layers', () => {
    const text = fixture('tabs_bare_imports.py');
    const [f] = findings(text);
    assert.deepEqual(f.range, range(7, 2, 7, 14));
    assert.equal(fixOnce(text), text.replace('\t\tDropout(0.1),\n\t\tBatchNorm1d(32),\n', '\t\tBatchNorm1d(32),\n\t\tDropout(0.1),\n'));
  });

  it('still reports in a file with syntax errors elsewhere', () => {
    const text = fixture('syntax_errors.py');
    const result = analyzer.analyze(text);
    assert.ok(result.parseErrors > 0);
    const [f] = findings(text);
    assert.deepEqual(f.range, range(7, 4, 7, 19));
    fixOnce(text);
  });

  it('keeps CRLF line endings intact', () => {
    const text = 'import torch.nn as nn\r\nm = nn.Sequential(\r\n    nn.Dropout(0.1),\r\n    nn.BatchNorm1d(4),\r\n)\r\n';
    assert.equal(fixOnce(text), 'import torch.nn as nn\r\nm = nn.Sequential(\r\n    nn.BatchNorm1d(4),\r\n    nn.Dropout(0.1),\r\n)\r\n');
  });

  it('is quiet for clean models, non-Sequential lists and non-PyTorch libraries', () => {
    assert.deepEqual(findings(fixture('clean_models.py')), []);
    assert.deepEqual(findings(fixture('flax_not_torch.py')), []);
    assert.deepEqual(findings(fixture('bare_import_no_dropout.py')), []);
  });

  it('reports each pair once, in source order, for repeated blocks', () => {
    const text =
      'import torch.nn as nn\nm = nn.Sequential(nn.Dropout(0.1), nn.BatchNorm1d(4), nn.Dropout(0.2), nn.BatchNorm1d(4))\n';
    assert.deepEqual(
      findings(text).map((f) => f.range),
      [rangeOf(text, 1, 'nn.Dropout(0.1)'), rangeOf(text, 1, 'nn.Dropout(0.2)')],
    );
  });

  describe('in a forward() body', () => {
    const module = (body: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Block(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.drop = nn.Dropout(0.3)',
        '        self.bn = nn.BatchNorm1d(64)',
        '',
        '    def forward(self, x, res):',
        ...body.split('\n').map((l) => `        ${l}`),
        '',
      ].join('\n');

    it('finds a chain of statements and swaps the two layers', () => {
      const text = module('x = self.drop(x)\nx = self.bn(x)\nreturn x');
      const [f] = findings(text);
      assert.ok(f);
      assert.deepEqual(f.range, rangeOf(text, 9, 'self.drop(x)'));
      assert.match(f.message, /^self\.drop \(Dropout\) feeds self\.bn \(BatchNorm1d\) in forward\(\): variance shift/);
      assert.equal(f.fixes[0].title, 'Apply self.drop after self.bn');
      assert.equal(fixOnce(text), module('x = self.bn(x)\nx = self.drop(x)\nreturn x'));
    });

    it('finds the nested form and swaps it the same way', () => {
      const text = module('return self.bn(self.drop(x))');
      assert.equal(fixOnce(text), module('return self.drop(self.bn(x))'));
    });

    it('is quiet when the dropout output is changed, branched or used by something else first', () => {
      for (const body of [
        'x = self.bn(x)\nreturn self.drop(x)',
        'y = self.drop(x)\ny = y + res\nreturn self.bn(y)',
        'y = self.drop(x)\ny = torch.relu(y)\nreturn self.bn(y)',
        'y = self.drop(x)\nif self.training:\n    y = self.bn(y)\nreturn y',
        'y = self.drop(x)\nz = self.bn(x)\nreturn y + z',
      ]) {
        assert.deepEqual(findings(module(body)), [], body);
      }
    });
  });
});
