import { strict as assert } from 'node:assert';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { suppressionEdit } from '../../../src/analysis/suppressions';
import type { SourceLanguage } from '../../../src/analysis/treeSitterRuntime';

// Findings of three rules on known lines: adam-weight-decay and weight-decay-bias-norm (both on
// line 6, so a list can silence one of them) and dropout-before-batchnorm (line 3).
const PY = [
  'import torch',
  'import torch.nn as nn',
  'model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),',
  '    nn.Dropout(0.5), nn.BatchNorm1d(8), nn.Linear(8, 2))',
  '',
  'def make():',
  '    return torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)',
  '',
].join('\n');

const TS = [
  "import * as tf from '@tensorflow/tfjs';",
  'const model = tf.sequential();',
  'model.add(tf.layers.dense({ units: 8, inputShape: [4] }));',
  'model.add(tf.layers.dropout({ rate: 50 }));',
  '',
].join('\n');

const ALL = ['adam-weight-decay@6', 'dropout-before-batchnorm@3', 'weight-decay-bias-norm@6'];

describe('inline suppressions', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const ids = (text: string, language: SourceLanguage = 'python') =>
    analyzer.analyze(text, language).result.findings.map((f) => `${f.ruleId}@${f.range.start.line}`).sort();
  const lines = (text: string) => text.split('\n');
  const withLine = (text: string, line: number, edit: (l: string) => string) =>
    lines(text)
      .map((l, i) => (i === line ? edit(l) : l))
      .join('\n');

  it('the fixtures report the two findings the tests silence', () => {
    assert.deepEqual(ids(PY), ['adam-weight-decay@6', 'dropout-before-batchnorm@3', 'weight-decay-bias-norm@6']);
    assert.deepEqual(ids(TS, 'typescript'), ['dropout-rate-range@3']);
  });

  it('a trailing comment silences the listed rule on its own line only', () => {
    const text = withLine(PY, 6, (l) => `${l}  # reglens: ignore[adam-weight-decay]`);
    const r = analyzer.analyze(text, 'python').result;
    assert.deepEqual(r.findings.map((f) => f.ruleId).sort(), ['dropout-before-batchnorm', 'weight-decay-bias-norm']);
    assert.deepEqual(r.suppressed?.map((s) => [s.finding.ruleId, s.by]), [['adam-weight-decay', 6]]);
    assert.equal(r.unusedSuppressions, undefined);
  });

  it('a comment alone on the line above silences the next line, with the indentation of any', () => {
    const text = lines(PY);
    text.splice(6, 0, '    # reglens: ignore[adam-weight-decay, weight-decay-bias-norm, dropout-rate-range]');
    const r = analyzer.analyze(text.join('\n'), 'python').result;
    assert.deepEqual(r.findings.map((f) => f.ruleId), ['dropout-before-batchnorm']);
    // The second id silenced nothing: reported as unused, the first is not.
    assert.deepEqual(r.unusedSuppressions?.map((u) => u.rules), [['dropout-rate-range']]);
  });

  it('a bare ignore silences every rule on the line; another rule id silences nothing', () => {
    assert.deepEqual(ids(withLine(PY, 6, (l) => `${l}  # reglens: ignore`)), ['dropout-before-batchnorm@3']);
    assert.deepEqual(ids(withLine(PY, 6, (l) => `${l}  # reglens:ignore[]`)), ['dropout-before-batchnorm@3']);
    assert.deepEqual(ids(withLine(PY, 6, (l) => `${l}  # reglens: ignore[dropout-before-batchnorm]`)), ALL);
    // `ignore-next` is not the marker.
    assert.deepEqual(ids(withLine(PY, 6, (l) => `${l}  # reglens: ignore-next`)), ALL);
  });

  it('a comment two lines above, or a marker inside a string, silences nothing', () => {
    const gap = lines(PY);
    gap.splice(5, 0, '# reglens: ignore');
    assert.deepEqual(ids(gap.join('\n')), ['adam-weight-decay@7', 'dropout-before-batchnorm@3', 'weight-decay-bias-norm@7']);
    const inString = withLine(PY, 6, (l) => l.replace('lr=1e-3', 'lr=1e-3, name="# reglens: ignore"'));
    assert.deepEqual(ids(inString), ALL);
  });

  it('TS/JS: // and /* */ comments, and a string literal is not a comment', () => {
    assert.deepEqual(ids(withLine(TS, 3, (l) => `${l} // reglens: ignore[dropout-rate-range]`), 'typescript'), []);
    assert.deepEqual(ids(withLine(TS, 3, (l) => `${l} /* reglens: ignore */`), 'javascript'), []);
    const inString = withLine(TS, 3, (l) => `${l} const s = '// reglens: ignore';`);
    assert.deepEqual(ids(inString, 'typescript'), ['dropout-rate-range@3']);
  });

  describe('the "disable for this line" edit', () => {
    const silence = (text: string, language: SourceLanguage, line: number, ruleId: string) => applyEdits(text, [suppressionEdit(text, language, line, ruleId)]);

    it('inserts a comment above with the line indentation and the language comment token, which silences the finding', () => {
      const py = silence(PY, 'python', 6, 'adam-weight-decay');
      assert.equal(lines(py)[6], '    # reglens: ignore[adam-weight-decay]');
      assert.equal(analyzer.analyze(py, 'python').result.parseErrors, 0);
      assert.deepEqual(ids(py), ['dropout-before-batchnorm@3', 'weight-decay-bias-norm@7']);
      const ts = silence(TS, 'typescript', 3, 'dropout-rate-range');
      assert.equal(lines(ts)[3], '// reglens: ignore[dropout-rate-range]');
      assert.deepEqual(ids(ts, 'typescript'), []);
    });

    it('inside a multi-line call the comment line still parses', () => {
      const py = silence(PY, 'python', 3, 'dropout-before-batchnorm');
      assert.equal(lines(py)[3], '    # reglens: ignore[dropout-before-batchnorm]');
      assert.equal(analyzer.analyze(py, 'python').result.parseErrors, 0);
      assert.deepEqual(ids(py), ['adam-weight-decay@7', 'weight-decay-bias-norm@7']);
    });

    it('adds the id to a suppression already there instead of a second comment', () => {
      const trailing = withLine(PY, 6, (l) => `${l}  # reglens: ignore[mc-loop-no-variance]`);
      const edited = silence(trailing, 'python', 6, 'adam-weight-decay');
      assert.equal(lines(edited)[6].endsWith('# reglens: ignore[mc-loop-no-variance, adam-weight-decay]'), true);
      assert.equal(lines(edited).length, lines(PY).length);
      const above = lines(PY);
      above.splice(6, 0, '    # reglens: ignore[mc-loop-no-variance]');
      const merged = silence(above.join('\n'), 'python', 7, 'adam-weight-decay');
      assert.equal(lines(merged)[6], '    # reglens: ignore[mc-loop-no-variance, adam-weight-decay]');
      assert.deepEqual(ids(merged), ['dropout-before-batchnorm@3', 'weight-decay-bias-norm@7']);
    });

    it('after a backslash continuation it comments the line itself, and keeps CRLF', () => {
      const cont = 'import torch\nopt = \\\n    torch.optim.Adam(params, weight_decay=1e-4)\n';
      assert.deepEqual(ids(cont), ['adam-weight-decay@2']);
      const edited = silence(cont, 'python', 2, 'adam-weight-decay');
      assert.equal(lines(edited)[2], '    torch.optim.Adam(params, weight_decay=1e-4)  # reglens: ignore[adam-weight-decay]');
      assert.deepEqual(ids(edited), []);
      const crlf = PY.replace(/\n/g, '\r\n');
      assert.equal(silence(crlf, 'python', 6, 'adam-weight-decay').split('\r\n')[6], '    # reglens: ignore[adam-weight-decay]');
    });
  });
});
