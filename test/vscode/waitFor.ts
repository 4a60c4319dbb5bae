// Tests wait for conditions and events, never for a fixed time.
import * as vscode from 'vscode';

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    // Poll on the next diagnostics/editor tick rather than a long fixed sleep.
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves when the diagnostics of `uri` satisfy `pred` (event-driven, with a deadline). */
export function waitForDiagnostics(
  uri: vscode.Uri,
  pred: (d: readonly vscode.Diagnostic[]) => boolean,
  timeoutMs = 30_000,
): Promise<readonly vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const d = vscode.languages.getDiagnostics(uri);
      if (pred(d)) {
        sub.dispose();
        clearTimeout(timer);
        resolve(d);
        return true;
      }
      return false;
    };
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for diagnostics on ${uri.fsPath}: ${JSON.stringify(vscode.languages.getDiagnostics(uri).map((x) => x.message))}`));
    }, timeoutMs);
    check();
  });
}

export function workspaceUri(rel: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests need a workspace folder');
  return vscode.Uri.joinPath(folder.uri, rel);
}

export async function extensionApi<T>(): Promise<T> {
  const ext = vscode.extensions.getExtension<T>('reglens.reglens');
  if (!ext) throw new Error('extension reglens.reglens is not installed');
  return ext.isActive ? ext.exports : await ext.activate();
}
