// uPlot wrapper: one object per chart that can be (re)built when the theme changes (uPlot
// bakes colours into its canvas), created lazily once its section is visible (a hidden
// container has no width), with vertical markers and a PNG snapshot of the canvas.
import uPlot from 'uplot';
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
    if (!this.plot) {
      if (this.container.clientWidth === 0) return; // hidden: built on the next visible render
      this.build();
    } else this.plot.setData(data);
  }

  rebuild(): void {
    if (this.plot) this.build();
  }

  resize(): void {
    const w = this.width();
    if (this.plot && w !== this.plot.width) this.plot.setSize({ width: w, height: this.spec.height });
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
          for (const m of ms) {
            const x = u.valToPos(m.x, 'x', true);
            if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            // Label on the side with more room so it never runs off the plot.
            const right = x < u.bbox.left + u.bbox.width / 2;
            ctx.textAlign = right ? 'left' : 'right';
            ctx.fillText(m.label, x + (right ? 4 : -4) * dpr, u.bbox.top + 14 * dpr);
          }
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

/** Epochs (and unit counts) are integers: no 1.5 ticks. */
const integerIncrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
export function intAxis(c: ThemeColors, label: string): uPlot.Axis {
  return axis(c, label, { incrs: integerIncrs });
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
