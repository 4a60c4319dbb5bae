// The "Runs" view in the RegLens activity-bar container: every run folder of the
// workspace with its status; clicking a run opens its dashboard.
import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EVENTS_FILE, parseEventsText, readSpec, type RunSummary } from '../../runs/runFolder';
import { localTime, percent, rowDescription, statusText } from '../../runs/runDescriptions';
import { runLabels } from '../../runs/runNaming';
import { savedModelOf } from '../export/prunedModel';
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

/**
 * A run in the tree. `runId` lets the shared run commands (Stop Run) read the clicked item;
 * `label` names it by what differs from the other runs of its experiment.
 */
export type RunItem = RunSummary & { runId: string; label: string; difference: string; hasPrunedModel: boolean };

interface RunDetails {
  spec: unknown;
  pruned: boolean;
}

/**
 * The row's contextValue, matched by the menus in package.json: `run.<status>` first (so
 * `viewItem =~ /^run\\./` and `viewItem == run.running` keep working as statuses are added),
 * then space-separated capabilities such as `prunedModel`.
 */
export function runContextValue(status: string, caps: { prunedModel?: boolean } = {}): string {
  return [`run.${status}`, ...(caps.prunedModel ? ['prunedModel'] : [])].join(' ');
}

/** True when the run's events record a pruned model saved in its folder (cheap text check first). */
async function hasSavedPrunedModel(dir: string): Promise<boolean> {
  const text = await fs.readFile(path.join(dir, EVENTS_FILE), 'utf8').catch(() => '');
  if (!text.includes('"savedModel"')) return false;
  return savedModelOf(parseEventsText(text).events) !== undefined;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly dirWatchers: vscode.Disposable[] = [];
  private readonly detailCache = new Map<string, RunDetails>();

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
      const list = await this.runs.list(dirs);
      const details = await Promise.all(list.map((s) => this.details(s)));
      const labels = runLabels(list.map((s, i) => ({ id: s.id, name: s.name, spec: details[i].spec, group: s.experimentFile ?? s.name })));
      this.ctx.setContext('reglens.runCount', list.length);
      return list.map((s, i) => ({ ...s, runId: s.id, label: labels[i].label, difference: labels[i].difference, hasPrunedModel: details[i].pruned }));
    } catch (err) {
      this.ctx.output.error(`could not list runs: ${(err as Error).message}`);
      return [];
    }
  }

  /** A run's spec and whether it saved a pruned model; kept once the run has ended (neither changes then). */
  private async details(s: RunSummary): Promise<RunDetails> {
    const cached = this.detailCache.get(s.id);
    if (cached) return cached;
    const dir = this.runs.folderOf(s.id);
    const spec = dir ? await readSpec(dir) : undefined;
    const ended = !['running', 'queued', 'preempted'].includes(s.status);
    const pruned = dir && ended ? await hasSavedPrunedModel(dir) : false;
    const d = { spec, pruned };
    if (ended) this.detailCache.set(s.id, d);
    return d;
  }

  getTreeItem(run: RunItem): vscode.TreeItem {
    const item = new vscode.TreeItem(run.label, vscode.TreeItemCollapsibleState.None);
    item.id = run.id;
    item.description = rowDescription(run);
    item.accessibilityInformation = { label: `${run.label}, ${item.description}` };
    item.iconPath = statusIcon[run.status];
    item.contextValue = runContextValue(run.status, { prunedModel: run.hasPrunedModel });
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(run.name)}**\n\n`);
    if (run.difference) md.appendMarkdown(`${escapeMd(run.difference)}\n\n`);
    const progress = run.totalEpochs ? `${run.epochs}/${run.totalEpochs}` : `${run.epochs}`;
    md.appendMarkdown(`- status: ${statusText(run.status)}\n- epochs: ${progress}\n- started: ${escapeMd(localTime(run.startedAt))}\n`);
    if (run.endedAt) md.appendMarkdown(`- ended: ${escapeMd(localTime(run.endedAt))}\n`);
    if (run.backend) md.appendMarkdown(`- backend: ${run.backend}\n`);
    if (run.slurm) md.appendMarkdown(`- Slurm: job ${run.slurm.jobId}_${run.slurm.taskId}${run.slurm.state ? `, ${run.slurm.state}` : ''}; output ${escapeMd(run.slurm.output)}\n`);
    if (run.final) {
      md.appendMarkdown(
        `- clean-train ${percent(run.final.cleanTrain)}, corrupted-train ${percent(run.final.corruptedTrain)}, test ${percent(run.final.test)}\n`,
      );
    }
    if (run.error) md.appendMarkdown(`- error: ${escapeMd(run.error)}\n`);
    md.appendMarkdown(`- id: \`${run.id}\`\n`);
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
