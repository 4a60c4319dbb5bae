// Entry point: build the context, register features, return the test/extension API.
import type * as vscode from 'vscode';
import { Ctx } from './host/ctx';
import { DashboardPanels } from './host/dashboard/dashboardPanels';
import { registerExampleCommands } from './host/examples/exampleCommands';
import { registerCodeLenses } from './host/lint/codeLenses';
import { registerProbeCommand } from './host/probe/probeCommand';
import { registerDiagnostics } from './host/lint/diagnostics';
import { DocumentAnalysis } from './host/lint/documentAnalysis';
import { WorkspaceIndexer } from './host/lint/workspaceIndexer';
import { registerPythonScriptCommands } from './host/runs/pythonScriptCommands';
import { registerRunCommands } from './host/runs/runCommands';
import { RunManager } from './host/runs/runManager';
import { registerRunViews } from './host/runs/runViews';
import { isExperimentNode } from './host/runs/runsTree';
import type { RunSummary } from './runs/runFolder';

export interface RegLensApi {
  /** Resolves with the final summary once a run started in this window has ended. */
  whenRunEnds(runId: string): Promise<RunSummary> | undefined;
  /** Run ids that have an open dashboard panel. */
  openDashboards(): string[];
  /** Epochs sent so far to the dashboard of a run another process writes (followed from disk). */
  followedEpochs(runId: string): number[];
  /** Run ids of each open compare panel. */
  openCompares(): string[][];
  /** The RegLens status bar text ('' when hidden). */
  statusBarText(): string;
  /** What the "Active Run" sidebar view rendered last. */
  summaryView(): { runId: string | undefined; epoch: number; text: string };
  /** The items of the Runs view as it would render them now: label, description, tooltip text and contextValue. */
  runsTree(): Promise<{ runId: string; label: string; description: string; tooltip: string; contextValue: string; parent?: string }[]>;
  /** Notifications RegLens showed (severity and text), oldest first. */
  notices(): { severity: string; text: string }[];
  /** The value RegLens last set for a `when`-clause context key. */
  contextKey(key: string): unknown;
  /** Hands a message to a panel's host side as if its webview had sent it (validated like one); resolves when handled. */
  dashboardMessage(runId: string, message: unknown): Promise<unknown>;
  /** The verdict and differing hyperparameters last sent to the compare panel of these runs (in its order). */
  compareDetails(runIds: string[]): { differences: { key: string; values: string[] }[]; verdict?: { text: string; outcome: string } } | undefined;
  /** The RegLens status bar tooltip ('' when hidden). */
  statusBarTooltip(): string;
  /** This extension's log folder; its parent holds the extension host's own log. */
  logFolder(): string;
}

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): RegLensApi {
  ctx = new Ctx(context);
  const runs = ctx.track(new RunManager(ctx));
  const dashboards = ctx.track(new DashboardPanels(ctx, runs));
  registerRunCommands(ctx, runs, dashboards);
  registerExampleCommands(ctx);
  registerPythonScriptCommands(ctx, runs, dashboards);
  const views = registerRunViews(ctx, runs, dashboards);
  const analysis = ctx.track(new DocumentAnalysis());
  registerDiagnostics(ctx, analysis);
  registerCodeLenses(ctx, analysis);
  // The probe command (its lens is provided with the other lenses) runs and follows two runs.
  registerProbeCommand(ctx, analysis, runs);
  // In the background: diagnostics of open files start at once and are re-checked as files they rest on get indexed.
  ctx.track(new WorkspaceIndexer(ctx, analysis)).start();
  return {
    whenRunEnds: (id) => runs.liveRun(id)?.ended,
    openDashboards: () => dashboards.openRunIds(),
    openCompares: () => dashboards.openCompares(),
    followedEpochs: (id) => dashboards.followedEpochs(id),
    statusBarText: () => views.statusBar.text(),
    summaryView: () => views.summary.lastRendered,
    runsTree: async () => {
      // The rows as the tree shows them: runs of an experiment with several under its row (`parent`).
      const rows = [];
      for (const node of await views.tree.getChildren()) {
        const parent = isExperimentNode(node) ? String(views.tree.getTreeItem(node).label) : undefined;
        for (const run of isExperimentNode(node) ? node.runs : [node]) {
          const item = views.tree.getTreeItem(run);
          const tooltip = item.tooltip instanceof Object && 'value' in item.tooltip ? item.tooltip.value : String(item.tooltip ?? '');
          rows.push({ runId: run.id, label: String(item.label), description: String(item.description), tooltip, contextValue: item.contextValue ?? '', parent });
        }
      }
      return rows;
    },
    logFolder: () => context.logUri.fsPath,
    notices: () => ctx!.notices.map((n) => ({ ...n })),
    contextKey: (key) => ctx!.contextKeys.get(key),
    dashboardMessage: (runId, message) => dashboards.receive(runId, message),
    statusBarTooltip: () => views.statusBar.tooltip(),
    compareDetails: (ids) => dashboards.compareDetailsOf(ids),
  };
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}
