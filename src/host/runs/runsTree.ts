// The "Runs" view in the RegLens activity-bar container: every run folder of the
// workspace with its status; clicking a run opens its dashboard.
import * as vscode from 'vscode';
import type { RunSummary } from '../../runs/runFolder';
import { Config } from '../config';
import type { Ctx } from '../ctx';
import type { RunManager } from './runManager';

const statusIcon: Record<RunSummary['status'], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin'),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  died: new vscode.ThemeIcon('warning', new vscode.ThemeColor('testing.iconFailed')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
  // Slurm sweep members: waiting for a node; stopped at the time limit; preempted.
  queued: new vscode.ThemeIcon('clock'),
  timedOut: new vscode.ThemeIcon('watch', new vscode.ThemeColor('testing.iconFailed')),
  preempted: new vscode.ThemeIcon('debug-pause'),
};

/** A run in the tree. `runId` lets the shared run commands (Stop Run) read the clicked item. */
export type RunItem = RunSummary & { runId: string };

export class RunsTreeProvider implements vscode.TreeDataProvider<RunItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly dirWatchers: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly runs: RunManager,
  ) {
    // Epoch events arrive many times a second; coalesce them into one refresh.
    this.disposables.push(runs.onDidChange(() => this.scheduleRefresh()));
    // Runs started by another process (the recorder in a script, the CLI, another window)
    // appear the moment their folder gets its summary.json (written first), and their
    // progress shows as their events.jsonl grows: one watcher per workspace folder's runs
    // directory (which may be configured outside the default .reglens/runs).
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watchRunsDirs();
        this.scheduleRefresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (Config.affects(e, 'runs.directory')) {
          this.watchRunsDirs();
          this.scheduleRefresh();
        }
      }),
    );
    this.watchRunsDirs();
  }

  private watchRunsDirs(): void {
    for (const d of this.dirWatchers.splice(0)) d.dispose();
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      const dir = this.ctx.config.runsDirectory(f.uri);
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, '*/{summary.json,events.jsonl}'));
      this.dirWatchers.push(
        watcher,
        watcher.onDidCreate(() => this.scheduleRefresh()),
        watcher.onDidChange(() => this.scheduleRefresh()),
        watcher.onDidDelete(() => this.scheduleRefresh()),
      );
    }
  }

  refresh(): void {
    this.changed.fire();
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire();
    }, 500);
  }

  async getChildren(element?: RunItem): Promise<RunItem[]> {
    if (element) return [];
    const dirs = (vscode.workspace.workspaceFolders ?? []).map((f) => this.ctx.config.runsDirectory(f.uri).fsPath);
    try {
      return (await this.runs.list(dirs)).map((s) => ({ ...s, runId: s.id }));
    } catch (err) {
      this.ctx.output.error(`could not list runs: ${(err as Error).message}`);
      return [];
    }
  }

  getTreeItem(run: RunItem): vscode.TreeItem {
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.None);
    item.id = run.id;
    const progress = run.totalEpochs ? `${run.epochs}/${run.totalEpochs}` : `${run.epochs}`;
    // Running: how far along; finished: the number that matters most (is the noise fitted?).
    const percent = run.totalEpochs ? ` (${Math.floor((100 * run.epochs) / run.totalEpochs)}%)` : '';
    const fitted =
      run.status !== 'running' && run.final && run.final.corruptedTrain !== null
        ? ` · test ${(run.final.test * 100).toFixed(0)}%, noise fitted ${(run.final.corruptedTrain * 100).toFixed(0)}%`
        : '';
    // A Slurm member waiting for a node says why (Slurm's reason: Priority, Resources, ...).
    const waiting = run.slurm?.reason && run.slurm.reason !== 'None' ? ` (${run.slurm.reason})` : '';
    item.description =
      run.status === 'running'
        ? `running · epoch ${progress}${percent}`
        : run.status === 'queued'
          ? `queued${waiting}${run.epochs ? ` · epoch ${progress}` : ''}`
          : `${run.status === 'timedOut' ? 'timed out' : run.status} · epoch ${progress}${fitted}`;
    item.accessibilityInformation = { label: `${run.name}, ${item.description}` };
    item.iconPath = statusIcon[run.status];
    item.contextValue = `run.${run.status}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(run.name)}**\n\n`);
    md.appendMarkdown(`- status: ${run.status}\n- epochs: ${progress}\n- started: ${run.startedAt}\n`);
    if (run.backend) md.appendMarkdown(`- backend: ${run.backend}\n`);
    if (run.slurm) md.appendMarkdown(`- Slurm: job ${run.slurm.jobId}_${run.slurm.taskId}${run.slurm.state ? `, ${run.slurm.state}` : ''}; output ${escapeMd(run.slurm.output)}\n`);
    if (run.final) {
      const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
      md.appendMarkdown(
        `- clean-train ${pct(run.final.cleanTrain)}, corrupted-train ${pct(run.final.corruptedTrain)}, test ${pct(run.final.test)}\n`,
      );
    }
    if (run.error) md.appendMarkdown(`- error: ${escapeMd(run.error)}\n`);
    item.tooltip = md;
    item.command = { command: 'reglens.openRun', title: 'Open Run', arguments: [run.id] };
    return item;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.changed.dispose();
    for (const d of this.disposables) d.dispose();
    for (const d of this.dirWatchers.splice(0)) d.dispose();
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');
}
