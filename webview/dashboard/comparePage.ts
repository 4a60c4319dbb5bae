// Compare mode: several runs overlaid on the same axes, one chart per metric, each run a
// colour AND a dash pattern (legible without colour), plus a table of final numbers.
import type uPlot from 'uplot';
import type { RunView } from '../../src/protocol/webviewMessages';
import { axis, Chart, intAxis, percentValues } from './charts';
import { el, pct } from './dom';
import type { PageHost } from './runPage';
import type { RunModel } from './runModel';
import { alignSeries } from './stats';
import { dashes, type ThemeColors } from './theme';

export interface ComparedRun {
  view: RunView;
  model: RunModel;
}

type Metric = { id: string; title: string; value: (m: RunModel) => { x: number[]; y: (number | null)[] } };

const metrics: Metric[] = [
  {
    id: 'compare-corrupted',
    title: 'Corrupted train (fitted wrong labels) — lower is better',
    value: (m) => ({ x: m.epochs.map((e) => e.epoch), y: m.epochs.map((e) => e.accuracy.corruptedTrain) }),
  },
  { id: 'compare-test', title: 'Test accuracy', value: (m) => ({ x: m.epochs.map((e) => e.epoch), y: m.epochs.map((e) => e.accuracy.test) }) },
  { id: 'compare-clean', title: 'Clean train accuracy', value: (m) => ({ x: m.epochs.map((e) => e.epoch), y: m.epochs.map((e) => e.accuracy.cleanTrain) }) },
];

export class ComparePage {
  private readonly charts: { metric: Metric; chart: Chart }[] = [];
  private readonly table: HTMLElement;

  constructor(
    app: HTMLElement,
    private readonly runs: ComparedRun[],
    private readonly host: PageHost,
  ) {
    app.replaceChildren();
    app.append(
      el('header', { class: 'run-header' }, el('h1', {}, `Compare ${runs.length} runs`)),
      el('p', { class: 'explain' }, 'The same metric of every run on one chart. A regularizer that prevents memorization keeps its corrupted-train curve near zero while test accuracy rises.'),
    );
    this.table = el('table', { class: 'compare-table', 'data-testid': 'compare-table', 'aria-label': 'Final numbers of the compared runs' });
    app.append(this.table);
    for (const metric of metrics) {
      const div = el('div', { id: metric.id, class: 'chart', 'data-testid': metric.id, role: 'img', 'aria-label': `${metric.title}, one line per run` });
      const chart = new Chart(div, {
        height: 240,
        options: (c: ThemeColors) => ({
          scales: { x: { time: false }, y: { range: [0, 1] } },
          axes: [intAxis(c, 'epoch'), axis(c, 'accuracy', { values: percentValues })],
          series: [
            { label: 'epoch' },
            ...runs.map((r, i) => ({ label: r.view.name, stroke: c.palette[i % c.palette.length], width: 2, dash: dashes[i % dashes.length], spanGaps: true })),
          ],
        }),
      });
      const png = el('vscode-button', { secondary: '', 'aria-label': `Save chart ${metric.id} as PNG` }, 'PNG');
      png.addEventListener('click', () => this.host.savePng(metric.id));
      const sec = el('section', { class: 'chart-section', 'data-testid': `section-${metric.id}`, 'aria-label': metric.title }, el('h2', {}, metric.title), png, div);
      app.append(sec);
      this.charts.push({ metric, chart });
    }
  }

  update(): void {
    for (const { metric, chart } of this.charts) {
      const a = alignSeries(this.runs.map((r) => metric.value(r.model)));
      chart.setData([a.x, ...a.ys] as uPlot.AlignedData);
    }
    const head = el('tr', {}, ...['run', 'status', 'epochs', 'clean train', 'corrupted train', 'test', 'unlearning from'].map((h) => el('th', { scope: 'col' }, h)));
    const rows = this.runs.map((r, i) => {
      const last = r.model.lastEpoch();
      const un = r.model.unlearningEpoch();
      const name = el('td', {}, el('span', { class: `swatch swatch-${i % 8}`, 'aria-hidden': 'true' }), ' ');
      const link = el('a', { href: '#', 'aria-label': `Open the dashboard of ${r.view.name}` }, r.view.name);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        this.host.post({ type: 'openRun', runId: r.view.id });
      });
      name.append(this.host.mode === 'vscode' ? link : r.view.name);
      return el(
        'tr',
        { 'data-run-id': r.view.id },
        name,
        el('td', {}, r.view.status),
        el('td', {}, `${last?.epoch ?? 0} / ${r.view.totalEpochs}`),
        el('td', {}, pct(last?.accuracy.cleanTrain)),
        el('td', {}, pct(last?.accuracy.corruptedTrain)),
        el('td', {}, pct(last?.accuracy.test)),
        el('td', {}, un ? String(un.epoch) : '—'),
      );
    });
    this.table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
  }

  rebuild(): void {
    for (const c of this.charts) c.chart.rebuild();
  }

  resize(): void {
    for (const c of this.charts) c.chart.resize();
  }
}
