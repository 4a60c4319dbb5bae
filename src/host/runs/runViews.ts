// The RegLens sidebar and the run-level commands around it: the runs tree (status icons,
// progress, context menu: open, compare, rerun, stop, delete, reveal folder), the compact
// "Active Run" view, the status bar item, and "Compare Runs".
import * as vscode from 'vscode';
import type { RunSummary } from '../../runs/runFolder';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import { SummaryView, summaryViewId } from '../dashboard/summaryView';
import { registerExportCommands, runIdOf } from '../export/exportCommands';
import { RunStatusBar } from '../statusBar';
import { maxCompared } from '../../protocol/webviewMessages';
import type { RunManager } from './runManager';
import { RunsTreeProvider } from './runsTree';

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

  const runsDirs = () => (vscode.workspace.workspaceFolders ?? []).map((f) => ctx.config.runsDirectory(f.uri).fsPath);
  const listAll = () => runs.list(runsDirs());
  const describe = (r: RunSummary) => `${r.status} · epoch ${r.epochs}/${r.totalEpochs} · ${r.id}`;

  const pickRun = async (title: string): Promise<string | undefined> => {
    const all = await listAll();
    if (all.length === 0) {
      void vscode.window.showInformationMessage('No RegLens runs yet. Run "RegLens: Run Experiment" first.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      all.map((r) => ({ label: r.name, description: describe(r), id: r.id })),
      { title },
    );
    return pick?.id;
  };

  const open = async (runId: string) => {
    summary.focusRunId = runId;
    summary.schedule();
    await dashboards.show(runId);
  };

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
  // passes the clicked item and the whole selection).
  ctx.registerCommand('reglens.compareRuns', async (arg?: unknown, selection?: unknown) => {
    let ids: string[] = [];
    if (Array.isArray(arg)) ids = arg.map(runIdOf).filter((x): x is string => !!x);
    else if (Array.isArray(selection)) ids = selection.map(runIdOf).filter((x): x is string => !!x);
    if (ids.length < 2) {
      const all = await listAll();
      if (all.length < 2) {
        void vscode.window.showInformationMessage('Comparing needs at least two runs. Run another experiment (e.g. with a different weight decay) first.');
        return undefined;
      }
      const preselected = new Set(ids);
      const picks = await vscode.window.showQuickPick(
        all.map((r) => ({ label: r.name, description: describe(r), id: r.id, picked: preselected.has(r.id) })),
        { title: `Compare which runs? (2 to ${maxCompared})`, canPickMany: true },
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
      const ok = await vscode.window.showWarningMessage(`Delete run ${runId} and its folder from disk?`, { modal: true }, 'Delete');
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
    if (dir) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dir));
  });

  registerExportCommands(ctx, runs, dashboards, () => pickRun('Export which run?'));
  return { statusBar, summary, tree };
}
