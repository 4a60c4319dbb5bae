// Code lenses above detected models that insert a regularizer in one undoable edit.
import * as vscode from 'vscode';
import type { TextEdit } from '../../analysis/textTypes';
import { Config } from '../config';
import type { Ctx } from '../ctx';
import { DocumentAnalysis, pythonSelector, toVsRange, toWorkspaceEdit } from './documentAnalysis';

export function registerCodeLenses(ctx: Ctx, analysis: DocumentAnalysis): void {
  const changed = ctx.track(new vscode.EventEmitter<void>());
  ctx.track(vscode.workspace.onDidChangeConfiguration((e) => Config.affects(e, 'codeLens') && changed.fire()));
  ctx.track(
    vscode.languages.registerCodeLensProvider(pythonSelector, {
      onDidChangeCodeLenses: changed.event,
      provideCodeLenses: async (doc) => {
        if (!ctx.config.codeLensEnabled) return [];
        const result = await analysis.analyze(doc);
        return (result?.lenses ?? []).map(
          (lens) =>
            new vscode.CodeLens(toVsRange(lens.range), {
              title: lens.title,
              tooltip: 'Insert nn.Dropout(p=0.1) after the last hidden activation of this model',
              command: 'reglens.insertDropout',
              arguments: [doc.uri, doc.version, lens.edits],
            }),
        );
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
}
