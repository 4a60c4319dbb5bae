// uPlot wrapper: one object per chart that can be (re)built when the theme changes (uPlot
// bakes colours into its canvas), created lazily once its section is visible (a hidden
// container has no width), with vertical markers and a PNG snapshot of the canvas.
import uPlot from 'uplot';
import { binText, nextIndex, tooltipText } from './chartTooltip';
import { integerTicks } from './stats';
import { dashStyle, themeColors, type ThemeColors } from './theme';

export interface Marker {
  x: number;
  label: string;
}

export interface ChartSpec {
  height: number;
  /** Legend text of a y value (default: 3 significant digits); the x value is formatted by `xFormat`. */
  yFormat?: (v: number) => string;
  xFormat?: (v: number) => string;
  /** The x part of the tooltip at a data index (default: the formatted x value), e.g. a histogram bin's range. */
  tooltipX?: (u: uPlot, idx: number) => string;
  /** Builds the options from the current theme colours (called on every rebuild). */
  options(c: ThemeColors): Omit<uPlot.Options, 'width' | 'height'>;
}

/** Every chart on the page by element id, for PNG export and theme rebuilds. */
export const chartRegistry = new Map<string, { toCanvas(): HTMLCanvasElement | undefined }>();

export class Chart {
  private plot: uPlot | undefined;
  private data: uPlot.AlignedData | undefined;
  markers: Marker[] = [];
  /** The section's "expand" action: 1.75x the normal height. */
  private tall = false;

  /** Where the keyboard's point is read out (polite; the mouse tooltip is not announced). */
  private readonly live: HTMLElement;
  private keyboard = false;

  constructor(
    readonly container: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    chartRegistry.set(container.id, { toCanvas: () => this.plot?.ctx.canvas });
    // Keyboard: focus the chart, arrows (Page Up/Down, Home/End) move the tooltip from point
    // to point, Escape hides it. The mouse shows the same tooltip by hovering.
    // A focusable group, not an image (whose content a screen reader skips, live region included).
    container.tabIndex = 0;
    container.setAttribute('role', 'group');
    container.setAttribute('aria-roledescription', 'chart');
    this.live = document.createElement('span');
    this.live.className = 'sr-only';
    this.live.setAttribute('aria-live', 'polite');
    container.append(this.live);
    container.addEventListener('keydown', (e) => this.onKey(e));
    container.addEventListener('blur', () => this.hideCursor());
  }

  private onKey(e: KeyboardEvent): void {
    const u = this.plot;
    if (!u) return;
    if (e.key === 'Escape') {
      this.hideCursor();
      return;
    }
    const xs = u.data[0] as number[];
    const idx = nextIndex(e.key, u.cursor.idx, xs.length);
    if (idx === undefined) return;
    e.preventDefault();
    // The point's height: the first shown series with a value there.
    let top = u.bbox.height / uPlot.pxRatio / 2;
    for (let i = 1; i < u.series.length; i++) {
      const v = (u.data[i] as (number | null | undefined)[])[idx];
      if (u.series[i].show !== false && v != null && Number.isFinite(v)) {
        top = u.valToPos(v, u.series[i].scale ?? 'y');
        break;
      }
    }
    this.keyboard = true;
    u.setCursor({ left: u.valToPos(xs[idx], 'x'), top });
    this.keyboard = false;
  }

  private hideCursor(): void {
    this.plot?.setCursor({ left: -10, top: -10 });
  }

  /**
   * The tooltip at the cursor: the x value named by the x series ("epoch 12", "score
   * 0.450–0.480") and each shown series' value there; inside uPlot's overlay, so it moves
   * with the plot. Read out through the live region when the keyboard moved it.
   */
  private tooltipPlugin(xFmt: (v: number) => string, yFmt: (v: number) => string): uPlot.Plugin {
    let tip: HTMLElement | undefined;
    return {
      hooks: {
        init: [
          (u) => {
            tip = document.createElement('div');
            tip.className = 'tooltip chart-tooltip';
            tip.setAttribute('role', 'tooltip');
            tip.dataset.testid = 'chart-tooltip';
            tip.hidden = true;
            u.over.append(tip);
          },
        ],
        setCursor: [
          (u) => {
            if (!tip) return;
            const idx = u.cursor.idx;
            const xs = u.data[0] as number[];
            const text =
              idx == null || idx >= xs.length
                ? undefined
                : tooltipText(
                    String(u.series[0].label ?? 'x'),
                    this.spec.tooltipX ? this.spec.tooltipX(u, idx) : xFmt(xs[idx]),
                    u.series.slice(1).flatMap((sr, k) => {
                      if (sr.show === false) return [];
                      const v = (u.data[k + 1] as (number | null | undefined)[])[idx];
                      return [{ label: String(sr.label ?? ''), value: v == null || !Number.isFinite(v) ? undefined : yFmt(v) }];
                    }),
                  );
            if (!text) {
              if (!tip.hidden) tip.hidden = true;
              return;
            }
            tip.textContent = text;
            tip.hidden = false;
            const left = u.cursor.left ?? 0;
            const top = u.cursor.top ?? 0;
            // Right of the point unless it would leave the plot, then left of it.
            const w = tip.offsetWidth;
            const overW = u.over.clientWidth;
            tip.style.left = `${left + 14 + w > overW ? Math.max(0, left - 14 - w) : left + 14}px`;
            tip.style.top = `${Math.max(0, Math.min(u.over.clientHeight - tip.offsetHeight, top + 14))}px`;
            if (this.keyboard && this.live.textContent !== text) this.live.textContent = text;
          },
        ],
      },
    };
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

  setTall(tall: boolean): void {
    this.tall = tall;
    this.plot?.setSize({ width: this.width(), height: this.height() });
  }

  private height(): number {
    return Math.round(this.spec.height * (this.tall ? 1.75 : 1));
  }

  resize(): void {
    // A chart whose data arrived while its container had no width (a hidden panel or
    // section) is built the first time it gets one, not left blank until the next data.
    if (!this.plot) {
      if (this.data && this.container.clientWidth > 0) this.build();
      return;
    }
    const w = this.width();
    if (w !== this.plot.width) this.plot.setSize({ width: w, height: this.height() });
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
    this.container.setAttribute('aria-label', `${base}${labels.length ? `; axes: ${labels.join(', ')}` : ''}. Left and right arrows read the values point by point.`);
    // Legend values: the hovered point, else the LAST value (not uPlot's "--"), so a chart
    // nobody points at still reads out where each series ended.
    const yFmt = this.spec.yFormat ?? defaultFormat;
    const xFmt = this.spec.xFormat ?? ((v: number) => String(Math.round(v)));
    const series = opts.series.map((s, i) => ({
      ...s,
      value: (u: uPlot, v: number | null, si: number, idx: number | null) => {
        const val = idx == null ? lastFinite(u.data[si] as (number | null | undefined)[]) : v;
        return val == null || !Number.isFinite(val) ? '–' : i === 0 ? xFmt(val) : yFmt(val);
      },
    }));
    // The colours actually drawn, for the contrast test in the real webview (canvas pixels
    // cannot be attributed to a series reliably; the strokes can).
    const drawn = [
      ...series.slice(1).map((s) => ({ kind: 'series', label: String(s.label ?? ''), color: typeof s.stroke === 'string' ? s.stroke : '' })),
      { kind: 'text', label: 'axis labels', color: c.foreground },
      { kind: 'text', label: 'marker labels', color: c.marker },
    ].filter((d) => d.color);
    this.container.dataset.colors = JSON.stringify(drawn);
    this.plot = new uPlot(
      {
        ...opts,
        series,
        // y axes: at least ~3 ticks on a short chart (uPlot's default spacing leaves two on a 120 px axis).
        axes: opts.axes?.map((a, i) => (i === 0 ? a : { space: 28, ...a })),
        legend: { ...(opts.legend ?? {}), markers: { width: 3, dash: (u: uPlot, i: number) => dashStyle(u.series[i].dash), ...(opts.legend?.markers ?? {}) } },
        width: this.width(),
        height: this.height(),
        plugins: [...(opts.plugins ?? []), markerPlugin(() => this.markers, c), this.tooltipPlugin(xFmt, yFmt)],
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
          ctx.textBaseline = 'alphabetic';
          // Labels go on the first text line where they overlap no earlier label; one that
          // finds no free line within three is left out (the table and text name it anyway).
          const rows: [number, number][][] = [[], [], []];
          const pad = 6 * dpr;
          ms.forEach((m) => {
            const x = u.valToPos(m.x, 'x', true);
            if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            // Label on the side with more room so it never runs off the plot.
            const right = x < u.bbox.left + u.bbox.width / 2;
            const w = ctx.measureText(m.label).width;
            const x0 = right ? x + 4 * dpr : x - 4 * dpr - w;
            if (x0 < u.bbox.left || x0 + w > u.bbox.left + u.bbox.width) return;
            const row = rows.findIndex((r) => r.every(([a, b]) => x0 + w + pad < a || x0 > b + pad));
            if (row < 0) return;
            rows[row].push([x0, x0 + w]);
            ctx.textAlign = 'left';
            const y = u.bbox.top + 14 * (row + 1) * dpr;
            // On a patch of the background, so a data line under the label does not cross its text.
            ctx.fillStyle = c.background;
            ctx.fillRect(x0 - 2 * dpr, y - 11 * dpr, w + 4 * dpr, 14 * dpr);
            ctx.fillStyle = c.marker;
            ctx.fillText(m.label, x0, y);
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
    // As many decimals as the tick spacing needs: 0.0002 steps print 0.0002, 0.0004, not 0, 0.
    values: (_u, vals, _ax, _space, incr) => vals.map((v) => tickText(v, incr)),
    // Grid and ticks hairline and subdued (colorMath.chartColors), under the 2 px data lines.
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid, width: 1 },
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

/**
 * Bars of one whole-pixel width each, centred on their x values: uPlot's own bars round
 * every bar separately (widths differ by a pixel) and, with the default x range, cut the
 * first and last bar in half at the plot edges; use with `barScale` so every bar is inside.
 */
export const barsPath =
  (size = 0.8): uPlot.Series.PathBuilder =>
  (u, si, i0, i1) => {
    const xs = u.data[0];
    const ys = u.data[si] as (number | null | undefined)[];
    const n = xs.length;
    const p = new Path2D();
    if (!n) return { stroke: p, fill: p };
    const slot = n > 1 ? Math.abs(u.valToPos(xs[n - 1], 'x', true) - u.valToPos(xs[0], 'x', true)) / (n - 1) : u.bbox.width;
    const w = Math.max(1, Math.floor(slot * size));
    const yMin = u.scales.y?.min ?? 0;
    const y0 = Math.round(u.valToPos(Math.max(yMin, 0), 'y', true));
    for (let i = i0; i <= i1; i++) {
      const v = ys[i];
      if (v == null || !Number.isFinite(v)) continue;
      const left = Math.round(u.valToPos(xs[i], 'x', true) - w / 2);
      const top = Math.round(u.valToPos(v, 'y', true));
      p.rect(left, Math.min(top, y0), w, Math.abs(y0 - top));
    }
    return { stroke: p, fill: p };
  };

/** An x scale with half a bar slot on each side of the first and last bar centre. */
export function barScale(): uPlot.Scale {
  return {
    time: false,
    range: (u, min, max) => {
      const n = u.data[0]?.length ?? 0;
      const d = n > 1 ? (max - min) / (n - 1) : 1;
      return [min - d / 2, max + d / 2];
    },
  };
}

/** Tooltip x of a step histogram whose x data are the bin edges (the last edge repeats the last bin). */
export const edgeBinX =
  (digits = 2) =>
  (u: uPlot, idx: number): string => {
    const xs = u.data[0] as number[];
    const i = Math.min(idx, xs.length - 2);
    return i < 0 ? String(xs[0]) : binText(xs[i], xs[i + 1], digits);
  };

/** Tooltip x of bars drawn at bin centres (equal widths): the bin's range. */
export const centreBinX =
  (digits = 3) =>
  (u: uPlot, idx: number): string => {
    const xs = u.data[0] as number[];
    const half = xs.length > 1 ? (xs[1] - xs[0]) / 2 : 0;
    return binText(xs[idx] - half, xs[idx] + half, digits);
  };

/** Centres of histogram bins, from their edges. */
export function binCentres(edges: readonly number[]): number[] {
  return edges.slice(0, -1).map((e, i) => (e + edges[i + 1]) / 2);
}

function lastFinite(xs: (number | null | undefined)[] | undefined): number | null {
  if (!xs) return null;
  for (let i = xs.length - 1; i >= 0; i--) {
    const v = xs[i];
    if (v != null && Number.isFinite(v)) return v;
  }
  return null;
}

export function tickText(v: number | null, incr: number): string {
  if (v == null || !Number.isFinite(v)) return '';
  // The decimals the step itself has (0.25 -> 2, 0.0002 -> 4, 5 -> 0).
  let decimals = 2;
  if (Number.isFinite(incr) && incr > 0) {
    decimals = 0;
    while (decimals < 8 && Math.abs(Math.round(incr * 10 ** decimals) - incr * 10 ** decimals) > 1e-6 * incr * 10 ** decimals) decimals++;
  }
  const a = Math.abs(v);
  if (a >= 1e5 || (a !== 0 && decimals > 6)) return v.toExponential(1);
  return v.toFixed(decimals);
}

export function defaultFormat(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(+v.toPrecision(3));
}

export const percentFormat = (v: number): string => `${(v * 100).toFixed(1)}%`;
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
