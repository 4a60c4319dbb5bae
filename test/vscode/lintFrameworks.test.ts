// Diagnostics, quick fixes, the "Add regularizer..." lens and live severities for PyTorch,
// Keras and TF.js files in a real extension host.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extensionApi, waitFor, waitForDiagnostics, workspaceUri } from './waitFor';

function codeOf(d: vscode.Diagnostic): string | undefined {
  return typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
}

async function freshCopy(src: string, name: string): Promise<vscode.TextDocument> {
  const dst = workspaceUri(name);
  await vscode.workspace.fs.copy(workspaceUri(src), dst, { overwrite: true });
  const doc = await vscode.workspace.openTextDocument(dst);
  await vscode.window.showTextDocument(doc);
  return doc;
}

// Each rule with the title of the quick fix it offers there.
const CASES: { src: string; language: string; rules: string[]; fixes: Record<string, RegExp> }[] = [
  {
    src: 'torch_rules.py',
    language: 'python',
    rules: ['functional-dropout-training', 'adam-weight-decay', 'weight-decay-bias-norm'],
    fixes: {
      'functional-dropout-training': /^Pass training=self\.training$/,
      'adam-weight-decay': /^Use torch\.optim\.AdamW \(weight_decay 1e-4 → 1e-2\)$/,
      'weight-decay-bias-norm': /^Exclude biases and norm weights from weight decay/,
    },
  },
  {
    src: 'keras_rules.py',
    language: 'python',
    rules: ['dropout-rate-range', 'dropout-before-batchnorm'],
    fixes: { 'dropout-rate-range': /looks like a percentage/, 'dropout-before-batchnorm': /^Move Dropout after BatchNormalization$/ },
  },
  { src: 'tfjs_rules.js', language: 'javascript', rules: ['dropout-before-batchnorm'], fixes: { 'dropout-before-batchnorm': /^Move dropout after batchNormalization$/ } },
];

describe('Model-code diagnostics for PyTorch, Keras and TF.js', () => {
  before(async () => {
    await extensionApi();
  });

  for (const c of CASES) {
    it(`${c.src}: reports ${c.rules.join(', ')} and every quick fix clears its diagnostic`, async () => {
      const doc = await freshCopy(c.src, `fw_${c.src}`);
      assert.equal(doc.languageId, c.language);
      const diags = await waitForDiagnostics(doc.uri, (d) => c.rules.every((r) => d.some((x) => codeOf(x) === r)));
      for (const rule of c.rules) {
        const diag = diags.find((x) => codeOf(x) === rule)!;
        assert.equal(diag.source, 'RegLens');
        const current = vscode.languages.getDiagnostics(doc.uri).find((x) => codeOf(x) === rule);
        if (!current) continue;
        const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
          'vscode.executeCodeActionProvider',
          doc.uri,
          current.range,
          vscode.CodeActionKind.QuickFix.value,
        );
        const fix = actions.find((a) => c.fixes[rule].test(a.title) && a.edit);
        assert.ok(fix, `${rule} offers a quick fix (got ${actions.map((a) => a.title).join(', ')})`);
        assert.ok(await vscode.workspace.applyEdit(fix.edit!));
        await waitForDiagnostics(doc.uri, (d) => !d.some((x) => codeOf(x) === rule && x.range.start.line === current.range.start.line));
      }
    });
  }

  it('the Add regularizer lens inserts a snippet in one undo step, for each framework', async () => {
    for (const [src, snippet, marker] of [
      ['torch_rules.py', 'mc-dropout-predict', 'def mc_dropout_predict'],
      ['keras_rules.py', 'decoupled-weight-decay', 'keras.optimizers.AdamW'],
      ['tfjs_rules.js', 'decoupled-weight-decay', 'function applyDecoupledWeightDecay'],
    ] as const) {
      const doc = await freshCopy(src, `lens_${src}`);
      const lens = await waitFor(`an Add regularizer lens in ${src}`, async () => {
        const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 10);
        return all.find((l) => l.command?.command === 'reglens.addRegularizer');
      });
      const before = doc.getText();
      const applied = await vscode.commands.executeCommand(lens.command!.command, ...(lens.command!.arguments ?? []), snippet);
      assert.equal(applied, true, src);
      assert.ok(doc.getText().includes(marker), `${src}: ${marker} inserted`);
      // The file still parses: the lens is computed again on the new text and no new findings appear for the inserted code.
      await waitFor(`lenses after inserting into ${src}`, async () => {
        const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 10);
        return all.some((l) => l.command?.command === 'reglens.addRegularizer') || undefined;
      });
      await vscode.commands.executeCommand('undo');
      assert.equal(doc.getText(), before, `${src}: one undo step restores the file`);
    }
  });

  it('changes the severity of adam-weight-decay live', async () => {
    const doc = await freshCopy('torch_rules.py', 'fw_severity.py');
    await waitForDiagnostics(doc.uri, (d) => d.some((x) => codeOf(x) === 'adam-weight-decay'));
    const cfg = vscode.workspace.getConfiguration('reglens');
    try {
      await cfg.update('diagnostics.adamWeightDecay.severity', 'error', vscode.ConfigurationTarget.Workspace);
      await waitForDiagnostics(doc.uri, (d) => d.some((x) => codeOf(x) === 'adam-weight-decay' && x.severity === vscode.DiagnosticSeverity.Error));
      await cfg.update('diagnostics.adamWeightDecay.severity', 'off', vscode.ConfigurationTarget.Workspace);
      await waitForDiagnostics(doc.uri, (d) => !d.some((x) => codeOf(x) === 'adam-weight-decay'));
    } finally {
      await cfg.update('diagnostics.adamWeightDecay.severity', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
