// Sweeps on Slurm from VS Code (reglens.sweeps.executor "slurm"): submits the sweep as one
// array job, follows it (each member's run folder exists from submission, so the Runs view
// shows it queued, then live as its events arrive, then with Slurm's outcome), opens the
// compare panel, stops members with scancel and resubmits the ones that did not finish.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Experiment, SlurmOptions } from '../../protocol/experiment';
import { SlurmOptionsSchema } from '../../protocol/experiment';
import type { SweepMember } from '../../protocol/sweep';
import { maxCompared } from '../../protocol/webviewMessages';
import { readSummary } from '../../runs/runFolder';
import { RESUBMITTABLE, cancelSweep, resubmitFailed, submitSlurmSweep, watchSlurmSweep } from '../../runs/slurmSweep';
import type { MemberState, SweepManifest } from '../../runs/slurmSweep';
import type { Config } from '../config';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import { pythonInterpreterFor } from './pythonInterpreter';
import type { RunManager } from './runManager';
import { isExperimentNode, isResubmittable } from './runsTree';

/** The reglens.sweeps.slurm.* settings as sbatch defaults (unset ones left to Slurm). Throws naming a bad setting. */
export function slurmDefaults(config: Config): SlurmOptions {
  const raw = {
    ...(config.slurmPartition ? { partition: config.slurmPartition } : {}),
    ...(config.slurmTime ? { time: config.slurmTime } : {}),
    ...(config.slurmCpusPerTask > 0 ? { cpusPerTask: config.slurmCpusPerTask } : {}),
    ...(config.slurmGpusPerTask > 0 ? { gpusPerTask: config.slurmGpusPerTask } : {}),
    ...(config.slurmMem ? { mem: config.slurmMem } : {}),
    ...(config.slurmAccount ? { account: config.slurmAccount } : {}),
    ...(config.slurmExtraSbatch.length ? { extraSbatch: config.slurmExtraSbatch } : {}),
    ...(config.slurmMaxConcurrent > 0 ? { maxConcurrent: config.slurmMaxConcurrent } : {}),
  };
  const r = SlurmOptionsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`setting reglens.sweeps.slurm.${issue.path.join('.')}: ${issue.message}`);
  }
  return r.data;
}

/** Sweep folders submitted from this window, so Stop Run and Resubmit find them. */
const watching = new Map<string, AbortController>();

/** Submits the sweep and follows it; resolves with the members' run ids once submitted. */
export async function submitSweepToSlurm(
  ctx: Ctx,
  runs: RunManager,
  dashboards: DashboardPanels,
  experiment: Experiment,
  members: SweepMember[],
  runsDir: string,
  experimentFile: string,
): Promise<string[]> {
  const backend = experiment.backend ?? ctx.config.trainingBackend;
  const mayUseTorch = (backend === 'torch' || backend === 'auto') && !experiment.model.module;
  let submitted: { sweepDir: string; manifest: SweepManifest };
  try {
    const interpreter = mayUseTorch ? await pythonInterpreterFor(ctx.config, vscode.Uri.file(experimentFile), ctx.output) : undefined;
    submitted = await submitSlurmSweep({
      experiment,
      members,
      experimentFile,
      runsDir,
      defaults: slurmDefaults(ctx.config),
      // The nodes run this same Node and CLI bundle: both must be at these paths there (shared home / software folder).
      nodePath: process.execPath,
      cliPath: ctx.asAbsolutePath('dist/cli.js'),
      backend,
      device: experiment.device ?? ctx.config.trainingDevice,
      ...(interpreter?.python ? { python: interpreter.python } : {}),
    });
  } catch (err) {
    void vscode.window.showErrorMessage(`RegLens could not submit the sweep to Slurm: ${(err as Error).message}`, 'Show Log').then((c) => c && ctx.output.show());
    return [];
  }
  const { sweepDir, manifest } = submitted;
  ctx.output.info(`sweep "${experiment.name}": ${members.length} runs submitted to Slurm as job ${manifest.submissions[0].jobId}; sweep folder ${sweepDir}`);
  for (const m of manifest.members) runs.remember(m.runId, path.join(runsDir, m.runId));
  void vscode.commands.executeCommand('reglens.refreshRuns');
  follow(ctx, sweepDir, manifest, manifest.members.map((m) => m.index));
  const runIds = manifest.members.map((m) => m.runId);
  if (runIds.length >= 2) await dashboards.showCompare(runIds.slice(0, maxCompared));
  else if (runIds.length === 1) await dashboards.show(runIds[0]);
  return runIds;
}

/** One progress notification per submission (Cancel: scancel), the Runs view refreshed on each change, a summary at the end. */
function follow(ctx: Ctx, sweepDir: string, manifest: SweepManifest, indices: number[]): void {
  watching.get(sweepDir)?.abort();
  const controller = new AbortController();
  watching.set(sweepDir, controller);
  ctx.track({ dispose: () => controller.abort() });
  const job = manifest.submissions[manifest.submissions.length - 1].jobId;
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `RegLens sweep on Slurm (job ${job}): ${manifest.name}`, cancellable: true },
    async (progress, token) => {
      token.onCancellationRequested(() => {
        void cancelSweep(sweepDir).catch((err: Error) => void vscode.window.showErrorMessage(`RegLens: ${err.message}`));
      });
      const latest = new Map<number, MemberState>();
      let shown = 0;
      const report = () => {
        const mine = indices.map((i) => latest.get(i)).filter((m): m is MemberState => !!m);
        const count = (f: (m: MemberState) => boolean) => mine.filter(f).length;
        const ended = count((m) => m.ended);
        progress.report({
          increment: ((ended - shown) / indices.length) * 100,
          message: `${count((m) => m.summary.status === 'queued')} queued, ${count((m) => m.summary.status === 'running')} running, ${ended}/${indices.length} ended`,
        });
        shown = ended;
      };
      const states = await watchSlurmSweep(sweepDir, {
        signal: controller.signal,
        onError: (err) => ctx.output.warn(`sweep ${sweepDir}: asking Slurm failed (retrying): ${err.message}`),
        onChange: (m) => {
          latest.set(m.index, m);
          if (!indices.includes(m.index)) return;
          report();
          ctx.output.info(`sweep ${manifest.id} member ${m.index} (${manifest.members[m.index].label}): ${m.summary.status}${m.task ? ` [Slurm ${m.task.state}${m.task.reason ? `, ${m.task.reason}` : ''}]` : ''}${m.ended && m.summary.error ? `: ${m.summary.error}` : ''}`);
          void vscode.commands.executeCommand('reglens.refreshRuns');
        },
      }).catch((err: Error) => {
        void vscode.window.showErrorMessage(`RegLens stopped following the Slurm sweep: ${err.message}`);
        return [] as MemberState[];
      });
      if (watching.get(sweepDir) === controller) watching.delete(sweepDir);
      const problems = states.filter((m) => indices.includes(m.index) && RESUBMITTABLE.has(m.summary.status));
      if (problems.length && !controller.signal.aborted) {
        const text = problems.map((m) => `${manifest.members[m.index].label}: ${m.summary.status}${m.summary.error ? ` (${m.summary.error})` : ''}`).join('; ');
        void vscode.window
          .showErrorMessage(`RegLens sweep "${manifest.name}": ${problems.length} of ${indices.length} runs did not finish. ${text}`, 'Resubmit Failed Members', 'Show Log')
          .then((c) => {
            if (c === 'Resubmit Failed Members') void vscode.commands.executeCommand('reglens.resubmitFailedSweepMembers', sweepDir);
            else if (c) ctx.output.show();
          });
      }
    },
  );
}

/** Stop Run on a Slurm member: scancel <job>_<task>. False when the run is not a Slurm member. */
export async function cancelSlurmMember(dir: string): Promise<boolean> {
  const s = await readSummary(dir);
  if (!s.slurm) return false;
  await cancelSweep(s.slurm.sweepDir, s.slurm.taskId);
  return true;
}

export function registerSlurmCommands(ctx: Ctx, runs: RunManager): void {
  // From the palette (a picker), the sweep's notification (its folder), a member's row in the
  // Runs view (that member's sweep) or its experiment's row (the sweep of its members that did not finish).
  ctx.registerCommand('reglens.resubmitFailedSweepMembers', async (arg?: unknown) => {
    const sweepDir = (typeof arg === 'string' ? arg : await sweepOfNode(runs, arg)) ?? (await pickSweep(ctx));
    if (!sweepDir) return undefined;
    try {
      const { manifest, indices } = await resubmitFailed(sweepDir);
      if (indices.length === 0) {
        void vscode.window.showInformationMessage(`Every member of the sweep "${manifest.name}" finished or is still queued or running: nothing to resubmit.`);
        return [];
      }
      ctx.output.info(`sweep ${manifest.id}: resubmitted members ${indices.join(', ')} as Slurm job ${manifest.submissions[manifest.submissions.length - 1].jobId}`);
      follow(ctx, sweepDir, manifest, indices);
      void vscode.commands.executeCommand('reglens.refreshRuns');
      return indices.map((i) => manifest.members[i].runId);
    } catch (err) {
      void vscode.window.showErrorMessage(`RegLens could not resubmit: ${(err as Error).message}`);
      return undefined;
    }
  });
}

/** The sweep folder of a Runs view node: a member's row, or the first member of an experiment's row that did not finish. */
async function sweepOfNode(runs: RunManager, node: unknown): Promise<string | undefined> {
  if (!node || typeof node !== 'object') return undefined;
  const members = isExperimentNode(node) ? node.runs.filter(isResubmittable) : 'runId' in node ? [node as { runId: unknown }] : [];
  for (const m of members) {
    const dir = runs.folderOf(String(m.runId));
    const sweepDir = dir ? (await readSummary(dir)).slurm?.sweepDir : undefined;
    if (sweepDir) return sweepDir;
  }
  return undefined;
}

async function pickSweep(ctx: Ctx): Promise<string | undefined> {
  const sweeps: { label: string; description: string; dir: string }[] = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const root = path.join(ctx.config.runsDirectory(f.uri).fsPath, 'sweeps');
    let names: [string, vscode.FileType][] = [];
    try {
      names = await vscode.workspace.fs.readDirectory(vscode.Uri.file(root));
    } catch {
      continue;
    }
    for (const [name, type] of names) if (type === vscode.FileType.Directory) sweeps.push({ label: name, description: root, dir: path.join(root, name) });
  }
  if (sweeps.length === 0) {
    void vscode.window.showInformationMessage('No Slurm sweeps in this workspace\'s runs folders (set reglens.sweeps.executor to "slurm" and run a sweep).');
    return undefined;
  }
  if (sweeps.length === 1) return sweeps[0].dir;
  const pick = await vscode.window.showQuickPick(sweeps.sort((a, b) => (a.label < b.label ? 1 : -1)), { title: 'Resubmit the failed members of which sweep?' });
  return pick?.dir;
}
