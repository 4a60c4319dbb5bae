import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { globMatcher } from '../../../src/lint/globMatch';
import { ConfigError, ConfigResolver, isExcluded, readConfigFile } from '../../../src/lint/lintConfig';
import { writeUnder } from '../helpers/tempTree';
import { fails, type LintFinding, type LintReport } from '../../../src/lint/lintReport';

describe('lint config', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-config-')));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, text: string) => writeUnder(dir, rel, text);
  const configError = (file: string): ConfigError => {
    try {
      readConfigFile(file);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error(`${file} was accepted`);
  };

  it('pyproject: rule-id severities, the extension setting names (dotted or quoted), disable, exclude, threshold', () => {
    const file = write(
      'pyproject.toml',
      [
        '[project]',
        'name = "demo"',
        '[tool.reglens]',
        'exclude = ["third_party/**", "*_pb2.py"]',
        'disable = ["multi-epoch-no-dropout"]',
        'severity = { adam-weight-decay = "error", weight-decay-bias-norm = "info" }',
        'diagnostics.cutmixLambda.severity = "hint"',
        '"diagnostics.mcLoopNoVariance.severity" = "off"',
        'diagnostics.largeDenseHeadThreshold = 2048',
        '[tool.ruff]',
        'line-length = 100',
      ].join('\n'),
    );
    const c = readConfigFile(file)!;
    assert.equal(c.root, dir);
    assert.deepEqual(c.severity, {
      'adam-weight-decay': 'error',
      'weight-decay-bias-norm': 'information',
      'cutmix-lambda': 'hint',
      'mc-loop-no-variance': 'off',
      'multi-epoch-no-dropout': 'off',
    });
    assert.deepEqual(c.options, { largeDenseHeadThreshold: 2048 });
    assert.ok(isExcluded(c, path.join(dir, 'third_party', 'x', 'm.py')));
    assert.ok(isExcluded(c, path.join(dir, 'a', 'b', 'msg_pb2.py')));
    assert.ok(!isExcluded(c, path.join(dir, 'models', 'm.py')));
  });

  it('.reglens.json: settings copied from settings.json (with the reglens. prefix) and disable winning over a severity', () => {
    const file = write(
      '.reglens.json',
      JSON.stringify({ $schema: 'x', 'reglens.diagnostics.adamWeightDecay.severity': 'error', severity: { 'cutmix-lambda': 'error' }, disable: ['cutmix-lambda'] }, null, 2),
    );
    assert.deepEqual(readConfigFile(file)!.severity, { 'adam-weight-decay': 'error', 'cutmix-lambda': 'off' });
  });

  it('invalid configs name file:line (and column where the parser knows it)', () => {
    const toml = configError(write('a/pyproject.toml', '[tool.reglens]\ndisable = ["adam-weight-decay"\nexclude = 3\n'));
    assert.equal(toml.line, 3);
    assert.match(toml.message, /a\/pyproject\.toml:3:\d+: invalid TOML/);
    const unknown = configError(write('b/pyproject.toml', '[tool.reglens]\nexclude = []\n\n[tool.reglens.severity]\n  adam-weight-decay = "error"\n  dropout-everywhere = "error"\n'));
    assert.match(unknown.message, /b\/pyproject\.toml:6:3: unknown rule id "dropout-everywhere"/);
    const key = configError(write('c/pyproject.toml', '[tool.reglens]\nexlude = ["x"]\n'));
    assert.match(key.message, /c\/pyproject\.toml:2:1: unknown setting "exlude"; known: exclude, disable/);
    const threshold = configError(write('d/pyproject.toml', '[tool.reglens]\ndiagnostics.largeDenseHeadThreshold = 0\n'));
    assert.match(threshold.message, /d\/pyproject\.toml:2:1: diagnostics\.largeDenseHeadThreshold must be a positive integer, got 0/);
    const badJson = configError(write('e/.reglens.json', '{\n  "disable": ["adam-weight-decay",]\n}\n'));
    assert.equal(badJson.line, 2);
    assert.match(badJson.message, /e\/\.reglens\.json:2:\d+: invalid JSON/);
    const badList = configError(write('f/.reglens.json', '{\n  "exclude": "vendor"\n}\n'));
    assert.match(badList.message, /f\/\.reglens\.json:2:14: exclude must be a list of strings/);
  });

  it('lookup: the nearest config walking up; a pyproject.toml without [tool.reglens] is passed over; .reglens.json first in a folder', () => {
    write('pyproject.toml', '[tool.reglens]\ndisable = ["cutmix-lambda"]\n');
    write('pkg/pyproject.toml', '[project]\nname = "pkg"\n');
    write('web/pyproject.toml', '[tool.reglens]\ndisable = ["adam-weight-decay"]\n');
    write('web/.reglens.json', '{"disable": ["dropout-rate-range"]}');
    const resolver = new ConfigResolver(dir);
    assert.equal(resolver.forFile(path.join(dir, 'pkg', 'deep', 'm.py')).file, path.join(dir, 'pyproject.toml'));
    assert.equal(resolver.forFile(path.join(dir, 'web', 'm.ts')).file, path.join(dir, 'web', '.reglens.json'));
    assert.throws(() => new ConfigResolver(dir, 'pkg/pyproject.toml'), /pkg\/pyproject\.toml: has no \[tool\.reglens\] table/);
    assert.equal(new ConfigResolver(dir, 'web/pyproject.toml').forFile(path.join(dir, 'm.py')).severity['adam-weight-decay'], 'off');
  });

  it('globs read like gitignore: a bare name at any depth, a slash anchors, ** spans folders', () => {
    assert.ok(globMatcher('build')('a/build/x.py'));
    assert.ok(globMatcher('*.gen.py')('deep/er/m.gen.py'));
    assert.ok(!globMatcher('/vendor')('a/vendor/x.py'));
    assert.ok(globMatcher('/vendor')('vendor/x.py'));
    assert.ok(globMatcher('src/**/legacy_*.py')('src/a/b/legacy_net.py'));
    assert.ok(globMatcher('src/**/legacy_*.py')('src/legacy_net.py'));
    assert.ok(!globMatcher('src/*.py')('src/a/m.py'));
    assert.ok(globMatcher('m[0-9].py')('m3.py'));
  });

  it('fails(): a finding at or above the threshold', () => {
    const at = (severity: LintFinding['severity']): LintReport => ({
      files: 1,
      suppressed: 0,
      notices: [],
      findings: [{ path: 'a.py', ruleId: 'x', severity, message: '', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, fixes: [] }],
    });
    assert.deepEqual(
      (['error', 'warning', 'info', 'hint'] as const).map((s) => ['error', 'warning', 'info', 'hint', 'never'].map((t) => fails(at(s), t as never))),
      [
        [true, true, true, true, false],
        [false, true, true, true, false],
        [false, false, true, true, false],
        [false, false, false, true, false],
      ],
    );
  });
});
