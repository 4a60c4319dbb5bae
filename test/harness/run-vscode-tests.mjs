// npm run test:vscode — runs out/test/vscode/index.js (mocha) inside a REAL VS Code extension
// host: code-server + headless Chromium, no download needed (RECIPES.md section 1).
//
//   node test/harness/run-vscode-tests.mjs [--no-build] [--grep REGEX] [--keep]
//
// Steps: install/reuse deps -> build (node esbuild.mjs) -> copy test/fixtures/workspace to a temp
// folder -> start code-server -> open the workbench with a smoke-test-driver payload
// (extensionDevelopmentPath = repo root, extensionTestsPath = out/test/vscode/index.js) -> the
// workbench calls window.codeAutomationExit(code) when run() settles -> read the JSON results the
// test entry wrote -> print them and `N passed, N failed`.
//
// Env: REGLENS_VSCODE_TIMEOUT_MS (overall, default 600000), REGLENS_TEST_GREP, REGLENS_CACHE.
// Artifacts: test-results/vscode-results.json, test-results/vscode-console.log, and on failure
// test-results/vscode-logs/ (VS Code's logs incl. the extension host log, and server.log).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDeps } from './ensure-deps.mjs';
import { readExtHostLog, remoteUri, startCodeServer, tail, tailText, workbenchUrl } from './codeServer.mjs';
import { launchBrowser } from './browser.mjs';
import { buildUnlessSkipped, copyFixtureWorkspace, ensureDir, repoRoot, requireFile, resultsDir, secs, startMemorySampler } from './common.mjs';

const argv = process.argv.slice(2);
const argValue = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const TIMEOUT_MS = Number(process.env.REGLENS_VSCODE_TIMEOUT_MS || 600_000);
const grep = argValue('--grep') ?? process.env.REGLENS_TEST_GREP;
const keep = argv.includes('--keep');

async function main() {
  const t0 = Date.now();
  const mem = startMemorySampler();
  const deps = await ensureDeps();
  buildUnlessSkipped(argv);
  const testsEntry = join(repoRoot, 'out', 'test', 'vscode', 'index.js');
  requireFile(testsEntry, 'Build it with: node esbuild.mjs');
  requireFile(join(repoRoot, 'dist', 'extension.js'), 'Build it with: node esbuild.mjs');

  ensureDir(resultsDir);
  const resultsFile = join(resultsDir, 'vscode-results.json');
  const consoleFile = join(resultsDir, 'vscode-console.log');
  rmSync(resultsFile, { force: true });
  rmSync(join(resultsDir, 'vscode-logs'), { recursive: true, force: true });

  const ws = copyFixtureWorkspace();
  let cs;
  let b;
  let ok = false;
  let summary = '0 passed, 1 failed';
  try {
    cs = await startCodeServer({ node24: deps.node24, codeServer: deps.codeServer });
    console.log(`[vscode] code-server on ${cs.url} (ready in ${secs(cs.startMs)}), run folder ${cs.runDir}`);
    b = await launchBrowser({ executablePath: deps.chromium });

    let exitInfo;
    const exited = new Promise((resolve) => {
      exitInfo = resolve;
    });
    // Must be exposed BEFORE goto: the workbench calls it when the test entry's run() settles.
    await b.page.exposeFunction('codeAutomationExit', (code, logs) => {
      exitInfo({ code, logs });
    });

    const env = { REGLENS_TEST_RESULTS: resultsFile, REGLENS_TEST_WORKSPACE: ws.dir };
    if (grep) env.REGLENS_TEST_GREP = grep;
    const payload = [
      ['extensionDevelopmentPath', remoteUri(cs, repoRoot)],
      ['extensionTestsPath', remoteUri(cs, testsEntry)],
      ['extensionEnvironment', JSON.stringify(env)],
    ];
    const tOpen = Date.now();
    await b.page.goto(workbenchUrl(cs, { folder: ws.dir, payload }), { waitUntil: 'domcontentloaded' });

    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), TIMEOUT_MS);
    });
    const crashed = new Promise((resolve) => b.page.once('crash', () => resolve({ crash: true })));
    const outcome = await Promise.race([exited, timeout, crashed]);
    clearTimeout(timer);
    const testMs = Date.now() - tOpen;

    if (outcome.timeout) {
      console.error(`\n[vscode] TIMEOUT: the workbench did not report the end of the tests within ${secs(TIMEOUT_MS)} (REGLENS_VSCODE_TIMEOUT_MS).`);
    } else if (outcome.crash) {
      console.error('\n[vscode] the browser page crashed');
    } else {
      console.log(`[vscode] tests ended with exit code ${outcome.code} after ${secs(testMs)}`);
    }

    let results;
    if (existsSync(resultsFile)) {
      try {
        results = JSON.parse(readFileSync(resultsFile, 'utf8'));
      } catch (e) {
        console.error(`[vscode] cannot parse ${resultsFile}: ${e.message}`);
      }
    } else {
      console.error(`[vscode] no results file ${resultsFile}: the test entry did not run or did not finish (extensionTestsPath wrong, syntax error, or REGLENS_TEST_RESULTS not passed).`);
    }

    if (results) {
      console.log(`\nVS Code ${results.vscodeVersion ?? '?'} extension host:`);
      for (const t of results.tests) {
        const mark = t.state === 'passed' ? 'PASS' : t.state === 'failed' ? 'FAIL' : 'SKIP';
        const dur = t.durationMs != null ? ` (${t.durationMs} ms)` : '';
        console.log(`  ${mark} ${t.fullTitle}${dur}`);
        if (t.error) console.log(t.error.split('\n').map((l) => `       ${l}`).join('\n'));
      }
      if (results.error) console.log(`  ERROR ${results.error}`);
    }
    const passed = results?.passed ?? 0;
    const failed = results ? results.failed : 1;
    const skipped = results?.skipped ?? 0;
    ok = !!results && !outcome.timeout && !outcome.crash && outcome.code === 0 && failed === 0 && passed + skipped > 0;
    if (results && outcome.code !== undefined && outcome.code !== 0 && failed === 0) {
      console.error(`[vscode] the workbench reported exit code ${outcome.code} although no test failed`);
    }
    if (results && passed + skipped === 0 && failed === 0) console.error('[vscode] no tests ran');

    b.saveConsole(consoleFile);
    if (!ok) {
      console.log('\n--- extension host log (tail) ---');
      console.log(tailText(readExtHostLog(cs), 60) || '(no extension host log)');
      console.log('--- code-server log (tail) ---');
      console.log(tail(cs.serverLog, 20));
      console.log('--- page console errors ---');
      console.log(b.errors.slice(-40).join('\n') || '(none)');
      console.log(`--- full page console: ${consoleFile}`);
      console.log(`--- VS Code logs: ${cs.saveLogs(join(resultsDir, 'vscode-logs'))}`);
    }
    console.log(`\n[vscode] total ${secs(Date.now() - t0)}, peak RSS of code-server + Chromium ~${mem.stop()} MiB`);
    summary = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
  } finally {
    await b?.close();
    await cs?.stop({ keep });
    if (keep) {
      ws.keep();
      console.log(`[vscode] kept run folder ${cs?.runDir} and workspace ${ws.dir}`);
    } else ws.remove();
  }
  console.log(summary);
  return ok;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(`[vscode] FAILED: ${e.stack || e.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
