// Pure colour math for the dashboard (no DOM): parsing the CSS colours VS Code puts in its
// --vscode-* variables, compositing translucent ones over the background they are drawn on,
// WCAG contrast, and picking the chart colours of a theme. Unit-tested in
// test/unit/webview/colorMath.test.ts; theme.ts feeds it the live variables.

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0..1 */
  a: number;
}

/** #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba() (comma or space syntax); undefined otherwise. */
export function parseColor(css: string | undefined): Rgba | undefined {
  if (!css) return undefined;
  const s = css.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,8})$/.exec(s);
  if (hex) {
    let h = hex[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((d) => d + d).join('');
    if (h.length !== 6 && h.length !== 8) return undefined;
    const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: h.length === 8 ? n(6) / 255 : 1 };
  }
  const fn = /^rgba?\(([^)]*)\)$/.exec(s);
  if (fn) {
    const parts = fn[1].split(/[\s,/]+/).filter(Boolean);
    if (parts.length < 3) return undefined;
    const ch = (p: string) => (p.endsWith('%') ? (parseFloat(p) * 255) / 100 : parseFloat(p));
    const alpha = parts[3] === undefined ? 1 : parts[3].endsWith('%') ? parseFloat(parts[3]) / 100 : parseFloat(parts[3]);
    const c = { r: ch(parts[0]), g: ch(parts[1]), b: ch(parts[2]), a: alpha };
    return [c.r, c.g, c.b, c.a].every(Number.isFinite) ? c : undefined;
  }
  if (s === 'transparent') return { r: 0, g: 0, b: 0, a: 0 };
  return undefined;
}

/** `top` drawn over an opaque `bottom` (source-over). */
export function composite(top: Rgba, bottom: Rgba): Rgba {
  const a = Math.min(1, Math.max(0, top.a));
  return { r: top.r * a + bottom.r * (1 - a), g: top.g * a + bottom.g * (1 - a), b: top.b * a + bottom.b * (1 - a), a: 1 };
}

export function toCss(c: Rgba): string {
  const ch = (v: number) => Math.round(Math.min(255, Math.max(0, v)));
  return c.a >= 1 ? `rgb(${ch(c.r)}, ${ch(c.g)}, ${ch(c.b)})` : `rgba(${ch(c.r)}, ${ch(c.g)}, ${ch(c.b)}, ${+c.a.toFixed(3)})`;
}

/** WCAG 2 relative luminance of an opaque colour. */
export function luminance(c: Rgba): number {
  const lin = (v: number) => {
    const x = Math.min(255, Math.max(0, v)) / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/** WCAG contrast ratio (1..21) of `fg` over the opaque `bg`; a translucent fg is composited first. */
export function contrast(fg: Rgba, bg: Rgba): number {
  const f = fg.a < 1 ? composite(fg, bg) : fg;
  const l1 = luminance(f);
  const l2 = luminance(bg);
  return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
}

/** Linear mix: t = 0 gives a, t = 1 gives b. */
export function mix(a: Rgba, b: Rgba, t: number): Rgba {
  return { r: a.r + (b.r - a.r) * t, g: a.g + (b.g - a.g) * t, b: a.b + (b.b - a.b) * t, a: a.a + (b.a - a.a) * t };
}

/**
 * The opaque colour a theme colour shows as on `bg`, moved toward black (on a light
 * background) or white (on a dark one) just far enough to reach `min` contrast. Why: Light
 * and Dark Modern define the chart colours with alpha 0.33 (charts-orange is
 * rgba(234, 92, 0, 0.33)), which over white composites to a 1.5:1 peach; WCAG 1.4.11 asks
 * 3:1 for graphics (4.5:1 for text), so a line a reader must follow is darkened or lightened
 * until it reaches that, keeping its hue as far as possible.
 */
export function readableOn(color: Rgba, bg: Rgba, min: number): Rgba {
  const first = composite(color, bg);
  if (contrast(first, bg) >= min) return round8(first);
  // First less transparency (the theme's own hue at full strength, not a greyed mix), then,
  // if the opaque colour is still too faint, toward black or white.
  if (color.a < 1) {
    const opaque = { ...color, a: 1 };
    if (contrast(opaque, bg) >= min) {
      let lo = color.a;
      let hi = 1;
      for (let i = 0; i < 24; i++) {
        const mid = (lo + hi) / 2;
        if (contrast(composite({ ...color, a: mid }, bg), bg) >= min) hi = mid;
        else lo = mid;
      }
      const c = round8(composite({ ...color, a: hi }, bg));
      return contrast(c, bg) >= min ? c : round8(composite({ ...color, a: Math.min(1, hi + 0.02) }, bg));
    }
  }
  const base = composite({ ...color, a: 1 }, bg);
  const target: Rgba = luminance(bg) > 0.18 ? { r: 0, g: 0, b: 0, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
  // Contrast grows monotonically along the mix toward the extreme: bisect for the smallest step.
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 24; i++) {
    const mid = (lo + hi) / 2;
    if (contrast(mix(base, target, mid), bg) >= min) hi = mid;
    else lo = mid;
  }
  const out = mix(base, target, hi);
  // Rounding to 8-bit channels can land a hair under the threshold: step once more.
  const rounded = round8(out);
  return contrast(rounded, bg) >= min ? rounded : round8(mix(base, target, Math.min(1, hi + 0.02)));
}

function round8(c: Rgba): Rgba {
  return { r: Math.round(c.r), g: Math.round(c.g), b: Math.round(c.b), a: 1 };
}

/** The raw theme values chart colours are chosen from (CSS strings as VS Code sets them). */
export interface ThemeInputs {
  background: string | undefined;
  foreground: string | undefined;
  red: string | undefined;
  orange: string | undefined;
  yellow: string | undefined;
  green: string | undefined;
  blue: string | undefined;
  purple: string | undefined;
  /** --vscode-charts-lines: VS Code's colour for chart grid and axis lines. */
  lines: string | undefined;
  /** --vscode-charts-foreground */
  chartsForeground: string | undefined;
}

export interface ChartColors {
  background: string;
  foreground: string;
  grid: string;
  clean: string;
  corrupted: string;
  test: string;
  loss: string;
  /** Marker lines and their text labels (text: held to 4.5:1). */
  marker: string;
  /** Per-run colours in compare mode, all distinct, all >= 3:1. */
  palette: string[];
  /** Status badge outlines and icons (graphics, >= 3:1): finished, cancelled, failed. */
  ok: string;
  warn: string;
  err: string;
}

/** Minimum contrast of a data line (WCAG non-text) and of text on the chart background. */
export const SERIES_MIN_CONTRAST = 3;
export const TEXT_MIN_CONTRAST = 4.5;

const FALLBACK = {
  background: '#1e1e1e',
  foreground: '#cccccc',
  red: '#f14c4c',
  orange: '#d18616',
  yellow: '#cca700',
  green: '#89d185',
  blue: '#3794ff',
  purple: '#b180d7',
} as const;

/**
 * The dashboard's chart colours for one theme: every series opaque and >= 3:1 against the
 * background, the corrupted-train series (the one RegLens exists for) the strongest of them,
 * grid lines subdued (a faint mix of the foreground, never at data-line strength, also in
 * high contrast where charts-lines is a bright border colour).
 */
export function chartColors(t: ThemeInputs): ChartColors {
  const bg = composite(parseColor(t.background) ?? parseColor(FALLBACK.background)!, { r: 0, g: 0, b: 0, a: 1 });
  const fgRaw = parseColor(t.foreground) ?? parseColor(FALLBACK.foreground)!;
  const fg = readableOn(fgRaw, bg, TEXT_MIN_CONTRAST);
  const hue = (name: keyof typeof FALLBACK & keyof ThemeInputs) => readableOn(parseColor(t[name]) ?? parseColor(FALLBACK[name])!, bg, SERIES_MIN_CONTRAST);
  const hues = {
    red: hue('red'),
    orange: hue('orange'),
    yellow: hue('yellow'),
    green: hue('green'),
    blue: hue('blue'),
    purple: hue('purple'),
  };
  type Hue = keyof typeof hues;
  const names = Object.keys(hues) as Hue[];
  // Corrupted train keeps a warm hue (the "alarm" colour readers expect), the strongest of
  // red / orange / yellow, and is pushed further from the background until no other series
  // stands out more: it is the line the dashboard exists for.
  const warm: Hue[] = ['orange', 'red', 'yellow'];
  const strongest = warm.reduce((best, n) => (contrast(hues[n], bg) > contrast(hues[best], bg) ? n : best), warm[0]);
  const taken = new Set<Hue>([strongest]);
  const take = (...prefs: Hue[]): Hue => {
    const n = prefs.find((p) => !taken.has(p)) ?? names.find((p) => !taken.has(p)) ?? prefs[0];
    taken.add(n);
    return n;
  };
  const clean = take('blue', 'green');
  const test = take('purple', 'green', 'yellow');
  const others = Math.max(contrast(hues[clean], bg), contrast(hues[test], bg));
  if (contrast(hues[strongest], bg) < others) hues[strongest] = readableOn(hues[strongest], bg, Math.min(21, others + 0.05));
  const marker = readableOn(hues[names.includes('red') && strongest !== 'red' ? 'red' : 'orange'], bg, TEXT_MIN_CONTRAST);
  const loss = readableOn(parseColor(t.chartsForeground) ?? fgRaw, bg, SERIES_MIN_CONTRAST);
  // Grid: 20% of the way from the background to the foreground (charts-lines is often a
  // translucent grey; in high contrast it is the bright border colour at full strength).
  const linesRaw = parseColor(t.lines);
  const gridBase = linesRaw && linesRaw.a < 1 ? composite(linesRaw, bg) : fg;
  const grid = contrast(gridBase, bg) > 1.6 ? mix(bg, gridBase, 0.3) : gridBase;
  // Compare palette: stable order, the strongest first (run 0 is usually the baseline).
  const order: Hue[] = [strongest, 'blue', 'green', 'purple', 'red', 'orange', 'yellow'].filter((n, i, a) => a.indexOf(n) === i) as Hue[];
  return {
    background: toCss(bg),
    foreground: toCss(fg),
    grid: toCss(round8(grid)),
    clean: toCss(hues[clean]),
    corrupted: toCss(hues[strongest]),
    test: toCss(hues[test]),
    loss: toCss(loss),
    marker: toCss(marker),
    // Themes may give two hues one value (high contrast): one entry each, so runs never share a colour.
    palette: [...new Set([...order.map((n) => toCss(hues[n])), toCss(loss)])],
    ok: toCss(hues.green),
    warn: toCss(hues.yellow),
    err: toCss(hues.red),
  };
}
