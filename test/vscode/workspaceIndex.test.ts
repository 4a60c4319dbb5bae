// Diagnostics that rest on another file of the workspace (the workspace index) in a real
// extension host: related information pointing at that file, and edits of it (in the editor,
// or a file created on disk) re-checking the file that depends on it.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extensionApi, waitForDiagnostics, workspaceUri } from './waitFor';

function codeOf(d: vscode.Diagnostic): string | undefined {
  return typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
}

const has = (rule: string) => (d: readonly vscode.Diagnostic[]) => d.some((x) => codeOf(x) === rule);
const lacks = (rule: string) => (d: readonly vscode.Diagnostic[]) => !d.some((x) => codeOf(x) === rule);

describe('Workspace index: diagnostics across files', () => {
  before(async () => {
    await extensionApi();
  });

  it('a BatchNorm in another file: related information points there, and editing that file updates the diagnostic', async () => {
    const rule = 'mc-dropout-flips-batchnorm';
    const backboneUri = workspaceUri('xfile/xf_backbone.py');
    const doc = await vscode.workspace.openTextDocument(workspaceUri('xfile/xf_uncertainty.py'));
    await vscode.window.showTextDocument(doc);
    const diags = await waitForDiagnostics(doc.uri, has(rule));
    const diag = diags.find((x) => codeOf(x) === rule)!;
    assert.match(doc.getText(diag.range), /model\.train\(\)/);
    assert.match(diag.message, /BatchNorm2d in Backbone, xf_backbone\.py/);
    const related = diag.relatedInformation ?? [];
    assert.equal(related.length, 1, JSON.stringify(related));
    assert.equal(related[0].location.uri.toString(), backboneUri.toString());
    const backbone = await vscode.workspace.openTextDocument(backboneUri);
    assert.match(backbone.getText(related[0].location.range), /nn\.BatchNorm2d\(width\)/);

    // Unsaved edits of the other file count: BatchNorm replaced by GroupNorm clears it, undone it returns.
    const at = backbone.getText().indexOf('nn.BatchNorm2d(width)');
    const span = new vscode.Range(backbone.positionAt(at), backbone.positionAt(at + 'nn.BatchNorm2d(width)'.length));
    const edit = new vscode.WorkspaceEdit();
    edit.replace(backboneUri, span, 'nn.GroupNorm(8, width)');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitForDiagnostics(doc.uri, lacks(rule));
    const back = new vscode.WorkspaceEdit();
    back.replace(backboneUri, new vscode.Range(span.start, backbone.positionAt(at + 'nn.GroupNorm(8, width)'.length)), 'nn.BatchNorm2d(width)');
    assert.ok(await vscode.workspace.applyEdit(back));
    await waitForDiagnostics(doc.uri, has(rule));
  });

  it('a file created on disk that an open file imports: the diagnostic appears once the watcher indexed it', async () => {
    const rule = 'dropout-before-batchnorm';
    const doc = await vscode.workspace.openTextDocument(workspaceUri('xfile/xf_head.py'));
    await vscode.window.showTextDocument(doc);
    // Without xf_layers.py, AlwaysDropout is an unknown call (the unit tests show nothing is reported then).
    const layersUri = workspaceUri('xfile/xf_layers.py');
    const layers = 'import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass AlwaysDropout(nn.Dropout):\n    def forward(self, x):\n        return F.dropout(x, self.p, training=True)\n';
    await vscode.workspace.fs.writeFile(layersUri, new TextEncoder().encode(layers));
    try {
      const diags = await waitForDiagnostics(doc.uri, has(rule));
      const diag = diags.find((x) => codeOf(x) === rule)!;
      assert.match(doc.getText(diag.range), /AlwaysDropout\(0\.2\)/);
      assert.equal(diag.relatedInformation?.[0]?.location.uri.toString(), layersUri.toString());
      assert.equal(diag.relatedInformation?.[0]?.location.range.start.line, 4);
    } finally {
      await vscode.workspace.fs.delete(layersUri);
    }
    // Deleted again: the finding goes with it.
    await waitForDiagnostics(doc.uri, lacks(rule));
  });
});
