// What a chart's tooltip says at one data point, and where the keyboard moves it. Pure (no
// DOM, no uPlot), so the wording and the key handling are unit-tested.

export interface TooltipSeries {
  label: string;
  /** The value at the point, already formatted ('–' or undefined when the series has none there). */
  value: string | undefined;
}

/**
 * "epoch 12: clean train 95.1%, corrupted train 34.0%, test 80.2%": the x value named by
 * the x series' label, then each series with a value at that point. Series without one are
 * left out; undefined when no series has a value (nothing to say).
 */
export function tooltipText(xName: string, xText: string, series: readonly TooltipSeries[]): string | undefined {
  const parts = series.filter((s) => s.value !== undefined && s.value !== '–' && s.value !== '').map((s) => `${s.label} ${s.value}`);
  if (!parts.length) return undefined;
  return `${xName} ${xText}: ${parts.join(', ')}`;
}

/** A histogram bin as text: "0.450–0.480". */
export function binText(lo: number, hi: number, digits = 3): string {
  return `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
}

/**
 * The data index a key moves the tooltip to among `n` points (undefined: the key is not
 * ours). No point yet: the first arrow press starts at the last point (where a curve ends).
 */
export function nextIndex(key: string, idx: number | null | undefined, n: number): number | undefined {
  if (n <= 0) return undefined;
  const at = idx ?? n - 1;
  const page = Math.max(1, Math.round(n / 10));
  switch (key) {
    case 'ArrowLeft':
      return idx == null ? n - 1 : Math.max(0, at - 1);
    case 'ArrowRight':
      return idx == null ? n - 1 : Math.min(n - 1, at + 1);
    case 'PageUp':
      return Math.max(0, at - page);
    case 'PageDown':
      return Math.min(n - 1, at + page);
    case 'Home':
      return 0;
    case 'End':
      return n - 1;
    default:
      return undefined;
  }
}
