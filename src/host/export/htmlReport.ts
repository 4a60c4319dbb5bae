// A self-contained HTML report of one run: the dashboard bundle, its CSS and the run's
// events inlined into one file that opens in any browser without VS Code. A small stub
// plays the webview host (answers `ready` with the snapshot; PNG buttons download).
// Pure (no 'vscode' import) so it is unit-tested in mocha.
import type { RunView } from '../../protocol/webviewMessages';

export interface ReportAssets {
  /** dist/webview/dashboard.js */
  script: string;
  /** dist/webview/dashboard.css */
  css: string;
}

/** JSON that is safe inside a <script> element: no "</script", no "<!--". */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Outside VS Code there are no --vscode-* variables: a light and a dark palette that follow
// the reader's system setting, with the same names the dashboard reads.
const themeCss = `
body { --vscode-font-family: system-ui, -apple-system, "Segoe UI", sans-serif; --vscode-font-size: 14px; --vscode-editor-font-family: ui-monospace, monospace;
  --vscode-foreground: #1f1f1f; --vscode-editor-background: #ffffff; --vscode-descriptionForeground: #5f5f5f; --vscode-editorWidget-border: #d0d0d0;
  --vscode-widget-border: #d0d0d0; --vscode-panel-border: #d0d0d0; --vscode-focusBorder: #005fb8; --vscode-textLink-foreground: #005fb8;
  --vscode-charts-blue: #1a85ff; --vscode-charts-orange: #d18616; --vscode-charts-purple: #652d90; --vscode-charts-green: #388a34; --vscode-charts-red: #e51400;
  --vscode-charts-yellow: #bf8803; --vscode-charts-foreground: #1f1f1f; --vscode-errorForeground: #e51400; --vscode-editorWarning-foreground: #bf8803;
  --vscode-badge-background: #005fb8; --vscode-badge-foreground: #ffffff; --vscode-button-background: #005fb8; --vscode-button-foreground: #ffffff;
  --vscode-button-secondaryBackground: #e5e5e5; --vscode-button-secondaryForeground: #1f1f1f; }
@media (prefers-color-scheme: dark) {
  body { --vscode-foreground: #cccccc; --vscode-editor-background: #1f1f1f; --vscode-descriptionForeground: #9d9d9d; --vscode-editorWidget-border: #454545;
    --vscode-widget-border: #454545; --vscode-panel-border: #454545; --vscode-focusBorder: #0078d4; --vscode-textLink-foreground: #4daafc;
    --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-purple: #b180d7; --vscode-charts-green: #89d185; --vscode-charts-red: #f14c4c;
    --vscode-charts-yellow: #cca700; --vscode-charts-foreground: #cccccc; --vscode-button-secondaryBackground: #313131; --vscode-button-secondaryForeground: #cccccc; }
}`;

const stub = `
(function () {
  var run = JSON.parse(document.getElementById('reglens-run').textContent);
  function download(name, url) { var a = document.createElement('a'); a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove(); }
  window.acquireVsCodeApi = function () {
    return {
      postMessage: function (m) {
        if (m && m.type === 'ready') setTimeout(function () { window.postMessage({ type: 'snapshot', run: run }, '*'); }, 0);
        else if (m && m.type === 'savePng') download(run.id + '-' + m.chart + '.png', m.dataUrl);
      },
      setState: function () {},
      getState: function () { return undefined; }
    };
  };
})();`;

export function reportHtml(view: RunView, assets: ReportAssets, generatedAt = new Date()): string {
  // A status of "running" in a static file would offer a Stop that does nothing: say what it was.
  const run: RunView = { ...view };
  const script = assets.script.replace(/<\/script/gi, '<\\/script');
  const css = assets.css.replace(/<\/style/gi, '<\\/style');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="RegLens">
<title>RegLens report: ${escapeHtml(run.name)}</title>
<style>${themeCss}</style>
<style>${css}</style>
</head>
<body data-mode="report">
<main id="app" aria-live="polite"><p class="placeholder">Loading run… (this report needs JavaScript)</p></main>
<footer class="muted" style="margin-top:24px">RegLens report of run ${escapeHtml(run.id)}, generated ${escapeHtml(generatedAt.toISOString())}.</footer>
<script type="application/json" id="reglens-run">${scriptSafeJson(run)}</script>
<script>${stub}</script>
<script>${script}</script>
</body>
</html>
`;
}
