// Smoke test: the real VS Code extension host is up and RegLens is loaded in it.
import * as assert from 'assert';
import * as vscode from 'vscode';

describe('smoke', () => {
  it('runs inside VS Code with the RegLens extension present', async () => {
    assert.strictEqual(typeof vscode.version, 'string');
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    const ext = vscode.extensions.getExtension('reglens.reglens');
    assert.ok(ext, 'extension reglens.reglens is not present in the extension host');
  });
});
