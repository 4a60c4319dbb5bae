// The neuron map: per-unit memorization score over epochs as a canvas heatmap (units sorted
// by their latest score, most memorizing on top, viridis), the histogram of scores at the
// selected epoch, and a unit's details on click (Fourier spectrum or ablation drops).
import { axis, barsPath, Chart, chartRegistry } from './charts';
import { viridisCss, viridisLut } from './colorScale';
import { el, num } from './dom';
import { heatmapGrid, type HeatmapGrid, type NeuronHistory } from './runModel';
import { histogram } from './stats';

const maxCols = 600;
const histBins = 30;

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
  private readonly detail: HTMLElement;
  private readonly histChart: Chart;
  private readonly spectrumChart: Chart;
  private history: NeuronHistory | undefined;
  private grid: HeatmapGrid | undefined;
  private drawnVersion = -1;
  /** Snapshot index shown in the histogram; undefined = follow the latest while training. */
  private selected: number | undefined;
  private selectedRow = 0;

  constructor() {
    this.canvas = el('canvas', {
      id: 'neuron-heatmap',
      class: 'heatmap',
      'data-testid': 'neuron-heatmap',
      tabindex: '0',
      role: 'img',
      'aria-label': 'Neuron map heatmap; arrow keys move between units, Enter shows details',
    }) as HTMLCanvasElement;
    this.tooltip = el('div', { class: 'tooltip', role: 'tooltip', hidden: '', 'data-testid': 'neuron-tooltip' });
    this.count = el('span', { 'data-testid': 'neuron-count' });
    this.caption = el('p', { class: 'muted caption' });
    this.legend = el('div', { class: 'legend-bar', 'aria-hidden': 'true' });
    this.slider = el('input', {
      type: 'range',
      min: '0',
      max: '0',
      value: '0',
      id: 'neuron-epoch',
      'aria-label': 'Epoch of the score histogram',
    }) as HTMLInputElement;
    this.sliderLabel = el('span', { class: 'muted', 'aria-live': 'off' });
    const hist = el('div', { id: 'neuron-hist', class: 'chart', 'data-testid': 'neuron-hist', role: 'img', 'aria-label': 'Histogram of memorization scores' });
    this.detail = el('div', { class: 'neuron-detail', 'data-testid': 'neuron-detail', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Click a unit in the map (or focus it and press Enter) to see its details.'));
    const spectrum = el('div', { id: 'neuron-spectrum', class: 'chart', role: 'img', 'aria-label': 'Fourier power spectrum of the selected unit' });
    this.root = el(
      'div',
      { class: 'neuron-map' },
      el('div', { class: 'row-head' }, this.count, this.legend),
      el('div', { class: 'heatmap-wrap' }, this.canvas, this.tooltip),
      this.caption,
      el('div', { class: 'slider-row' }, el('label', { for: 'neuron-epoch' }, 'Histogram at epoch '), this.slider, this.sliderLabel),
      hist,
      this.detail,
      spectrum,
    );
    spectrum.hidden = true;

    this.histChart = new Chart(hist, {
      height: 180,
      options: (c) => ({
        scales: { x: { time: false } },
        axes: [axis(c, 'memorization score (higher = memorizing)'), axis(c, 'units')],
        series: [{ label: 'score' }, { label: 'units', stroke: c.corrupted, fill: c.corrupted, paths: barsPath(0.9), points: { show: false } }],
        legend: { show: false },
      }),
    });
    this.spectrumChart = new Chart(spectrum, {
      height: 160,
      options: (c) => ({
        scales: { x: { time: false } },
        axes: [axis(c, 'frequency'), axis(c, 'power')],
        series: [{ label: 'frequency' }, { label: 'power', stroke: c.clean, fill: c.clean, paths: barsPath(0.8), points: { show: false } }],
        legend: { show: false },
      }),
    });
    chartRegistry.set('neuron-heatmap', { toCanvas: () => this.canvas });

    this.slider.addEventListener('input', () => {
      const n = this.history?.epochs.length ?? 0;
      const v = Number(this.slider.value);
      this.selected = v >= n - 1 ? undefined : v;
      this.renderHistogram();
      this.drawHeatmap();
    });
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    this.canvas.addEventListener('click', (e) => {
      const cell = this.cellAt(e);
      if (cell) {
        this.selectedRow = cell.row;
        this.showDetail();
      }
    });
    this.canvas.addEventListener('keydown', (e) => {
      if (!this.grid) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        this.selectedRow = Math.min(this.grid.rows - 1, Math.max(0, this.selectedRow + (e.key === 'ArrowDown' ? 1 : -1)));
        this.showDetail();
        e.preventDefault();
      } else if (e.key === 'Enter' || e.key === ' ') {
        this.showDetail();
        e.preventDefault();
      }
    });
  }

  update(h: NeuronHistory, version: number): void {
    this.history = h;
    if (version !== this.drawnVersion) {
      this.drawnVersion = version;
      this.grid = heatmapGrid(h, maxCols);
      const n = h.epochs.length;
      this.slider.max = String(n - 1);
      if (this.selected === undefined) this.slider.value = String(n - 1);
      this.count.textContent = `${this.grid.rows} units · layer ${h.layer} · ${h.method === 'ipr' ? 'Fourier IPR' : 'ablation'} · ${n} snapshot${n === 1 ? '' : 's'}`;
      this.caption.textContent = `Columns: epochs ${h.epochs[0]} → ${h.epochs[n - 1]} (left to right). Rows: units sorted by their score at epoch ${h.epochs[n - 1]}, most memorizing on top. Colour: score from ${num(h.min)} (dark) to ${num(h.max)} (bright).`;
      this.legend.replaceChildren(
        el('span', {}, num(h.min, 2)),
        el('span', { class: 'legend-gradient' }),
        el('span', {}, num(h.max, 2)),
      );
      this.paintLegend();
    }
    this.drawHeatmap();
    this.renderHistogram();
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

  private selectedIndex(): number {
    const n = this.history?.epochs.length ?? 0;
    return this.selected ?? n - 1;
  }

  private drawHeatmap(): void {
    const g = this.grid;
    if (!g || g.cols === 0 || g.rows === 0) return;
    const cssW = Math.max(240, this.canvas.parentElement?.clientWidth ?? 0);
    const cssH = Math.min(480, Math.max(160, g.rows * 4));
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(cssW * dpr);
    const h = Math.round(cssH * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.canvas.style.height = `${cssH}px`;
    }
    // One pixel per cell offscreen, then scaled: crisp when upscaling, averaged when a
    // thousand units share a few hundred pixels.
    this.offscreen.width = g.cols;
    this.offscreen.height = g.rows;
    const octx = this.offscreen.getContext('2d')!;
    const img = octx.createImageData(g.cols, g.rows);
    const px = img.data;
    for (let i = 0, n = g.values.length; i < n; i++) {
      const v = g.values[i];
      const k = (v <= 0 ? 0 : v >= 1 ? 255 : (v * 255) | 0) * 3;
      const o = i * 4;
      px[o] = viridisLut[k];
      px[o + 1] = viridisLut[k + 1];
      px[o + 2] = viridisLut[k + 2];
      px[o + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    const ctx = this.canvas.getContext('2d')!;
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
    const y = (this.selectedRow / g.rows) * h;
    ctx.lineWidth = Math.max(1, dpr);
    ctx.strokeStyle = '#ffffff';
    ctx.strokeRect(x - 1, 0, 2, h);
    ctx.strokeStyle = '#000000';
    ctx.strokeRect(0, y, w, Math.max(2, h / g.rows));
  }

  private renderHistogram(): void {
    const h = this.history;
    if (!h || h.scores.length === 0) return;
    const idx = this.selectedIndex();
    this.sliderLabel.textContent = `${h.epochs[idx]}${this.selected === undefined ? ' (latest)' : ''}`;
    const lo = Number.isFinite(h.min) ? h.min : 0;
    const hi = Number.isFinite(h.max) ? h.max : 1;
    const hist = histogram(h.scores[idx], histBins, lo, hi);
    this.histChart.setData([hist.edges.slice(0, -1), hist.counts]);
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
    const unit = g.order[cell.row];
    const score = g.values[cell.row * g.cols + cell.col] * (h.max > h.min ? h.max - h.min : 1) + h.min;
    this.tooltip.textContent = `unit ${unit} · epoch ${g.colEpochs[cell.col]} · score ${num(score)}`;
    const r = this.canvas.getBoundingClientRect();
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${Math.min(r.width - 200, e.clientX - r.left + 12)}px`;
    this.tooltip.style.top = `${e.clientY - r.top + 12}px`;
  }

  private showDetail(): void {
    const g = this.grid;
    const h = this.history;
    if (!g || !h) return;
    this.drawHeatmap();
    const unit = g.order[this.selectedRow];
    const p = h.latest;
    const lines: (Node | string)[] = [
      el('strong', {}, `Unit ${unit}`),
      ` — rank ${this.selectedRow + 1} of ${g.rows} by memorization score ${num(p.scores[unit])}; ${p.method === 'ipr' ? 'Fourier IPR' : 'ablation score'} ${num(p.raw[unit])} (epoch ${h.epochs[h.epochs.length - 1]}).`,
    ];
    const spectrum = p.detail?.spectrum?.[unit];
    const clean = p.detail?.cleanDrop?.[unit];
    const corrupted = p.detail?.corruptedDrop?.[unit];
    const spectrumHolder = this.spectrumChart.container;
    const children: Node[] = [el('p', {}, ...lines)];
    if (spectrum && spectrum.length) {
      children.push(el('p', { class: 'muted' }, 'Fourier power per frequency: a few tall bars = a periodic (generalizing) unit; a flat spread = memorizing.'));
      spectrumHolder.hidden = false;
      this.detail.replaceChildren(...children);
      this.spectrumChart.setData([spectrum.map((_, i) => i), spectrum]);
      return;
    }
    spectrumHolder.hidden = true;
    if (clean !== undefined || corrupted !== undefined) {
      children.push(
        el('p', { class: 'muted' }, 'Accuracy drop when this unit is zeroed: a memorizing unit hurts the corrupted (wrong) labels more than the clean ones.'),
        dropBar('clean-train drop', clean),
        dropBar('corrupted-train drop', corrupted),
      );
    } else children.push(el('p', { class: 'muted' }, 'This probe sent no per-unit details (spectrum or ablation drops).'));
    this.detail.replaceChildren(...children);
  }
}

function dropBar(label: string, value: number | undefined): HTMLElement {
  const pctVal = value === undefined ? 0 : Math.max(0, Math.min(1, Math.abs(value)));
  const meter = el('meter', { min: '0', max: '1', value: String(pctVal), 'aria-label': label });
  return el('div', { class: 'drop-row' }, el('span', { class: 'drop-label' }, label), meter, el('span', {}, value === undefined ? 'n/a' : `${(value * 100).toFixed(1)} pts`));
}
