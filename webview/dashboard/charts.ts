// uPlot wrapper: one object per chart that can be (re)built when the theme changes (uPlot
// bakes colours into its canvas), created lazily once its section is visible (a hidden
// container has no width), with vertical markers and a PNG snapshot of the canvas.
import uPlot from 'uplot';
import { integerTicks } from './stats';
import { themeColors, type ThemeColors } from './theme';

export interface Marker {
  x: number;
  label: string;
}

export interface ChartSpec {
  height: number;
  /** Builds the options from the current theme colours (called on every rebuild). */
  options(c: ThemeColors): Omit<uPlot.Options, 'width' | 'height'>;
}

/** Every chart on the page by element id, for PNG export and theme rebuilds. */
export const chartRegistry = new Map<string, { toCanvas(): HTMLCanvasElement | undefined }>();

export class Chart {
  private plot: uPlot | undefined;
  private data: uPlot.AlignedData | undefined;
  markers: Marker[] = [];

  constructor(
    readonly container: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    chartRegistry.set(container.id, { toCanvas: () => this.plot?.ctx.canvas });
  }

  setData(data: uPlot.AlignedData, markers: Marker[] = []): void {
    this.data = data;
    this.markers = markers;
    // The markers in the DOM as well (tests, and the text a screen reader can reach).
    const ml = markers.map((m) => m.label).join('|');
    if (this.container.dataset.markers !== ml) this.container.dataset.markers = ml;
    if (!this.plot) {
      if (this.container.clientWidth === 0) return; // hidden: built on the next visible render
      this.build();
    } else this.plot.setData(data);
  }

  rebuild(): void {
    if (this.plot) this.build();
  }

  resize(): void {
    // A chart whose data arrived while its container had no width (a hidden panel or
    // section) is built the first time it gets one, not left blank until the next data.
    if (!this.plot) {
      if (this.data && this.container.clientWidth > 0) this.build();
      return;
    }
    const w = this.width();
    if (w !== this.plot.width) this.plot.setSize({ width: w, height: this.spec.height });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(240, this.container.clientWidth);
  }

  private build(): void {
    this.plot?.destroy();
    const c = themeColors();
    const opts = this.spec.options(c);
    // uPlot draws axis titles on its canvas: repeat them in the DOM for screen readers
    // (aria-label) and for the UI tests, which cannot read text off a canvas.
    const labels = (opts.axes ?? []).map((a) => a.label).filter((l): l is string => typeof l === 'string' && l.length > 0);
    this.container.dataset.axes = labels.join('|');
    const base = this.container.dataset.baseLabel ?? this.container.getAttribute('aria-label') ?? '';
    this.container.dataset.baseLabel = base;
    if (labels.length) this.container.setAttribute('aria-label', `${base}; axes: ${labels.join(', ')}`);
    this.plot = new uPlot(
      {
        ...opts,
        width: this.width(),
        height: this.spec.height,
        plugins: [...(opts.plugins ?? []), markerPlugin(() => this.markers, c)],
      },
      this.data ?? (opts.series.map(() => []) as unknown as uPlot.AlignedData),
      this.container,
    );
  }
}

function markerPlugin(markers: () => Marker[], c: ThemeColors): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const ms = markers();
          if (!ms.length) return;
          const ctx = u.ctx;
          const dpr = uPlot.pxRatio;
          ctx.save();
          ctx.strokeStyle = c.marker;
          ctx.fillStyle = c.marker;
          ctx.lineWidth = 2 * dpr;
          ctx.setLineDash([4 * dpr, 4 * dpr]);
          ctx.font = `${12 * dpr}px ${c.fontFamily}`;
          ms.forEach((m, i) => {
            const x = u.valToPos(m.x, 'x', true);
            if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            // Label on the side with more room so it never runs off the plot.
            const right = x < u.bbox.left + u.bbox.width / 2;
            ctx.textAlign = right ? 'left' : 'right';
            // One text line per marker, so labels of nearby markers (compare mode) do not overprint.
            ctx.fillText(m.label, x + (right ? 4 : -4) * dpr, u.bbox.top + 14 * (i + 1) * dpr);
          });
          ctx.restore();
        },
      ],
    },
  };
}

/** The standard axis look, from the theme. */
export function axis(c: ThemeColors, label: string, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: c.foreground,
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid },
    label,
    font: `12px ${c.fontFamily}`,
    labelFont: `12px ${c.fontFamily}`,
    ...extra,
  };
}

/**
 * Epochs (and unit counts) are integers: ticks only at whole numbers, printed without
 * decimals, however few epochs there are (uPlot's own splits give 1.5 on a 2-epoch run).
 */
export function intAxis(c: ThemeColors, label: string): uPlot.Axis {
  return axis(c, label, {
    splits: (_u, _axis, min, max, foundIncr) => integerTicks(min, max, foundIncr),
    values: (u, vals) => {
      const text = vals.map((v) => (v == null ? '' : String(Math.round(v))));
      // The tick labels uPlot is about to paint, readable by the UI tests (canvas text is not).
      const ticks = vals.join(',');
      if (u.root.dataset.intTicks !== ticks) u.root.dataset.intTicks = ticks;
      return text;
    },
  });
}

export const percentValues = (_u: uPlot, vals: number[]): string[] => vals.map((v) => `${Math.round(v * 100)}%`);

/** A translucent version of a theme colour for histogram fills (hex or rgb() input). */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((d) => d + d).join('') : hex[1];
    const n = parseInt(h, 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
  }
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color.replace(/\s/g, ''));
  if (rgb) return `rgba(${rgb[1]},${rgb[2]},${rgb[3]},${alpha})`;
  return color;
}

export const barsPath = (size = 0.8): uPlot.Series.PathBuilder => uPlot.paths.bars!({ size: [size, 64], align: 0 });
export const stepPath = (): uPlot.Series.PathBuilder => uPlot.paths.stepped!({ align: 1 });

/** Draws a chart (or any canvas) on the theme background, as a PNG data URL. */
export function canvasToPng(canvas: HTMLCanvasElement, background: string): string {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out.toDataURL('image/png');
}
