// "RegLens: Export Run Report (HTML)", "RegLens: Export Chart as PNG" and "RegLens: Save
// Pruned Model". All take optional arguments (run id, target path) so tests and other
// commands can skip the dialogs.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import type { RunManager } from '../runs/runManager';
import { revealPath } from '../reveal';
import { reportHtml } from './htmlReport';
import { copyDestination, copySource, resolveSavedModel, savedModelOf } from './prunedModel';

/** Chart element ids of the run dashboard, offered by "Export Chart as PNG". */
const chartIds = [
  'acc-chart',
  'loss-chart',
  'neuron-heatmap',
  'neuron-hist',
  'neuron-spectrum',
  'pruning-chart',
  'entropy-hist',
  'mi-hist',
  'reliability-chart',
  'nested-curve',
  'nested-importance',
  'precision-chart',
  'le-pr-chart',
];

function asUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && path.isAbsolute(arg)) return vscode.Uri.file(arg);
  return undefined;
}

export function registerExportCommands(ctx: Ctx, runs: RunManager, dashboards: DashboardPanels, pickRun: () => Promise<string | undefined>): void {
  const exportReport = async (runIdArg?: unknown, targetArg?: unknown): Promise<string | undefined> => {
    const runId = typeof runIdArg === 'string' ? runIdArg : (dashboards.activeRunId() ?? (await pickRun()));
    if (!runId) return undefined;
    await dashboards.findRuns([runId]);
    const view = await runs.view(runId);
    if (!view) throw new Error(`run ${runId} is not on disk`);
    const dist = ctx.asAbsolutePath(path.join('dist', 'webview'));
    const [script, css] = await Promise.all([fs.readFile(path.join(dist, 'dashboard.js'), 'utf8'), fs.readFile(path.join(dist, 'dashboard.css'), 'utf8')]);
    const dir = runs.folderOf(runId);
    const target =
      asUri(targetArg) ??
      (await vscode.window.showSaveDialog({
        title: `Export report of "${view.name}"`,
        defaultUri: vscode.Uri.file(path.join(dir ?? '.', `report-${runId}.html`)),
        filters: { 'HTML report': ['html'] },
      }));
    if (!target) return undefined;
    // The source-map comment would point at a file the report does not carry.
    // The icons' font inlined (a data URL): the report is one file that opens anywhere.
    const [codiconCss, codiconFont] = await Promise.all([fs.readFile(path.join(dist, 'codicon.css'), 'utf8'), fs.readFile(path.join(dist, 'codicon.ttf'))]);
    const icons = codiconCss.replace(/url\(["']?\.\/codicon\.ttf[^)"']*["']?\)/, `url("data:font/ttf;base64,${codiconFont.toString('base64')}")`);
    const html = reportHtml(view, { script: script.replace(/\n\/\/# sourceMappingURL=.*$/m, ''), css: `${icons}\n${css.replace(/\/\*# sourceMappingURL=.*\*\//, '')}` });
    await vscode.workspace.fs.writeFile(target, Buffer.from(html, 'utf8'));
    if (!asUri(targetArg)) {
      void vscode.window.showInformationMessage(`Report written: ${target.fsPath}`, 'Open in Browser').then((c) => c && vscode.env.openExternal(target));
    }
    return target.fsPath;
  };
  dashboards.exportReport = (runId) => exportReport(runId);
  ctx.registerCommand('reglens.exportReport', async (runIdArg?: unknown, targetArg?: unknown) => {
    try {
      return await exportReport(runIdOf(runIdArg), targetArg);
    } catch (err) {
      void vscode.window.showErrorMessage(`RegLens could not export the report: ${(err as Error).message}`);
      return undefined;
    }
  });

  const savePrunedModel = async (runId: string, targetArg?: unknown): Promise<string | undefined> => {
    await dashboards.findRuns([runId]);
    const view = await runs.view(runId);
    const dir = runs.folderOf(runId);
    if (!view || !dir) throw new Error(`run ${runId} is not on disk`);
    const saved = savedModelOf(view.events);
    if (!saved) {
      void vscode.window.showInformationMessage(
        'This run has no saved pruned model. Set "probes.pruning.save": true in the experiment file and run it again: the pruning probe then saves the pruned model with the run.',
      );
      return undefined;
    }
    const savedPath = resolveSavedModel(dir, saved);
    const stat = await fs.stat(savedPath).catch(() => undefined);
    if (!stat) throw new Error(`the pruned model ${saved} is missing from the run folder ${dir}`);
    const source = copySource(dir, savedPath, stat.isFile());
    let targetDir = asUri(targetArg)?.fsPath;
    if (!targetDir) {
      const picked = await vscode.window.showOpenDialog({
        title: `Save the pruned model of "${view.name}" into…`,
        openLabel: 'Save Pruned Model Here',
        canSelectFiles: false,
        canSelectFolders: true,
        canSelectMany: false,
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      targetDir = picked?.[0]?.fsPath;
    }
    if (!targetDir) return undefined;
    await fs.mkdir(targetDir, { recursive: true });
    const dest = copyDestination(targetDir, source, runId, existsSync);
    await fs.cp(source, dest, { recursive: true, errorOnExist: true, force: false });
    if (!asUri(targetArg)) {
      void vscode.window.showInformationMessage(`Pruned model saved: ${dest}`, 'Reveal').then((c) => c && revealPath(vscode.Uri.file(dest), ctx));
    }
    return dest;
  };
  dashboards.savePrunedModel = (runId) => savePrunedModel(runId);
  ctx.registerCommand('reglens.savePrunedModel', async (runIdArg?: unknown, targetArg?: unknown) => {
    const runId = runIdOf(runIdArg) ?? dashboards.activeRunId() ?? (await pickRun());
    if (!runId) return undefined;
    try {
      return await savePrunedModel(runId, targetArg);
    } catch (err) {
      void vscode.window.showErrorMessage(`RegLens could not save the pruned model: ${(err as Error).message}`);
      return undefined;
    }
  });

  ctx.registerCommand('reglens.exportChartPng', async (runIdArg?: unknown, chartArg?: unknown, targetArg?: unknown) => {
    const runId = runIdOf(runIdArg) ?? dashboards.activeRunId() ?? dashboards.openRunIds()[0];
    if (!runId) {
      void vscode.window.showInformationMessage('Open a run dashboard first, then export one of its charts.');
      return undefined;
    }
    const chart = typeof chartArg === 'string' && chartIds.includes(chartArg) ? chartArg : await vscode.window.showQuickPick(chartIds, { title: 'Export which chart as PNG?' });
    if (!chart) return undefined;
    try {
      const uri = await dashboards.exportChartPng(runId, chart, asUri(targetArg));
      return uri?.fsPath;
    } catch (err) {
      void vscode.window.showErrorMessage(`RegLens could not export the chart: ${(err as Error).message}`);
      return undefined;
    }
  });
}

/** A run id from a command argument: a string, or a tree item / summary with an id. */
export function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object') {
    const o = arg as { id?: unknown; runId?: unknown };
    if (typeof o.runId === 'string') return o.runId;
    if (typeof o.id === 'string') return o.id;
  }
  return undefined;
}
