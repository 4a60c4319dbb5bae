// The host-side run UI in a real extension host (code-server): Reveal Run Folder without an
// OS file manager, rows named by what differs between runs, Compare pre-selected from a row,
// the Active Run view, Rerun's progress and the notification when a run ends.
import * as assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { writeRun } from './syntheticRuns';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

describe('Runs view and run notifications', () => {
  // Two runs of one experiment file whose name still says "weight decay 5" after an edit to 0.
  const stale = 'edited experiment, weight decay 5';
  const wd0 = '20250102-000000-cc00';
  const wd5 = '20250102-000001-cc05';
  const file = () => workspaceUri('edited.reglens.json').fsPath;
  let api: RegLensApi;
  before(async () => {
    api = await extensionApi<RegLensApi>();
    const recent = new Date(Date.now() - 3 * 60_000).toISOString();
    writeRun(wd5, stale, 5, { experimentFile: file(), endedAt: recent });
    writeRun(wd0, stale, 0, { experimentFile: file(), endedAt: recent });
    await vscode.commands.executeCommand('reglens.refreshRuns');
  });
  after(() => {
    for (const id of [wd0, wd5]) rmSync(path.join(workspaceUri('.reglens/runs').fsPath, id), { recursive: true, force: true });
  });

  it('names runs of one experiment by the spec fields that differ, with status and relative time in the row', async () => {
    const rows = await waitFor('both runs in the Runs view', async () => {
      const all = await api.runsTree();
      const r0 = all.find((r) => r.runId === wd0);
      const r5 = all.find((r) => r.runId === wd5);
      return r0 && r5 ? { r0, r5 } : undefined;
    });
    // Under their experiment's row, named by the difference alone (room left for status and time).
    assert.equal(rows.r0.label, 'weightDecay=0');
    assert.equal(rows.r5.label, 'weightDecay=5');
    assert.equal(rows.r0.parent, stale);
    assert.equal(rows.r5.parent, stale);
    assert.match(rows.r0.description, /^finished 3 min ago · epoch 6\/6 · test 10\.0%, noise fitted 100\.0%$/);
    assert.doesNotMatch(rows.r0.description + rows.r0.tooltip, /\d{4}-\d\d-\d\dT\d\d:/, 'no raw ISO time');
    assert.match(rows.r0.tooltip, /started: .*2025/);
    // Only the run that saved a pruned model offers Save Pruned Model.
    assert.equal(rows.r0.contextValue, 'run.finished prunedModel');
    assert.equal(rows.r5.contextValue, 'run.finished');
    assert.ok((api.contextKey('reglens.runCount') as number) >= 2, 'Compare is offered');
    assert.equal(api.contextKey('reglens.hasExperimentFile'), true, 'the welcome view offers Run Experiment');
  });

  it('Reveal Run Folder falls back to the Explorer where revealFileInOS does not exist, from the menu and the dashboard button', async () => {
    const hasOsReveal = (await vscode.commands.getCommands(true)).includes('revealFileInOS');
    const expected = hasOsReveal && vscode.env.remoteName === undefined ? 'os' : 'explorer';
    const errorsBefore = api.notices().filter((n) => n.severity === 'error').length;
    assert.equal(await vscode.commands.executeCommand('reglens.revealRun', { runId: wd5 }), expected);
    await vscode.commands.executeCommand('reglens.openRun', wd5);
    await waitFor('the dashboard of the run', () => api.openDashboards().includes(wd5));
    assert.equal(await api.dashboardMessage(wd5, { type: 'revealFolder', runId: wd5 }), expected);
    assert.equal(api.notices().filter((n) => n.severity === 'error').length, errorsBefore, 'no error shown');
  });

  it('opening a finished run leaves the Active Run view saying no run is in progress', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.reglens');
    await vscode.commands.executeCommand('reglens.openRun', wd0);
    await waitFor('the Active Run view', () => api.summaryView().text.length > 0);
    assert.equal(api.summaryView().runId, undefined);
    assert.match(api.summaryView().text, /^No run in progress\./);
  });

  it('titles the dashboard tabs of two runs of one experiment by what differs between them', async () => {
    // Both are open (the two tests above opened them); openRun again would reveal and focus one.
    const titles = await waitFor('both dashboard tabs', () => {
      const labels = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview).map((t) => t.label);
      const t0 = labels.find((l) => l.startsWith('RegLens: weightDecay=0'));
      const t5 = labels.find((l) => l.startsWith('RegLens: weightDecay=5'));
      return t0 && t5 ? [t0, t5] : undefined;
    });
    assert.deepEqual(titles, [`RegLens: weightDecay=0 · ${stale}`, `RegLens: weightDecay=5 · ${stale}`]);
  });

  it('Compare from one row pre-selects that run and the newest other run of its experiment', async () => {
    const row = (await api.runsTree()).find((r) => r.runId === wd5)!;
    // VS Code passes the clicked item (and a one-item selection); Enter accepts the pre-selection.
    const compared = vscode.commands.executeCommand<string[] | undefined>('reglens.compareRuns', row, [row]);
    const accepted = await waitFor('the compare picker to accept', async () => {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return Promise.race([compared.then((ids) => ids ?? 'cancelled'), new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
    });
    assert.ok(Array.isArray(accepted), `the picker returned ${JSON.stringify(accepted)}`);
    assert.deepEqual([...accepted].sort(), [wd0, wd5].sort());
    assert.ok(api.openCompares().some((c) => c.includes(wd5) && c.includes(wd0)));
    // The compare panel gets the table of differing hyperparameters (and no probe verdict).
    const details = await waitFor('the compare details', () => api.compareDetails(accepted));
    assert.deepEqual(details.differences.map((d) => [d.key, d.values]), [['weightDecay', accepted.map((id) => (id === wd0 ? '0' : '5'))]]);
    assert.equal(details.verdict, undefined);
  });

  it('Rerun shows a progress notification; the end of a run is notified with its numbers, unless turned off', async () => {
    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    const before = api.notices().length;
    const newId = await vscode.commands.executeCommand<string>('reglens.rerunRun', wd5);
    assert.equal(typeof newId, 'string');
    const summary = await api.whenRunEnds(newId)!;
    assert.equal(summary.status, 'finished', summary.error);
    // The Active Run view updated from the same event as the dashboard: the last epoch is shown at once.
    assert.match(api.summaryView().text, new RegExp(`finished at epoch ${spec.training.epochs} / ${spec.training.epochs}`));
    const notices = await waitFor('the finished notification', () => {
      const n = api.notices().slice(before);
      return n.some((x) => x.severity === 'info' && x.text.startsWith(`RegLens: "${stale}" finished after`)) ? n : undefined;
    });
    assert.ok(notices.some((n) => n.severity === 'progress' && n.text === `RegLens: ${stale}`), JSON.stringify(notices));
    const finished = notices.find((n) => n.text.includes('finished after'))!;
    assert.match(finished.text, /test \d+\.\d%, noisy labels fitted [<>]?\d+\.\d%\.$/);

    await vscode.workspace.getConfiguration('reglens').update('notifications.runEnded', false, vscode.ConfigurationTarget.Workspace);
    try {
      const quiet = api.notices().length;
      const id2 = await vscode.commands.executeCommand<string>('reglens.rerunRun', wd5);
      assert.equal((await api.whenRunEnds(id2)!).status, 'finished');
      assert.deepEqual(api.notices().slice(quiet).map((n) => n.severity), ['progress'], 'only the progress notification');
      for (const id of [newId, id2]) await vscode.commands.executeCommand('reglens.deleteRun', id, true);
    } finally {
      await vscode.workspace.getConfiguration('reglens').update('notifications.runEnded', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
