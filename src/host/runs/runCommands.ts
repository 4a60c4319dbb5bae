// "RegLens: Run Experiment" and "RegLens: Stop Run": pick an experiment file, check trust,
// validate it, start the engine, show progress with Cancel, open the dashboard.
import * as vscode from 'vscode';
import { ExperimentError, parseExperimentText } from '../../protocol/experiment';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import { registerNativeBackendCommand } from './nativeBackend';
import type { LiveRun, RunManager } from './runManager';

export function registerRunCommands(ctx: Ctx, runs: RunManager, dashboards: DashboardPanels): void {
  ctx.registerCommand('reglens.runExperiment', async (arg?: unknown) => {
    const run = await runExperiment(ctx, runs, dashboards, arg instanceof vscode.Uri ? arg : undefined);
    return run?.id;
  });

  ctx.registerCommand('reglens.cancelRun', async (arg?: unknown) => {
    const id = runIdOf(arg) ?? (await pickRunningRun(runs));
    if (id && !runs.cancel(id)) void vscode.window.showInformationMessage(`Run ${id} is not running.`);
  });

  registerNativeBackendCommand(ctx);
}

function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'runId' in arg && typeof (arg as { runId: unknown }).runId === 'string') {
    return (arg as { runId: string }).runId;
  }
  return undefined;
}

async function pickRunningRun(runs: RunManager): Promise<string | undefined> {
  const running = runs.runningRuns();
  if (running.length <= 1) return running[0]?.id;
  const pick = await vscode.window.showQuickPick(
    running.map((r) => ({ label: r.name, description: r.id })),
    { title: 'Stop which run?' },
  );
  return pick?.description;
}

async function pickExperimentFile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.path.endsWith('.reglens.json')) return active;
  const files = await vscode.workspace.findFiles('**/*.reglens.json', '**/node_modules/**', 200);
  if (files.length === 0) {
    void vscode.window.showWarningMessage(
      'No *.reglens.json experiment file in this workspace. Create one (see examples/grok-corrupted.reglens.json in the RegLens README).',
    );
    return undefined;
  }
  if (files.length === 1) return files[0];
  const pick = await vscode.window.showQuickPick(
    files
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'RegLens: Run Experiment', placeHolder: 'Choose an experiment file' },
  );
  return pick?.uri;
}

export async function runExperiment(
  ctx: Ctx,
  runs: RunManager,
  dashboards: DashboardPanels,
  uri: vscode.Uri | undefined,
): Promise<LiveRun | undefined> {
  if (!vscode.workspace.isTrusted) {
    const choice = await vscode.window.showWarningMessage(
      'Running an experiment executes training code; RegLens runs it only in a trusted workspace.',
      'Manage Workspace Trust',
    );
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
    return undefined;
  }
  const file = uri ?? (await pickExperimentFile());
  if (!file) return undefined;

  const doc = await vscode.workspace.openTextDocument(file);
  let experiment;
  try {
    experiment = parseExperimentText(doc.getText(), vscode.workspace.asRelativePath(file));
  } catch (err) {
    const msg = err instanceof ExperimentError ? err.message : String(err);
    // Not awaited: the command returns at once; the notification stays until dismissed.
    void vscode.window
      .showErrorMessage(`Invalid experiment file: ${msg}`, 'Open File')
      .then((choice) => choice && vscode.window.showTextDocument(doc));
    return undefined;
  }

  const folder = vscode.workspace.getWorkspaceFolder(file)?.uri ?? vscode.Uri.joinPath(file, '..');
  const runsDir = ctx.config.runsDirectory(folder);
  let run: LiveRun;
  try {
    run = await runs.start(experiment, runsDir.fsPath, file.fsPath);
  } catch (err) {
    void vscode.window.showErrorMessage(`RegLens could not start the run: ${(err as Error).message}`);
    return undefined;
  }
  await dashboards.show(run.id);
  trackProgress(ctx, runs, run);
  return run;
}

function trackProgress(ctx: Ctx, runs: RunManager, run: LiveRun): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `RegLens: ${run.name}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        token.onCancellationRequested(() => runs.cancel(run.id));
        let done = 0;
        const sub = runs.onDidChange((change) => {
          if (change.runId !== run.id) return;
          if (change.kind === 'events') {
            for (const e of change.events) {
              if (e.type === 'started') progress.report({ message: `starting on ${e.backend}` });
              if (e.type === 'epoch') {
                const increment = ((e.epoch - done) / run.totalEpochs) * 100;
                done = e.epoch;
                progress.report({
                  increment,
                  message: `epoch ${e.epoch}/${run.totalEpochs}, test ${(e.accuracy.test * 100).toFixed(1)}%`,
                });
              }
            }
          } else if (change.status !== 'running') {
            sub.dispose();
            resolve();
          }
        });
      }),
  );
  void run.ended.then((summary) => {
    if (summary.status === 'failed' || summary.status === 'died') {
      void vscode.window
        .showErrorMessage(`RegLens run "${run.name}" ${summary.status}: ${summary.error ?? 'no details'}`, 'Show Log')
        .then((c) => c && ctx.output.show());
    }
  });
}
