// npm run test:electron — the SECOND runner of the same in-VS Code suite, for contributors with
// internet: @vscode/test-electron downloads a VS Code build (into .vscode-test/) and runs
// out/test/vscode/index.js in its extension host.
//
// It CANNOT run on the project's offline build machines or in CI there (the VS Code download is
// blocked); there, test/harness/run-vscode-tests.mjs (code-server + Chromium) runs the very same
// test entry. Both runners pass the same environment, so a test must not care which one hosts it.
//
//   node test/harness/run-test-electron.mjs [--no-build] [--grep REGEX]
//   env REGLENS_VSCODE_VERSION   VS Code version to download (default 'stable'; e.g. 1.95.0 for
//                                the oldest supported engine)
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { buildUnlessSkipped, copyFixtureWorkspace, ensureDir, repoRoot, requireFile, resultsDir } from './common.mjs';

const argv = process.argv.slice(2);
const gi = argv.indexOf('--grep');
const grep = gi >= 0 ? argv[gi + 1] : process.env.REGLENS_TEST_GREP;

async function main() {
  buildUnlessSkipped(argv);
  const extensionTestsPath = join(repoRoot, 'out', 'test', 'vscode', 'index.js');
  requireFile(extensionTestsPath, 'Build it with: node esbuild.mjs');
  ensureDir(resultsDir);
  const resultsFile = join(resultsDir, 'electron-results.json');
  rmSync(resultsFile, { force: true });
  const ws = copyFixtureWorkspace();
  const extensionTestsEnv = { REGLENS_TEST_RESULTS: resultsFile, REGLENS_TEST_WORKSPACE: ws.dir };
  if (grep) extensionTestsEnv.REGLENS_TEST_GREP = grep;
  let code = 1;
  try {
    code = await runTests({
      version: process.env.REGLENS_VSCODE_VERSION || 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath,
      extensionTestsEnv,
      launchArgs: [ws.dir, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } catch (e) {
    console.error(`[electron] runTests failed: ${e.message ?? e}`);
  } finally {
    ws.remove();
  }
  let results;
  if (existsSync(resultsFile)) results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  if (results) {
    for (const t of results.tests) {
      console.log(`  ${t.state === 'passed' ? 'PASS' : t.state === 'failed' ? 'FAIL' : 'SKIP'} ${t.fullTitle}`);
      if (t.error) console.log(t.error.split('\n').map((l) => `       ${l}`).join('\n'));
    }
  } else {
    console.error(`[electron] no results file ${resultsFile}`);
  }
  const passed = results?.passed ?? 0;
  const failed = results ? results.failed : 1;
  const skipped = results?.skipped ?? 0;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return code === 0 && !!results && failed === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(`[electron] FAILED: ${e.stack || e.message}`);
    process.exit(1);
  },
);
