// Dashboard webview app. Receives a snapshot of one run on `ready`, then increments;
// renders at most ~10 times per second however fast epochs arrive.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import './dashboard.css';
import type { EngineEvent, EpochEvent } from '../../src/protocol/engineMessages';
import { parseHostToWebview, type RunStatusName, type RunView, type WebviewToHost } from '../../src/protocol/webviewMessages';
import { accuracySeries, verdict } from './viewModel';
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

let run: RunView | undefined;
let accChart: uPlot | undefined;
let lossChart: uPlot | undefined;
let renderTimer: number | undefined;
let lastRender = 0;

window.addEventListener('message', (ev: MessageEvent) => {
  const msg = parseHostToWebview(ev.data);
  if (!msg) {
    console.warn('[reglens] ignored malformed message', ev.data);
    return;
  }
  switch (msg.type) {
    case 'snapshot':
      run = msg.run;
      vscode.setState({ runId: run.id });
      buildPage(run);
      scheduleRender(true);
      break;
    case 'events':
      if (run && msg.runId === run.id) {
        run.events.push(...msg.events);
        scheduleRender(false);
      }
      break;
    case 'status':
      if (run && msg.runId === run.id) {
        run.status = msg.status;
        run.error = msg.error;
        scheduleRender(true);
      }
      break;
    case 'missing':
      app.innerHTML = '';
      app.append(el('p', { class: 'error', role: 'alert' }, msg.message));
      break;
  }
});

function scheduleRender(now: boolean): void {
  if (renderTimer !== undefined) return;
  const wait = now ? 0 : Math.max(0, minRenderIntervalMs - (performance.now() - lastRender));
  renderTimer = window.setTimeout(() => {
    renderTimer = undefined;
    lastRender = performance.now();
    render();
  }, wait);
}

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function buildPage(r: RunView): void {
  app.innerHTML = '';
  const header = el('header', { class: 'run-header' });
  header.append(el('h1', {}, r.name));
  const meta = el('div', { class: 'meta' });
  const badge = el('vscode-badge', { 'data-testid': 'status', id: 'status', 'aria-label': 'Run status' });
  meta.append(
    badge,
    el('span', { id: 'epoch-label' }, 'Epoch '),
    el('span', { 'data-testid': 'epoch-count', id: 'epoch-count' }),
    el('span', { id: 'backend', class: 'muted' }),
  );
  const actions = el('div', { class: 'actions' });
  const stop = el('vscode-button', { id: 'stop', secondary: '', 'aria-label': 'Stop this run' }, 'Stop');
  stop.addEventListener('click', () => vscode.postMessage({ type: 'stop', runId: r.id }));
  const reveal = el('vscode-button', { id: 'reveal', secondary: '', 'aria-label': 'Reveal the run folder' }, 'Reveal Folder');
  reveal.addEventListener('click', () => vscode.postMessage({ type: 'revealFolder', runId: r.id }));
  actions.append(stop, reveal);
  header.append(meta, actions);
  app.append(header);

  if (r.notice) app.append(el('p', { class: 'notice', role: 'status' }, r.notice));
  app.append(el('p', { id: 'error', class: 'error', role: 'alert', hidden: '' }));

  const kpis = el('section', { class: 'kpis', 'aria-label': 'Latest accuracies' });
  for (const [id, label] of [
    ['kpi-clean', 'Clean train'],
    ['kpi-corrupted', 'Corrupted train (fitted)'],
    ['kpi-test', 'Test'],
  ]) {
    const card = el('div', { class: 'kpi' });
    card.append(el('div', { class: 'kpi-label' }, label), el('div', { class: 'kpi-value', id }, '–'));
    kpis.append(card);
  }
  app.append(kpis, el('p', { id: 'verdict', class: 'verdict', 'data-testid': 'verdict' }));

  const accSection = el('section', { class: 'chart-section' });
  accSection.append(
    el('h2', {}, 'Accuracy over epochs'),
    el(
      'p',
      { class: 'explain' },
      'Clean train and test measure the rule; corrupted train is the share of noisy-label examples whose WRONG label the model predicts. Rising corrupted accuracy means memorization; a model that generalizes keeps it near zero.',
    ),
    el('div', { id: 'acc-chart', class: 'chart', 'data-testid': 'accuracy-chart', role: 'img', 'aria-label': 'Accuracy over epochs chart' }),
  );
  const lossSection = el('section', { class: 'chart-section' });
  lossSection.append(
    el('h2', {}, 'Training loss'),
    el('p', { class: 'explain' }, 'Mean cross-entropy over the training batches of each epoch (corrupted labels included).'),
    el('div', { id: 'loss-chart', class: 'chart', 'data-testid': 'loss-chart', role: 'img', 'aria-label': 'Training loss chart' }),
  );
  const logSection = el('section', { class: 'log-section' });
  logSection.append(el('h2', {}, 'Log'), el('ul', { id: 'log', class: 'log', 'aria-label': 'Engine log' }));
  app.append(accSection, lossSection, logSection);
  createCharts();
}

function chartWidth(id: string): number {
  return Math.max(300, document.getElementById(id)!.clientWidth);
}

function createCharts(): void {
  accChart?.destroy();
  lossChart?.destroy();
  const c = themeColors();
  const axis = { stroke: c.foreground, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid } };
  accChart = new uPlot(
    {
      width: chartWidth('acc-chart'),
      height: 280,
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [
        { ...axis, label: 'epoch' },
        { ...axis, label: 'accuracy', values: (_u, vals) => vals.map((v) => `${Math.round(v * 100)}%`) },
      ],
      series: [
        { label: 'epoch' },
        { label: 'clean train', stroke: c.clean, width: 2 },
        { label: 'corrupted train', stroke: c.corrupted, width: 2, dash: [8, 4] },
        { label: 'test', stroke: c.test, width: 2, dash: [2, 3] },
      ],
      legend: { live: true },
    },
    [[], [], [], []],
    document.getElementById('acc-chart')!,
  );
  lossChart = new uPlot(
    {
      width: chartWidth('loss-chart'),
      height: 180,
      scales: { x: { time: false } },
      axes: [{ ...axis, label: 'epoch' }, { ...axis, label: 'loss' }],
      series: [{ label: 'epoch' }, { label: 'loss', stroke: c.loss, width: 2 }],
    },
    [[], []],
    document.getElementById('loss-chart')!,
  );
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}

function render(): void {
  if (!run || !accChart || !lossChart) return;
  const epochs = run.events.filter((e): e is EpochEvent => e.type === 'epoch');
  const s = accuracySeries(epochs);
  accChart.setData([s.epoch, s.cleanTrain, s.corruptedTrain, s.test]);
  lossChart.setData([s.epoch, s.loss]);

  const statusEl = document.getElementById('status')!;
  statusEl.textContent = run.status;
  statusEl.className = `status-${run.status}`;
  document.getElementById('epoch-count')!.textContent = `${epochs.length ? epochs[epochs.length - 1].epoch : 0} / ${run.totalEpochs}`;
  const started = run.events.find((e) => e.type === 'started');
  if (started?.type === 'started') {
    const secs = epochs.length ? epochs[epochs.length - 1].seconds : undefined;
    document.getElementById('backend')!.textContent =
      `backend ${started.backend}${secs !== undefined ? ` · ${secs.toFixed(2)} s/epoch` : ''}`;
  }
  (document.getElementById('stop') as HTMLElement).toggleAttribute('disabled', run.status !== 'running');
  const last = epochs[epochs.length - 1];
  document.getElementById('kpi-clean')!.textContent = pct(last?.accuracy.cleanTrain);
  document.getElementById('kpi-corrupted')!.textContent = pct(last?.accuracy.corruptedTrain);
  document.getElementById('kpi-test')!.textContent = pct(last?.accuracy.test);
  document.getElementById('verdict')!.textContent = verdict(last?.accuracy, run.status);
  const errorEl = document.getElementById('error')!;
  errorEl.hidden = !run.error;
  errorEl.textContent = run.error ?? '';
  renderLog(run.events);
}

function renderLog(events: EngineEvent[]): void {
  const list = document.getElementById('log')!;
  const logs = events.filter((e) => e.type === 'log' || e.type === 'failed');
  if (list.childElementCount === logs.length) return;
  list.innerHTML = '';
  for (const e of logs) {
    const text = e.type === 'log' ? `[${e.level}] ${e.message}` : `[failed] ${e.message}`;
    list.append(el('li', { class: e.type === 'log' ? `log-${e.level}` : 'log-error' }, text));
  }
}

// Theme switches change the --vscode-* variables; uPlot bakes colours into its canvas,
// so rebuild the charts when the body's theme class changes.
new MutationObserver(() => {
  if (run) {
    createCharts();
    scheduleRender(true);
  }
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

new ResizeObserver(() => {
  accChart?.setSize({ width: chartWidth('acc-chart'), height: 280 });
  lossChart?.setSize({ width: chartWidth('loss-chart'), height: 180 });
}).observe(app);

const restored = vscode.getState();
void restored;
vscode.postMessage({ type: 'ready' });

export type { RunStatusName };
