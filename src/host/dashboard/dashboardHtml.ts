// The dashboard's HTML shell: strict CSP with a per-load nonce, scripts, styles and the
// codicon font only from the extension's dist/webview folder (asWebviewUri; font-src
// allows the webview's source), theming via --vscode-* vars.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function dashboardHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const base = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(base, 'dashboard.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(base, 'dashboard.css'));
  // Its own file with this id: vscode-elements' icons copy the sheet with this id into their shadow roots.
  const codicons = webview.asWebviewUri(vscode.Uri.joinPath(base, 'codicon.css'));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${codicons}" nonce="${nonce}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${style}" nonce="${nonce}">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="placeholder">Loading run…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
