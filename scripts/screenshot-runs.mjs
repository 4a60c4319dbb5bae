// Renders real run folders in the built dashboard (headless Chromium, the same bundle the
// extension loads) and saves a screenshot: one folder gives the run dashboard, several the
// compare view. The README's pictures are made with it from the bundled examples' runs:
//
//   npm run experiment -- examples/grok-corrupted.reglens.json          (weight decay 5)
//   (the same with "weightDecay": 0)                                     (weight decay 0)
//   node scripts/screenshot-runs.mjs --out docs/images/dashboard.png .reglens/runs/<wd5>
//   node scripts/screenshot-runs.mjs --out docs/images/compare.png .reglens/runs/<wd0> .reglens/runs/<wd5>
//
// Options: --out FILE (required), --width N (default 1200), --height N (viewport; the shot is
// the full page unless --clip-height N), --light (light palette instead of dark).
// Build first: node esbuild.mjs.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const out = opt('out');
const width = Number(opt('width', 1200));
const height = Number(opt('height', 900));
const clipArg = opt('clip-height');
const clipHeight = clipArg ? Number(clipArg) : undefined;
const light = args.includes('--light');
const runDirs = args.filter((a) => !a.startsWith('--'));
if (!out || runDirs.length === 0) {
  console.error('usage: node scripts/screenshot-runs.mjs --out FILE [--width N] [--height N] [--clip-height N] [--light] RUN_DIR...');
  process.exit(2);
}
const bundle = join(root, 'dist', 'webview', 'dashboard.js');
if (!existsSync(bundle)) {
  console.error('dist/webview/dashboard.js is missing: run `node esbuild.mjs` first');
  process.exit(1);
}

/** A run view as the host builds it (RunViewSchema): summary fields plus every event line. */
function readRun(dir) {
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  return {
    id: summary.id ?? basename(dir),
    name: summary.name ?? basename(dir),
    status: summary.status,
    totalEpochs: summary.totalEpochs ?? events.filter((e) => e.type === 'epoch').length,
    startedAt: summary.startedAt ?? new Date().toISOString(),
    events,
  };
}
const runs = runDirs.map((d) => readRun(resolve(d)));

// VS Code's default Dark Modern / Light Modern colours for the --vscode-* variables the page uses.
const palette = light
  ? { fg: '#3b3b3b', bg: '#ffffff', desc: '#616161', border: '#e5e5e5', button: '#005fb8', buttonFg: '#ffffff', focus: '#005fb8' }
  : { fg: '#cccccc', bg: '#1f1f1f', desc: '#9d9d9d', border: '#2b2b2b', button: '#0078d4', buttonFg: '#ffffff', focus: '#0078d4' };
const html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${pathToFileURL(join(root, 'dist', 'webview', 'codicon.css'))}">
<link rel="stylesheet" href="${pathToFileURL(join(root, 'dist', 'webview', 'dashboard.css'))}">
<style>body{--vscode-foreground:${palette.fg};--vscode-editor-background:${palette.bg};--vscode-descriptionForeground:${palette.desc};--vscode-panel-border:${palette.border};--vscode-button-background:${palette.button};--vscode-button-foreground:${palette.buttonFg};--vscode-focusBorder:${palette.focus};--vscode-charts-red:rgba(229,20,0,.33);--vscode-charts-orange:rgba(234,92,0,.33);--vscode-charts-yellow:rgba(191,136,3,.33);--vscode-charts-green:rgba(56,138,52,.33);--vscode-charts-blue:rgba(26,133,255,.33);--vscode-charts-purple:rgba(101,45,144,.33);--vscode-charts-foreground:${palette.fg};--vscode-textLink-foreground:${light ? '#005fb8' : '#4daafc'};--vscode-font-family:"DejaVu Sans",sans-serif;--vscode-font-size:13px;background:${palette.bg};color:${palette.fg}}</style>
<script>window.__toHost=[];window.acquireVsCodeApi=()=>({postMessage:(m)=>window.__toHost.push(m),setState(){},getState(){return undefined}});</script>
</head><body class="${light ? 'vscode-light' : 'vscode-dark'}"><main id="app"></main><script src="${pathToFileURL(bundle)}"></script></body></html>`;
const dir = join(tmpdir(), `reglens-shot-${process.pid}`);
mkdirSync(dir, { recursive: true });
const pageFile = join(dir, 'page.html');
writeFileSync(pageFile, html);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(pageFile).href);
  await page.waitForFunction(() => window.__toHost.some((m) => m.type === 'ready'));
  const message = runs.length === 1 ? { type: 'snapshot', run: runs[0] } : { type: 'compare', runs };
  await page.evaluate(async (msg) => {
    const before = window.__reglensRender?.count ?? 0;
    window.postMessage(msg, '*');
    while ((window.__reglensRender?.count ?? 0) === before) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }, message);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  await page.screenshot({ path: out, fullPage: true, ...(clipHeight ? { clip: { x: 0, y: 0, width, height: clipHeight } } : {}) });
  console.log(`[screenshot] ${runs.map((r) => r.name).join(' | ')} -> ${out}`);
} finally {
  await browser.close();
}
