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
} from '../../analysis/probeExperiment';
import { inspectTorchModel, resolvePython } from '../../engine/torchBridge';
import { parseExperiment } from '../../protocol/experiment';
import type { Ctx } from '../ctx';
import type { DocumentAnalysis } from '../lint/documentAnalysis';
import { pythonInterpreterFor } from '../runs/pythonInterpreter';

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

export function registerProbeCommand(ctx: Ctx, analysis: DocumentAnalysis): void {
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
    const probe = module
      ? moduleProbeExperiments(model, { dataset, labelNoise, epochs: opts.epochs, file: path.basename(uri.fsPath), args: module.args })
      : probeExperiments(model, { dataset, labelNoise, epochs: opts.epochs, modelName });
    if (!probe) {
      void vscode.window.showWarningMessage(module ? `RegLens: ${model.name} cannot be probed on ${dataset}.` : 'RegLens: this model has no dense layer to carry over.');
      return undefined;
    }
    const names = probeFileNames(uri.path);
    const folder = vscode.Uri.joinPath(uri, '..');
    const files = [vscode.Uri.joinPath(folder, names.plain), vscode.Uri.joinPath(folder, names.regularized)];
    const bodies = [probe.plain, probe.regularized];
    for (let i = 0; i < files.length; i++) {
      // The same validation the run command applies, so a conversion bug surfaces here, named.
      parseExperiment(bodies[i]);
      await vscode.workspace.fs.writeFile(files[i], Buffer.from(`${JSON.stringify(bodies[i], null, 2)}\n`, 'utf8'));
    }
    for (const note of probe.notes) ctx.output.info(`probe ${modelName}: ${note}`);
    const result: ProbeCommandResult = { files: files.map((f) => f.fsPath), regularizer: probe.regularizer, notes: probe.notes };
    if (opts.run === false) return result;

    if (!vscode.workspace.isTrusted) {
      // Lenses and the files work untrusted; training needs trust (see capabilities in package.json).
      void vscode.window
        .showWarningMessage(
          `RegLens wrote ${names.plain} and ${names.regularized}. Running them needs a trusted workspace.`,
          'Manage Workspace Trust',
        )
        .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
      return result;
    }
    const runIds: string[] = [];
    for (const file of files) {
      const id = await vscode.commands.executeCommand<string | undefined>('reglens.runExperiment', file);
      if (typeof id !== 'string') return result;
      runIds.push(id);
    }
    await vscode.commands.executeCommand('reglens.compareRuns', runIds);
    if (probe.notes.length) {
      void vscode.window
        .showInformationMessage(`RegLens: ${probe.notes.length} layer(s) were approximated or left out; see the RegLens log.`, 'Show Log')
        .then((c) => c && ctx.output.show());
    }
    return { ...result, runIds };
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
  const pick = await vscode.window.showQuickPick(
    PROBE_DATASETS.map((d) => ({ label: d.label, description: `${d.classes} classes`, detail: d.detail, id: d.id })),
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
