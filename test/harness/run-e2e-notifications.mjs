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
//   edited      notify-long.reglens.json edited on disk (weightDecay 5 -> 0, same name) and run again
//   statusbar   while it runs: the status bar item reads "RegLens: epoch N/5000";
//               test-results/workbench/statusbar-running.png
//   runs-view   the Runs view lists the four runs with their status (finished, stopped, running): the
//               three of notify-long under its row, named by the field that differs (weightDecay=0 / =5);
//               test-results/workbench/runs-view.png; then the run is stopped
//   error       Run Experiment on an invalid file: "Invalid experiment file: ..." as an error
//   problems    model.py open: the Problems panel lists RegLens's diagnostics; workbench/problems.png
//   codelens    the code lenses above its models (Add Regularizer..., Probe this PyTorch Model...);
//               workbench/codelens.png; the Add Regularizer picker lists snippets; workbench/add-regularizer.png
//   screenshot  test-results/notifications.png (the notification center)
// The workbench/ pictures are the parts of VS Code's own UI RegLens fills; they are looked at by
// hand (README pictures come from them) and the steps assert what they show.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Waits until the inner texts of `locator`'s elements satisfy `accept`; returns them. */
async function waitForTexts(locator, accept, describe, timeoutMs = 60_000) {
  let texts = [];
  await waitFor(
    async () => {
      texts = await locator.allInnerTexts().catch(() => []);
      return accept(texts);
    },
    { timeoutMs, intervalMs: 300, describe: () => describe(texts) },
  );
  return texts;
}

async function main() {
  const t0 = Date.now();
  const deps = await ensureDeps();
  buildUnlessSkipped(argv);
  requireFile(join(repoRoot, 'dist', 'extension.js'), 'Build it with: node esbuild.mjs');
  ensureDir(resultsDir);
  const shots = join(resultsDir, 'workbench');
  rmSync(shots, { recursive: true, force: true });
  ensureDir(shots);
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
    ['edited', async () => {
      // The example's own suggestion: the same experiment file with weight decay 0. Its runs
      // keep the name, so only the differing field can tell them apart.
      const edited = { ...long, training: { ...long.training, optimizer: { ...long.training.optimizer, weightDecay: 0 } } };
      writeFileSync(join(ws.dir, 'notify-long.reglens.json'), JSON.stringify(edited, null, 2));
      await waitFor(async () => (await centerItems(page)).every((i) => !i.progress), { timeoutMs: 30_000, intervalMs: 300, describe: () => 'the rerun progress to end' });
      await openWorkspaceFile(page, 'notify-long.reglens.json');
      await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: '"weightDecay": 0' }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await palette(page, 'RegLens: Run Experiment');
      await waitForItem(page, 'the progress of the edited run', (i) => i.progress && i.message.startsWith(`RegLens: ${long.name}`));
      return 'weightDecay 0, running';
    }],
    ['statusbar', async () => {
      // After the first epoch, so the picture shows progress.
      const item = page.locator('.part.statusbar .statusbar-item', { hasText: /RegLens: epoch [1-9]\d*\/5000/ }).first();
      await item.waitFor({ state: 'visible', timeout: 30_000 });
      const text = (await item.innerText()).trim();
      // The left half of the bar, where the item sits, at a size one can read.
      const bar = await page.locator('.part.statusbar').boundingBox();
      const box = await item.boundingBox();
      await page.screenshot({ path: join(shots, 'statusbar-running.png'), clip: { x: bar.x, y: bar.y, width: Math.min(bar.width, box.x + box.width + 240 - bar.x), height: bar.height } });
      return `'${text}'`;
    }],
    ['runs-view', async () => {
      await palette(page, 'RegLens: Focus on Runs View');
      const pane = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) }).first();
      const rows = pane.locator('.monaco-list-row');
      let texts = [];
      await waitFor(
        async () => {
          texts = await rows.evaluateAll((rs) => rs.map((r) => ({ label: r.querySelector('.label-name')?.textContent ?? '', description: r.querySelector('.label-description')?.textContent ?? '', level: Number(r.getAttribute('aria-level')) })));
          return texts.some((t) => t.description.startsWith('running')) && texts.some((t) => t.label === 'weightDecay=0') && texts.filter((t) => t.label === 'weightDecay=5').length === 2;
        },
        { timeoutMs: 30_000, intervalMs: 300, describe: () => `the Runs view to list the runs, one running, named weightDecay=0 / weightDecay=5 (shows ${JSON.stringify(texts)})` },
      );
      // The three runs of notify-long under its row (level 2), the tiny run alone at the top level under its name.
      const parent = texts.find((t) => t.label === long.name);
      if (!parent || parent.level !== 1 || !parent.description.startsWith('3 runs · 1 running')) throw new Error(`no experiment row '${long.name}' with '3 runs · 1 running': ${JSON.stringify(texts)}`);
      if (!texts.filter((t) => /^weightDecay=/.test(t.label)).every((t) => t.level === 2)) throw new Error(`the weightDecay runs are not under their experiment: ${JSON.stringify(texts)}`);
      const statuses = texts.filter((t) => t.label !== long.name).map((t) => t.description.split(' ')[0]);
      for (const st of ['running', 'finished', 'cancelled']) if (!statuses.includes(st)) throw new Error(`no ${st} row: ${JSON.stringify(texts)}`);
      const tinyRow = texts.find((t) => t.label === tiny.name);
      if (!tinyRow || tinyRow.level !== 1) throw new Error(`the run alone in its experiment keeps its name at the top level: ${JSON.stringify(texts)}`);
      // The Active Run view below (a webview) follows the running run: wait a while for it to
      // say so (noted, not asserted: while this 150-epochs-a-second run streams, the webviews,
      // the dashboard's too, are often caught unreadable; test/vscode/runsView.test.ts checks its text).
      // Webview views are drawn in an overlay, not inside the side bar: the one over the side bar is it.
      const side = await page.locator('.part.sidebar').boundingBox();
      let summaryText = '';
      await waitFor(
        async () => {
          const frames = page.locator('iframe.webview.ready');
          for (let i = 0; i < (await frames.count()); i++) {
            const box = await frames.nth(i).boundingBox().catch(() => null);
            if (!box || box.x + box.width > side.x + side.width + 1) continue;
            summaryText = (await page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame').locator('body').innerText({ timeout: 1_000 }).catch(() => '')) ?? '';
            if (summaryText.includes(long.name)) return true;
          }
          return false;
        },
        { timeoutMs: 5_000, intervalMs: 300, describe: () => `the Active Run view to show ${long.name} (shows '${summaryText.slice(0, 200)}')` },
      ).catch(() => (summaryText = `(not shown within 5 s: '${summaryText.slice(0, 60)}')`));
      await page.mouse.move(800, 500);
      // The side bar's title and the Runs pane down to its last row.
      const lastRow = await rows.last().boundingBox();
      await page.screenshot({ path: join(shots, 'runs-view.png'), clip: { x: side.x, y: side.y, width: side.width, height: Math.min(side.height, lastRow.y + lastRow.height + 12 - side.y) } });
      // Stopped, or finished if its 5,000 quick epochs ran out first on a fast machine.
      const ended = async () => (await centerItems(page)).filter((i) => i.message.includes('was stopped') || i.message.includes(`finished after ${long.training.epochs} epochs`)).length;
      const before = await ended();
      await palette(page, 'RegLens: Stop Run').catch(() => {});
      await waitFor(async () => (await ended()) > before, { timeoutMs: 60_000, intervalMs: 300, describe: () => 'the edited run to end' });
      return `${texts.map((t) => `${t.label} | ${t.description}`).join('; ')}; Active Run: '${summaryText.replace(/\s+/g, ' ').slice(0, 80)}'`;
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
    ['problems', async () => {
      // The notification center would cover the panel.
      await palette(page, 'Notifications: Clear All Notifications').catch(() => {});
      await openWorkspaceFile(page, 'model.py');
      await palette(page, 'View: Focus Problems');
      const panel = page.locator('.part.panel');
      const texts = await waitForTexts(
        panel.locator('.markers-panel .monaco-list-row'),
        (all) => all.some((t) => /RegLens/.test(t) && /BatchNorm/i.test(t)),
        (all) => `a RegLens diagnostic about Dropout before BatchNorm in the Problems panel (shows ${JSON.stringify(all).slice(0, 600)})`,
      );
      await page.mouse.move(800, 200);
      await panel.screenshot({ path: join(shots, 'problems.png') });
      return `${texts.length} rows; ${texts.filter((t) => /RegLens/.test(t)).map((t) => t.replace(/\s+/g, ' ').slice(0, 90)).join(' | ')}`;
    }],
    ['codelens', async () => {
      // Back to the editor (the panel has focus), the lenses drawn above the two models.
      await palette(page, 'View: Toggle Panel Visibility').catch(() => {});
      const editor = page.locator('.part.editor');
      const lenses = editor.locator('.codelens-decoration a');
      const titles = await waitForTexts(
        lenses,
        (titles) => titles.some((t) => t.startsWith('Add Regularizer')) && titles.some((t) => t.startsWith('Probe this PyTorch Model')),
        (titles) => `the Add Regularizer and Probe lenses above model.py's models (shows ${JSON.stringify(titles)})`,
      );
      await page.mouse.move(800, 900);
      const box = await editor.boundingBox();
      await page.screenshot({ path: join(shots, 'codelens.png'), clip: { x: box.x, y: box.y, width: Math.min(box.width, 900), height: Math.min(box.height, 520) } });
      await lenses.filter({ hasText: 'Add Regularizer' }).first().click();
      const widget = page.locator('.quick-input-widget');
      await widget.locator('.monaco-list-row').first().waitFor({ state: 'visible', timeout: 15_000 });
      const picks = await widget.locator('.monaco-list-row .label-name').allInnerTexts();
      if (picks.length < 2) throw new Error(`the Add Regularizer picker offers ${JSON.stringify(picks)}`);
      await widget.screenshot({ path: join(shots, 'add-regularizer.png') });
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });
      return `lenses ${JSON.stringify(titles)}; picker: ${picks.slice(0, 6).join(' / ')}`;
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
