// Compare mode: several runs overlaid on the same axes, one chart per metric (corrupted-train
// fitted, test, clean train, loss), each run a colour AND a dash pattern (legible without
// colour) named by its spec name, plus a legend and a table of final numbers.
import type uPlot from 'uplot';
import type { RunView } from '../../src/protocol/webviewMessages';
import { axis, Chart, intAxis, percentValues, type Marker } from './charts';
import { el, pct, section } from './dom';
import type { PageHost } from './runPage';
import type { RunModel } from './runModel';
import { alignSeries } from './stats';
import { dashes, type ThemeColors } from './theme';
import { distinctLabels, runLabels, stableRunOrder } from './viewModel';
import { renderCompareDetails, type CompareDetails } from './compareDetails';

export interface ComparedRun {
  view: RunView;
  model: RunModel;
}

type Metric = {
  id: string;
  title: string;
  explain: string;
  /** y axis: accuracies are shares on [0, 1]; loss is on its own scale. */
  unit: 'accuracy' | 'loss';
  value: (m: RunModel) => { x: number[]; y: (number | null)[] };
};

const metrics: Metric[] = [
  {
    id: 'compare-corrupted',
    title: 'Corrupted train (fitted wrong labels) — lower is better',
    explain: 'Share of the noisy-label examples whose wrong label each run predicts; dashed red lines mark where a run unlearns them.',
    unit: 'accuracy',
    value: (m) => ({ x: m.epochs.map((e) => e.epoch), y: m.epochs.map((e) => e.accuracy.corruptedTrain) }),
  },
  { id: 'compare-test', title: 'Test accuracy', explain: 'Accuracy on held-out examples: what the regularizer is for.', unit: 'accuracy', value: (m) => ({ x: m.epochs.map((e) => e.epoch), y: m.epochs.map((e) => e.accuracy.test) }) },
  { id: 'compare-clean', title: 'Clean train accuracy', explain: 'Accuracy on the training examples whose labels are right.', unit: 'accuracy', value: (m) => ({ x: m.epochs.map((e) => e.epoch), y: m.epochs.map((e) => e.accuracy.cleanTrain) }) },
  { id: 'compare-loss', title: 'Training loss', explain: 'Training loss per epoch, each run on the same axis.', unit: 'loss', value: (m) => ({ x: m.epochs.map((e) => e.epoch), y: m.epochs.map((e) => e.loss) }) },
];

export class ComparePage {
  private readonly charts: { metric: Metric; chart: Chart }[] = [];
  private readonly table: HTMLElement;
  private readonly labels: string[];
  /** Legend and marker labels: the words all names share dropped, so narrow legends still differ. */
  private readonly short: string[];
  private readonly runs: ComparedRun[];
  /** The host's verdict and differing-hyperparameters table. */
  private readonly details = el('div', { class: 'compare-details', 'data-testid': 'compare-details' });

  constructor(
    app: HTMLElement,
    runs: ComparedRun[],
    private readonly host: PageHost,
  ) {
    this.runs = stableRunOrder(runs);
    runs = this.runs;
    app.replaceChildren();
    app.append(
      el('header', { class: 'run-header' }, el('h1', {}, `Compare ${runs.length} runs`)),
      el('p', { class: 'explain' }, 'The same metric of every run on one chart. A regularizer that prevents memorization keeps its corrupted-train curve near zero while test accuracy rises.'),
    );
    app.append(this.details);
    this.table = el('table', { class: 'compare-table', 'data-testid': 'compare-table', 'aria-label': 'Final numbers of the compared runs' });
    const labels = runLabels(runs.map((r) => r.view));
    this.labels = labels;
    // Runs of one experiment: the host's label (the spec fields that differ, "weightDecay=0")
    // is the shortest name that tells them apart; otherwise the names without their shared words.
    const hostLabels = runs.map((r) => r.view.label ?? '');
    this.short = hostLabels.every(Boolean) && new Set(hostLabels).size === runs.length ? hostLabels : distinctLabels(labels);
    // One legend for every chart: colour AND dash per run, named by the run's spec name.
    const legend = el('ul', { class: 'compare-legend', 'data-testid': 'compare-legend', 'aria-label': 'Runs compared: line style of each' });
    labels.forEach((label, i) =>
      legend.append(el('li', { 'data-run-id': runs[i].view.id, 'data-name': label, title: label }, el('span', { class: `swatch swatch-${i % 8} dash-${i % dashes.length}`, 'aria-hidden': 'true' }), el('span', { class: 'run-label' }, label))),
    );
    // Scrolls sideways in a narrow panel rather than squeezing run names into a column of words.
    app.append(legend, el('div', { class: 'table-scroll' }, this.table));
    for (const metric of metrics) {
      const div = el('div', { id: metric.id, class: 'chart compare-chart', 'data-testid': metric.id, 'aria-label': `${metric.title}, one line per run` });
      const chart = new Chart(div, {
        height: 240,
        options: (c: ThemeColors) => ({
          scales: (metric.unit === 'accuracy' ? { x: { time: false }, y: { range: [0, 1] } } : { x: { time: false } }) as uPlot.Scales,
          axes: [intAxis(c, 'epoch'), metric.unit === 'accuracy' ? axis(c, 'accuracy', { values: percentValues }) : axis(c, 'loss')],
          series: [
            { label: 'epoch' },
            ...this.short.map((label, i) => ({ label, stroke: c.palette[i % c.palette.length], width: 2, dash: dashes[i % dashes.length], spanGaps: true })),
          ],
        }),
        yFormat: metric.unit === 'accuracy' ? (v: number) => `${(v * 100).toFixed(1)}%` : undefined,
      });
      const sec = section(metric.id, metric.title, metric.explain, '', host.ui, [
        { icon: 'file-media', label: `Save chart ${metric.title} as PNG`, run: () => this.host.savePng(metric.id) },
      ]);
      sec.body.append(div);
      sec.setHasData(true);
      app.append(sec.root);
      this.charts.push({ metric, chart });
    }
  }
  /** Shows the host's verdict and the table of hyperparameters that differ (values matched by run id). */
  setDetails(details: CompareDetails | undefined): void {
    renderCompareDetails(this.details, details, this.runs.map((r) => r.view.id), this.labels);
  }


  update(): void {
    // Where each run starts unlearning its corrupted labels, on the corrupted-train overlay.
    const markers: Marker[] = [];
    this.runs.forEach((r, i) => {
      const un = r.model.unlearningEpoch();
      // Short names: the label is drawn inside the plot, which may be narrow (labels that
      // would overlap are left out by the marker plugin; the table lists every epoch).
      const name = this.short[i].length > 24 ? `${this.short[i].slice(0, 23)}…` : this.short[i];
      if (un) markers.push({ x: un.epoch, label: `${name}: unlearning from ${un.epoch}` });
    });
    for (const { metric, chart } of this.charts) {
      const a = alignSeries(this.runs.map((r) => metric.value(r.model)));
      chart.setData([a.x, ...a.ys] as uPlot.AlignedData, metric.id === 'compare-corrupted' ? markers : []);
    }
    const head = el(
      'tr',
      {},
      ...[
        ['run', 'run'],
        ['status', 'status'],
        ['epochs', 'epochs done / planned'],
        ['clean', 'clean-train accuracy'],
        ['corrupted', 'corrupted-train accuracy (fitted wrong labels)'],
        ['test', 'test accuracy'],
        ['unlearning', 'epoch from which the corrupted labels are unlearned'],
      ].map(([h, t]) => el('th', { scope: 'col', title: t }, h)),
    );
    const rows = this.runs.map((r, i) => {
      const last = r.model.lastEpoch();
      const un = r.model.unlearningEpoch();
      const label = this.labels[i];
      const name = el('td', { class: 'run-cell', title: label }, el('span', { class: `swatch swatch-${i % 8} dash-${i % dashes.length}`, 'aria-hidden': 'true' }), ' ');
      // The distinct part of the name (two runs of one experiment family differ at the end).
      const link = el('a', { href: '#', 'aria-label': `Open the dashboard of ${label}` }, this.short[i]);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        this.host.post({ type: 'openRun', runId: r.view.id });
      });
      name.append(this.host.mode === 'vscode' ? link : this.short[i]);
      return el(
        'tr',
        { 'data-run-id': r.view.id },
        name,
        el('td', {}, r.view.status),
        el('td', { class: 'num' }, `${last?.epoch ?? 0} / ${r.view.totalEpochs}`),
        el('td', {}, pct(last?.accuracy.cleanTrain)),
        el('td', {}, pct(last?.accuracy.corruptedTrain)),
        el('td', {}, pct(last?.accuracy.test)),
        el('td', { class: 'num' }, un ? String(un.epoch) : 'none'),
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
