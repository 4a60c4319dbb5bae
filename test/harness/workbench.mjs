// Driving the code-server workbench with Playwright: steps the e2e scripts share.
import { remoteUri, workbenchUrl } from './codeServer.mjs';
import { repoRoot } from './common.mjs';

/** Ctrl+P a workspace file into the active editor; resolves once its tab is the active one. */
export async function openWorkspaceFile(page, file) {
  await page.keyboard.press('Control+P');
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: 15_000 });
  await widget.locator('input.input').fill(file);
  await widget.locator('.monaco-list-row', { hasText: file }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator(`.tabs-container .tab.active[aria-label*="${file}"]`).waitFor({ state: 'visible', timeout: 15_000 });
}

/** Opens `folder` in the workbench with the extension loaded from the repo (development mode); resolves once restored. */
export async function openWorkbenchWithExtension(page, cs, folder) {
  const payload = [['extensionDevelopmentPath', remoteUri(cs, repoRoot)]];
  await page.goto(workbenchUrl(cs, { folder, payload }), { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  await page.waitForFunction(() => !!window.driver, null, { timeout: 60_000 });
  await page.evaluate(() => window.driver.whenWorkbenchRestored());
}
