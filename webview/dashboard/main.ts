// Dashboard webview app. Receives a snapshot of one run (or several, in compare mode) on
// `ready`, then increments; renders at most ~10 times per second however fast epochs arrive.
// The same bundle runs in the exported HTML report, where a stub plays the host.
import 'uplot/dist/uPlot.min.css';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import './dashboard.css';
import { parseHostToWebview, type RunView, type WebviewToHost } from '../../src/protocol/webviewMessages';
import { canvasToPng, chartRegistry } from './charts';
import { ComparePage, type ComparedRun } from './comparePage';
import type { CompareDetails } from './compareDetails';
import { el } from './dom';
import { RunModel } from './runModel';
import { RunPage, type PageHost } from './runPage';
import { themeColors } from './theme';

interface VsCodeApi {
  postMessage(msg: WebviewToHost): void;
  setState(state: unknown): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const minRenderIntervalMs = 100;
const mode = document.body.dataset.mode === 'report' ? 'report' : 'vscode';

interface Page {
  update(): void;
  rebuild(): void;
  resize(): void;
}

let page: Page | undefined;
/** The compare panel's verdict and differing hyperparameters from the host (kept across re-renders of the page). */
let compareDetails: CompareDetails | undefined;
/** Runs shown, by id (one, or several in compare mode), each with its incremental model. */
const shown = new Map<string, ComparedRun>();
let renderTimer: number | undefined;
let lastRender = 0;

// Per-panel UI state (collapsed sections), kept with the run id(s) the serializer restores.
const saved = (vscode.getState() ?? {}) as { collapsed?: unknown };
const collapsed = new Set<string>(Array.isArray(saved.collapsed) ? saved.collapsed.filter((k): k is string => typeof k === 'string').slice(0, 64) : []);
let panelState: { runId: string } | { runIds: string[] } | undefined;
function saveState(): void {
  if (panelState) vscode.setState({ ...panelState, collapsed: [...collapsed] });
}

const host: PageHost = {
  mode,
  ui: {
    isCollapsed: (key) => collapsed.has(key),
    setCollapsed: (key, on) => {
      if (on) collapsed.add(key);
      else collapsed.delete(key);
      saveState();
    },
    // An expanded section's charts get their width back (they were built or kept at none).
    onToggle: () => page?.resize(),
  },
  post: (msg) => vscode.postMessage(msg),
  savePng: (chartId) => {
    const dataUrl = pngOf(chartId);
    if (dataUrl) vscode.postMessage({ type: 'savePng', chart: chartId, dataUrl });
  },
};

function pngOf(chartId: string): string | undefined {
  const canvas = chartRegistry.get(chartId)?.toCanvas();
  if (!canvas || canvas.width === 0) return undefined;
  return canvasToPng(canvas, themeColors().background);
}

/**
 * The resolved chart colours as CSS variables (--reglens-clean, --reglens-run-0, ...), so
 * DOM swatches and borders match the canvas lines: the raw --vscode-charts-* values can be
 * translucent (Light/Dark Modern), which is unreadable on its own.
 */
function publishColors(): void {
  const c = themeColors();
  const s = document.body.style;
  for (const k of ['clean', 'corrupted', 'test', 'loss', 'marker', 'grid', 'ok', 'warn', 'err'] as const) s.setProperty(`--reglens-${k}`, c[k]);
  c.palette.forEach((v, i) => s.setProperty(`--reglens-run-${i}`, v));
}

function show(runs: RunView[], compare: boolean): void {
  publishColors();
  shown.clear();
  for (const r of runs) {
    const model = new RunModel(r.events);
    // The model holds everything the page draws; drop the raw events (they can be large).
    shown.set(r.id, { view: { ...r, events: [] }, model });
  }
  const list = [...shown.values()];
  panelState = compare ? { runIds: runs.map((r) => r.id) } : { runId: runs[0].id };
  saveState();
  page = compare ? new ComparePage(app, list, host) : new RunPage(app, list[0].view, list[0].model, host);
  scheduleRender(true);
}

window.addEventListener('message', (ev: MessageEvent) => {
  const msg = parseHostToWebview(ev.data);
  if (!msg) {
    console.warn('[reglens] ignored malformed message', ev.data);
    return;
  }
  switch (msg.type) {
    case 'snapshot':
      show([msg.run], false);
      break;
    case 'compare':
      show(msg.runs, true);
      compareDetails = { runIds: msg.runs.map((r) => r.id), differences: msg.differences, verdict: msg.verdict };
      if (page instanceof ComparePage) page.setDetails(compareDetails);
      break;
    case 'compareDetails':
      compareDetails = { runIds: msg.runIds, differences: msg.differences, verdict: msg.verdict };
      if (page instanceof ComparePage) page.setDetails(compareDetails);
      break;
    case 'events': {
      const r = shown.get(msg.runId);
      if (r) {
        r.model.apply(msg.events);
        scheduleRender(false);
      }
      break;
    }
    case 'status': {
      const r = shown.get(msg.runId);
      if (r) {
        r.view.status = msg.status;
        r.view.error = msg.error;
        scheduleRender(true);
      }
      break;
    }
    case 'missing':
      app.replaceChildren(el('p', { class: 'error', role: 'alert' }, msg.message));
      break;
    case 'requestPng': {
      // The request can arrive right after the snapshot, before its render ran: render now.
      if (renderTimer !== undefined) {
        window.clearTimeout(renderTimer);
        renderTimer = undefined;
        renderNow();
      }
      const dataUrl = pngOf(msg.chart);
      if (dataUrl) vscode.postMessage({ type: 'savePng', chart: msg.chart, dataUrl, requestId: msg.requestId });
      else console.warn(`[reglens] no chart '${msg.chart}' to export`);
      break;
    }
  }
});

function scheduleRender(now: boolean): void {
  if (renderTimer !== undefined) return;
  const wait = now ? 0 : Math.max(0, minRenderIntervalMs - (performance.now() - lastRender));
  renderTimer = window.setTimeout(() => {
    renderTimer = undefined;
    renderNow();
  }, wait);
}

function renderNow(): void {
  lastRender = performance.now();
  const t0 = performance.now();
  page?.update();
  // Exposed for the frame benchmark (bench/frame.mjs) and the UI tests.
  window.__reglensRender = { count: (window.__reglensRender?.count ?? 0) + 1, lastMs: performance.now() - t0 };
}

declare global {
  interface Window {
    __reglensRender?: { count: number; lastMs: number };
  }
}

// Theme switches change the --vscode-* variables; uPlot bakes colours into its canvas,
// so rebuild the charts when the body's theme class changes.
// The host sets the variables on <html>'s style and the theme class on <body>, in either
// order: watch both, and rebuild once per burst of changes.
let themeTimer: number | undefined;
const themeObserver = new MutationObserver(() => {
  if (themeTimer !== undefined) return;
  themeTimer = window.setTimeout(() => {
    themeTimer = undefined;
    publishColors();
    if (page) {
      page.rebuild();
      scheduleRender(true);
    }
  }, 0);
});
themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });

new ResizeObserver(() => page?.resize()).observe(app);

vscode.postMessage({ type: 'ready' });
