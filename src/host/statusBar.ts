// Status bar item: the newest running run's epoch/total and how many run ("RegLens: epoch
// 12/50 · 2 runs", each listed in the tooltip); click opens the newest run's dashboard.
// Hidden when nothing runs. Updates are coalesced (epochs can arrive many times a second).
import * as vscode from 'vscode';
import { statusBarContent } from '../runs/runDescriptions';
import type { Ctx } from './ctx';
import type { RunManager } from './runs/runManager';

export class RunStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    ctx: Ctx,
    private readonly runs: RunManager,
  ) {
    void ctx;
    this.item = vscode.window.createStatusBarItem('reglens.run', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'RegLens Run';
    this.disposables.push(this.item, runs.onDidChange(() => this.schedule()));
    this.update();
  }

  /** Test hook: the text shown now ('' when hidden). */
  text(): string {
    return this.visible ? this.item.text : '';
  }

  /** Test hook: the tooltip shown now ('' when hidden). */
  tooltip(): string {
    return this.visible ? String(this.item.tooltip ?? '') : '';
  }

  private visible = false;

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 200);
  }

  private update(): void {
    const running = this.runs.runningRuns();
    const content = statusBarContent(
      running.map((run) => {
        let epoch = 0;
        let backend: string | undefined;
        for (const e of run.events) {
          if (e.type === 'epoch') epoch = e.epoch;
          else if (e.type === 'started') backend = e.backend;
        }
        return { label: run.name, epoch, totalEpochs: run.totalEpochs, backend };
      }),
    );
    const run = running[running.length - 1];
    if (!content || !run) {
      this.item.hide();
      this.visible = false;
      return;
    }
    this.item.text = `$(sync~spin) ${content.text}`;
    this.item.tooltip = content.tooltip;
    this.item.accessibilityInformation = { label: content.text, role: 'button' };
    this.item.command = { command: 'reglens.openRun', title: 'Open Run Dashboard', arguments: [run.id] };
    this.item.show();
    this.visible = true;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
