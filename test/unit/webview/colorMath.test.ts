import * as assert from 'node:assert/strict';
import { chartColors, composite, contrast, parseColor, readableOn, SERIES_MIN_CONTRAST, TEXT_MIN_CONTRAST, type ThemeInputs } from '../../../webview/dashboard/colorMath';

const white = parseColor('#ffffff')!;
const dark = parseColor('#1f1f1f')!;

// The chart colours as Light / Dark Modern deliver them (translucent, alpha 0.33, as the
// issue measured for charts-orange), and the high-contrast themes (opaque, bright borders).
const translucent = (bg: string, fg: string): ThemeInputs => ({
  background: bg,
  foreground: fg,
  red: 'rgba(229, 20, 0, 0.33)',
  orange: 'rgba(234, 92, 0, 0.33)',
  yellow: 'rgba(191, 136, 3, 0.33)',
  green: 'rgba(56, 138, 52, 0.33)',
  blue: 'rgba(26, 133, 255, 0.33)',
  purple: 'rgba(101, 45, 144, 0.33)',
  lines: 'rgba(128, 128, 128, 0.5)',
  chartsForeground: fg,
});
const themes: Record<string, ThemeInputs> = {
  'Light Modern': translucent('#ffffff', '#3b3b3b'),
  'Dark Modern': translucent('#1f1f1f', '#cccccc'),
  'Dark High Contrast': { background: '#000000', foreground: '#ffffff', red: '#f14c4c', orange: '#d18616', yellow: '#cca700', green: '#89d185', blue: '#3794ff', purple: '#b180d7', lines: '#6fc3df', chartsForeground: '#ffffff' },
  'Light High Contrast': { background: '#ffffff', foreground: '#292929', red: '#b5200d', orange: '#b5200d', yellow: '#895503', green: '#388a34', blue: '#0f4a85', purple: '#652d90', lines: '#0f4a85', chartsForeground: '#292929' },
};

describe('dashboard colour math', () => {
  it('parses the colour syntaxes VS Code writes into its variables', () => {
    assert.deepEqual(parseColor('#abc'), { r: 170, g: 187, b: 204, a: 1 });
    assert.deepEqual(parseColor('#11223380'), { r: 17, g: 34, b: 51, a: 128 / 255 });
    assert.deepEqual(parseColor('rgba(234, 92, 0, 0.33)'), { r: 234, g: 92, b: 0, a: 0.33 });
    assert.deepEqual(parseColor('rgb(1 2 3 / 50%)'), { r: 1, g: 2, b: 3, a: 0.5 });
    assert.equal(parseColor('var(--x)'), undefined);
    assert.equal(parseColor(''), undefined);
  });

  it('reproduces the defect the issue measured: translucent orange over white is 1.5:1, over #1f1f1f 1.55:1', () => {
    const orange = parseColor('rgba(234, 92, 0, 0.33)')!;
    const onWhite = composite(orange, white);
    assert.deepEqual([onWhite.r, onWhite.g, onWhite.b].map(Math.round), [248, 201, 171]);
    assert.ok(Math.abs(contrast(onWhite, white) - 1.51) < 0.02);
    assert.ok(Math.abs(contrast(composite(orange, dark), dark) - 1.55) < 0.03);
  });

  it('makes a colour readable by darkening on light and lightening on dark, keeping its hue', () => {
    const orange = parseColor('rgba(234, 92, 0, 0.33)')!;
    for (const bg of [white, dark]) {
      const c = readableOn(orange, bg, 3);
      assert.equal(c.a, 1);
      assert.ok(contrast(c, bg) >= 3, `contrast ${contrast(c, bg)}`);
      assert.ok(contrast(c, bg) < 3.4, 'no further than needed');
      assert.ok(c.r > c.g && c.g > c.b, `still orange: ${JSON.stringify(c)}`);
    }
    // A colour already readable is left as it is.
    assert.deepEqual(readableOn(parseColor('#0000ff')!, white, 3), { r: 0, g: 0, b: 255, a: 1 });
  });

  for (const [name, t] of Object.entries(themes)) {
    it(`${name}: every series >= 3:1, text and markers >= 4.5:1, corrupted the strongest, grid subdued`, () => {
      const c = chartColors(t);
      const bg = parseColor(c.background)!;
      const series = { clean: c.clean, corrupted: c.corrupted, test: c.test, loss: c.loss };
      for (const [k, v] of Object.entries(series)) assert.ok(contrast(parseColor(v)!, bg) >= SERIES_MIN_CONTRAST, `${k} ${v}: ${contrast(parseColor(v)!, bg).toFixed(2)}`);
      for (const v of c.palette) assert.ok(contrast(parseColor(v)!, bg) >= SERIES_MIN_CONTRAST, `palette ${v}`);
      assert.equal(new Set(c.palette).size, c.palette.length, 'compare colours are distinct');
      for (const v of [c.foreground, c.marker]) assert.ok(contrast(parseColor(v)!, bg) >= TEXT_MIN_CONTRAST, `text ${v}`);
      const k = (v: string) => contrast(parseColor(v)!, bg);
      for (const v of [c.clean, c.test]) assert.ok(k(c.corrupted) >= k(v), `corrupted ${c.corrupted} (${k(c.corrupted).toFixed(2)}) vs ${v} (${k(v).toFixed(2)})`);
      assert.ok(new Set([c.clean, c.corrupted, c.test]).size === 3, 'three distinct accuracy colours');
      assert.ok(k(c.grid) > 1.1 && k(c.grid) < SERIES_MIN_CONTRAST, `grid ${c.grid} ${k(c.grid).toFixed(2)} must be visible but under the data lines`);
    });
  }

  it('falls back to a readable dark palette outside VS Code (no variables)', () => {
    const c = chartColors({ background: undefined, foreground: undefined, red: undefined, orange: undefined, yellow: undefined, green: undefined, blue: undefined, purple: undefined, lines: undefined, chartsForeground: undefined });
    assert.ok(contrast(parseColor(c.corrupted)!, parseColor(c.background)!) >= 3);
  });
});
