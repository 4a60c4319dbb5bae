// The "Runs" view in the RegLens activity-bar container: every run folder of the
// workspace with its status; clicking a run opens its dashboard. Runs of one experiment sit
// under it, each named by the spec fields that set it apart, so the row keeps room for its
// status and time (a flat row "weightDecay=0 · <experiment name>" was cut off before either).
import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EVENTS_FILE, parseEventsText, readSpec, type RunSummary } from '../../runs/runFolder';
import { localTime, percent, rowDescription, statusText } from '../../runs/runDescriptions';
import { groupRuns, runLabels } from '../../runs/runNaming';
import { RESUBMITTABLE } from '../../runs/slurmSweep';
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
export type RunItem = RunSummary & { runId: string; label: string; difference: string; hasPrunedModel: boolean; nested: boolean };

/**
 * An experiment with several runs: a collapsible row named by the experiment, its runs
 * below. No `id` or `runId` (run commands given this node fall back to their pickers).
 */
export interface ExperimentNode {
  kind: 'experiment';
  key: string;
  name: string;
  runs: RunItem[];
}

export type RunsNode = RunItem | ExperimentNode;

export function isExperimentNode(n: unknown): n is ExperimentNode {
  return !!n && typeof n === 'object' && (n as { kind?: unknown }).kind === 'experiment';
}

interface RunDetails {
  spec: unknown;
  pruned: boolean;
}

/**
 * The row's contextValue, matched by the menus in package.json: `run.<status>` first (so
 * `viewItem =~ /^run\\./` and `viewItem == run.running` keep working as statuses are added),
 * then space-separated capabilities such as `prunedModel`.
 */
export function runContextValue(status: string, caps: { prunedModel?: boolean; resubmittable?: boolean } = {}): string {
  return [`run.${status}`, ...(caps.prunedModel ? ['prunedModel'] : []), ...(caps.resubmittable ? ['resubmittable'] : [])].join(' ');
}

/** A Slurm sweep member that did not finish: Resubmit Failed Sweep Members applies to it (and to its experiment's row). */
export function isResubmittable(run: RunSummary): boolean {
  return !!run.slurm && RESUBMITTABLE.has(run.status);
}

/** True when the run's events record a pruned model saved in its folder (cheap text check first). */
async function hasSavedPrunedModel(dir: string): Promise<boolean> {
  const text = await fs.readFile(path.join(dir, EVENTS_FILE), 'utf8').catch(() => '');
  if (!text.includes('"savedModel"')) return false;
  return savedModelOf(parseEventsText(text).events) !== undefined;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
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

  async getChildren(element?: RunsNode): Promise<RunsNode[]> {
    if (element) return isExperimentNode(element) ? element.runs : [];
    const list = await this.allRuns();
    return groupRuns(list.map((r) => ({ ...r, group: r.experimentFile ?? r.name })), (first) => first.name).map((n) =>
      isExperimentNode(n) ? { ...n, runs: n.runs.map(stripGroup) } : stripGroup(n),
    );
  }

  /** Every run, flat, newest first, each labelled by what differs from its experiment's other runs (pickers, tests). */
  async allRuns(): Promise<RunItem[]> {
    const dirs = (vscode.workspace.workspaceFolders ?? []).map((f) => this.ctx.config.runsDirectory(f.uri).fsPath);
    try {
      const list = await this.runs.list(dirs);
      const details = await Promise.all(list.map((s) => this.details(s)));
      const labels = runLabels(list.map((s, i) => ({ id: s.id, name: s.name, spec: details[i].spec, group: s.experimentFile ?? s.name })));
      this.ctx.setContext('reglens.runCount', list.length);
      return list.map((s, i) => ({ ...s, runId: s.id, label: labels[i].label, difference: labels[i].difference, hasPrunedModel: details[i].pruned, nested: false }));
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

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (isExperimentNode(node)) return experimentItem(node);
    const run = node;
    // Under its experiment a run is named by its difference alone (the parent row names the
    // experiment); identical reruns by their local start time.
    const label = run.nested ? run.difference || `started ${shortTime(run.startedAt)}` : run.label;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = run.id;
    item.description = rowDescription(run);
    item.accessibilityInformation = { label: `${run.nested ? `${label}, ${run.name}` : label}, ${item.description}` };
    item.iconPath = statusIcon[run.status];
    item.contextValue = runContextValue(run.status, { prunedModel: run.hasPrunedModel, resubmittable: isResubmittable(run) });
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

function stripGroup<T extends { group: string }>(r: T): Omit<T, 'group'> {
  const { group: _group, ...rest } = r;
  return rest;
}

/** The parent row of an experiment's runs: its name, how many runs, and how many still run. */
function experimentItem(node: ExperimentNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `experiment:${node.key}`;
  const running = node.runs.filter((r) => r.status === 'running').length;
  item.description = `${node.runs.length} runs${running ? ` · ${running} running` : ''}`;
  item.iconPath = new vscode.ThemeIcon('beaker');
  // `experiment` first (menus match /^experiment\b/), then what applies to the whole group.
  item.contextValue = ['experiment', ...(node.runs.some(isResubmittable) ? ['resubmittable'] : [])].join(' ');
  item.tooltip = node.runs[0]?.experimentFile ? `${node.name}\n${node.runs[0].experimentFile}` : node.name;
  item.accessibilityInformation = { label: `${node.name}, ${item.description}` };
  return item;
}

/** "14:03:27": a start time that tells reruns apart (the row's description says how long ago). */
function shortTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');
}
