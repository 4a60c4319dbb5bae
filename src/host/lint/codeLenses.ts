// Code lenses above detected models: "Insert Dropout" (nn.Sequential) and "Add Regularizer…"
// (PyTorch, Keras, TF.js models) insert a regularizer in one undoable edit; "Probe this PyTorch
// Model…" (layer-list models and nn.Module subclasses) trains it as an experiment.
import * as vscode from 'vscode';
import type { TextEdit } from '../../analysis/textTypes';
import { planSnippet } from '../../snippets/insertionPlanner';
import { rankSnippets } from '../../snippets/snippetRanking';
import { Config } from '../config';
import type { Ctx } from '../ctx';
import { isModuleProbeable, isProbeable } from '../../analysis/probeExperiment';
import { FRAMEWORK_NAMES } from '../../analysis/modelGraph';
import { ADD_REGULARIZER_TITLE, probeLensTitle } from '../../analysis/lenses/lensTitles';
import { PROBE_COMMAND } from '../probe/probeCommand';
import { DocumentAnalysis, modelCodeSelector, toVsRange, toWorkspaceEdit } from './documentAnalysis';


export function registerCodeLenses(ctx: Ctx, analysis: DocumentAnalysis): void {
  const changed = ctx.track(new vscode.EventEmitter<void>());
  ctx.track(vscode.workspace.onDidChangeConfiguration((e) => Config.affects(e, 'codeLens') && changed.fire()));
  ctx.track(
    vscode.languages.registerCodeLensProvider(modelCodeSelector, {
      onDidChangeCodeLenses: changed.event,
      provideCodeLenses: async (doc) => {
        if (!ctx.config.codeLensEnabled) return [];
        const current = await analysis.analysis(doc);
        const result = current?.result;
        const insertDropout = (result?.lenses ?? []).map(
          (lens) =>
            new vscode.CodeLens(toVsRange(lens.range), {
              title: lens.title,
              tooltip: 'Insert nn.Dropout(p=0.1) after the last hidden activation of this model',
              command: 'reglens.insertDropout',
              arguments: [doc.uri, doc.version, lens.edits],
            }),
        );
        const addRegularizer = (result?.models ?? [])
          .filter((m) => m.snippetIds.length > 0)
          .map(
            (m) =>
              new vscode.CodeLens(toVsRange(m.range), {
                title: ADD_REGULARIZER_TITLE,
                tooltip: `Insert a regularizer that fits this ${m.framework} model`,
                command: 'reglens.addRegularizer',
                arguments: [doc.uri, m.start],
              }),
          );
        // Layer-list models (also an nn.Sequential inside a module) are translated to an experiment;
        // an nn.Module subclass is trained as written on the PyTorch engine (model.pytorch).
        const probe = (current?.graph?.models ?? []).filter((m) => isProbeable(m) || isModuleProbeable(m)).map(
          (m) =>
            new vscode.CodeLens(toVsRange({ start: m.range.start, end: m.range.start }), {
              title: probeLensTitle(m.framework),
              tooltip: isModuleProbeable(m)
                ? `Train ${m.name} itself (PyTorch) on a benchmark dataset with noisy labels, as written and with dropout added by a hook, and compare the runs`
                : 'Train this model on a benchmark dataset with noisy labels, as written and with a suggested regularizer, and compare the runs',
              command: PROBE_COMMAND,
              arguments: [doc.uri, m.start],
            }),
        );
        return [...insertDropout, ...addRegularizer, ...probe];
      },
    }),
  );

  ctx.registerCommand('reglens.insertDropout', async (uri: unknown, version: unknown, edits: unknown) => {
    if (!(uri instanceof vscode.Uri) || typeof version !== 'number' || !Array.isArray(edits)) {
      void vscode.window.showErrorMessage('RegLens: Insert Dropout is run from the code lens above a model.');
      return false;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.version !== version) {
      void vscode.window.showWarningMessage('The file changed since the code lens was computed; try again.');
      return false;
    }
    return vscode.workspace.applyEdit(toWorkspaceEdit(uri, edits as TextEdit[]));
  });

  // Arguments: the document, the model's start offset (from the lens) and, optionally, a snippet
  // id (tests and keybindings pick one without the quick pick). Re-analyses the current text, so
  // a lens computed before an edit still targets the right model or reports that it is gone.
  ctx.registerCommand('reglens.addRegularizer', async (uri: unknown, modelStart: unknown, snippetId?: unknown) => {
    if (!(uri instanceof vscode.Uri) || typeof modelStart !== 'number') {
      void vscode.window.showErrorMessage('RegLens: Add Regularizer… is run from the code lens above a model.');
      return false;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const current = await analysis.analysis(doc);
    const model = current?.graph?.models.find((m) => m.start === modelStart);
    if (!current?.graph || !model) {
      void vscode.window.showWarningMessage('The model moved since the code lens was computed; try again.');
      return false;
    }
    let id = typeof snippetId === 'string' ? snippetId : undefined;
    if (!id) {
      const picked = await vscode.window.showQuickPick(
        // Best fit first (src/snippets/snippetRanking.ts). The detail line says why it is placed
        // there, then what the snippet does; the description is the short citation (the long
        // text there was cut off at the picker's width, citation included).
        rankSnippets(current.graph, model).map(({ snippet: s, reason }) => ({ label: s.title, description: s.source, detail: `${reason} — ${s.detail}`, id: s.id })),
        { title: `Add Regularizer to this ${FRAMEWORK_NAMES[model.framework]} Model`, matchOnDescription: true, matchOnDetail: true },
      );
      if (!picked) return false;
      id = picked.id;
    }
    const edits = planSnippet(current.graph, model, id);
    if (!edits) {
      void vscode.window.showWarningMessage(`RegLens: "${id}" does not fit this model.`);
      return false;
    }
    return vscode.workspace.applyEdit(toWorkspaceEdit(uri, edits));
  });
}
