// Registers the runs tree and the commands that open runs in the dashboard.
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import type { RunManager } from './runManager';
import { RunsTreeProvider } from './runsTree';

export function registerRunViews(ctx: Ctx, runs: RunManager, dashboards: DashboardPanels): void {
  const tree = ctx.track(new RunsTreeProvider(ctx, runs));
  ctx.track(vscode.window.createTreeView('reglens.runs', { treeDataProvider: tree, showCollapseAll: false }));
  ctx.registerCommand('reglens.refreshRuns', () => tree.refresh());

  ctx.registerCommand('reglens.openRun', async (runId: unknown) => {
    if (typeof runId !== 'string') return;
    await dashboards.show(runId);
  });

  ctx.registerCommand('reglens.openDashboard', async () => {
    const live = runs.runningRuns()[0];
    if (live) return dashboards.show(live.id);
    const dirs = (vscode.workspace.workspaceFolders ?? []).map((f) => ctx.config.runsDirectory(f.uri).fsPath);
    const all = await runs.list(dirs);
    if (all.length === 0) {
      void vscode.window.showInformationMessage('No RegLens runs yet. Run "RegLens: Run Experiment" first.');
      return;
    }
    const pick = await vscode.window.showQuickPick(
      all.map((r) => ({ label: r.name, description: `${r.status} · ${r.id}`, id: r.id })),
      { title: 'Open which run?' },
    );
    if (pick) await dashboards.show(pick.id);
  });
}
