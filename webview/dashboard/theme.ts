// Chart colours come from the VS Code theme. The three accuracy series also differ by
// dash pattern, so they stay distinguishable for colour-blind users and in high contrast.
export interface ThemeColors {
  foreground: string;
  grid: string;
  clean: string;
  corrupted: string;
  test: string;
  loss: string;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function themeColors(): ThemeColors {
  return {
    foreground: cssVar('--vscode-foreground', '#cccccc'),
    grid: cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)'),
    clean: cssVar('--vscode-charts-blue', '#3794ff'),
    corrupted: cssVar('--vscode-charts-orange', '#d18616'),
    test: cssVar('--vscode-charts-purple', '#b180d7'),
    loss: cssVar('--vscode-charts-foreground', '#cccccc'),
  };
}
