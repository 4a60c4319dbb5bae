// "Probe this Model…": writes two experiment files for a layer-list model found in
// the code (as written, and with the regularizer RegLens suggests), runs both through the
// ordinary Run Experiment command and opens them side by side in the compare dashboard.
import * as vscode from 'vscode';
import { PROBE_COMMAND_TITLE } from '../../analysis/lenses/lensTitles';
import { FRAMEWORK_NAMES, type DetectedModel } from '../../analysis/modelGraph';
import * as path from 'node:path';
import {
  DEFAULT_LABEL_NOISE,
  isModuleProbeable,
  isProbeable,
  type LabelNoise,
  PROBE_DATASETS,
  type ProbeDatasetId,
  moduleProbeExperiments,
  probeExperiments,
  probeFileNames,
  suggestedDataset,
} from '../../analysis/probeExperiment';
import { inspectTorchModel, resolvePython } from '../../engine/torchBridge';
import { parseExperiment } from '../../protocol/experiment';
import type { Ctx } from '../ctx';
import type { DocumentAnalysis } from '../lint/documentAnalysis';
import { probeVerdict } from '../../runs/probeVerdict';
import { pythonInterpreterFor } from '../runs/pythonInterpreter';
import type { LiveRun, RunManager } from '../runs/runManager';

export const PROBE_COMMAND = 'reglens.probeModel';


/** Optional third argument of the command (tests, keybindings): skips the quick picks. */
export interface ProbeCommandOptions {
  dataset?: ProbeDatasetId;
  /** Default with a dataset given: 30% symmetric; otherwise asked for. */
  labelNoise?: LabelNoise;
  /** Overrides the dataset's epoch count. */
  epochs?: number;
  /** false: only write the experiment files. */
  run?: boolean;
  /** nn.Module subclasses: constructor arguments, so none is asked for. */
  args?: Record<string, unknown>;
}

export interface ProbeCommandResult {
  /** The two experiment files written: plain, regularized. */
  files: string[];
  /** Run ids when both runs started. */
  runIds?: string[];
  regularizer: string;
  notes: string[];
}

const NOISE_CHOICES: { label: string; noise: LabelNoise }[] = [
  { label: '30% symmetric label noise', noise: DEFAULT_LABEL_NOISE },
  { label: '20% symmetric label noise', noise: { kind: 'symmetric', rate: 0.2 } },
  { label: '40% symmetric label noise', noise: { kind: 'symmetric', rate: 0.4 } },
  { label: '30% pair-flip label noise', noise: { kind: 'pairflip', rate: 0.3 } },
  { label: 'Clean labels', noise: { kind: 'symmetric', rate: 0 } },
];

export function registerProbeCommand(ctx: Ctx, analysis: DocumentAnalysis, runs: RunManager): void {
  ctx.registerCommand(PROBE_COMMAND, async (uri: unknown, modelStart: unknown, options?: unknown): Promise<ProbeCommandResult | undefined> => {
    if (!(uri instanceof vscode.Uri) || typeof modelStart !== 'number') {
      void vscode.window.showErrorMessage(`RegLens: ${PROBE_COMMAND_TITLE} is run from the code lens above a model.`);
      return undefined;
    }
    const opts = (options && typeof options === 'object' ? options : {}) as ProbeCommandOptions;
    const doc = await vscode.workspace.openTextDocument(uri);
    // Re-analysed here: a lens computed before an edit still finds its model, or says it is gone.
    const current = await analysis.analysis(doc);
    const model = current?.graph?.models.find((m) => m.start === modelStart);
    if (!model || !(isProbeable(model) || isModuleProbeable(model))) {
      void vscode.window.showWarningMessage('The model moved since the code lens was computed; try again.');
      return undefined;
    }
    // An nn.Module subclass is trained as written (model.pytorch): needs torch, and asks for arguments.
    const module = isModuleProbeable(model) ? await moduleSource(ctx, uri, model, opts) : undefined;
    if (module === null) return undefined;

    const dataset = opts.dataset ?? (await pickDataset(model));
    if (!dataset) return undefined;
    // A caller that names the dataset (tests, keybindings) gets the default noise without a pick.
    const labelNoise = opts.labelNoise ?? (opts.dataset ? DEFAULT_LABEL_NOISE : await pickNoise());
    if (!labelNoise) return undefined;

    const modelName = model.name ?? `${uri.path.replace(/^.*\//, '')}:${model.range.start.line + 1}`;
    // The experiment files go to .reglens/experiments/ of the workspace folder (next to the runs),
    // not among the user's sources; a file outside any workspace folder gets them beside it.
    const workspaceFolder = vscode.workspace.getWorkspaceFolder(uri)?.uri;
    const folder = workspaceFolder ? vscode.Uri.joinPath(workspaceFolder, '.reglens', 'experiments') : vscode.Uri.joinPath(uri, '..');
    // model.pytorch.file is relative to the experiment file's folder.
    const sourceFromFolder = path.relative(folder.fsPath, uri.fsPath).split(path.sep).join('/');
    const probe = module
      ? moduleProbeExperiments(model, { dataset, labelNoise, epochs: opts.epochs, file: sourceFromFolder, args: module.args })
      : probeExperiments(model, { dataset, labelNoise, epochs: opts.epochs, modelName });
    if (!probe) {
      void vscode.window.showWarningMessage(module ? `RegLens: ${model.name} cannot be probed on ${dataset}.` : 'RegLens: this model has no dense layer to carry over.');
      return undefined;
    }
    const names = probeFileNames(uri.path);
    const files = [vscode.Uri.joinPath(folder, names.plain), vscode.Uri.joinPath(folder, names.regularized)];
    const bodies = [probe.plain, probe.regularized];
    await vscode.workspace.fs.createDirectory(folder);
    for (let i = 0; i < files.length; i++) {
      // The same validation the run command applies, so a conversion bug surfaces here, named.
      parseExperiment(bodies[i]);
      await vscode.workspace.fs.writeFile(files[i], Buffer.from(`${JSON.stringify(bodies[i], null, 2)}\n`, 'utf8'));
    }
    for (const note of probe.notes) ctx.output.info(`probe ${modelName}: ${note}`);
    const where = vscode.workspace.asRelativePath(folder, false);
    const result: ProbeCommandResult = { files: files.map((f) => f.fsPath), regularizer: probe.regularizer, notes: probe.notes };
    const wrote = `RegLens wrote the two probe experiments (as written, and with ${probe.regularizer}) to ${where}/: ${names.plain} and ${names.regularized}.`;
    if (opts.run === false) {
      void ctx.notify('info', wrote, 'Open Files').then((c) => c && openFiles(files));
      return result;
    }

    if (!vscode.workspace.isTrusted) {
      // Lenses and the files work untrusted; training needs trust (see capabilities in package.json).
      void ctx
        .notify('warning', `${wrote} Running them needs a trusted workspace.`, 'Manage Workspace Trust')
        .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
      return result;
    }
    const runIds: string[] = [];
    for (const file of files) {
      // quiet: no dashboard and no progress of their own; one progress below follows both.
      const id = await vscode.commands.executeCommand<string | undefined>('reglens.runExperiment', file, { quiet: true });
      if (typeof id !== 'string') {
        for (const started of runIds) runs.cancel(started);
        return result;
      }
      runIds.push(id);
    }
    await vscode.commands.executeCommand('reglens.compareRuns', runIds);
    followProbe(ctx, runs, runIds, { modelName, where, regularizer: probe.regularizer, files });
    if (probe.notes.length) ctx.output.info(`probe ${modelName}: ${probe.notes.length} layer(s) were approximated or left out (above)`);
    return { ...result, runIds };
  });
}

function openFiles(files: vscode.Uri[]): void {
  for (const f of files) void vscode.window.showTextDocument(f, { preview: false, preserveFocus: true });
}

/**
 * One progress notification for both probe runs (Cancel stops both), then one notification
 * with the verdict: did the regularizer help?
 */
function followProbe(ctx: Ctx, runs: RunManager, runIds: string[], info: { modelName: string; where: string; regularizer: string; files: vscode.Uri[] }): void {
  const live = runIds.map((id) => runs.liveRun(id)).filter((r): r is LiveRun => r !== undefined);
  if (live.length !== runIds.length) return;
  const total = live.reduce((n, r) => n + r.totalEpochs, 0) || 1;
  const epochOf = (r: LiveRun) => {
    for (let i = r.events.length - 1; i >= 0; i--) {
      const e = r.events[i];
      if (e.type === 'epoch') return e.epoch;
    }
    return 0;
  };
  const ended = Promise.all(live.map((r) => r.ended));
  void ctx.withProgress({ title: `RegLens: probing ${info.modelName} (experiments in ${info.where}/)`, cancellable: true }, (progress, token) => {
    token.onCancellationRequested(() => runIds.forEach((id) => runs.cancel(id)));
    let shown = 0;
    const report = () => {
      const done = live.reduce((n, r) => n + epochOf(r), 0);
      progress.report({ increment: ((done - shown) / total) * 100, message: `as written: epoch ${epochOf(live[0])}/${live[0].totalEpochs} · with ${info.regularizer}: epoch ${epochOf(live[1])}/${live[1].totalEpochs}` });
      shown = done;
    };
    const sub = runs.onDidChange((c) => c.kind === 'events' && runIds.includes(c.runId) && c.events.some((e) => e.type === 'epoch') && report());
    report();
    return ended.then(() => sub.dispose());
  });
  void ended.then((summaries) => {
    const [plain, regularized] = summaries;
    const failed = summaries.filter((s) => s.status === 'failed' || s.status === 'died');
    if (failed.length) {
      void ctx.notify('error', `RegLens: the probe of ${info.modelName} did not finish: ${failed.map((s) => `${s.name} ${s.status}${s.error ? ` (${s.error})` : ''}`).join('; ')}`, 'Show Log').then((c) => c && ctx.output.show());
      return;
    }
    if (!ctx.config.notifyRunEnded) return;
    const v = probeVerdict(plain, regularized, info.regularizer);
    void ctx.notify('info', `RegLens probe of ${info.modelName}: ${v.text}`, 'Open Compare', 'Open Files').then((c) => {
      if (c === 'Open Compare') void vscode.commands.executeCommand('reglens.compareRuns', runIds);
      else if (c === 'Open Files') openFiles(info.files);
    });
  });
}

/**
 * The constructor arguments of an nn.Module subclass the dataset does not fill: from the
 * options (tests, keybindings), else asked for one by one. null: cancelled or not possible
 * (no trust, no torch, the class does not import), with the reason shown.
 */
async function moduleSource(ctx: Ctx, uri: vscode.Uri, model: DetectedModel, opts: ProbeCommandOptions): Promise<{ args: Record<string, unknown> } | null> {
  const className = model.name ?? '';
  if (!vscode.workspace.isTrusted) {
    // Reading the constructor imports the file: Python code from the workspace.
    void vscode.window
      .showWarningMessage(`RegLens probes ${className} by importing and training it in Python, which needs a trusted workspace.`, 'Manage Workspace Trust')
      .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
    return null;
  }
  const interpreter = await pythonInterpreterFor(ctx.config, uri, ctx.output);
  const python = resolvePython(interpreter.python);
  const signature = await inspectTorchModel(python, uri.fsPath, className);
  if (!signature.ok) {
    void vscode.window.showErrorMessage(`RegLens cannot probe ${className}: ${signature.reason ?? 'its constructor could not be read'}`);
    return null;
  }
  const args: Record<string, unknown> = { ...(opts.args ?? {}) };
  for (const p of signature.parameters) {
    if (!p.required || p.fill !== null || p.name in args) continue;
    const text = await vscode.window.showInputBox({
      title: `Probe ${className}: constructor argument`,
      prompt: `${className}(${p.name}=?) has no default. A JSON value (64, 0.1, "relu", [128, 64]); anything else is taken as a string.`,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' ? `give a value for ${p.name}` : undefined),
    });
    if (text === undefined) return null;
    args[p.name] = parseArgument(text);
  }
  return { args };
}

/** A constructor argument typed in: JSON when it parses, else the text itself. */
export function parseArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.trim();
  }
}

async function pickDataset(model: DetectedModel): Promise<ProbeDatasetId | undefined> {
  // The dataset whose inputs fit the model's first layer comes first (and is the active item).
  const fit = suggestedDataset(model);
  const ordered = fit ? [...PROBE_DATASETS].sort((a, b) => Number(b.id === fit.id) - Number(a.id === fit.id)) : PROBE_DATASETS;
  const pick = await vscode.window.showQuickPick(
    ordered.map((d) => ({
      label: d.label,
      description: `${d.classes} classes${fit?.id === d.id ? ` · fits the model's ${fit.inputs} inputs` : ''}`,
      detail: d.detail,
      id: d.id,
    })),
    { title: `Probe this ${FRAMEWORK_NAMES[model.framework]} Model: Choose a Dataset`, placeHolder: 'Its input and output layers are rewired to the dataset' },
  );
  return pick?.id;
}

async function pickNoise(): Promise<LabelNoise | undefined> {
  const pick = await vscode.window.showQuickPick(
    NOISE_CHOICES.map((c) => ({ label: c.label, noise: c.noise })),
    { title: 'Label noise', placeHolder: 'Noisy labels show whether the model memorizes them' },
  );
  return pick?.noise;
}
