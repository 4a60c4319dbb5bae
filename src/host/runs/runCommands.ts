// "RegLens: Run Experiment" and "RegLens: Stop Run": pick an experiment file, check trust,
// validate it, start the engine, show progress with Cancel, open the dashboard.
import * as vscode from 'vscode';
import { ExperimentError, isExperimentFileName, parseExperimentText } from '../../protocol/experiment';
import { expandSweep, isSweep } from '../../protocol/sweep';
import type { SweepMember } from '../../protocol/sweep';
import { maxCompared } from '../../protocol/webviewMessages';
import type { RunSummary } from '../../runs/runFolder';
import { runEndedMessage } from '../../runs/runDescriptions';
import { evalThreadForSweep, resolveParallelism, runSweep } from '../../runs/sweepRunner';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import { registerNativeBackendCommand } from './nativeBackend';
import { cancelSlurmMember, registerSlurmCommands, submitSweepToSlurm } from './slurmSweepCommands';
import type { LiveRun, RunManager } from './runManager';

export function registerRunCommands(ctx: Ctx, runs: RunManager, dashboards: DashboardPanels): void {
  // Second argument { quiet: true } (Probe this Model, which shows one progress for its two
  // runs): no dashboard, no progress or end notification of its own. From the Explorer's menu
  // the second argument is the selection (an array), which is not an option.
  ctx.registerCommand('reglens.runExperiment', async (arg?: unknown, options?: unknown) => {
    const quiet = !!options && typeof options === 'object' && !Array.isArray(options) && (options as { quiet?: unknown }).quiet === true;
    const run = await runExperiment(ctx, runs, dashboards, arg instanceof vscode.Uri ? arg : undefined, { quiet });
    return Array.isArray(run) ? run : run?.id;
  });

  ctx.registerCommand('reglens.cancelRun', async (arg?: unknown) => {
    const id = runIdOf(arg) ?? (await pickRunningRun(runs));
    if (!id || runs.cancel(id)) return;
    // A Slurm sweep member runs elsewhere: Slurm stops it (scancel <job>_<task>).
    const dir = runs.folderOf(id);
    try {
      if (dir && (await cancelSlurmMember(dir))) return;
    } catch (err) {
      void vscode.window.showErrorMessage(`RegLens could not stop ${id}: ${(err as Error).message}`);
      return;
    }
    void vscode.window.showInformationMessage(`Run ${id} is not running.`);
  });

  registerNativeBackendCommand(ctx);
  registerSlurmCommands(ctx, runs);
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
  if (active && isExperimentFileName(active.path)) return active;
  const files = (await vscode.workspace.findFiles('**/*.reglens.json', '**/node_modules/**', 200)).filter((f) => isExperimentFileName(f.path));
  if (files.length === 0) {
    void vscode.window
      .showWarningMessage('No *.reglens.json experiment file in this workspace. Start from one of the examples RegLens ships with?', 'Open Example Experiment')
      .then((choice) => choice && vscode.commands.executeCommand('reglens.openExample'));
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

/** A single run, or for a sweep file the ids of its runs (once all have started, or the sweep has ended). */
export async function runExperiment(
  ctx: Ctx,
  runs: RunManager,
  dashboards: DashboardPanels,
  uri: vscode.Uri | undefined,
  opts: { quiet?: boolean } = {},
): Promise<LiveRun | string[] | undefined> {
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
  if (isSweep(experiment)) {
    let members;
    try {
      members = expandSweep(experiment);
    } catch (err) {
      const msg = err instanceof ExperimentError ? err.message : String(err);
      void vscode.window
        .showErrorMessage(`Invalid sweep in ${vscode.workspace.asRelativePath(file)}: ${msg}`, 'Open File')
        .then((choice) => choice && vscode.window.showTextDocument(doc));
      return undefined;
    }
    if (ctx.config.sweepsExecutor === 'slurm') return submitSweepToSlurm(ctx, runs, dashboards, experiment, members, runsDir.fsPath, file.fsPath);
    return runSweepMembers(ctx, runs, dashboards, experiment.name, members, runsDir.fsPath, file.fsPath);
  }
  let run: LiveRun;
  try {
    run = await runs.start(experiment, runsDir.fsPath, file.fsPath);
  } catch (err) {
    void vscode.window.showErrorMessage(`RegLens could not start the run: ${(err as Error).message}`);
    return undefined;
  }
  if (opts.quiet) return run;
  await dashboards.show(run.id);
  trackProgress(ctx, runs, run);
  return run;
}

/**
 * The notification when a run ends: finished or stopped (unless reglens.notifications.runEnded
 * is off) with its key numbers and Open Dashboard; failed or died always, with Show Log.
 */
export function notifyRunEnded(ctx: Ctx, run: { id: string; name: string; totalEpochs: number }, summary: RunSummary): void {
  const failed = summary.status === 'failed' || summary.status === 'died';
  if (!failed && !ctx.config.notifyRunEnded) return;
  const msg = runEndedMessage({ label: run.name, status: summary.status, epochs: summary.epochs, totalEpochs: summary.totalEpochs || run.totalEpochs, final: summary.final, error: summary.error });
  void ctx.notify(msg.severity, msg.text, 'Open Dashboard', ...(failed ? ['Show Log'] : [])).then((choice) => {
    if (choice === 'Show Log') ctx.output.show();
    else if (choice === 'Open Dashboard') void vscode.commands.executeCommand('reglens.openRun', run.id);
  });
}

/** The progress notification of a live run (with Cancel), then the notification when it ends. */
export function trackProgress(ctx: Ctx, runs: RunManager, run: LiveRun): void {
  void ctx.withProgress(
    { title: `RegLens: ${run.name}`, cancellable: true },
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
  void run.ended.then((summary) => notifyRunEnded(ctx, run, summary));
}

/**
 * Runs a sweep's members through RunManager (so each is an ordinary live run with its folder),
 * `reglens.training.parallelRuns` at a time, with one progress notification whose Cancel stops
 * them all. Once every member has started they open together in a compare panel, which then
 * follows them live. Resolves with the run ids at that point.
 */
async function runSweepMembers(
  ctx: Ctx,
  runs: RunManager,
  dashboards: DashboardPanels,
  title: string,
  members: SweepMember[],
  runsDir: string,
  experimentFile: string,
): Promise<string[]> {
  const total = members.length;
  const parallel = resolveParallelism(ctx.config.parallelRuns);
  const ids: (string | undefined)[] = new Array(total).fill(undefined);
  let started = 0;
  let ended = 0;
  // Set once the notification exists (withProgress may call back later than it returns).
  let showEnded: (() => void) | undefined;
  let allStarted!: () => void;
  const whenAllStarted = new Promise<void>((resolve) => (allStarted = resolve));
  ctx.output.info(`sweep "${title}": ${total} runs, ${Math.min(parallel, total)} at a time`);

  const sweep = runSweep(members, {
    parallel,
    start: async (member, index) => {
      // Members already fill the cores: a second thread each would only compete with them.
      const run = await runs.start(member.experiment, runsDir, experimentFile, { evalThread: evalThreadForSweep(ctx.config.evaluationThread, parallel) });
      ids[index] = run.id;
      return { cancel: () => runs.cancel(run.id), ended: run.ended };
    },
    onStarted: () => {
      if (++started === total) allStarted();
    },
    onEnded: () => {
      ended++;
      showEnded?.();
    },
  });
  // Cancelled or failed to start before all had started: open what there is.
  void sweep.done.then(() => allStarted());
  // On deactivation RunManager stops the live runs; the sweep must not start the remaining ones.
  // (One small object per sweep stays registered until then.)
  ctx.track({ dispose: () => sweep.cancel() });

  void ctx.withProgress(
    { title: `RegLens sweep: ${title}`, cancellable: true },
    (progress, token) => {
      token.onCancellationRequested(() => sweep.cancel());
      let shown = 0;
      showEnded = () => {
        progress.report({ increment: ((ended - shown) / total) * 100, message: `${ended}/${total} runs done, up to ${Math.min(parallel, total)} at a time` });
        shown = ended;
      };
      showEnded();
      return sweep.done;
    },
  );

  void sweep.done.then((results) => {
    const problems = results.flatMap((r) => {
      const label = members[r.index].label;
      if (r.state === 'error') return [`${label}: could not start (${r.error})`];
      const s: RunSummary | undefined = r.state === 'ended' ? r.result : undefined;
      return s && (s.status === 'failed' || s.status === 'died') ? [`${label}: ${s.status}${s.error ? ` (${s.error})` : ''}`] : [];
    });
    if (problems.length) {
      void vscode.window
        .showErrorMessage(`RegLens sweep "${title}": ${problems.length} of ${total} runs did not finish. ${problems.join('; ')}`, 'Show Log')
        .then((c) => c && ctx.output.show());
    }
  });

  await whenAllStarted;
  const runIds = ids.filter((id): id is string => id !== undefined);
  if (runIds.length >= 2) {
    await dashboards.showCompare(runIds.slice(0, maxCompared));
    if (runIds.length > maxCompared) {
      void vscode.window.showInformationMessage(
        `The compare panel shows the first ${maxCompared} of the sweep's ${runIds.length} runs; pick others with "RegLens: Compare Runs".`,
      );
    }
  } else if (runIds.length === 1) await dashboards.show(runIds[0]);
  return runIds;
}
