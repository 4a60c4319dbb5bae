// `reglens lint` through the bundled CLI (out/unit/cli.js, built like dist/cli.js with the
// grammars next to it): exit codes, --fail-on, the three formats, config and suppressions.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GRAPH_RULES } from '../../../src/analysis/rules/ruleCatalog';
import { buildBundles, cliPath } from '../helpers/bundle';
import { writeUnder } from '../helpers/tempTree';

// adam-weight-decay (warning) and weight-decay-bias-norm (info), both on line 3.
const WARN_PY = 'import torch\nmodel = torch.nn.Linear(4, 2)\nopt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)\n';
// weight-decay-bias-norm (info) alone.
const INFO_PY = 'import torch\nmodel = torch.nn.Linear(4, 2)\nopt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=5e-4)\n';
const CLEAN_PY = 'import torch\nx = torch.zeros(3)\n';
// dropout-rate-range (TF.js: warning).
const WARN_TS = "import * as tf from '@tensorflow/tfjs';\nconst m = tf.sequential();\nm.add(tf.layers.dropout({ rate: 50 }));\n";

describe('reglens lint (bundled CLI)', function () {
  this.timeout(120000);
  let dir: string;
  before(() => buildBundles());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-lint-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (rel: string, text: string) => writeUnder(dir, rel, text);
  const lint = (...args: string[]) => spawnSync(process.execPath, [cliPath, 'lint', ...args], { cwd: dir, encoding: 'utf8' });
  const json = (...args: string[]) => {
    const r = lint('--format', 'json', ...args);
    return { status: r.status, stderr: r.stderr, doc: JSON.parse(r.stdout) };
  };

  it('text: one ruff-style line per finding, a summary, and exit 1 at the default --fail-on warning', () => {
    write('models/net.py', WARN_PY);
    write('models/clean.py', CLEAN_PY);
    write('web/model.ts', WARN_TS);
    // Skipped folders and .gitignore'd files are not read.
    write('node_modules/pkg/bad.py', WARN_PY);
    write('.venv/lib/bad.py', WARN_PY);
    write('generated/bad.py', WARN_PY);
    write('.gitignore', 'generated/\n');
    const r = lint();
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^models\/net\.py:3:7: warning adam-weight-decay \S/);
    assert.match(lines[1], /^models\/net\.py:3:7: info weight-decay-bias-norm /);
    assert.match(lines[2], /^web\/model\.ts:3:\d+: warning dropout-rate-range /);
    assert.equal(lines.at(-1), 'Found 3 findings (2 warnings, 1 info) in 3 files.');
    assert.equal(lines.length, 4);
  });

  it('--fail-on: the exit code follows the threshold; never always passes', () => {
    write('info.py', INFO_PY);
    assert.equal(lint().status, 0, 'an info finding does not fail at the default (warning)');
    assert.equal(lint('--fail-on', 'info').status, 1);
    write('warn.py', WARN_PY);
    assert.equal(lint('--fail-on', 'error').status, 0);
    assert.equal(lint('--fail-on', 'never').status, 0);
  });

  it('exit 2 for bad usage and a path that is not there, naming it', () => {
    const missing = lint('nope/model.py');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read .*nope\/model\.py: no such file or folder/);
    assert.equal(missing.stdout, '');
    const badFormat = lint('--format', 'xml');
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /--format must be text, json or sarif, got "xml"/);
    assert.equal(lint('--fail-on', 'warn').status, 2);
  });

  it('json: the documented shape, 1-based positions, fixes; a file that does not parse is a notice, not a finding', () => {
    write('a.py', WARN_PY);
    write('broken.py', 'import torch\ndef f(:\n    pass\n');
    const { status, doc } = json();
    assert.equal(status, 1);
    assert.equal(doc.version, 1);
    assert.equal(doc.tool.name, 'reglens');
    const adam = doc.findings.find((f: { ruleId: string }) => f.ruleId === 'adam-weight-decay');
    assert.deepEqual(
      { path: adam.path, line: adam.line, column: adam.column, endLine: adam.endLine, severity: adam.severity },
      { path: 'a.py', line: 3, column: 7, endLine: 3, severity: 'warning' },
    );
    assert.ok(adam.endColumn > adam.column);
    assert.ok(adam.fixes.length >= 1 && adam.fixes[0].edits[0].newText.includes('AdamW'), 'the AdamW fix travels with the finding');
    assert.deepEqual(
      doc.notices.map((n: { path: string; kind: string }) => [n.path, n.kind]),
      [['broken.py', 'parse-errors']],
    );
    assert.deepEqual(doc.summary, { files: 2, findings: 2, error: 0, warning: 1, info: 1, hint: 0, suppressed: 0, failOn: 'warning', failed: true });
    // A broken file alone does not fail the run.
    assert.equal(lint('broken.py').status, 0);
  });

  it('sarif: the SARIF 2.1.0 properties code scanning needs, checked against the spec by hand', () => {
    write('src/a b.py', WARN_PY);
    write('broken.py', 'def f(:\n');
    const out = path.join(dir, 'out', 'reglens.sarif');
    fs.mkdirSync(path.dirname(out));
    const r = lint('--format', 'sarif', '--output', 'out/reglens.sarif');
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '', 'with --output nothing goes to stdout');
    const log = JSON.parse(fs.readFileSync(out, 'utf8'));
    // sarifLog: version and runs required (3.13).
    assert.equal(log.version, '2.1.0');
    assert.equal(log.runs.length, 1);
    const run = log.runs[0];
    // run.tool.driver.name required (3.14.6, 3.18.2, 3.19.8).
    assert.equal(run.tool.driver.name, 'RegLens');
    assert.equal(run.columnKind, 'utf16CodeUnits');
    // reportingDescriptor: id required; shortDescription a multiformatMessageString (text required).
    const rules = run.tool.driver.rules;
    assert.deepEqual(rules.map((x: { id: string }) => x.id), GRAPH_RULES.map((g) => g.info.id));
    for (const rule of rules) {
      assert.equal(typeof rule.shortDescription.text, 'string');
      assert.match(rule.helpUri, new RegExp(`docs/rules\\.md#${rule.id}$`));
      assert.ok(['none', 'note', 'warning', 'error'].includes(rule.defaultConfiguration.level));
    }
    // originalUriBaseIds: an absolute URI ending in a slash (3.14.14).
    assert.equal(run.originalUriBaseIds['%SRCROOT%'].uri, `file://${fs.realpathSync(dir)}/`.replace(/ /g, '%20'));
    assert.equal(run.results.length, 2);
    for (const res of run.results) {
      // result: message.text required; ruleIndex points at its rule; level is a SARIF level (info -> note).
      assert.equal(typeof res.message.text, 'string');
      assert.equal(rules[res.ruleIndex].id, res.ruleId);
      assert.equal(res.level, res.ruleId === 'adam-weight-decay' ? 'warning' : 'note');
      const loc = res.locations[0].physicalLocation;
      // A relative uri-reference on %SRCROOT%, percent-encoded.
      assert.deepEqual(loc.artifactLocation, { uri: 'src/a%20b.py', uriBaseId: '%SRCROOT%' });
      // region: 1-based lines and columns, end column exclusive.
      assert.deepEqual([loc.region.startLine, loc.region.startColumn, loc.region.endLine], [3, 7, 3]);
      assert.ok(loc.region.endColumn > loc.region.startColumn);
    }
    // fix: artifactChanges (>= 1) with replacements (>= 1), each with deletedRegion (3.55, 3.56, 3.57).
    const fix = run.results.find((x: { ruleId: string }) => x.ruleId === 'adam-weight-decay').fixes[0];
    assert.equal(typeof fix.description.text, 'string');
    assert.ok(fix.artifactChanges[0].replacements.length >= 1);
    assert.ok(fix.artifactChanges[0].replacements[0].deletedRegion.startLine >= 1);
    assert.equal(typeof fix.artifactChanges[0].replacements[0].insertedContent.text, 'string');
    // invocation: executionSuccessful required; the parse notice is a notification, not a result.
    assert.equal(run.invocations[0].executionSuccessful, true);
    const notes = run.invocations[0].toolExecutionNotifications;
    assert.equal(notes.length, 1);
    assert.equal(notes[0].level, 'warning');
    assert.equal(notes[0].locations[0].physicalLocation.artifactLocation.uri, 'broken.py');
  });

  it('config: pyproject [tool.reglens] severities, disable and exclude apply; .reglens.json is nearer and wins', () => {
    write('pyproject.toml', '[project]\nname = "x"\n\n[tool.reglens]\nexclude = ["vendor/**"]\ndisable = ["weight-decay-bias-norm"]\n\n[tool.reglens.severity]\nadam-weight-decay = "error"\n');
    write('train.py', WARN_PY);
    write('vendor/lib.py', WARN_PY);
    write('web/.reglens.json', JSON.stringify({ 'diagnostics.dropoutRateRange.severity': 'off' }));
    write('web/model.ts', WARN_TS);
    const { status, doc } = json();
    assert.equal(status, 1);
    assert.deepEqual(
      doc.findings.map((f: { path: string; ruleId: string; severity: string }) => `${f.path} ${f.ruleId} ${f.severity}`),
      ['train.py adam-weight-decay error'],
    );
    assert.equal(doc.summary.files, 2, 'vendor/ is excluded before it is read');
    // An excluded file named explicitly (as pre-commit passes them) stays excluded.
    assert.equal(json('vendor/lib.py').doc.summary.files, 0);
    // --config replaces the lookup.
    write('other.json', '{}');
    assert.equal(json('--config', 'other.json', 'web').doc.findings.length, 1);
  });

  it('config: an invalid value exits 2 naming file:line; suppressions in the code are honoured', () => {
    write('pyproject.toml', '[tool.reglens]\ndisable = ["adam-weight-decay"]\n\n[tool.reglens.severity]\ncutmix-lambda = "loud"\n');
    write('train.py', WARN_PY);
    const r = lint();
    assert.equal(r.status, 2);
    assert.match(r.stderr, /pyproject\.toml:5:\d+: severity\.cutmix-lambda must be one of error, warning, information/);
    fs.rmSync(path.join(dir, 'pyproject.toml'));
    write('train.py', WARN_PY.replace('weight_decay=1e-4)', 'weight_decay=1e-4)  # reglens: ignore[adam-weight-decay, weight-decay-bias-norm]'));
    const { status, doc } = json();
    assert.equal(status, 0);
    assert.equal(doc.summary.suppressed, 2);
  });

  it('ships as a bin with a shebang, and the pre-commit hook runs it on Python and TS/JS files', () => {
    const root = path.resolve(__dirname, '../../..');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.bin.reglens.replace(/^\.\//, ''), 'dist/cli.js');
    assert.ok(fs.readFileSync(cliPath, 'utf8').startsWith('#!/usr/bin/env node\n'), 'the bundle keeps the shebang');
    assert.match(pkg.scripts.prepack, /esbuild\.mjs/, 'npm pack (pre-commit installs with it) builds dist/ first');
    const hooks = fs.readFileSync(path.join(root, '.pre-commit-hooks.yaml'), 'utf8');
    assert.match(hooks, /^- id: reglens$/m);
    assert.match(hooks, /^ {2}entry: reglens lint$/m);
    assert.match(hooks, /^ {2}language: node$/m);
    assert.match(hooks, /^ {2}types_or: \[python, javascript, ts\]$/m);
  });

  it('cross-file: a finding resting on another file of the set names it (SARIF relatedLocations)', () => {
    fs.cpSync(path.resolve(__dirname, '../../fixtures/workspace-xfile/bn_backbone'), path.join(dir, 'bn_backbone'), { recursive: true });
    const r = lint('--format', 'sarif');
    assert.equal(r.status, 1, r.stderr);
    const [result] = JSON.parse(r.stdout).runs[0].results;
    assert.equal(result.ruleId, 'mc-dropout-flips-batchnorm');
    assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, 'bn_backbone/uncertainty.py');
    const related = result.relatedLocations[0];
    assert.deepEqual(related.physicalLocation.artifactLocation, { uri: 'bn_backbone/backbone.py', uriBaseId: '%SRCROOT%' });
    assert.equal(related.physicalLocation.region.startLine, 8);
    assert.match(related.message.text, /BatchNorm2d/);
  });
});
