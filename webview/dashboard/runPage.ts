// The single-run dashboard page: header and verdict, then one section per probe. Built
// once per snapshot; update() redraws from the incremental RunModel.
import type uPlot from 'uplot';
import type { RunView, WebviewToHost } from '../../src/protocol/webviewMessages';
import { axis, barScale, barsPath, Chart, edgeBinX, intAxis, percentFormat, percentValues, stepPath, withAlpha, type ChartSpec, type Marker } from './charts';
import { byId, digitCanvas, el, iconButton, num, pct, section, type Section, type SectionState } from './dom';
import { emptyHints } from './emptyHints';
import { sectionHelp } from './sectionHelp';
import { LabelErrorsSection } from './labelErrorsSection';
import { NeuronMap } from './neuronMap';
import type { RunModel } from './runModel';
import { downsampleIndices, expectedCalibrationError, pick } from './stats';
import type { ThemeColors } from './theme';
import { accuracySeries, probeCostLine, prunedModelUi, pruningSummary, verdict } from './viewModel';

export interface PageHost {
  post(msg: WebviewToHost): void;
  /** Saves the chart with this element id as PNG (host dialog, or a download in the report). */
  savePng(chartId: string): void;
  /** 'report': a static HTML export with no extension behind it (no stop / reveal). */
  mode: 'vscode' | 'report';
  /** Collapsed sections etc., remembered per panel. */
  ui: SectionState;
}

type SectionKey = 'accuracy' | 'neurons' | 'pruning' | 'uncertainty' | 'labelErrors' | 'nested' | 'coteaching';

/** What a section needs, for the one-line "Not in this run" list (field names as in emptyHints). */
/** The key in the spec's `probes` behind a section (co-teaching is a regularizer, not a probe). */
const sectionProbe: Partial<Record<Exclude<SectionKey, 'accuracy'>, string>> = { neurons: 'memorization', pruning: 'pruning', uncertainty: 'mcDropout', nested: 'nestedOrdering' };

const sectionSource: Record<Exclude<SectionKey, 'accuracy'>, string> = {
  neurons: 'probes.memorization',
  pruning: 'probes.pruning',
  uncertainty: 'probes.mcDropout (and a dropout layer)',
  labelErrors: 'probes.labelErrors',
  nested: 'a nestedDropout layer + probes.nestedOrdering',
  coteaching: 'training.regularizers.coTeaching',
};

const maxLinePoints = 4000;

export class RunPage {
  private readonly charts: Chart[] = [];
  private readonly neuronMap = new NeuronMap();
  private readonly sec: Record<SectionKey, Section>;
  /** Charts per section, for its "expand" action. */
  private readonly sectionCharts = new Map<string, Chart[]>();
  private building: SectionKey = 'accuracy';
  private readonly notInRun: HTMLElement;
  private readonly toc: HTMLElement;
  private labelErrors!: LabelErrorsSection;
  private acc!: Chart;
  private loss!: Chart;
  private pruning!: Chart;
  private entropy!: Chart;
  private mi!: Chart;
  private reliability!: Chart;
  private nestedCurve!: Chart;
  private importance!: Chart;
  private precision!: Chart;
  // The probe object each section last drew: probes are immutable, so a live update (one
  // epoch + one score snapshot) leaves these charts alone instead of redrawing them.
  private uncertainDrawn: unknown;
  private pruningDrawn: unknown;
  private nestedDrawn: unknown;

  constructor(
    private readonly app: HTMLElement,
    private readonly run: RunView,
    private readonly model: RunModel,
    private readonly host: PageHost,
  ) {
    app.replaceChildren();
    this.toc = el('nav', { class: 'toc', 'aria-label': 'Sections', 'data-testid': 'toc' });
    this.header();
    const mk = (key: SectionKey, title: string, explain: string, empty: string) =>
      section(key, title, explain, empty, host.ui, [
        { icon: 'screen-full', label: `Expand the ${title} charts`, run: (b) => this.toggleExpanded(key, b) },
        { icon: 'question', label: `About ${title}: method and documentation`, run: (b) => this.toggleHelp(key, b), attrs: { 'aria-expanded': 'false', 'aria-controls': `help-${key}`, 'data-testid': `help-button-${key}` } },
      ]);
    this.sec = {
      accuracy: mk(
        'accuracy',
        'Accuracy over epochs',
        'Clean train and test measure the rule; corrupted train is the share of noisy-label examples whose WRONG label the model predicts. Rising corrupted accuracy means memorization; the dashed red line marks where the corrupted labels start being unlearned.',
        emptyHints.accuracy,
      ),
      neurons: mk(
        'neurons',
        'Neuron map',
        'Each row is a hidden unit, each column an epoch; bright = memorizing. A healthy model ends with few bright rows. The histogram below is the score distribution at one epoch: two humps = a memorizing group and a generalizing group. Hover for values; click a unit (or focus the map, move with the arrow keys, press Enter) for its details.',
        emptyHints.neurons,
      ),
      pruning: mk(
        'pruning',
        'Pruning curves',
        'Accuracy as units are zeroed, most memorizing first (solid) and most generalizing first (dashed, the control). If corrupted-train accuracy collapses under solid pruning while test holds, memorization lives in those few units.',
        emptyHints.pruning,
      ),
      uncertainty: mk(
        'uncertainty',
        'MC-dropout uncertainty',
        'Dropout kept on at prediction, many passes. Entropy = total uncertainty, mutual information = the model\'s own (epistemic) doubt. Corrupted examples further right than clean ones = the model is unsure where labels are wrong. The reliability diagram compares confidence to accuracy (diagonal = calibrated).',
        emptyHints.uncertainty,
      ),
      labelErrors: mk(
        'labelErrors',
        'Suspected label errors',
        'Training examples ranked by how likely their label is wrong, by the method picked (all scores: higher = more suspect). When the run corrupted labels itself, AUROC and precision at k = the number corrupted say how well each method finds them, and the curve shows precision against recall down the ranking. Export the ranking, or retrain without the top k (or with their suggested labels) and compare.',
        emptyHints.labelErrors,
      ),
      nested: mk(
        'nested',
        'Nested-dropout ordering',
        'Test accuracy using only the first k units: a curve that rises fast then flattens means the early units carry the features (K* = fewest units for near-full accuracy). Bars: importance of each unit.',
        emptyHints.nested,
      ),
      coteaching: mk(
        'coteaching',
        'Co-teaching label precision',
        'Share of the small-loss samples each network hands the other whose label is clean. It should stay above 1 − noise rate; a falling curve means the networks started trusting corrupted labels.',
        emptyHints.coteaching,
      ),
    };
    for (const s of Object.values(this.sec)) app.append(s.root);
    this.buildAccuracy();
    this.building = 'neurons';
    this.sec.neurons.body.append(this.pngButtons(['neuron-heatmap', 'neuron-hist']), this.neuronMap.root);
    this.neuronMap.onLayerChange = () => this.update();
    this.building = 'pruning';
    this.buildPruning();
    this.building = 'uncertainty';
    this.buildUncertainty();
    this.building = 'labelErrors';
    this.labelErrors = new LabelErrorsSection(this.sec.labelErrors, (...a) => this.chart(...a), this.host.mode === 'vscode' ? (msg) => this.host.post(msg) : undefined, this.run.id);
    this.building = 'nested';
    this.buildNested();
    this.building = 'coteaching';
    this.buildCoteaching();
    // Sections a run has no data for collapse into this one line instead of filling the page.
    this.notInRun = el('p', { class: 'not-in-run muted', 'data-testid': 'not-in-run', hidden: '' });
    app.append(this.notInRun);
    const log = section('log', 'Log', 'Messages from the training engine: warnings (e.g. a probe that could not run) and errors.', 'No messages.', host.ui);
    log.body.append(el('ul', { id: 'log', class: 'log', 'aria-label': 'Engine log', tabindex: '0' }));
    log.setHasData(true);
    app.append(log.root);
  }

  private header(): void {
    const r = this.run;
    // Stays at the top while the sections scroll (position: sticky), like a view's title bar.
    const header = el('header', { class: 'run-header', 'data-run-id': r.id });
    const titleRow = el('div', { class: 'title-row' }, el('h1', { 'data-testid': 'run-name', title: r.name }, r.name));
    const meta = el('div', { class: 'meta' });
    meta.append(
      el('span', { 'data-testid': 'status', id: 'status', class: 'status-badge', role: 'status', 'aria-label': 'Run status' }),
      el('span', { class: 'epoch-meta' }, el('span', { id: 'epoch-label' }, 'Epoch '), el('span', { 'data-testid': 'epoch-count', id: 'epoch-count' })),
      el('span', { id: 'backend', class: 'muted' }),
    );
    const actions = el('div', { class: 'actions' });
    if (this.host.mode === 'vscode') {
      // Stop exists only while the run does: a disabled Stop on a finished run says nothing.
      const stop = el('vscode-button', { id: 'stop', icon: 'debug-stop', 'aria-label': 'Stop this run', hidden: '' }, 'Stop');
      stop.addEventListener('click', () => this.host.post({ type: 'stop', runId: r.id }));
      const reveal = el('vscode-button', { id: 'reveal', secondary: '', icon: 'folder-opened', 'aria-label': 'Reveal the run folder' }, 'Reveal Folder');
      reveal.addEventListener('click', () => this.host.post({ type: 'revealFolder', runId: r.id }));
      const report = el('vscode-button', { id: 'export-report', secondary: '', icon: 'export', 'aria-label': 'Export a self-contained HTML report of this run' }, 'Export Report');
      report.addEventListener('click', () => this.host.post({ type: 'exportReport', runId: r.id }));
      actions.append(stop, reveal, report);
    } else actions.append(el('span', { class: 'muted' }, `Exported RegLens report · run ${r.id}`));
    titleRow.append(actions);
    header.append(titleRow, meta, this.toc);
    this.app.append(header);
    if (r.notice) this.app.append(el('p', { class: 'notice', role: 'status', 'data-testid': 'notice' }, r.notice));
    this.app.append(el('p', { id: 'error', class: 'error', role: 'alert', hidden: '' }));
    const kpis = el('section', { class: 'kpis', 'aria-label': 'Latest accuracies' });
    for (const [id, label] of [
      ['kpi-clean', 'Clean train'],
      ['kpi-corrupted', 'Corrupted train (fitted)'],
      ['kpi-test', 'Test'],
    ]) {
      kpis.append(el('div', { class: 'kpi' }, el('div', { class: 'kpi-label' }, label), el('div', { class: 'kpi-value', id }, '–')));
    }
    this.app.append(
      kpis,
      el('p', { id: 'verdict', class: 'verdict', 'data-testid': 'verdict' }),
      el('p', { id: 'probe-cost', class: 'muted probe-cost', 'data-testid': 'probe-cost', hidden: '' }),
    );
  }

  /** "Expand": the section's charts twice as tall (for reading a dense curve), and back. */
  private toggleExpanded(key: SectionKey, button: HTMLElement): void {
    const root = this.sec[key].root;
    const on = !root.classList.contains('expanded');
    root.classList.toggle('expanded', on);
    button.classList.toggle('codicon-screen-full', !on);
    button.classList.toggle('codicon-screen-normal', on);
    button.setAttribute('aria-pressed', String(on));
    for (const c of this.sectionCharts.get(key) ?? []) c.setTall(on);
    if (key === 'neurons') this.neuronMap.setTall(on);
  }

  /**
   * "Help": opens (or closes) a panel at the top of the section with how its numbers are
   * computed, the experiment-file field behind it and links to the method's paper and
   * RegLens's measurements. Escape inside it closes it and returns to the button.
   */
  private toggleHelp(key: SectionKey, button: HTMLElement): void {
    const s = this.sec[key];
    let panel = s.root.querySelector<HTMLElement>('.section-help');
    if (!panel) {
      panel = helpPanel(key, s.title);
      panel.addEventListener('keydown', (e) => {
        if (e.key !== 'Escape') return;
        e.preventDefault();
        this.toggleHelp(key, button);
        button.focus();
      });
      s.root.querySelector('.section-content')!.prepend(panel);
    }
    const open = panel.hidden;
    if (open && s.collapsed) {
      s.setCollapsed(false);
      this.host.ui.setCollapsed(key, false);
      this.resize();
    }
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  }

  /** Table of contents: the sections with data, in page order (click: scroll there, expanded). */
  private renderToc(): void {
    const shown = Object.values(this.sec).filter((s) => s.hasData);
    const key = shown.map((s) => s.key).join(',');
    if (this.toc.dataset.key === key) return;
    this.toc.dataset.key = key;
    this.toc.replaceChildren(
      ...shown.map((s) => {
        const a = el('a', { href: `#sec-${s.key}`, 'data-section': s.key }, s.title);
        a.addEventListener('click', (e) => {
          e.preventDefault();
          if (s.collapsed) {
            s.setCollapsed(false);
            this.host.ui.setCollapsed(s.key, false);
            this.resize();
          }
          s.root.scrollIntoView({ block: 'start' });
          s.root.querySelector<HTMLElement>('.section-toggle')?.focus({ preventScroll: true });
        });
        return a;
      }),
    );
  }

  /**
   * Sections without data: hidden, and named in one line. While running, those whose probe
   * the spec configures (RunView.probes) are "still to come"; the others are not in this run.
   */
  private renderNotInRun(): void {
    const running = this.run.status === 'running';
    const configured = this.run.probes;
    const all = (Object.keys(sectionSource) as (keyof typeof sectionSource)[]).filter((k) => !this.sec[k].hasData);
    // Co-teaching precision comes with every epoch: before the first one it may still come.
    const mayCome = (k: keyof typeof sectionSource) => (configured ? configured.includes(sectionProbe[k] ?? '') || (k === 'coteaching' && this.model.epochs.length === 0) : true);
    const coming = running ? all.filter(mayCome) : [];
    const missing = all.filter((k) => !coming.includes(k));
    for (const k of Object.keys(sectionSource) as (keyof typeof sectionSource)[]) {
      const hide = !this.sec[k].hasData;
      if (this.sec[k].root.hidden !== hide) this.sec[k].root.hidden = hide;
    }
    const parts: string[] = [];
    if (coming.length) {
      parts.push(
        configured
          ? `Still to come: ${coming.map((k) => this.sec[k].title).join(', ')} (configured; reported during or after training).`
          : `Not reported yet: ${coming.map((k) => this.sec[k].title).join(', ')}. They appear when the run reports them, if the experiment file has ${coming.map((k) => sectionSource[k]).join('; ')}.`,
      );
    }
    if (missing.length) {
      parts.push(`Not in this run: ${missing.map((k) => this.sec[k].title).join(', ')} — add ${missing.map((k) => sectionSource[k]).join('; ')} to the experiment file to get ${missing.length === 1 ? 'it' : 'them'}.`);
    }
    const text = parts.join(' ');
    if (this.notInRun.hidden !== !text) this.notInRun.hidden = !text;
    if (this.notInRun.textContent !== text) this.notInRun.textContent = text;
    if (this.notInRun.dataset.missing !== missing.join(',')) this.notInRun.dataset.missing = missing.join(',');
  }

  /** Icon buttons that save the charts of a section as PNG (keyboard reachable, labelled). */
  private pngButtons(ids: string[]): HTMLElement {
    const bar = el('div', { class: 'chart-tools' });
    for (const id of ids) {
      bar.append(iconButton('file-media', `Save chart ${id.replace(/-/g, ' ')} as PNG`, () => this.host.savePng(id), { 'data-png': id }));
    }
    return bar;
  }

  private chart(
    id: string,
    label: string,
    height: number,
    options: (c: ThemeColors) => Omit<uPlot.Options, 'width' | 'height'>,
    format: { y?: (v: number) => string; x?: (v: number) => string; tipX?: ChartSpec['tooltipX'] } = {},
  ): [HTMLElement, Chart] {
    const div = el('div', { id, class: 'chart', 'data-testid': id, 'aria-label': label });
    const c = new Chart(div, { height, options, yFormat: format.y, xFormat: format.x, tooltipX: format.tipX });
    this.charts.push(c);
    const list = this.sectionCharts.get(this.building) ?? [];
    list.push(c);
    this.sectionCharts.set(this.building, list);
    // The chart's own PNG action sits at its top-right corner, over the plot's margin.
    const frame = el('div', { class: 'chart-frame' }, div, iconButton('file-media', `Save ${label} as PNG`, () => this.host.savePng(id), { class: 'icon-button codicon codicon-file-media chart-png', 'data-png': id }));
    return [frame, c];
  }

  private buildAccuracy(): void {
    const [accDiv, acc] = this.chart('acc-chart', 'Accuracy over epochs chart', 280, (c) => ({
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [intAxis(c, 'epoch'), axis(c, 'accuracy', { values: percentValues })],
      series: [
        { label: 'epoch' },
        { label: 'clean train', stroke: c.clean, width: 2 },
        { label: 'corrupted train', stroke: c.corrupted, width: 2.5, dash: [8, 4] },
        { label: 'test', stroke: c.test, width: 2, dash: [2, 3] },
      ],
    }), { y: percentFormat });
    const [lossDiv, loss] = this.chart('loss-chart', 'Training and test loss chart', 220, (c) => ({
      scales: { x: { time: false } },
      axes: [intAxis(c, 'epoch'), axis(c, 'loss')],
      series: [{ label: 'epoch' }, { label: 'train loss', stroke: c.loss, width: 2 }, { label: 'test loss', stroke: c.test, width: 2, dash: [2, 3] }],
    }));
    // The historical test id (UI tests and docs refer to it).
    accDiv.querySelector('.chart')!.setAttribute('data-testid', 'accuracy-chart');
    this.acc = acc;
    this.loss = loss;
    this.sec.accuracy.body.append(
      accDiv,
      el('p', { id: 'unlearning', class: 'muted', 'data-testid': 'unlearning' }),
      el('h3', {}, 'Loss'),
      lossDiv,
    );
  }

  private buildPruning(): void {
    const [div, ch] = this.chart('pruning-chart', 'Pruning curves chart', 260, (c) => ({
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [intAxis(c, 'units pruned'), axis(c, 'accuracy', { values: percentValues })],
      series: [
        { label: 'units pruned' },
        { label: 'corrupted · memorizing first', stroke: c.corrupted, width: 2 },
        { label: 'clean · memorizing first', stroke: c.clean, width: 2 },
        { label: 'test · memorizing first', stroke: c.test, width: 2 },
        { label: 'corrupted · generalizing first', stroke: c.corrupted, width: 2, dash: [8, 4] },
        { label: 'clean · generalizing first', stroke: c.clean, width: 2, dash: [8, 4] },
        { label: 'test · generalizing first', stroke: c.test, width: 2, dash: [8, 4] },
      ],
    }), { y: percentFormat });
    this.pruning = ch;
    // Shown only once the engine reports a saved model (`savedModel`); until then the hint
    // says which experiment field saves one.
    const save = el(
      'vscode-button',
      { id: 'save-pruned', 'data-testid': 'save-pruned', hidden: '', 'aria-label': 'Save the pruned model: copy its folder to a folder you choose' },
      'Save Pruned Model…',
    );
    save.addEventListener('click', () => this.host.post({ type: 'savePrunedModel', runId: this.run.id }));
    this.sec.pruning.body.append(
      div,
      el('p', { id: 'pruning-summary', class: 'muted', 'data-testid': 'pruning-summary' }),
      el('div', { class: 'save-row' }, save, el('span', { id: 'pruning-save-hint', class: 'muted', 'data-testid': 'pruning-save-hint' })),
    );
  }

  private buildUncertainty(): void {
    const histOpts = (xLabel: string) => (c: ThemeColors): Omit<uPlot.Options, 'width' | 'height'> => ({
      scales: { x: { time: false } },
      axes: [axis(c, xLabel), axis(c, 'share of examples', { values: percentValues })],
      series: [
        { label: xLabel },
        { label: 'clean', stroke: c.clean, fill: withAlpha(c.clean, 0.25), width: 2, paths: stepPath(), points: { show: false } },
        { label: 'corrupted', stroke: c.corrupted, fill: withAlpha(c.corrupted, 0.25), width: 2, dash: [8, 4], paths: stepPath(), points: { show: false } },
        { label: 'test', stroke: c.test, width: 2, dash: [2, 3], paths: stepPath(), points: { show: false } },
      ],
    });
    const share = { y: percentFormat, x: (v: number) => v.toFixed(2), tipX: edgeBinX(2) };
    const [eDiv, e] = this.chart('entropy-hist', 'Predictive entropy histogram, clean vs corrupted', 200, histOpts('predictive entropy (nats)'), share);
    const [mDiv, m] = this.chart('mi-hist', 'Mutual information histogram, clean vs corrupted', 200, histOpts('mutual information (nats)'), share);
    const [rDiv, r] = this.chart('reliability-chart', 'Reliability diagram', 240, (c) => ({
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
      axes: [axis(c, 'confidence', { values: percentValues }), axis(c, 'accuracy', { values: percentValues })],
      series: [
        { label: 'confidence' },
        { label: 'accuracy', stroke: c.clean, fill: withAlpha(c.clean, 0.5), paths: barsPath(0.9), points: { show: false } },
        { label: 'perfect calibration', stroke: c.foreground, dash: [4, 4], width: 1, points: { show: false } },
      ],
    }), { y: percentFormat, x: percentFormat });
    this.entropy = e;
    this.mi = m;
    this.reliability = r;
    this.sec.uncertainty.body.append(
      el('p', { id: 'mc-summary', 'data-testid': 'mc-summary' }),
      el('div', { class: 'grid2' }, eDiv, mDiv),
      el('h3', {}, 'Reliability diagram'),
      rDiv,
      el('p', { id: 'ece', 'data-testid': 'ece' }),
      el('h3', {}, 'Most uncertain examples'),
      el('div', { id: 'uncertain', class: 'uncertain-grid', 'data-testid': 'uncertain' }),
      el('h3', {}, 'Label these next (active-learning ranking)'),
      el('ol', { id: 'al-ranking', class: 'al-ranking', 'data-testid': 'al-ranking', tabindex: '0' }),
    );
  }

  private buildNested(): void {
    const [cDiv, c] = this.chart('nested-curve', 'Truncation curve: accuracy using the first k units', 220, (t) => ({
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [intAxis(t, 'k (first units kept)'), axis(t, 'test accuracy', { values: percentValues })],
      series: [{ label: 'k' }, { label: 'accuracy', stroke: t.clean, width: 2 }],
    }), { y: percentFormat });
    const [iDiv, i] = this.chart('nested-importance', 'Unit importance bars', 180, (t) => ({
      scales: { x: barScale() },
      axes: [axis(t, 'unit index'), axis(t, 'importance')],
      series: [{ label: 'unit' }, { label: 'importance', stroke: t.test, fill: withAlpha(t.test, 0.7), paths: barsPath(0.9), points: { show: false } }],
      legend: { show: false },
    }));
    this.nestedCurve = c;
    this.importance = i;
    this.sec.nested.body.append(cDiv, el('p', { id: 'nested-summary', class: 'muted', 'data-testid': 'nested-summary' }), iDiv);
  }

  private buildCoteaching(): void {
    const [div, ch] = this.chart('precision-chart', 'Co-teaching label precision over epochs', 200, (c) => ({
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [intAxis(c, 'epoch'), axis(c, 'label precision', { values: percentValues })],
      series: [{ label: 'epoch' }, { label: 'label precision', stroke: c.clean, width: 2 }],
    }), { y: percentFormat });
    this.precision = ch;
    this.sec.coteaching.body.append(div);
  }

  rebuild(): void {
    for (const c of this.charts) c.rebuild();
    this.neuronMap.rebuild();
  }

  resize(): void {
    for (const c of this.charts) c.resize();
    this.neuronMap.resize();
  }

  update(): void {
    const m = this.model;
    this.updateHeader();
    // Accuracy
    const s = accuracySeries(m.epochs);
    const keep = downsampleIndices(s.epoch.length, maxLinePoints);
    const thin = keep.length < s.epoch.length ? <T>(xs: T[]) => pick(xs, keep) : <T>(xs: T[]) => xs;
    const running = this.run.status === 'running';
    this.sec.accuracy.setHasData(m.epochs.length > 0, running ? 'Starting: waiting for the first epoch…' : emptyHints.accuracy);
    const markers: Marker[] = [];
    const un = m.unlearningEpoch();
    if (un) markers.push({ x: un.epoch, label: `unlearning from epoch ${un.epoch}` });
    if (typeof m.degradationEpoch === 'number') markers.push({ x: m.degradationEpoch, label: `test loss rising from ${m.degradationEpoch}` });
    this.acc.setData([thin(s.epoch), thin(s.cleanTrain), thin(s.corruptedTrain), thin(s.test)] as uPlot.AlignedData, un ? [markers[0]] : []);
    const testLoss = m.epochs.map((e) => e.testLoss ?? null);
    this.loss.setData([thin(s.epoch), thin(s.loss), thin(testLoss)] as uPlot.AlignedData, markers.filter((x) => x !== markers[0] || !un));
    const uv = m.unlearningVerdict();
    const unEl = byId('unlearning');
    const unText = uv ? uv.reason : m.epochs.length ? 'No corrupted labels in this dataset, so no unlearning to detect.' : '';
    // Written only when they change: every DOM write re-styles a large page on the next frame.
    if (unEl.textContent !== unText) unEl.textContent = unText;
    const unAt = un ? String(un.epoch) : 'none';
    if (unEl.dataset.unlearning !== unAt) unEl.dataset.unlearning = unAt;

    // Neuron map: the layer picked (the first that reported scores unless the user chose).
    const h = this.neuronMap.pick(m.neurons);
    this.sec.neurons.setHasData(!!h);
    if (h) this.neuronMap.update(h, m.neuronVersion);

    this.updatePruning();
    this.updateUncertainty();
    this.labelErrors.update(m.labelErrors?.probe);
    this.updateNested();

    const hasPrecision = m.hasLabelPrecision();
    this.sec.coteaching.setHasData(hasPrecision);
    if (hasPrecision) this.precision.setData([thin(s.epoch), thin(m.epochs.map((e) => e.labelPrecision ?? null))] as uPlot.AlignedData);
    this.renderLog();
    this.renderNotInRun();
    this.renderToc();
  }

  private updateHeader(): void {
    const m = this.model;
    const run = this.run;
    const statusEl = byId('status');
    if (statusEl.dataset.status !== run.status) {
      statusEl.dataset.status = run.status;
      // Icon + word + colour per status (running spins; the colours are the theme's).
      // queued, timedOut, preempted: a Slurm sweep member waiting for a node, stopped at its time limit, preempted.
      const icon = { running: 'loading codicon-modifier-spin', finished: 'pass', cancelled: 'circle-slash', died: 'debug-disconnect', failed: 'error', queued: 'clock', timedOut: 'watch', preempted: 'debug-pause' }[run.status];
      statusEl.className = `status-badge status-${run.status}`;
      statusEl.replaceChildren(el('span', { class: `codicon codicon-${icon}`, 'aria-hidden': 'true' }), el('span', { class: 'status-text' }, run.status === 'timedOut' ? 'timed out' : run.status));
    }
    const last = m.lastEpoch();
    byId('epoch-count').textContent = `${last ? last.epoch : 0} / ${run.totalEpochs}`;
    if (m.started) byId('backend').textContent = `backend ${m.started.backend}${last ? ` · ${secondsPerEpoch(last.seconds)}` : ''}`;
    const stop = document.getElementById('stop');
    if (stop && stop.hidden !== (run.status !== 'running')) stop.hidden = run.status !== 'running';
    byId('kpi-clean').textContent = pct(last?.accuracy.cleanTrain);
    byId('kpi-corrupted').textContent = pct(last?.accuracy.corruptedTrain);
    byId('kpi-test').textContent = pct(last?.accuracy.test);
    byId('verdict').textContent = verdict(last?.accuracy, run.status, last?.epoch);
    const cost = probeCostLine(m.probeSeconds, m.timedProbes, m.epochs);
    const costEl = byId('probe-cost');
    costEl.hidden = cost === undefined;
    costEl.textContent = cost ?? '';
    const errorEl = byId('error');
    errorEl.hidden = !run.error;
    errorEl.textContent = run.error ?? '';
  }

  private updatePruning(): void {
    const p = this.model.pruning?.probe;
    this.sec.pruning.setHasData(!!p);
    if (!p || this.pruningDrawn === p) return;
    this.pruningDrawn = p;
    const a = p.memorizingFirst;
    const b = p.generalizingFirst;
    this.pruning.setData([p.pruned, a.corruptedTrain, a.cleanTrain, a.test, b.corruptedTrain, b.cleanTrain, b.test] as uPlot.AlignedData);
    const last = p.pruned.length - 1;
    byId('pruning-summary').textContent = pruningSummary(p, this.model.pruning!.epoch);
    const { button, hint } = prunedModelUi(p, this.host.mode);
    byId('save-pruned').hidden = !button;
    byId('pruning-save-hint').textContent = hint;
  }

  private updateUncertainty(): void {
    const stamped = this.model.mcDropout;
    const p = stamped?.probe;
    if (!p || p.unavailable) {
      this.sec.uncertainty.setHasData(false, p?.unavailable ? `MC dropout could not run: ${p.unavailable}` : emptyHints.uncertainty);
      return;
    }
    this.sec.uncertainty.setHasData(true);
    if (this.uncertainDrawn === p) return; // probes are immutable: redraw only a new one
    this.uncertainDrawn = p;
    const sm = p.summary;
    byId('mc-summary').textContent = sm
      ? `${p.passes} passes over ${p.examples} examples (epoch ${stamped.epoch}). Mean entropy: clean ${num(sm.meanEntropy.clean)}, corrupted ${num(sm.meanEntropy.corrupted)}, test ${num(sm.meanEntropy.test)}. Mean mutual information: clean ${num(sm.meanMutualInformation.clean)}, corrupted ${num(sm.meanMutualInformation.corrupted)}.`
      : `${p.passes} passes over ${p.examples} examples (epoch ${stamped.epoch}).`;
    for (const [chart, h] of [
      [this.entropy, p.entropyHistogram],
      [this.mi, p.mutualInformationHistogram],
    ] as const) {
      if (!h) continue;
      // Shares, not counts: there are far fewer corrupted than clean examples.
      const share = (xs: number[]) => {
        const t = xs.reduce((a, b) => a + b, 0);
        return xs.map((x) => (t ? x / t : 0));
      };
      // Steps start at each left edge and hold to the next: the last edge repeats the last
      // bin's value, so the final bin is drawn its full width instead of cut off.
      const step = (xs: number[]) => [...share(xs), share(xs)[xs.length - 1] ?? 0];
      chart.setData([h.edges, step(h.clean), step(h.corrupted), step(h.test)]);
    }
    const rel = p.reliability ?? [];
    if (rel.length) {
      const x = rel.map((b) => (b.lower + b.upper) / 2);
      this.reliability.setData([x, rel.map((b) => (b.count ? b.accuracy : null)), x] as uPlot.AlignedData);
    }
    const ece = sm?.ece ?? expectedCalibrationError(rel);
    const recomputed = expectedCalibrationError(rel);
    byId('ece').textContent =
      ece === undefined
        ? 'ECE: n/a'
        : `ECE ${pct(ece)} (expected calibration error: the count-weighted gap between confidence and accuracy${recomputed !== undefined && sm ? `; ${pct(recomputed)} recomputed from the ${rel.length} bins` : ''}).`;
    const grid = byId('uncertain');
    grid.replaceChildren(
      ...(p.mostUncertain ?? []).slice(0, 24).map((u) => {
        const fig = el('figure', { class: `uncertain split-${u.split}`, tabindex: '0', 'aria-label': `example ${u.index}, ${u.split}, label ${u.label}, predicted ${u.predicted}, entropy ${num(u.entropy, 2)}` });
        if (u.image && u.image.pixels.length === u.image.width * u.image.height) fig.append(digitCanvas(u.image));
        fig.append(el('figcaption', {}, `#${u.index} ${u.split} · label ${u.label} → ${u.predicted} · H ${num(u.entropy, 2)} · MI ${num(u.mutualInformation, 2)}`));
        return fig;
      }),
    );
    if (!p.mostUncertain?.length) grid.append(el('p', { class: 'muted' }, 'The probe listed no examples.'));
    const al = byId('al-ranking');
    const ranking = (p.activeLearning ?? []).slice(0, 20);
    const top = ranking.length ? ranking[0].score : 1;
    al.replaceChildren(
      ...ranking.map((r) =>
        el('li', {}, el('span', { class: 'al-index' }, `example ${r.index}`), el('meter', { min: '0', max: String(top || 1), value: String(r.score), 'aria-label': `score ${num(r.score)}` }), ` ${num(r.score)}`),
      ),
    );
    if (!ranking.length) al.append(el('li', { class: 'muted' }, 'No active-learning ranking in this probe.'));
  }

  private updateNested(): void {
    const st = this.model.nested;
    this.sec.nested.setHasData(!!st);
    if (!st || this.nestedDrawn === st.probe) return;
    const p = st.probe;
    this.nestedDrawn = p;
    this.nestedCurve.setData([p.k, p.accuracy], [{ x: p.kStar, label: `K* = ${p.kStar}` }]);
    this.importance.setData([p.importance.map((_, i) => i), p.importance]);
    byId('nested-summary').textContent = `K* = ${p.kStar} of ${p.k.length} units in ${p.layer}; rank correlation of importance with unit index ${num(p.rankCorrelation, 2)} (negative = earlier units matter more).`;
  }

  private renderLog(): void {
    const list = byId('log');
    const logs = this.model.logs;
    if (list.childElementCount === logs.length) return;
    list.replaceChildren(...logs.map((l) => el('li', { class: `log-${l.level}` }, `[${l.level}] ${l.message}`)));
  }
}

/** The help panel of a section (sectionHelp.ts). */
function helpPanel(key: SectionKey, title: string): HTMLElement {
  const h = sectionHelp[key];
  const links: (Node | string)[] = [];
  h.links.forEach((l, i) => {
    if (i) links.push(' · ');
    links.push(el('a', { href: l.href, title: l.href }, l.label));
  });
  return el(
    'div',
    { class: 'section-help', id: `help-${key}`, role: 'note', 'aria-label': `About ${title}`, 'data-testid': `help-${key}`, hidden: '' },
    el('p', {}, h.method),
    ...(h.field ? [el('p', {}, 'Comes from ', el('code', {}, h.field), ' in the experiment file.')] : []),
    el('p', {}, 'Read more: ', ...links),
  );
}

/** 0.004 s reads "4 ms/epoch", not "0.00 s/epoch". */
function secondsPerEpoch(s: number): string {
  return s < 0.1 ? `${Math.max(1, Math.round(s * 1000))} ms/epoch` : `${s.toFixed(s < 10 ? 2 : 1)} s/epoch`;
}

