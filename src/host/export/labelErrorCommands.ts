// "RegLens: Export Suspected Labels (CSV)" and the cleaning loop ("Retrain Without the Top-k
// Suspects", "Retrain With Suggested Labels"): the run's labelErrors probe, its recorded
// experiment (spec.json), a derived second run opened in Compare against the first. Optional
// arguments (run id, target, method, k) let tests and the dashboard skip the dialogs.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadCsv } from '../../engine/data/csv';
import { LABEL_ERROR_METHODS, type LabelErrorMethod } from '../../engine/probes/labelErrors';
import type { EngineEvent, LabelErrorsProbe } from '../../protocol/engineMessages';
import { parseExperiment, type Experiment, type ExperimentInput } from '../../protocol/experiment';
import { readRun } from '../../runs/runFolder';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import type { RunManager } from '../runs/runManager';
import { defaultMethod, derivedExperiment, labelErrorsCsv, type CleaningMode, type CsvSource } from './labelErrorsCsv';
import { runIdOf } from './exportCommands';

const NO_PROBE =
  'This run has no label-error ranking. Add "probes": { "labelErrors": {} } to the experiment file and run it again (with dataset.labelNoise the ranking is also measured against the corrupted labels).';

export function latestLabelErrors(events: readonly EngineEvent[]): LabelErrorsProbe | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'probe' && e.probe.kind === 'labelErrors') return e.probe;
  }
  return undefined;
}

const methodOf = (arg: unknown, p: LabelErrorsProbe): LabelErrorMethod | undefined =>
  typeof arg === 'string' && (LABEL_ERROR_METHODS as readonly string[]).includes(arg) ? (arg as LabelErrorMethod) : defaultMethod(p);

/** The CSV dataset's file lines and label values, when the file is still where the run read it. */
function csvSourceOf(experiment: Experiment | undefined, experimentFile: string | undefined): CsvSource | undefined {
  const ds = experiment?.dataset;
  if (ds?.kind !== 'csv') return undefined;
  const base = experimentFile ? path.dirname(experimentFile) : (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd());
  try {
    const parsed = loadCsv(path.resolve(base, ds.path), ds);
    return { lines: parsed.lines, classNames: parsed.classNames };
  } catch {
    // The export still has the row numbers (source); only the file lines are missing.
    return undefined;
  }
}

export function registerLabelErrorCommands(ctx: Ctx, runs: RunManager, dashboards: DashboardPanels, pickRun: () => Promise<string | undefined>): void {
  const load = async (runId: string) => {
    await dashboards.findRuns([runId]);
    const dir = runs.folderOf(runId);
    if (!dir) throw new Error(`run ${runId} is not on disk`);
    const r = await readRun(dir);
    const view = await runs.view(runId);
    const probe = latestLabelErrors(view?.events ?? r.events);
    return { dir, r, probe };
  };

  const exportCsv = async (runId: string, targetArg?: unknown, methodArg?: unknown): Promise<string | undefined> => {
    const { dir, r, probe } = await load(runId);
    if (!probe) {
      void vscode.window.showInformationMessage(NO_PROBE);
      return undefined;
    }
    const method = methodOf(methodArg, probe) ?? 'aum';
    const target =
      typeof targetArg === 'string' && path.isAbsolute(targetArg)
        ? vscode.Uri.file(targetArg)
        : await vscode.window.showSaveDialog({
            title: `Export the suspected labels of "${r.summary.name}"`,
            defaultUri: vscode.Uri.file(path.join(dir, `suspected-labels-${runId}.csv`)),
            filters: { CSV: ['csv'] },
          });
    if (!target) return undefined;
    const csv = labelErrorsCsv(probe, method, csvSourceOf(r.experiment, r.summary.experimentFile));
    await vscode.workspace.fs.writeFile(target, Buffer.from(csv, 'utf8'));
    if (typeof targetArg !== 'string') {
      void vscode.window.showInformationMessage(`Suspected labels written: ${target.fsPath} (${probe.examples} rows)`, 'Open').then((c) => c && vscode.window.showTextDocument(target));
    }
    return target.fsPath;
  };

  /** Starts the derived run and opens Compare; resolves with the new run's id. */
  const retrain = async (runId: string, mode: CleaningMode, kArg?: unknown, methodArg?: unknown): Promise<string | undefined> => {
    const { dir, r, probe } = await load(runId);
    if (!probe) {
      void vscode.window.showInformationMessage(NO_PROBE);
      return undefined;
    }
    if (!r.experiment) throw new Error(`run ${runId} has no readable spec.json to derive a run from`);
    const method = methodOf(methodArg, probe);
    if (!method) throw new Error('no label-error method produced scores in this run');
    let k = typeof kArg === 'number' && Number.isInteger(kArg) && kArg > 0 ? kArg : undefined;
    if (k === undefined) {
      const suggested = probe.methods.find((m) => m.method === 'confidentLearning')?.flagged ?? probe.methods.find((m) => m.metrics)?.metrics?.k ?? 30;
      const text = await vscode.window.showInputBox({
        title: mode === 'exclude' ? 'Retrain without how many top suspects?' : 'Relabel how many top suspects?',
        value: String(suggested),
        validateInput: (v) => (/^\d+$/.test(v) && Number(v) > 0 && Number(v) < probe.examples ? undefined : `a whole number from 1 to ${probe.examples - 1}`),
      });
      if (!text) return undefined;
      k = Number(text);
    }
    const derived = parseExperiment(derivedExperiment(r.experiment as ExperimentInput, probe, method, k, mode));
    const run = await runs.start(derived, path.dirname(dir), r.summary.experimentFile);
    await dashboards.showCompare([runId, run.id]);
    return run.id;
  };

  dashboards.exportLabelErrors = (runId, method) => exportCsv(runId, undefined, method);
  dashboards.retrainLabelErrors = (runId, method, k, mode) => retrain(runId, mode, k, method);

  const guarded =
    (what: string, f: (runId: string, ...rest: unknown[]) => Promise<string | undefined>) =>
    async (runIdArg?: unknown, ...rest: unknown[]) => {
      const runId = runIdOf(runIdArg) ?? dashboards.activeRunId() ?? (await pickRun());
      if (!runId) return undefined;
      try {
        return await f(runId, ...rest);
      } catch (err) {
        void vscode.window.showErrorMessage(`RegLens could not ${what}: ${(err as Error).message}`);
        return undefined;
      }
    };
  ctx.registerCommand('reglens.exportLabelErrors', guarded('export the suspected labels', (id, target, method) => exportCsv(id, target, method)));
  ctx.registerCommand('reglens.retrainWithoutSuspects', guarded('start the run without the suspects', (id, k, method) => retrain(id, 'exclude', k, method)));
  ctx.registerCommand('reglens.retrainWithSuggestedLabels', guarded('start the run with suggested labels', (id, k, method) => retrain(id, 'relabel', k, method)));
}
