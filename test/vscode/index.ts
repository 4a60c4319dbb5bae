// Entry of the tests that run INSIDE a real VS Code extension host.
//
// Contract (shared by both runners: test/harness/run-vscode-tests.mjs on code-server, and
// @vscode/test-electron via test/harness/run-test-electron.mjs): export `run(): Promise<void>`;
// the promise rejects when any test fails.
//
// esbuild bundles this file into out/test/vscode/index.js as ONE bundle ('mocha' and 'vscode'
// stay external), so test files cannot be discovered with a glob at run time: they are listed in
// loadTests() below. They are require()d inside run(), after mocha has defined describe/it, so
// esbuild still bundles them but their top level runs only then.
//
// TO ADD A TEST FILE: create test/vscode/<name>.test.ts (use describe/it from mocha's bdd ui and
// `import * as vscode from 'vscode'`), then add ONE line to loadTests():  require('./<name>.test');
//
// Environment (set by the runners through extensionEnvironment / extensionTestsEnv):
//   REGLENS_TEST_RESULTS    JSON results file to write: {passed, failed, skipped, tests: [...]}
//   REGLENS_TEST_WORKSPACE  absolute path of the fixture workspace copy that is open
//   REGLENS_TEST_GREP       optional: only run tests whose full title matches this regex
import * as fs from 'fs';
import * as path from 'path';
import Mocha = require('mocha');

function loadTests(): void {
  require('./smoke.test');
  require('./run.test');
  require('./lint.test');
  require('./workspaceIndex.test');
  require('./dashboard.test');
  require('./lintFrameworks.test');
  require('./probe.test');
  require('./sweep.test');
  require('./examples.test');
  require('./nativeBackend.test');
  require('./torch.test');
  require('./recorder.test');
  require('./slurm.test');
  require('./runsView.test');
  require('./labelErrors.test');
}

interface TestRecord {
  title: string;
  fullTitle: string;
  state: 'passed' | 'failed' | 'skipped';
  error?: string;
  durationMs?: number;
}

interface Results {
  passed: number;
  failed: number;
  skipped: number;
  tests: TestRecord[];
  error?: string;
  vscodeVersion?: string;
  durationMs: number;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack || `${err.name}: ${err.message}`;
  return String(err);
}

function writeResults(results: Results): void {
  const file = process.env.REGLENS_TEST_RESULTS;
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
}

function vscodeVersion(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('vscode') as { version: string }).version;
  } catch {
    return undefined;
  }
}

export function run(): Promise<void> {
  const t0 = Date.now();
  const tests: TestRecord[] = [];
  const results = (error?: string): Results => ({
    passed: tests.filter((t) => t.state === 'passed').length,
    failed: tests.filter((t) => t.state === 'failed').length,
    skipped: tests.filter((t) => t.state === 'skipped').length,
    tests,
    ...(error ? { error } : {}),
    vscodeVersion: vscodeVersion(),
    durationMs: Date.now() - t0,
  });

  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  if (process.env.REGLENS_TEST_GREP) mocha.grep(new RegExp(process.env.REGLENS_TEST_GREP));

  try {
    // Defines describe/it/before/... on globalThis for the test files (what addFile + run would do).
    mocha.suite.emit('pre-require', globalThis, 'index', mocha);
    loadTests();
    mocha.suite.emit('post-require', globalThis, 'index', mocha);
  } catch (err) {
    const msg = `loading test files failed: ${errorText(err)}`;
    tests.push({ title: 'load test files', fullTitle: 'load test files', state: 'failed', error: msg });
    writeResults(results(msg));
    return Promise.reject(new Error(msg));
  }

  return new Promise<void>((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const r = results();
        writeResults(r);
        if (failures > 0 || r.failed > 0) reject(new Error(`${r.failed} test(s) failed`));
        else resolve();
      });
      runner.on('pass', (t) => {
        tests.push({ title: t.title, fullTitle: t.fullTitle(), state: 'passed', durationMs: t.duration });
      });
      runner.on('fail', (t, err) => {
        // Also fires for failing hooks ("before all" hook ...), which then count as a failed test.
        tests.push({ title: t.title, fullTitle: t.fullTitle(), state: 'failed', error: errorText(err), durationMs: t.duration });
      });
      runner.on('pending', (t) => {
        tests.push({ title: t.title, fullTitle: t.fullTitle(), state: 'skipped' });
      });
    } catch (err) {
      const msg = `mocha.run threw: ${errorText(err)}`;
      writeResults(results(msg));
      reject(new Error(msg));
    }
  });
}
