// The compact "Active Run" webview view in the RegLens sidebar: the key numbers of the
// running run (or the newest one) and the one-sentence verdict. Static HTML with no script
// at all (CSP default-src 'none'), re-rendered on changes at most twice a second.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EngineEvent } from '../../protocol/engineMessages';
import type { RunView } from '../../protocol/webviewMessages';
import { verdict } from '../../../webview/dashboard/viewModel';
import type { Ctx } from '../ctx';
import type { RunManager } from '../runs/runManager';

export const summaryViewId = 'reglens.summary';

export class SummaryView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The run last opened in a dashboard: shown when nothing is running. */
  focusRunId: string | undefined;
  /** Test hook: the run id and text last rendered. */
  lastRendered: { runId: string | undefined; text: string } = { runId: undefined, text: '' };

  constructor(
    private readonly ctx: Ctx,
    private readonly runs: RunManager,
  ) {
    this.disposables.push(runs.onDidChange(() => this.schedule()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: false, enableCommandUris: ['reglens.openRun', 'reglens.openDashboard'], localResourceRoots: [] };
    this.disposables.push(view.onDidChangeVisibility(() => view.visible && this.schedule()));
    void this.render();
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.render();
    }, 500);
  }

  private async pickRun(): Promise<RunView | undefined> {
    const running = this.runs.runningRuns();
    const id = running[running.length - 1]?.id ?? this.focusRunId;
    if (id) {
      const v = await this.runs.view(id);
      if (v) return v;
    }
    const dirs = (vscode.workspace.workspaceFolders ?? []).map((f) => this.ctx.config.runsDirectory(f.uri).fsPath);
    const newest = (await this.runs.list(dirs).catch(() => []))[0];
    return newest ? this.runs.view(newest.id) : undefined;
  }

  private async render(): Promise<void> {
    if (!this.view || !this.view.visible) return;
    const run = await this.pickRun();
    const nonce = randomBytes(16).toString('base64');
    const body = run ? runHtml(run) : '<p class="muted">No runs yet. <a href="command:reglens.runExperiment">Run an experiment</a>.</p>';
    this.lastRendered = { runId: run?.id, text: body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() };
    this.view.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'">
<style nonce="${nonce}">
body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 4px 8px; }
h2 { font-size: 1.05em; margin: 4px 0; } .muted { color: var(--vscode-descriptionForeground); }
dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 6px 0; } dt { color: var(--vscode-descriptionForeground); } dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; }
a { color: var(--vscode-textLink-foreground); } .verdict { margin: 6px 0; }
progress { width: 100%; accent-color: var(--vscode-progressBar-background); }
</style></head><body>${body}</body></html>`;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function runHtml(run: RunView): string {
  let last: Extract<EngineEvent, { type: 'epoch' }> | undefined;
  let backend = '';
  for (const e of run.events) {
    if (e.type === 'epoch') last = e;
    else if (e.type === 'started') backend = e.backend;
  }
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const epoch = last?.epoch ?? 0;
  const open = `command:reglens.openRun?${encodeURIComponent(JSON.stringify([run.id]))}`;
  return `<h2>${esc(run.name)}</h2>
<p class="muted">${esc(run.status)}${backend ? ` · ${esc(backend)}` : ''}</p>
<progress max="${run.totalEpochs || 1}" value="${epoch}" aria-label="epoch ${epoch} of ${run.totalEpochs}"></progress>
<dl aria-label="Key numbers">
<dt>Epoch</dt><dd>${epoch} / ${run.totalEpochs}</dd>
<dt>Clean train</dt><dd>${pct(last?.accuracy.cleanTrain)}</dd>
<dt>Corrupted (fitted)</dt><dd>${pct(last?.accuracy.corruptedTrain)}</dd>
<dt>Test</dt><dd>${pct(last?.accuracy.test)}</dd>
</dl>
<p class="verdict">${esc(verdict(last?.accuracy, run.status))}</p>
<p><a href="${open}">Open dashboard</a></p>`;
}
