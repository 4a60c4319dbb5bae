// Chart colours come from the VS Code theme. Series also differ by dash pattern, so they
// stay distinguishable for colour-blind users and in high contrast. Outside VS Code (the
// exported report, the benchmark page) the fallbacks give a readable light-on-dark look.
export interface ThemeColors {
  foreground: string;
  background: string;
  grid: string;
  clean: string;
  corrupted: string;
  test: string;
  loss: string;
  marker: string;
  fontFamily: string;
  /** Per-run colours for compare mode. */
  palette: string[];
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function themeColors(): ThemeColors {
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  const orange = cssVar('--vscode-charts-orange', '#d18616');
  const purple = cssVar('--vscode-charts-purple', '#b180d7');
  const green = cssVar('--vscode-charts-green', '#89d185');
  const red = cssVar('--vscode-charts-red', '#f14c4c');
  const yellow = cssVar('--vscode-charts-yellow', '#cca700');
  return {
    foreground: cssVar('--vscode-foreground', '#cccccc'),
    background: cssVar('--vscode-editor-background', '#1e1e1e'),
    grid: cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)'),
    clean: blue,
    corrupted: orange,
    test: purple,
    loss: cssVar('--vscode-charts-foreground', '#cccccc'),
    marker: red,
    fontFamily: cssVar('--vscode-font-family', 'system-ui, sans-serif'),
    palette: [blue, orange, green, purple, red, yellow, cssVar('--vscode-charts-foreground', '#cccccc'), cssVar('--vscode-charts-lines', '#888888')],
  };
}

/** Dash patterns that tell series apart without colour. */
export const dashes: (number[] | undefined)[] = [undefined, [8, 4], [2, 3], [12, 4, 2, 4], [4, 4], [1, 6], [16, 6], [6, 2, 2, 2]];
