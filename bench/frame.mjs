// Frame benchmark of the dashboard in REAL Chromium (playwright-core, RECIPES.md section 1):
// loads the built bundle (dist/webview/dashboard.js) in a plain page with a stub
// acquireVsCodeApi, sends a snapshot of a run with 1,024 neurons x 2,000 epochs of scores
// (plus every probe), then streams live updates (one epoch + one 1,024-unit snapshot each)
// and measures the time from message to the next painted frame.
//
//   node bench/frame.mjs [--updates N] [--neurons N] [--epochs N] [--screenshot]
// Writes bench-results/frame.json. Build first: node esbuild.mjs.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadavg, tmpdir } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const NEURONS = arg('neurons', 1024);
const EPOCHS = arg('epochs', 2000);
const UPDATES = arg('updates', 30);
const TARGET_MS = 50;
const bundle = join(root, 'dist', 'webview', 'dashboard.js');
if (!existsSync(bundle)) {
  console.error('dist/webview/dashboard.js is missing: run `node esbuild.mjs` first');
  process.exit(1);
}
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

// A plain page: the stub plays VS Code's webview API (messages to the "host" are recorded).
const html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="${pathToFileURL(join(root, 'dist', 'webview', 'dashboard.css'))}">
<style>body{--vscode-foreground:#cccccc;--vscode-editor-background:#1e1e1e;--vscode-font-family:sans-serif;background:#1e1e1e}</style>
<script>window.__toHost=[];window.acquireVsCodeApi=()=>({postMessage:(m)=>window.__toHost.push(m),setState(){},getState(){return undefined}});</script>
</head><body><main id="app"></main><script src="${pathToFileURL(bundle)}"></script></body></html>`;
const dir = join(tmpdir(), `reglens-frame-${process.pid}`);
mkdirSync(dir, { recursive: true });
const pageFile = join(dir, 'frame.html');
writeFileSync(pageFile, html);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(pathToFileURL(pageFile).href);
  await page.waitForFunction(() => window.__toHost.some((m) => m.type === 'ready'));

  // Synthetic, schema-valid events are generated in the page (no 30 MB through the driver).
  const load = await page.evaluate(
    async ({ NEURONS, EPOCHS }) => {
      let seed = 1;
      const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      const memorizing = Array.from({ length: NEURONS }, () => rnd() < 0.2);
      const scoresAt = (e) => memorizing.map((m) => Math.min(1, Math.max(0, (m ? 0.4 + 0.5 * Math.min(1, e / 500) : 0.3 - 0.25 * Math.min(1, e / 800)) + (rnd() - 0.5) * 0.1)));
      const epochEvent = (e) => ({
        type: 'epoch', epoch: e, loss: 2 / (1 + e / 50), seconds: 0.8,
        accuracy: { cleanTrain: Math.min(1, 0.05 + e / 600), corruptedTrain: Math.max(0, Math.min(1, e < 400 ? e / 400 : 1 - (e - 400) / 800)), test: Math.min(1, 0.02 + e / 900) },
      });
      const probe = (e, p) => ({ type: 'probe', epoch: e, probe: p });
      // rAF runs before the frame's paint; a message posted from it is handled after the paint.
      window.__afterPaint = () => new Promise((r) => requestAnimationFrame(() => { const ch = new MessageChannel(); ch.port1.onmessage = () => r(); ch.port2.postMessage(0); }));
      window.__bench = { epochEvent, probe, scoresAt, NEURONS };
      const events = [{ type: 'started', time: new Date().toISOString(), backend: 'wasm', totalEpochs: EPOCHS + 1000, dataset: { train: 4704, corrupted: 1411, test: 4705, inputSize: 194, classes: 97 }, parameters: NEURONS * 291 }];
      for (let e = 1; e <= EPOCHS; e++) {
        events.push(epochEvent(e));
        const s = scoresAt(e);
        events.push(probe(e, { kind: 'neuronScores', layer: 'dense_0', method: 'ipr', scores: s, raw: s.map((x) => 1 - x) }));
      }
      const curve = (base) => ({ cleanTrain: base.map((x) => Math.min(1, x + 0.05)), corruptedTrain: base.map((x) => Math.max(0, 1 - x)), test: base });
      const pruned = Array.from({ length: 33 }, (_, i) => i * Math.floor(NEURONS / 32));
      events.push(probe(EPOCHS, { kind: 'pruning', layer: 'dense_0', method: 'ipr', pruned, units: NEURONS, memorizingFirst: curve(pruned.map((p) => 0.9 + 0.05 * (p / NEURONS))), generalizingFirst: curve(pruned.map((p) => 0.9 - 0.8 * (p / NEURONS))) }));
      const hist = (shift) => ({ edges: Array.from({ length: 21 }, (_, i) => i * 0.1), clean: Array.from({ length: 20 }, (_, i) => Math.round(200 * Math.exp(-((i - 4) ** 2) / 8))), corrupted: Array.from({ length: 20 }, (_, i) => Math.round(60 * Math.exp(-((i - 4 - shift) ** 2) / 8))), test: Array.from({ length: 20 }, (_, i) => Math.round(150 * Math.exp(-((i - 5) ** 2) / 8))) });
      events.push(probe(EPOCHS, {
        kind: 'mcDropout', passes: 30, examples: 2000,
        summary: { meanEntropy: { clean: 0.4, corrupted: 1.1, test: 0.5 }, meanMutualInformation: { clean: 0.05, corrupted: 0.2, test: 0.07 }, ece: 0.04 },
        entropyHistogram: hist(8), mutualInformationHistogram: hist(5),
        reliability: Array.from({ length: 10 }, (_, i) => ({ lower: i / 10, upper: (i + 1) / 10, confidence: i / 10 + 0.05, accuracy: Math.min(1, i / 10 + 0.02), count: 100 + i * 10 })),
        mostUncertain: Array.from({ length: 12 }, (_, i) => ({ index: i * 37, split: i % 3 ? 'clean' : 'corrupted', label: i % 10, predicted: (i + 3) % 10, entropy: 2 - i * 0.05, mutualInformation: 0.4, image: { width: 28, height: 28, pixels: Array.from({ length: 784 }, (_, p) => { const x = (p % 28) - 14, y = Math.floor(p / 28) - 14; const r = Math.sqrt(x * x + y * y); return Math.abs(r - 8 - (i % 3)) < 2 ? 1 : 0; }) } })),
        activeLearning: Array.from({ length: 20 }, (_, i) => ({ index: i * 11, score: 1 - i * 0.04 })),
      }));
      events.push(probe(EPOCHS, { kind: 'nestedOrdering', layer: 'dense_0', k: Array.from({ length: 64 }, (_, i) => i + 1), accuracy: Array.from({ length: 64 }, (_, i) => Math.min(1, 1 - Math.exp(-(i + 1) / 8))), kStar: 24, importance: Array.from({ length: 64 }, (_, i) => Math.exp(-i / 10)), rankCorrelation: -0.93 }));
      events.push(probe(EPOCHS, { kind: 'dynamics', unlearningEpoch: 401, degradationEpoch: null }));
      const run = { id: 'bench', name: `Frame benchmark: ${NEURONS} neurons x ${EPOCHS} epochs`, status: 'running', totalEpochs: EPOCHS + 1000, startedAt: new Date().toISOString(), events };
      const before = window.__reglensRender?.count ?? 0;
      const t0 = performance.now();
      window.postMessage({ type: 'snapshot', run }, '*');
      while ((window.__reglensRender?.count ?? 0) === before) await new Promise((r) => setTimeout(r, 5));
      await window.__afterPaint();
      return { snapshotEvents: events.length, snapshotToPaintMs: performance.now() - t0, firstRenderMs: window.__reglensRender.lastMs };
    },
    { NEURONS, EPOCHS },
  );
  console.log(`[frame] snapshot of ${load.snapshotEvents} events painted in ${load.snapshotToPaintMs.toFixed(0)} ms (render ${load.firstRenderMs.toFixed(1)} ms)`);

  const samples = await page.evaluate(
    async ({ UPDATES, EPOCHS }) => {
      const { epochEvent, probe, scoresAt } = window.__bench;
      const out = [];
      for (let i = 1; i <= UPDATES; i++) {
        // Space updates past the 100 ms render throttle so each one renders on its own.
        await new Promise((r) => setTimeout(r, 110));
        const e = EPOCHS + i;
        const s = scoresAt(e);
        const msg = { type: 'events', runId: 'bench', events: [epochEvent(e), probe(e, { kind: 'neuronScores', layer: 'dense_0', method: 'ipr', scores: s, raw: s.map((x) => 1 - x) })] };
        const before = window.__reglensRender.count;
        const t0 = performance.now();
        window.postMessage(msg, '*');
        while (window.__reglensRender.count === before) await new Promise((r) => setTimeout(r, 0));
        const renderMs = window.__reglensRender.lastMs;
        await window.__afterPaint();
        out.push({ renderMs, frameMs: performance.now() - t0 });
      }
      return out;
    },
    { UPDATES, EPOCHS },
  );
  const sections = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid^="section-"]')].map((s) => ({ id: s.getAttribute('data-testid'), hasData: s.classList.contains('has-data') })),
  );
  const neuronCount = await page.evaluate(() => document.querySelector('[data-testid="neuron-count"]')?.textContent ?? '');
  if (process.argv.includes('--screenshot')) await page.screenshot({ path: join(root, 'bench-results', 'frame.png'), fullPage: true });

  const stat = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +s[s.length - 1].toFixed(2) };
  };
  const result = {
    benchmark: 'dashboard frame time (real Chromium, headless, --disable-gpu)',
    chromium: browser.version(),
    neurons: NEURONS,
    epochs: EPOCHS,
    updates: UPDATES,
    snapshot: { events: load.snapshotEvents, toPaintMs: +load.snapshotToPaintMs.toFixed(1), renderMs: +load.firstRenderMs.toFixed(1) },
    updateRenderMs: stat(samples.map((s) => s.renderMs)),
    updateToPaintMs: stat(samples.map((s) => s.frameMs)),
    targetMs: TARGET_MS,
    meetsTarget: stat(samples.map((s) => s.frameMs)).median < TARGET_MS,
    sections,
    neuronCount,
    pageErrors: errors,
    // The machine is shared: a high load average inflates every number above.
    loadAverage1m: +loadavg()[0].toFixed(2),
    date: new Date().toISOString(),
  };
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'frame.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`[frame] update render median ${result.updateRenderMs.median} ms (p95 ${result.updateRenderMs.p95}), message->paint median ${result.updateToPaintMs.median} ms (p95 ${result.updateToPaintMs.p95}); target < ${TARGET_MS} ms: ${result.meetsTarget ? 'met' : 'NOT met'}`);
  if (errors.length) console.log(`[frame] page errors:\n  ${errors.join('\n  ')}`);
  process.exitCode = errors.length ? 1 : 0;
} finally {
  await browser.close();
}
