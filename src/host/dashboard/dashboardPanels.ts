// One dashboard panel per run. The host owns run state: a panel gets a snapshot when its
// webview says `ready` and increments after that. Panels survive a window reload through
// the WebviewPanelSerializer, which reads the run id the webview saved with setState.
import * as vscode from 'vscode';
import { DashboardStateSchema, parseWebviewToHost, type HostToWebview } from '../../protocol/webviewMessages';
import type { Ctx } from '../ctx';
import type { RunManager } from '../runs/runManager';
import { dashboardHtml } from './dashboardHtml';

export const dashboardViewType = 'reglens.dashboard';

export class DashboardPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly runs: RunManager,
  ) {
    this.disposables.push(
      runs.onDidChange((change) => {
        const panel = this.panels.get(change.runId);
        if (!panel) return;
        const msg: HostToWebview =
          change.kind === 'events'
            ? { type: 'events', runId: change.runId, events: change.events }
            : { type: 'status', runId: change.runId, status: change.status, error: change.error };
        void panel.webview.postMessage(msg);
      }),
      vscode.window.registerWebviewPanelSerializer(dashboardViewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const parsed = DashboardStateSchema.safeParse(state);
          if (!parsed.success) {
            panel.dispose();
            return;
          }
          await this.findRun(parsed.data.runId);
          this.attach(panel, parsed.data.runId);
        },
      }),
    );
  }

  /** Test hook and status query: the run ids that have an open dashboard. */
  openRunIds(): string[] {
    return [...this.panels.keys()];
  }

  async show(runId: string): Promise<void> {
    const existing = this.panels.get(runId);
    if (existing) {
      existing.reveal();
      return;
    }
    const view = await this.runs.view(runId);
    const panel = vscode.window.createWebviewPanel(
      dashboardViewType,
      `RegLens: ${view?.name ?? runId}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      this.webviewOptions(),
    );
    this.attach(panel, runId);
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      // Only the bundle folder: the webview can load nothing else from disk.
      localResourceRoots: [vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview')],
    };
  }

  private attach(panel: vscode.WebviewPanel, runId: string): void {
    this.panels.set(runId, panel);
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'reglens.svg');
    panel.webview.html = dashboardHtml(panel.webview, this.ctx.extension.extensionUri, panel.title);
    const subs: vscode.Disposable[] = [];
    subs.push(
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        const msg = parseWebviewToHost(raw);
        if (!msg) {
          this.ctx.output.warn(`ignored a malformed message from the dashboard: ${JSON.stringify(raw)?.slice(0, 200)}`);
          return;
        }
        switch (msg.type) {
          case 'ready': {
            const view = await this.runs.view(runId);
            const reply: HostToWebview = view
              ? { type: 'snapshot', run: view }
              : { type: 'missing', runId, message: `Run ${runId} is no longer on disk.` };
            if (view) panel.title = `RegLens: ${view.name}`;
            void panel.webview.postMessage(reply);
            break;
          }
          case 'stop':
            if (msg.runId === runId) this.runs.cancel(runId);
            break;
          case 'revealFolder': {
            const dir = this.runs.folderOf(msg.runId);
            if (dir) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dir));
            break;
          }
        }
      }),
      panel.onDidDispose(() => {
        if (this.panels.get(runId) === panel) this.panels.delete(runId);
        for (const s of subs) s.dispose();
      }),
    );
  }

  /** After a reload the manager has not listed runs yet: look the id up in every runs folder. */
  private async findRun(runId: string): Promise<void> {
    if (this.runs.folderOf(runId)) return;
    const dirs = (vscode.workspace.workspaceFolders ?? []).map((f) => this.ctx.config.runsDirectory(f.uri).fsPath);
    await this.runs.list(dirs);
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
