// Chart colours come from the VS Code theme (--vscode-charts-*), resolved by colorMath.ts to
// opaque colours readable on the background the charts are drawn on. Series also differ by
// dash pattern, so they stay distinguishable for colour-blind users and in high contrast.
// Outside VS Code (the exported report, the benchmark page) the fallbacks give a readable
// light-on-dark look.
import { chartColors, type ChartColors } from './colorMath';

export interface ThemeColors extends ChartColors {
  fontFamily: string;
}

function cssVar(name: string): string | undefined {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || undefined;
}

/** The colour the page is actually painted with (the body's), else the editor background variable. */
function pageBackground(): string | undefined {
  const bg = getComputedStyle(document.body).backgroundColor;
  return bg && bg !== 'transparent' && !/rgba\([^)]*,\s*0\)$/.test(bg) ? bg : cssVar('--vscode-editor-background');
}

export function themeColors(): ThemeColors {
  return {
    ...chartColors({
      background: pageBackground(),
      foreground: cssVar('--vscode-foreground'),
      red: cssVar('--vscode-charts-red'),
      orange: cssVar('--vscode-charts-orange'),
      yellow: cssVar('--vscode-charts-yellow'),
      green: cssVar('--vscode-charts-green'),
      blue: cssVar('--vscode-charts-blue'),
      purple: cssVar('--vscode-charts-purple'),
      lines: cssVar('--vscode-charts-lines'),
      chartsForeground: cssVar('--vscode-charts-foreground'),
    }),
    fontFamily: cssVar('--vscode-font-family') ?? 'system-ui, sans-serif',
  };
}

/** Dash patterns that tell series apart without colour. */
export const dashes: (number[] | undefined)[] = [undefined, [8, 4], [2, 3], [12, 4, 2, 4], [4, 4], [1, 6], [16, 6], [6, 2, 2, 2]];

/** The CSS border style closest to a canvas dash pattern (legend swatches). */
export function dashStyle(dash: number[] | undefined): 'solid' | 'dashed' | 'dotted' {
  if (!dash || dash.length === 0) return 'solid';
  return dash[0] <= 3 ? 'dotted' : 'dashed';
}
