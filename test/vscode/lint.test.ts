// Diagnostics, quick fix and code lens on a real Python file in a real extension host.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extensionApi, waitFor, waitForDiagnostics, workspaceUri } from './waitFor';

const ruleId = 'dropout-before-batchnorm';

function codeOf(d: vscode.Diagnostic): string | undefined {
  return typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
}

async function freshCopy(name: string): Promise<vscode.TextDocument> {
  const src = workspaceUri('model.py');
  const dst = workspaceUri(name);
  await vscode.workspace.fs.copy(src, dst, { overwrite: true });
  const doc = await vscode.workspace.openTextDocument(dst);
  await vscode.window.showTextDocument(doc);
  return doc;
}

describe('Model-code diagnostics', () => {
  before(async () => {
    await extensionApi();
  });

  it('reports Dropout directly before BatchNorm and the quick fix clears it', async () => {
    const doc = await freshCopy('model_fix.py');
    const diags = await waitForDiagnostics(doc.uri, (d) => d.some((x) => codeOf(x) === ruleId));
    const diag = diags.find((x) => codeOf(x) === ruleId)!;
    assert.equal(diag.source, 'RegLens');
    assert.match(doc.getText(diag.range), /Dropout/);
    assert.match(diag.message, /BatchNorm/);
    // One line, like Ruff and Pylance; the code links to the rule's section of docs/rules.md at this version.
    assert.ok(!diag.message.includes('\n') && diag.message.length <= 100, diag.message);
    assert.ok(typeof diag.code === 'object', 'the code carries a link');
    assert.match(diag.code.target.toString(), /^https:\/\/github\.com\/reglens\/reglens\/blob\/v\d+\.\d+\.\d+\/docs\/rules\.md#dropout-before-batchnorm$/);

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      diag.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((a) => a.title.startsWith('Move Dropout'));
    assert.ok(fix?.edit, `a quick fix is offered (got ${actions.map((a) => a.title).join(', ')})`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const text = doc.getText();
    assert.ok(text.indexOf('nn.BatchNorm1d') < text.indexOf('nn.Dropout'), 'BatchNorm now comes before Dropout');
    await waitForDiagnostics(doc.uri, (d) => !d.some((x) => codeOf(x) === ruleId));
  });

  it('honours the severity setting live', async () => {
    const doc = await freshCopy('model_severity.py');
    await waitForDiagnostics(doc.uri, (d) => d.some((x) => codeOf(x) === ruleId));
    const cfg = vscode.workspace.getConfiguration('reglens');
    await cfg.update('diagnostics.dropoutBeforeBatchNorm.severity', 'error', vscode.ConfigurationTarget.Workspace);
    try {
      await waitForDiagnostics(doc.uri, (d) =>
        d.some((x) => codeOf(x) === ruleId && x.severity === vscode.DiagnosticSeverity.Error),
      );
      await cfg.update('diagnostics.dropoutBeforeBatchNorm.severity', 'off', vscode.ConfigurationTarget.Workspace);
      await waitForDiagnostics(doc.uri, (d) => !d.some((x) => codeOf(x) === ruleId));
    } finally {
      await cfg.update('diagnostics.dropoutBeforeBatchNorm.severity', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('offers an Insert Dropout code lens that inserts nn.Dropout after the last hidden activation', async () => {
    const doc = await freshCopy('model_lens.py');
    const lenses = await waitFor('an Insert Dropout code lens', async () => {
      const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 10);
      const found = all.filter((l) => l.command?.title === 'Insert Dropout');
      return found.length ? found : undefined;
    });
    const cmd = lenses[0].command!;
    const before = doc.getText();
    const applied = await vscode.commands.executeCommand(cmd.command, ...(cmd.arguments ?? []));
    assert.equal(applied, true);
    const after = doc.getText();
    assert.equal(after.split('nn.Dropout(p=0.1)').length - 1, before.split('nn.Dropout(p=0.1)').length, 'exactly one inserted');
    const insertedLine = after.split('\n').find((l) => l.includes('nn.Dropout(p=0.1)'))!;
    const lines = after.split('\n');
    const idx = lines.indexOf(insertedLine);
    const prevIndent = /^\s*/.exec(lines[idx - 1])![0];
    assert.equal(/^\s*/.exec(insertedLine)![0], prevIndent, 'indented like its neighbours');
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), before, 'one undo step restores the file');
  });

  it('suppression: an ignore comment hides the diagnostic, and "Disable … for this line" adds one', async () => {
    const doc = await freshCopy('model_suppress.py');
    const diags = await waitForDiagnostics(doc.uri, (d) => d.some((x) => codeOf(x) === ruleId));
    const diag = diags.find((x) => codeOf(x) === ruleId)!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      diag.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const disable = actions.find((a) => a.title === `Disable ${ruleId} for this line`);
    assert.ok(disable?.edit, `a disable quick fix is offered (got ${actions.map((a) => a.title).join(', ')})`);
    const line = diag.range.start.line;
    const flagged = doc.lineAt(line).text;
    assert.ok(await vscode.workspace.applyEdit(disable.edit));
    const indent = /^\s*/.exec(flagged)![0];
    assert.equal(doc.lineAt(line).text, `${indent}# reglens: ignore[${ruleId}]`, 'the comment goes above, indented like the flagged line');
    assert.equal(doc.lineAt(line + 1).text, flagged);
    await waitForDiagnostics(doc.uri, (d) => !d.some((x) => codeOf(x) === ruleId));

    // Removing the comment brings the diagnostic back: the suppression, not a failed analysis, hid it.
    const edit = new vscode.WorkspaceEdit();
    edit.delete(doc.uri, doc.lineAt(line).rangeIncludingLineBreak);
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitForDiagnostics(doc.uri, (d) => d.some((x) => codeOf(x) === ruleId && x.range.start.line === line));
  });
});
