// "RegLens: Open Example Experiment…" in a real extension host: a bundled example is copied
// into the workspace (a second copy gets a fresh name), opened, and is a valid experiment.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { parseExperimentText } from '../../src/protocol/experiment';
import { extensionApi, waitFor } from './waitFor';

describe('Open Example Experiment', () => {
  const created: vscode.Uri[] = [];
  before(async () => {
    await extensionApi();
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const uri of created) await vscode.workspace.fs.delete(uri).then(undefined, () => undefined);
  });

  it('is contributed under the RegLens category', async () => {
    const all = await vscode.commands.getCommands(true);
    assert.ok(all.includes('reglens.openExample'));
  });

  it('copies a bundled example into the workspace, opens it, and a second copy gets a new name', async () => {
    const first = await vscode.commands.executeCommand<vscode.Uri | undefined>('reglens.openExample', 'moons-mlp.reglens.json');
    assert.ok(first, 'the command returns the new file');
    created.push(first);
    assert.equal(first.path.split('/').pop(), 'moons-mlp.reglens.json');
    const text = Buffer.from(await vscode.workspace.fs.readFile(first)).toString('utf8');
    const experiment = parseExperimentText(text);
    assert.equal(experiment.dataset.kind, 'moons');
    assert.ok(!('$schema' in JSON.parse(text)), 'the extension-relative $schema is dropped');
    await waitFor('the example open in the editor', () => vscode.window.activeTextEditor?.document.uri.toString() === first.toString() || undefined);

    const second = await vscode.commands.executeCommand<vscode.Uri | undefined>('reglens.openExample', 'moons-mlp.reglens.json');
    assert.ok(second);
    created.push(second);
    assert.equal(second.path.split('/').pop(), 'moons-mlp-2.reglens.json');
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(second)).toString('utf8'), text);
  });

  it('names the examples it has when asked for one it does not', async () => {
    const none = await vscode.commands.executeCommand<vscode.Uri | undefined>('reglens.openExample', 'nope.reglens.json');
    assert.equal(none, undefined);
  });
});
