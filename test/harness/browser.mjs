// Headless Chromium driven by playwright-core (RECIPES.md section 1). Never `npx playwright install`.
import { chromium as pwChromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

// Console noise that is expected with code-server offline (RECIPES): not reported as errors.
const NOISE = /open-vsx\.org|github|vsda|marketplace|Failed to load resource|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION/i;

/** Launches Chromium and opens a page that records its console. */
export async function launchBrowser({ executablePath, viewport = { width: 1600, height: 1000 } }) {
  const browser = await pwChromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const t0 = Date.now();
  const consoleLines = [];
  const errors = [];
  const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
  page.on('console', (m) => {
    const line = `${stamp()} [${m.type()}] ${m.text()}`;
    consoleLines.push(line);
    if (m.type() === 'error' && !NOISE.test(m.text())) errors.push(line);
  });
  page.on('pageerror', (e) => {
    const line = `${stamp()} [pageerror] ${e.stack || e.message}`;
    consoleLines.push(line);
    if (!NOISE.test(e.message)) errors.push(line);
  });
  page.on('crash', () => {
    consoleLines.push(`${stamp()} [crash] page crashed`);
    errors.push(`${stamp()} [crash] page crashed`);
  });
  return {
    browser,
    page,
    consoleLines,
    errors,
    saveConsole(file) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, consoleLines.join('\n') + '\n');
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}
