// Status bar item: the running run's epoch/total and backend; click opens its dashboard.
// Hidden when nothing runs. Updates are coalesced (epochs can arrive many times a second).
import * as vscode from 'vscode';
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
    const run = running[running.length - 1];
    if (!run) {
      this.item.hide();
      this.visible = false;
      return;
    }
    let epoch = 0;
    let backend = '';
    for (const e of run.events) {
      if (e.type === 'epoch') epoch = e.epoch;
      else if (e.type === 'started') backend = e.backend;
    }
    const more = running.length > 1 ? ` (+${running.length - 1})` : '';
    this.item.text = `$(sync~spin) RegLens ${epoch}/${run.totalEpochs}${backend ? ` · ${backend}` : ''}${more}`;
    this.item.tooltip = `${run.name}: epoch ${epoch} of ${run.totalEpochs}${backend ? ` on the ${backend} backend` : ''}. Click to open its dashboard.`;
    this.item.accessibilityInformation = { label: `RegLens run ${run.name}, epoch ${epoch} of ${run.totalEpochs}`, role: 'button' };
    this.item.command = { command: 'reglens.openRun', title: 'Open Run Dashboard', arguments: [run.id] };
    this.item.show();
    this.visible = true;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
