// The RegLens sidebar and the run-level commands around it: the runs tree (status icons,
// progress, context menu: open, compare, rerun, stop, delete, reveal folder), the compact
// "Active Run" view, the status bar item, and "Compare Runs".
import * as vscode from 'vscode';
import { deleteConfirmation, rowDescription } from '../../runs/runDescriptions';
import { comparePreselection } from '../../runs/runNaming';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import { SummaryView, summaryViewId } from '../dashboard/summaryView';
import { registerExportCommands, runIdOf } from '../export/exportCommands';
import { revealPath } from '../reveal';
import { registerLabelErrorCommands } from '../export/labelErrorCommands';
import { RunStatusBar } from '../statusBar';
import { maxCompared } from '../../protocol/webviewMessages';
import type { RunManager } from './runManager';
import { trackProgress } from './runCommands';
import { isExperimentNode, RunsTreeProvider, type RunItem } from './runsTree';

export interface RunViews {
  statusBar: RunStatusBar;
  summary: SummaryView;
  tree: RunsTreeProvider;
}

export function registerRunViews(ctx: Ctx, runs: RunManager, dashboards: DashboardPanels): RunViews {
  const tree = ctx.track(new RunsTreeProvider(ctx, runs));
  ctx.track(vscode.window.createTreeView('reglens.runs', { treeDataProvider: tree, showCollapseAll: false, canSelectMany: true }));
  ctx.registerCommand('reglens.refreshRuns', () => tree.refresh());
  const summary = ctx.track(new SummaryView(ctx, runs));
  ctx.track(vscode.window.registerWebviewViewProvider(summaryViewId, summary));
  const statusBar = ctx.track(new RunStatusBar(ctx, runs));

  // The welcome content offers Run Experiment only where there is an experiment file to run.
  const updateHasExperimentFile = async () => {
    const files = await vscode.workspace.findFiles('**/*.reglens.json', '**/node_modules/**', 1);
    ctx.setContext('reglens.hasExperimentFile', files.length > 0);
  };
  const experimentFiles = ctx.track(vscode.workspace.createFileSystemWatcher('**/*.reglens.json', false, true, false));
  ctx.track(experimentFiles.onDidCreate(() => void updateHasExperimentFile()));
  ctx.track(experimentFiles.onDidDelete(() => void updateHasExperimentFile()));
  ctx.track(vscode.workspace.onDidChangeWorkspaceFolders(() => void updateHasExperimentFile()));
  void updateHasExperimentFile();
  // Compare is offered once there are two runs; the tree keeps the count current when shown.
  void tree.allRuns();

  // The tree's items carry the labels that tell runs apart; the pickers show the same.
  const listAll = () => tree.allRuns();
  const describe = (r: RunItem) => rowDescription(r);

  const pickRun = async (title: string): Promise<string | undefined> => {
    const all = await listAll();
    if (all.length === 0) {
      void vscode.window.showInformationMessage('No RegLens runs yet. Run "RegLens: Run Experiment" first.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      all.map((r) => ({ label: r.label, description: describe(r), id: r.id })),
      { title, matchOnDescription: true },
    );
    return pick?.id;
  };

  // Opening a finished run does not retitle the "Active Run" view: that view follows the running run.
  const open = (runId: string) => dashboards.show(runId);

  ctx.registerCommand('reglens.openRun', async (arg: unknown) => {
    const runId = runIdOf(arg) ?? (await pickRun('Open which run?'));
    if (runId) await open(runId);
  });

  ctx.registerCommand('reglens.openDashboard', async () => {
    const live = runs.runningRuns()[0];
    if (live) return open(live.id);
    const id = await pickRun('Open which run?');
    if (id) await open(id);
  });

  // From the palette: a multi-select quick pick. From the tree: the selected runs (VS Code
  // passes the clicked item and the whole selection); one row's menu pre-selects that run and
  // the newest other run of its experiment, so Enter compares them.
  ctx.registerCommand('reglens.compareRuns', async (arg?: unknown, selection?: unknown) => {
    let ids: string[] = [];
    // An experiment's row: its runs (newest first, as many as one panel compares).
    if (isExperimentNode(arg)) ids = arg.runs.map((r) => r.id);
    else if (Array.isArray(arg)) ids = arg.map(runIdOf).filter((x): x is string => !!x);
    else if (Array.isArray(selection) && selection.length > 1) ids = selection.map(runIdOf).filter((x): x is string => !!x);
    else if (runIdOf(arg)) ids = [runIdOf(arg)!];
    if (ids.length < 2) {
      const all = await listAll();
      if (all.length < 2) {
        void vscode.window.showInformationMessage('Comparing needs at least two runs. Run another experiment (e.g. with a different weight decay) first.');
        return undefined;
      }
      const preselected = new Set(comparePreselection(all, ids));
      const picks = await vscode.window.showQuickPick(
        all.map((r) => ({ label: r.label, description: describe(r), id: r.id, picked: preselected.has(r.id) })),
        { title: `Compare which runs? (2 to ${maxCompared})`, canPickMany: true, matchOnDescription: true },
      );
      if (!picks) return undefined;
      ids = picks.map((p) => p.id);
      if (ids.length < 2) {
        void vscode.window.showInformationMessage('Pick at least two runs to compare.');
        return undefined;
      }
    }
    ids = [...new Set(ids)].slice(0, maxCompared);
    await dashboards.showCompare(ids);
    return ids;
  });

  ctx.registerCommand('reglens.rerunRun', async (arg?: unknown) => {
    const runId = runIdOf(arg) ?? (await pickRun('Rerun which run?'));
    if (!runId) return undefined;
    try {
      await dashboards.findRuns([runId]);
      const run = await runs.rerun(runId);
      await open(run.id);
      trackProgress(ctx, runs, run);
      return run.id;
    } catch (err) {
      void vscode.window.showErrorMessage(`RegLens could not rerun ${runId}: ${(err as Error).message}`);
      return undefined;
    }
  });

  // Second argument true skips the confirmation (tests, scripted clean-ups).
  ctx.registerCommand('reglens.deleteRun', async (arg?: unknown, noConfirm?: unknown) => {
    const runId = runIdOf(arg) ?? (await pickRun('Delete which run?'));
    if (!runId) return false;
    if (noConfirm !== true) {
      const item = (await listAll()).find((r) => r.id === runId);
      const question = item ? deleteConfirmation(item.label, item.startedAt) : `Delete run ${runId} and its folder from disk?`;
      const ok = await vscode.window.showWarningMessage(question, { modal: true, detail: `Folder: ${runs.folderOf(runId) ?? runId}` }, 'Delete');
      if (ok !== 'Delete') return false;
    }
    try {
      await dashboards.findRuns([runId]);
      await runs.delete(runId);
      dashboards.closeRun(runId);
      tree.refresh();
      summary.schedule();
      return true;
    } catch (err) {
      void vscode.window.showErrorMessage(`RegLens could not delete ${runId}: ${(err as Error).message}`);
      return false;
    }
  });

  ctx.registerCommand('reglens.revealRun', async (arg?: unknown) => {
    const runId = runIdOf(arg) ?? (await pickRun('Reveal which run folder?'));
    if (runId) await dashboards.findRuns([runId]);
    const dir = runId ? runs.folderOf(runId) : undefined;
    if (!dir) {
      if (runId) void vscode.window.showErrorMessage(`RegLens: run ${runId} is not in the runs folders of this workspace.`);
      return undefined;
    }
    return revealPath(vscode.Uri.file(dir), ctx);
  });

  registerExportCommands(ctx, runs, dashboards, () => pickRun('Export which run?'));
  registerLabelErrorCommands(ctx, runs, dashboards, () => pickRun('Which run\'s label errors?'));
  return { statusBar, summary, tree };
}

