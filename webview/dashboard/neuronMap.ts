// The neuron map: per-unit memorization score over epochs as a canvas heatmap (units sorted
// by their latest score, most memorizing on top, viridis), the histogram of scores at the
// selected epoch, and a unit's details on click or Enter (Fourier spectrum or ablation drops).
// A layer picker appears when the run scored more than one layer.
import { axis, barScale, barsPath, binCentres, centreBinX, Chart, chartRegistry, intAxis, percentFormat, percentValues } from './charts';
import { viridisCss, viridisRgba32 } from './colorScale';
import { el, num } from './dom';
import { heatmapGrid, type HeatmapGrid, type NeuronHistory } from './runModel';
import { dominantFrequency, histogram, integerTicks } from './stats';

const maxCols = 600;
const histBins = 30;
/** Epoch ticks under the heatmap (DOM text, so it stays crisp and readable by tests). */
const xTicks = 5;

export class NeuronMap {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly offscreen = document.createElement('canvas');
  private readonly tooltip: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly sliderLabel: HTMLElement;
  private readonly count: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly xAxis: HTMLElement;
  private readonly status: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly layerRow: HTMLElement;
  /** vscode-single-select (value + 'change', like a select). */
  private readonly layerSelect: HTMLElement & { value: string };
  private readonly histChart: Chart;
  private readonly spectrumChart: Chart;
  private history: NeuronHistory | undefined;
  private grid: HeatmapGrid | undefined;
  /** Row of each unit in the current grid (inverse of grid.order). */
  private rowOf: Int32Array = new Int32Array(0);
  private drawnKey = '';
  /** Offscreen cell image: the grid it shows, reused between draws (see drawHeatmap). */
  private paintedGrid: HeatmapGrid | undefined;
  private img: ImageData | undefined;
  private octx: CanvasRenderingContext2D | undefined;
  private ctx: CanvasRenderingContext2D | undefined;
  /** Snapshot index shown in the histogram; undefined = follow the latest while training. */
  private selected: number | undefined;
  /** The selected unit by index (not row), so it stays put when a new snapshot re-sorts the rows. */
  private selectedUnit: number | undefined;
  private detailOpen = false;
  private tall = false;
  /** CSS width available to the map at the last draw, and the width it was drawn at. */
  private lastCssW = 0;
  private drawnCssW = 0;
  /** The layer shown; undefined = the first layer that reported. */
  private layer: string | undefined;
  private layerNames: string[] = [];
  /** Called when the user picks another layer (the page re-renders with it). */
  onLayerChange: (() => void) | undefined;

  constructor() {
    this.canvas = el('canvas', {
      id: 'neuron-heatmap',
      class: 'heatmap',
      'data-testid': 'neuron-heatmap',
      tabindex: '0',
      role: 'application',
      'aria-roledescription': 'neuron map',
      'aria-label': 'Neuron map heatmap, one row per hidden unit. Up and down arrows select a unit, Page Up and Page Down move by ten, left and right arrows change the histogram epoch, Enter shows the unit’s details.',
      'aria-describedby': 'neuron-status',
    }) as HTMLCanvasElement;
    this.tooltip = el('div', { class: 'tooltip', role: 'tooltip', hidden: '', 'data-testid': 'neuron-tooltip' });
    this.count = el('span', { 'data-testid': 'neuron-count' });
    this.caption = el('p', { class: 'muted caption' });
    this.legend = el('div', { class: 'legend-bar', 'aria-hidden': 'true' });
    this.xAxis = el('div', { class: 'heatmap-xaxis', 'data-testid': 'heatmap-xaxis', 'aria-hidden': 'true' });
    this.status = el('p', { id: 'neuron-status', class: 'muted neuron-status', 'data-testid': 'neuron-status', role: 'status', 'aria-live': 'polite' });
    this.layerSelect = el('vscode-single-select', { id: 'neuron-layer', 'data-testid': 'neuron-layer', 'aria-label': 'Layer shown in the neuron map' }) as HTMLElement & { value: string };
    this.layerRow = el('div', { class: 'layer-row', hidden: '' }, el('vscode-label', { for: 'neuron-layer' }, 'Layer'), this.layerSelect);
    this.slider = el('input', {
      type: 'range',
      min: '0',
      max: '0',
      value: '0',
      id: 'neuron-epoch',
      'aria-label': 'Epoch of the score histogram',
    }) as HTMLInputElement;
    this.sliderLabel = el('span', { class: 'muted', 'aria-live': 'off' });
    const hist = el('div', { id: 'neuron-hist', class: 'chart', 'data-testid': 'neuron-hist', 'aria-label': 'Histogram of memorization scores' });
    this.detail = el(
      'div',
      { class: 'neuron-detail', 'data-testid': 'neuron-detail', 'aria-live': 'polite' },
      el('p', { class: 'muted' }, 'Click a unit in the map (or focus the map, pick a unit with the arrow keys and press Enter) to see its details.'),
    );
    const spectrum = el('div', { id: 'neuron-spectrum', class: 'chart', 'data-testid': 'neuron-spectrum', 'aria-label': 'Fourier power spectrum of the selected unit' });
    this.root = el(
      'div',
      { class: 'neuron-map' },
      this.layerRow,
      el('div', { class: 'row-head' }, this.count, this.legend),
      el(
        'div',
        { class: 'heatmap-frame' },
        el('div', { class: 'heatmap-ylabel', 'aria-hidden': 'true' }, 'units (most memorizing on top)'),
        el('div', { class: 'heatmap-wrap' }, this.canvas, this.tooltip, this.xAxis, el('div', { class: 'heatmap-xlabel', 'aria-hidden': 'true' }, 'epoch')),
      ),
      this.status,
      this.caption,
      el('div', { class: 'slider-row' }, el('label', { for: 'neuron-epoch' }, 'Histogram at epoch '), this.slider, this.sliderLabel),
      hist,
      this.detail,
      spectrum,
    );
    spectrum.hidden = true;

    this.histChart = new Chart(hist, {
      height: 180,
      xFormat: (v) => v.toFixed(3),
      yFormat: (v) => String(Math.round(v)),
      tooltipX: centreBinX(3),
      options: (c) => ({
        scales: { x: barScale() },
        axes: [axis(c, 'memorization score (higher = memorizing)'), axis(c, 'units')],
        series: [{ label: 'score' }, { label: 'units', stroke: c.corrupted, fill: c.corrupted, paths: barsPath(0.9), points: { show: false } }],
      }),
    });
    this.spectrumChart = new Chart(spectrum, {
      height: 220,
      yFormat: percentFormat,
      options: (c) => ({
        // From 0 to the tallest bar: a 20% peak on a 0-100% axis would look flat.
        scales: { x: barScale(), y: { range: (_u, _min, max) => [0, Math.max(0.05, max * 1.1)] } },
        axes: [intAxis(c, 'frequency k (cycles over the p residues)'), axis(c, 'share of power', { values: percentValues })],
        series: [{ label: 'frequency k' }, { label: 'share of power', stroke: c.clean, fill: c.clean, paths: barsPath(0.8), points: { show: false } }],
      }),
    });
    chartRegistry.set('neuron-heatmap', { toCanvas: () => this.canvas });

    this.layerSelect.addEventListener('change', () => {
      this.layer = this.layerSelect.value;
      this.resetSelection();
      this.onLayerChange?.();
    });
    this.slider.addEventListener('input', () => this.selectSnapshot(Number(this.slider.value)));
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    this.canvas.addEventListener('click', (e) => {
      const cell = this.cellAt(e);
      if (!cell || !this.grid) return;
      this.selectedUnit = this.grid.order[cell.row];
      this.canvas.focus();
      this.openDetail();
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('blur', () => (this.tooltip.hidden = true));
  }

  /** The layer to draw out of those that reported scores (first one unless the user picked another). */
  pick(histories: Map<string, NeuronHistory>): NeuronHistory | undefined {
    const names = [...histories.keys()];
    if (names.join('\n') !== this.layerNames.join('\n')) {
      this.layerNames = names;
      this.layerSelect.replaceChildren(...names.map((n) => el('vscode-option', { value: n }, `${n} (${histories.get(n)!.method === 'ipr' ? 'Fourier IPR' : 'ablation'})`)));
      this.layerRow.hidden = names.length < 2;
    }
    if (this.layer === undefined || !histories.has(this.layer)) this.layer = names[0];
    if (this.layer !== undefined && this.layerSelect.value !== this.layer) this.layerSelect.value = this.layer;
    return this.layer === undefined ? undefined : histories.get(this.layer);
  }

  update(h: NeuronHistory, version: number): void {
    this.history = h;
    // No more columns than device pixels, so every column gets whole, equal pixels.
    // The width the last draw measured (reading layout here would force a reflow per update).
    const avail = Math.floor((this.lastCssW || this.canvas.parentElement?.clientWidth || 0) * (window.devicePixelRatio || 1));
    const cols = avail > 0 ? Math.min(maxCols, avail) : maxCols;
    const key = `${h.layer}\n${version}\n${cols}`;
    if (key !== this.drawnKey) {
      this.drawnKey = key;
      const g = heatmapGrid(h, cols);
      this.grid = g;
      this.rowOf = new Int32Array(g.rows);
      g.order.forEach((unit, row) => (this.rowOf[unit] = row));
      const n = h.epochs.length;
      this.slider.max = String(n - 1);
      if (this.selected === undefined) this.slider.value = String(n - 1);
      setData(this.canvas, 'units', String(g.rows));
      setData(this.canvas, 'layer', h.layer);
      this.count.textContent = `${g.rows} units · layer ${h.layer} · ${h.method === 'ipr' ? 'Fourier IPR' : 'ablation'} · ${n} snapshot${n === 1 ? '' : 's'}`;
      this.caption.textContent = `Columns: epochs ${h.epochs[0]} → ${h.epochs[n - 1]} (left to right). Rows: units sorted by their score at epoch ${h.epochs[n - 1]}, most memorizing on top. Colour: score from ${num(h.min)} (dark) to ${num(h.max)} (bright).`;
      this.legend.replaceChildren(
        el('span', { class: 'muted' }, 'memorization score'),
        el('span', {}, num(h.min, 2)),
        el('span', { class: 'legend-gradient' }),
        el('span', {}, num(h.max, 2)),
      );
      this.paintLegend();
      this.renderXAxis(g);
      if (this.detailOpen) this.showDetail();
      else this.announce();
    }
    this.drawHeatmap();
    this.renderHistogram();
  }

  /** The section's "expand" action: a taller map (more pixels per unit) and taller charts. */
  setTall(tall: boolean): void {
    this.tall = tall;
    this.histChart.setTall(tall);
    this.spectrumChart.setTall(tall);
    this.drawHeatmap();
  }

  rebuild(): void {
    this.histChart.rebuild();
    this.spectrumChart.rebuild();
    this.drawHeatmap();
  }

  resize(): void {
    this.histChart.resize();
    this.spectrumChart.resize();
    this.drawHeatmap();
  }

  private resetSelection(): void {
    this.selected = undefined;
    this.selectedUnit = undefined;
    this.detailOpen = false;
    this.spectrumChart.container.hidden = true;
    this.detail.replaceChildren(el('p', { class: 'muted' }, 'Click a unit in the map (or focus the map, pick a unit with the arrow keys and press Enter) to see its details.'));
  }

  private onKey(e: KeyboardEvent): void {
    const g = this.grid;
    if (!g || g.rows === 0) return;
    const row = this.selectedRow();
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -g.rows, End: g.rows };
    if (e.key in moves) {
      // The first key press selects the top unit rather than skipping it.
      const next = this.selectedUnit === undefined ? 0 : Math.min(g.rows - 1, Math.max(0, row + moves[e.key]));
      this.selectedUnit = g.order[next];
      this.drawHeatmap();
      if (this.detailOpen) this.showDetail();
      else this.announce();
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const n = this.history?.epochs.length ?? 0;
      this.selectSnapshot(Math.min(n - 1, Math.max(0, this.selectedIndex() + (e.key === 'ArrowRight' ? 1 : -1))));
      this.slider.value = String(this.selectedIndex());
    } else if (e.key === 'Enter' || e.key === ' ') {
      if (this.selectedUnit === undefined) this.selectedUnit = g.order[0];
      this.openDetail();
    } else if (e.key === 'Escape' && this.detailOpen) {
      this.resetSelection();
      this.drawHeatmap();
      this.announce();
    } else if (e.key === 'Escape') {
      this.tooltip.hidden = true;
      return;
    } else return;
    e.preventDefault();
    if (this.selectedUnit !== undefined && e.key !== 'Enter' && e.key !== ' ') this.keyTip();
    else this.tooltip.hidden = true;
  }

  private selectSnapshot(v: number): void {
    const n = this.history?.epochs.length ?? 0;
    this.selected = v >= n - 1 ? undefined : v;
    this.renderHistogram();
    this.drawHeatmap();
  }

  private selectedRow(): number {
    return this.selectedUnit === undefined || this.selectedUnit >= this.rowOf.length ? 0 : this.rowOf[this.selectedUnit];
  }

  private paintLegend(): void {
    // A CSS gradient would need an inline style (blocked by the CSP): paint a canvas instead.
    const holder = this.legend.querySelector('.legend-gradient');
    if (!holder) return;
    const c = document.createElement('canvas');
    c.width = 128;
    c.height = 10;
    const ctx = c.getContext('2d')!;
    for (let x = 0; x < 128; x++) {
      ctx.fillStyle = viridisCss(x / 127);
      ctx.fillRect(x, 0, 1, 10);
    }
    holder.replaceChildren(c);
  }

  /**
   * Epoch labels under the heatmap at round, evenly spaced epochs (20, 40, 60 ... rather than
   * whichever epochs every fifth column happens to hold), each centred on its column.
   */
  private renderXAxis(g: HeatmapGrid): void {
    const first = g.colEpochs[0];
    const last = g.colEpochs[g.cols - 1];
    const width = this.drawnCssW || 600;
    const want = Math.max(2, Math.min(xTicks + 3, Math.floor(width / 70)));
    const epochs = g.cols < 2 ? [first] : integerTicks(first, last, (last - first) / want);
    const ticks: { col: number; epoch: number }[] = [];
    for (const t of epochs) {
      const col = g.colEpochs.findIndex((e) => e >= t);
      // A round epoch that fell inside a bucket is labelled with the epoch its column ends at.
      if (col >= 0 && !ticks.some((x) => x.col === col)) ticks.push({ col, epoch: g.colEpochs[col] });
    }
    // Live updates add a column at a time: touch the DOM only when the labels move.
    const key = `${g.cols}:${Math.round(width)}:${ticks.map((t) => `${t.col}=${t.epoch}`).join(',')}`;
    if (this.xAxis.dataset.key === key) return;
    this.xAxis.dataset.key = key;
    this.xAxis.replaceChildren(
      ...ticks.map(({ col, epoch }) => {
        const at = (col + 0.5) / g.cols;
        // Labels near an end are anchored inside the map so they never stick out of the page.
        const t = el('span', { class: `heatmap-tick${at < 0.04 ? ' start' : at > 0.96 ? ' end' : ''}` }, String(epoch));
        // Centred on its column; CSSOM styles are allowed by the CSP (inline style attributes are not).
        t.style.left = `${at * 100}%`;
        return t;
      }),
    );
  }

  private selectedIndex(): number {
    const n = this.history?.epochs.length ?? 0;
    return this.selected ?? n - 1;
  }

  private drawHeatmap(): void {
    const g = this.grid;
    if (!g || g.cols === 0 || g.rows === 0) return;
    const cssW = Math.max(240, this.canvas.parentElement?.clientWidth ?? 0);
    this.lastCssW = cssW;
    const cssH = this.tall ? Math.min(960, Math.max(320, g.rows * 8)) : Math.min(480, Math.max(160, g.rows * 4));
    const dpr = window.devicePixelRatio || 1;
    // Whole device pixels per cell, the same for every column (and row, where rows fit): the
    // map is as wide as cols x cell, not stretched to the last pixel with uneven columns.
    const fullW = Math.round(cssW * dpr);
    const fullH = Math.round(cssH * dpr);
    const w = g.cols <= fullW ? Math.floor(fullW / g.cols) * g.cols : fullW;
    const h = g.rows <= fullH ? Math.floor(fullH / g.rows) * g.rows : fullH;
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.canvas.style.height = `${h / dpr}px`;
      this.canvas.style.width = `${w / dpr}px`;
      this.xAxis.style.width = `${w / dpr}px`;
      this.drawnCssW = w / dpr;
      this.renderXAxis(g);
    }
    // One pixel per cell offscreen, then scaled: crisp when upscaling, averaged when a
    // thousand units share a few hundred pixels. The cells are recoloured only when the grid
    // changed (not for a moved selection), into an ImageData reused while its size holds.
    if (this.paintedGrid !== g) {
      this.paintedGrid = g;
      if (this.offscreen.width !== g.cols || this.offscreen.height !== g.rows) {
        this.offscreen.width = g.cols;
        this.offscreen.height = g.rows;
        this.octx = undefined;
      }
      this.octx ??= this.offscreen.getContext('2d')!;
      if (!this.img || this.img.width !== g.cols || this.img.height !== g.rows) this.img = this.octx.createImageData(g.cols, g.rows);
      const px = new Uint32Array(this.img.data.buffer);
      const values = g.values;
      for (let i = 0, n = values.length; i < n; i++) {
        const v = values[i];
        px[i] = viridisRgba32[v <= 0 ? 0 : v >= 1 ? 255 : (v * 255) | 0];
      }
      this.octx.putImageData(this.img, 0, 0);
    }
    const ctx = (this.ctx ??= this.canvas.getContext('2d')!);
    ctx.imageSmoothingEnabled = g.cols > w || g.rows > h;
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(this.offscreen, 0, 0, w, h);
    // The selected epoch (histogram) and the selected unit, outlined in both colours of the
    // scale's ends so they show on any cell.
    const idx = this.selectedIndex();
    const epoch = this.history!.epochs[idx];
    let col = g.colEpochs.findIndex((e) => e >= epoch);
    if (col < 0) col = g.cols - 1;
    const x = ((col + 0.5) / g.cols) * w;
    ctx.lineWidth = Math.max(1, dpr);
    ctx.strokeStyle = '#ffffff';
    ctx.strokeRect(x - 1, 0, 2, h);
    if (this.selectedUnit !== undefined) {
      const y = (this.selectedRow() / g.rows) * h;
      const rowH = Math.max(2, h / g.rows);
      ctx.strokeStyle = '#000000';
      ctx.strokeRect(0, y, w, rowH);
      ctx.strokeStyle = '#ffffff';
      ctx.strokeRect(1, y - 1, w - 2, rowH + 2);
    }
    setData(this.canvas, 'selectedUnit', this.selectedUnit === undefined ? '' : String(this.selectedUnit));
  }

  private renderHistogram(): void {
    const h = this.history;
    if (!h || h.scores.length === 0) return;
    const idx = this.selectedIndex();
    this.sliderLabel.textContent = `${h.epochs[idx]}${this.selected === undefined ? ' (latest)' : ''}`;
    const lo = Number.isFinite(h.min) ? h.min : 0;
    const hi = Number.isFinite(h.max) ? h.max : 1;
    const hist = histogram(h.scores[idx], histBins, lo, hi);
    this.histChart.setData([binCentres(hist.edges), hist.counts]);
  }

  private cellAt(e: MouseEvent): { row: number; col: number } | undefined {
    const g = this.grid;
    if (!g) return undefined;
    const r = this.canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - r.left) / r.width) * g.cols);
    const row = Math.floor(((e.clientY - r.top) / r.height) * g.rows);
    if (col < 0 || row < 0 || col >= g.cols || row >= g.rows) return undefined;
    return { row, col };
  }

  private hover(e: MouseEvent): void {
    const cell = this.cellAt(e);
    const g = this.grid;
    const h = this.history;
    if (!cell || !g || !h) {
      this.tooltip.hidden = true;
      return;
    }
    const r = this.canvas.getBoundingClientRect();
    this.showTip(cell.row, cell.col, e.clientX - r.left, e.clientY - r.top, 'click for details');
  }

  /** The cell tooltip (unit, epoch, score) at a point of the map, in CSS px from its top left. */
  private showTip(row: number, col: number, x: number, y: number, action: string): void {
    const g = this.grid!;
    const h = this.history!;
    const unit = g.order[row];
    const score = g.values[row * g.cols + col] * (h.max > h.min ? h.max - h.min : 1) + h.min;
    this.tooltip.textContent = `unit ${unit} · epoch ${g.colEpochs[col]} · score ${num(score)} · ${action}`;
    this.tooltip.hidden = false;
    const w = this.canvas.clientWidth;
    this.tooltip.style.left = `${Math.max(0, Math.min(w - 260, x + 12))}px`;
    this.tooltip.style.top = `${y + 12}px`;
  }

  /** Keyboard moves show the same tooltip on the selected unit at the histogram's epoch. */
  private keyTip(): void {
    const g = this.grid;
    const h = this.history;
    if (!g || !h || this.selectedUnit === undefined || g.cols === 0) return;
    const row = this.selectedRow();
    const epoch = h.epochs[this.selectedIndex()];
    let col = g.colEpochs.findIndex((e) => e >= epoch);
    if (col < 0) col = g.cols - 1;
    this.showTip(row, col, ((col + 0.5) / g.cols) * this.canvas.clientWidth, ((row + 1) / g.rows) * this.canvas.clientHeight, 'Enter for details');
  }

  /** One line for the live region: which unit the keyboard selection is on. */
  private announce(): void {
    const g = this.grid;
    const h = this.history;
    if (!g || !h || this.selectedUnit === undefined) {
      if (this.status.textContent) this.status.textContent = '';
      return;
    }
    const unit = this.selectedUnit;
    this.status.textContent = `Unit ${unit}: rank ${this.selectedRow() + 1} of ${g.rows}, memorization score ${num(h.latest.scores[unit])}. Press Enter for details.`;
  }

  private openDetail(): void {
    this.detailOpen = true;
    this.drawHeatmap();
    this.showDetail();
  }

  private showDetail(): void {
    const g = this.grid;
    const h = this.history;
    if (!g || !h || this.selectedUnit === undefined) return;
    const unit = this.selectedUnit;
    const row = this.selectedRow();
    const p = h.latest;
    const lastEpoch = h.epochs[h.epochs.length - 1];
    this.status.textContent = `Unit ${unit} selected: rank ${row + 1} of ${g.rows}. Details below.`;
    this.detail.dataset.unit = String(unit);
    const children: Node[] = [
      el(
        'p',
        {},
        el('strong', {}, `Unit ${unit}`),
        ` — rank ${row + 1} of ${g.rows} by memorization score ${num(p.scores[unit])}; ${p.method === 'ipr' ? 'Fourier IPR' : 'ablation score'} ${num(p.raw[unit])} (layer ${h.layer}, epoch ${lastEpoch}).`,
      ),
    ];
    const spectrum = p.detail?.spectrum?.[unit];
    const outputIpr = p.detail?.outputIpr?.[unit];
    const clean = p.detail?.cleanDrop?.[unit];
    const corrupted = p.detail?.corruptedDrop?.[unit];
    const test = p.detail?.testDrop?.[unit];
    const spectrumHolder = this.spectrumChart.container;
    if (spectrum && spectrum.length) {
      const top = dominantFrequency(spectrum);
      children.push(
        el(
          'p',
          { class: 'muted', 'data-testid': 'neuron-spectrum-summary' },
          `Fourier power of the unit's input weights per frequency k = 0…${spectrum.length - 1}: a few tall bars = a periodic (generalizing) unit; a flat spread = memorizing. ` +
            (top ? `Strongest: k = ${top.k} with ${(top.share * 100).toFixed(0)}% of the power.` : '') +
            (outputIpr !== undefined ? ` Output-weight IPR ${num(outputIpr)}.` : ''),
        ),
      );
      this.detail.replaceChildren(...children);
      spectrumHolder.hidden = false;
      this.spectrumChart.setData([spectrum.map((_, i) => i), spectrum]);
      return;
    }
    spectrumHolder.hidden = true;
    if (clean !== undefined || corrupted !== undefined || test !== undefined) {
      children.push(
        el('p', { class: 'muted' }, 'Accuracy drop when this unit alone is zeroed: a memorizing unit costs the corrupted (wrong) labels more than the clean ones.'),
        dropBar('clean-train drop', clean),
        dropBar('corrupted-train drop', corrupted),
        dropBar('test drop', test),
      );
    } else children.push(el('p', { class: 'muted' }, 'This probe sent no per-unit details (spectrum or ablation drops).'));
    this.detail.replaceChildren(...children);
  }
}

function dropBar(label: string, value: number | undefined): HTMLElement {
  const pctVal = value === undefined ? 0 : Math.max(0, Math.min(1, Math.abs(value)));
  const text = value === undefined ? 'n/a' : `${(value * 100).toFixed(1)} pts`;
  const meter = el('meter', { min: '0', max: '1', value: String(pctVal), 'aria-label': `${label}: ${text}` });
  return el('div', { class: 'drop-row', 'data-testid': 'neuron-drop' }, el('span', { class: 'drop-label' }, label), meter, el('span', {}, text));
}

/** Sets a data attribute only when it changes (each write invalidates style on a large page). */
function setData(e: HTMLElement, key: string, value: string): void {
  if (e.dataset[key] !== value) e.dataset[key] = value;
}
