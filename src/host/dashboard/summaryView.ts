// The compact "Active Run" webview view in the RegLens sidebar: the key numbers of the
// running run and the one-sentence verdict; "No run in progress" (and the last run of this
// window) otherwise. Opening a finished run's dashboard does not take this view over.
// Static HTML with no script at all (CSP default-src 'none'), rewritten at most every 200 ms.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EngineEvent } from '../../protocol/engineMessages';
import type { RunView } from '../../protocol/webviewMessages';
import { verdict } from '../../../webview/dashboard/viewModel';
import { percent } from '../../runs/runDescriptions';
import type { Ctx } from '../ctx';
import type { RunManager } from '../runs/runManager';

export const summaryViewId = 'reglens.summary';

export class SummaryView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastPush = 0;
  private readonly disposables: vscode.Disposable[] = [];
  /** Test hook: the run id, epoch and text last rendered. */
  lastRendered: { runId: string | undefined; epoch: number; text: string } = { runId: undefined, epoch: 0, text: '' };

  constructor(
    ctx: Ctx,
    private readonly runs: RunManager,
  ) {
    void ctx;
    // The same change event that feeds the dashboards: the text is computed at once from the
    // live run, so the view never trails the dashboard; only writing the HTML is throttled.
    this.disposables.push(runs.onDidChange(() => this.schedule()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: false, enableCommandUris: ['reglens.openRun', 'reglens.openDashboard', 'reglens.runExperiment'], localResourceRoots: [] };
    this.disposables.push(view.onDidChangeVisibility(() => view.visible && this.schedule()));
    this.schedule();
  }

  /** Recomputes the content now and writes it to the webview at most every 200 ms (leading and trailing). */
  schedule(): void {
    const body = this.content();
    if (this.timer) return;
    const wait = this.lastPush + pushIntervalMs - Date.now();
    if (wait <= 0) this.push(body);
    else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.push(this.content());
      }, wait);
    }
  }

  /** Active Run shows the running run (the newest if several), else says none is in progress. */
  private content(): string {
    const running = this.runs.runningRuns();
    const live = running[running.length - 1];
    const run = live;
    let body: string;
    let epoch = 0;
    if (run) {
      epoch = lastEpoch(run)?.epoch ?? 0;
      body = runHtml(run, running.length);
    } else {
      const last = this.runs.newestLiveRun();
      body = `<p>No run in progress.</p>${last ? endedHtml(last) : '<p class="muted"><a href="command:reglens.runExperiment">Run an experiment</a> to follow it here.</p>'}`;
    }
    this.lastRendered = { runId: run?.id, epoch, text: body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() };
    return body;
  }

  private push(body: string): void {
    if (!this.view || !this.view.visible) return;
    this.lastPush = Date.now();
    const nonce = randomBytes(16).toString('base64');
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

const pushIntervalMs = 200;

/** What the view shows of a run (a live run, read in place: no copy per event). */
type ShownRun = Pick<RunView, 'id' | 'name' | 'status' | 'totalEpochs' | 'events'>;

function lastEpoch(run: ShownRun): Extract<EngineEvent, { type: 'epoch' }> | undefined {
  for (let i = run.events.length - 1; i >= 0; i--) {
    const e = run.events[i];
    if (e.type === 'epoch') return e;
  }
  return undefined;
}

function openLink(runId: string): string {
  return `command:reglens.openRun?${encodeURIComponent(JSON.stringify([runId]))}`;
}

/** One line on the run this window ran last, once nothing runs. */
function endedHtml(run: ShownRun): string {
  const last = lastEpoch(run);
  const numbers = last ? ` · test ${percent(last.accuracy.test)}` : '';
  return `<p class="muted">Last run: <a href="${openLink(run.id)}">${esc(run.name)}</a>, ${esc(run.status)} at epoch ${last?.epoch ?? 0} / ${run.totalEpochs}${numbers}.</p>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function runHtml(run: ShownRun, running: number): string {
  const last = lastEpoch(run);
  let backend = '';
  const started = run.events.find((e) => e.type === 'started');
  if (started?.type === 'started') backend = started.backend;
  const epoch = last?.epoch ?? 0;
  const others = running > 1 ? ` · ${running - 1} more running` : '';
  return `<h2>${esc(run.name)}</h2>
<p class="muted">${esc(run.status)}${backend ? ` · ${esc(backend)}` : ' · starting'}${others}</p>
<progress max="${run.totalEpochs || 1}" value="${epoch}" aria-label="epoch ${epoch} of ${run.totalEpochs}"></progress>
<dl aria-label="Key numbers">
<dt>Epoch</dt><dd>${epoch} / ${run.totalEpochs}</dd>
<dt>Clean train</dt><dd>${percent(last?.accuracy.cleanTrain)}</dd>
<dt>Corrupted (fitted)</dt><dd>${percent(last?.accuracy.corruptedTrain)}</dd>
<dt>Test</dt><dd>${percent(last?.accuracy.test)}</dd>
</dl>
<p class="verdict">${esc(verdict(last?.accuracy, run.status))}</p>
<p><a href="${openLink(run.id)}">Open dashboard</a></p>`;
}
