// npm run test:e2e:notifications — RegLens's notifications in a REAL VS Code (code-server +
// headless Chromium). The e2e's code-server runs with `--vscode-option enable-smoke-test-driver`
// (needed for the payload that loads the extension), under which the workbench shows no toasts
// (RECIPES §1): every notification still goes to the notification center, so this test opens
// the center (Notifications: Show Notifications) and reads its list.
//
//   node test/harness/run-e2e-notifications.mjs [--no-build] [--keep]
//
// Steps (after a failure the remaining ones are skipped):
//   workbench   the workbench is restored with the extension loaded from the repo
//   activation  `_doActivateExtension reglens.reglens` in the extension host log
//   finished    Run Experiment on tiny.reglens.json: "... finished after 4 epochs: test ..%" with Open Dashboard
//   stopped     a 5000-epoch run shows its progress notification; Stop Run: "... was stopped at epoch N"
//   rerun       Rerun (palette, pick the run): its progress notification "RegLens: <name>" with a progress bar
//   error       Run Experiment on an invalid file: "Invalid experiment file: ..." as an error
//   screenshot  test-results/notifications.png (the notification center)
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDeps } from './ensure-deps.mjs';
import { readExtHostLog, startCodeServer, tailText, waitFor, waitForActivation } from './codeServer.mjs';
import { launchBrowser } from './browser.mjs';
import { openWorkbenchWithExtension, openWorkspaceFile } from './workbench.mjs';
import { buildUnlessSkipped, copyFixtureWorkspace, ensureDir, repoRoot, requireFile, resultsDir, secs } from './common.mjs';

const argv = process.argv.slice(2);
const keep = argv.includes('--keep');

/** Palette: F1, `>title`, the row with that title, Enter (or a click when another row has focus). */
async function palette(page, title, { opensPicker = false } = {}) {
  await page.keyboard.press('F1');
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: 15_000 });
  await widget.locator('input.input').fill(`>${title}`);
  const row = widget.locator('.monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.click();
  if (!opensPicker) await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The notification center's items: message, severity (from its icon) and whether it shows progress. */
async function centerItems(page) {
  return page.locator('.notifications-center .notification-list-item').evaluateAll((items) =>
    items.map((it) => {
      const icon = it.querySelector('.notification-list-item-icon');
      const cls = icon ? icon.className : '';
      const severity = /codicon-error/.test(cls) ? 'error' : /codicon-warning/.test(cls) ? 'warning' : 'info';
      const bar = it.querySelector('.monaco-progress-container') ?? it.parentElement?.querySelector('.monaco-progress-container');
      const progress = !!bar && !bar.classList.contains('done') && ['active', 'infinite', 'discrete'].some((c) => bar.classList.contains(c));
      const buttons = [...it.querySelectorAll('.monaco-button')].map((b) => b.textContent?.trim() ?? '');
      return { message: it.querySelector('.notification-list-item-message')?.textContent?.trim() ?? '', severity, progress, buttons };
    }),
  );
}

/** Waits for a notification-center item that `match`es; returns it. */
async function waitForItem(page, what, match, timeoutMs = 120_000) {
  let found;
  let last = [];
  await waitFor(
    async () => {
      // The center may have been closed by a picker; showing it again is harmless.
      if (!(await page.locator('.notifications-center.visible').isVisible().catch(() => false))) await palette(page, 'Notifications: Show Notifications');
      last = await centerItems(page);
      found = last.find(match);
      return !!found;
    },
    { timeoutMs, intervalMs: 300, describe: () => `${what} (the center shows: ${JSON.stringify(last.map((i) => `${i.severity}${i.progress ? '+progress' : ''}: ${i.message}`)).slice(0, 600)})` },
  );
  return found;
}

async function main() {
  const t0 = Date.now();
  const deps = await ensureDeps();
  buildUnlessSkipped(argv);
  requireFile(join(repoRoot, 'dist', 'extension.js'), 'Build it with: node esbuild.mjs');
  ensureDir(resultsDir);
  const ws = copyFixtureWorkspace();
  const tiny = JSON.parse(readFileSync(join(ws.dir, 'tiny.reglens.json'), 'utf8'));
  const long = { ...tiny, name: 'notification long run', training: { ...tiny.training, epochs: 5000 } };
  writeFileSync(join(ws.dir, 'notify-long.reglens.json'), JSON.stringify(long, null, 2));
  writeFileSync(join(ws.dir, 'notify-broken.reglens.json'), '{ "name": "broken", "training": { "epochs": -1 } }\n');
  const cs = await startCodeServer({ node24: deps.node24, codeServer: deps.codeServer });
  console.log(`[e2e-notifications] code-server on ${cs.url} (ready in ${secs(cs.startMs)})`);
  let b;
  try {
    b = await launchBrowser({ executablePath: deps.chromium, viewport: { width: 1600, height: 1000 } });
  } catch (e) {
    await cs.stop();
    ws.remove();
    throw e;
  }
  const { page } = b;
  page.setDefaultTimeout(30_000);
  const steps = [
    ['workbench', async () => {
      await openWorkbenchWithExtension(page, cs, ws.dir);
    }],
    ['activation', async () => `after ${secs(await waitForActivation(cs, 'reglens.reglens', { timeoutMs: 120_000 }))}`],
    ['finished', async () => {
      await openWorkspaceFile(page, 'tiny.reglens.json');
      await palette(page, 'RegLens: Run Experiment');
      const item = await waitForItem(page, 'the finished notification', (i) => i.message.startsWith(`RegLens: "${tiny.name}" finished after ${tiny.training.epochs} epochs: test `));
      if (item.severity !== 'info') throw new Error(`finished is shown as ${item.severity}`);
      if (!item.buttons.includes('Open Dashboard')) throw new Error(`no Open Dashboard button: ${JSON.stringify(item.buttons)}`);
      return item.message;
    }],
    ['stopped', async () => {
      await openWorkspaceFile(page, 'notify-long.reglens.json');
      await palette(page, 'RegLens: Run Experiment');
      await waitForItem(page, 'the progress of the long run', (i) => i.progress && i.message.startsWith(`RegLens: ${long.name}`));
      await palette(page, 'RegLens: Stop Run');
      const item = await waitForItem(page, 'the stopped notification', (i) => i.message.startsWith(`RegLens: "${long.name}" was stopped at epoch `));
      return item.message;
    }],
    ['rerun', async () => {
      await waitFor(async () => !(await centerItems(page)).some((i) => i.progress), { timeoutMs: 30_000, intervalMs: 300, describe: () => 'the first progress to end' });
      await palette(page, 'RegLens: Rerun', { opensPicker: true });
      const widget = page.locator('.quick-input-widget');
      await widget.locator('.monaco-list-row', { hasText: long.name }).first().click();
      const item = await waitForItem(page, 'the progress notification of the rerun', (i) => i.progress && i.message.startsWith(`RegLens: ${long.name}`));
      await palette(page, 'RegLens: Stop Run');
      return item.message;
    }],
    ['error', async () => {
      await openWorkspaceFile(page, 'notify-broken.reglens.json');
      await palette(page, 'RegLens: Run Experiment');
      const item = await waitForItem(page, 'the error notification', (i) => i.message.startsWith('Invalid experiment file: '));
      if (item.severity !== 'error') throw new Error(`the invalid file is reported as ${item.severity}`);
      return item.message.slice(0, 120);
    }],
    ['screenshot', async () => {
      const file = join(resultsDir, 'notifications.png');
      await page.locator('.notifications-center').screenshot({ path: file });
      return file;
    }],
  ];

  let failed = null;
  let passed = 0;
  try {
    for (const [name, fn] of steps) {
      if (failed) {
        console.log(`  SKIP ${name}`);
        continue;
      }
      const ts = Date.now();
      try {
        const note = await fn();
        passed++;
        console.log(`  PASS ${name} (${secs(Date.now() - ts)})${note ? `: ${note}` : ''}`);
      } catch (e) {
        failed = name;
        console.log(`  FAIL ${name} (${secs(Date.now() - ts)}): ${e.message}`);
        await page.screenshot({ path: join(resultsDir, `failure-notifications-${name}.png`) }).catch(() => {});
        console.log(tailText(readExtHostLog(cs), 30) || '(no extension host log)');
      }
    }
  } finally {
    await b.close();
    await cs.stop({ keep });
    if (keep) ws.keep();
    else ws.remove();
  }
  console.log(`\n[e2e-notifications] total ${secs(Date.now() - t0)}`);
  console.log(`${passed} passed, ${failed ? 1 : 0} failed`);
  return !failed;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(`[e2e-notifications] FAILED: ${e.stack || e.message}`);
    process.exit(1);
  },
);
