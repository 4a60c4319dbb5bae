// The dashboard features in a real extension host: compare panels, HTML report and PNG
// export, delete/rerun, the status bar and the "Active Run" view. Synthetic run folders are
// written with schema-valid events (the probe events the engine will emit), so every
// section has data without waiting for the engine.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { writeRun } from './syntheticRuns';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

describe('Dashboard, compare and export', () => {
  const a = '20250101-000000-aaaa';
  const b = '20250101-000001-bbbb';
  before(() => {
    writeRun(a, 'synthetic wd 0', 0);
    writeRun(b, 'synthetic wd 5', 5, { truncate: true });
  });

  it('contributes the dashboard commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['reglens.compareRuns', 'reglens.rerunRun', 'reglens.deleteRun', 'reglens.revealRun', 'reglens.exportReport', 'reglens.exportChartPng']) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
  });

  it('opens a finished run, also one whose events.jsonl ends in a partial line', async () => {
    const api = await extensionApi<RegLensApi>();
    await vscode.commands.executeCommand('reglens.refreshRuns');
    await vscode.commands.executeCommand('reglens.openRun', b);
    await waitFor('the dashboard of the truncated run', () => api.openDashboards().includes(b));
    await vscode.commands.executeCommand('reglens.openRun', { id: a });
    await waitFor('the dashboard of the tree item', () => api.openDashboards().includes(a));
  });

  it('exports a chart of an open dashboard as PNG to a given path', async () => {
    const target = path.join(workspaceUri('.').fsPath, 'acc-chart.png');
    const written = await waitFor('a PNG of the accuracy chart', async () =>
      (await vscode.commands.executeCommand<string | undefined>('reglens.exportChartPng', a, 'acc-chart', target)) ?? undefined,
    60_000);
    assert.equal(written, target);
    const bytes = readFileSync(target);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.ok(bytes.length > 1000, `${bytes.length} bytes`);
    const heat = path.join(workspaceUri('.').fsPath, 'neuron-heatmap.png');
    assert.equal(await vscode.commands.executeCommand('reglens.exportChartPng', a, 'neuron-heatmap', heat), heat);
  });

  it('saves the pruned model of a run into a chosen folder, and says how to get one when absent', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('reglens.savePrunedModel'));
    const target = path.join(workspaceUri('.').fsPath, 'exported-models');
    const first = await vscode.commands.executeCommand<string | undefined>('reglens.savePrunedModel', a, target);
    assert.equal(first, path.join(target, 'pruned-model'));
    assert.ok(existsSync(path.join(first!, 'model.json')) && existsSync(path.join(first!, 'weights.bin')), 'model.json and its weights are copied');
    // A second copy into the same folder never overwrites the first.
    const second = await vscode.commands.executeCommand<string | undefined>('reglens.savePrunedModel', a, target);
    assert.equal(second, path.join(target, `pruned-model-${a}`));
    assert.equal(await vscode.commands.executeCommand('reglens.savePrunedModel', b, target), undefined, 'run b saved no model');
  });

  it('writes a self-contained HTML report with the run inlined', async () => {
    const target = path.join(workspaceUri('.').fsPath, 'report.html');
    const written = await vscode.commands.executeCommand<string>('reglens.exportReport', a, target);
    assert.equal(written, target);
    const html = readFileSync(target, 'utf8');
    assert.match(html, /data-mode="report"/);
    assert.match(html, /synthetic wd 0/);
    assert.ok(html.includes('"kind":"neuronScores"'), 'the probe data is inlined');
    // Outside the inline script bodies, no element loads anything.
    const markup = html.replace(/<script([^>]*)>[\s\S]*?<\/script>/g, '<script$1></script>');
    assert.ok(!/<script[^>]*\ssrc=/.test(markup) && !/<link[^>]*href=/.test(markup), 'no external script or stylesheet');
    assert.ok(html.length > 100_000, 'the dashboard bundle is inlined');
  });

  it('compares two runs in one panel', async () => {
    const api = await extensionApi<RegLensApi>();
    const ids = await vscode.commands.executeCommand<string[]>('reglens.compareRuns', [a, b]);
    assert.deepEqual(ids, [a, b]);
    await waitFor('a compare panel', () => api.openCompares().find((c) => c.includes(a) && c.includes(b)));
    const tab = await waitFor('the compare tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('RegLens: Compare')),
    );
    assert.match(tab.label, /Compare/);
  });

  it('shows the running run in the status bar and the Active Run view, then deletes a run', async () => {
    const api = await extensionApi<RegLensApi>();
    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    spec.name = 'status bar run';
    spec.training.epochs = 5000;
    const file = workspaceUri('statusbar.reglens.json');
    await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(spec)));
    const runId = await vscode.commands.executeCommand<string>('reglens.runExperiment', file);
    const text = await waitFor('the status bar to show the epoch', () => {
      const t = api.statusBarText();
      return /RegLens: epoch [1-9]\d*\/5000 · (torch-cpu|wasm|cpu)$/.test(t) ? t : undefined;
    });
    assert.match(text, /5000/);
    // A second run: the bar counts the runs and its tooltip lists both.
    const second = await vscode.commands.executeCommand<string>('reglens.runExperiment', file);
    await waitFor('the status bar to count two runs', () => /^\$\(sync~spin\) RegLens: epoch \d+\/5000 · 2 runs$/.test(api.statusBarText()));
    assert.equal(api.statusBarTooltip().split('\n').filter((l) => l.startsWith('status bar run: epoch')).length, 2, api.statusBarTooltip());
    await vscode.commands.executeCommand('reglens.cancelRun', second);
    await api.whenRunEnds(second);
    await vscode.commands.executeCommand('reglens.deleteRun', second, true);
    await vscode.commands.executeCommand('workbench.view.extension.reglens');
    await waitFor('the Active Run view to show the running run', () => api.summaryView().runId === runId && /Epoch \d+ \/ 5000/.test(api.summaryView().text));
    await vscode.commands.executeCommand('reglens.cancelRun', runId);
    await api.whenRunEnds(runId);
    await waitFor('the status bar item to hide', () => api.statusBarText() === '');
    const dir = path.join(workspaceUri('.reglens/runs').fsPath, runId);
    assert.ok(existsSync(dir));
    assert.equal(await vscode.commands.executeCommand('reglens.deleteRun', runId, true), true);
    assert.ok(!existsSync(dir), 'the run folder is gone');
    await vscode.workspace.fs.delete(file);
  });

  it('reruns a run from its recorded spec', async () => {
    const api = await extensionApi<RegLensApi>();
    const newId = await vscode.commands.executeCommand<string>('reglens.rerunRun', b);
    assert.equal(typeof newId, 'string');
    assert.notEqual(newId, b);
    const summary = await api.whenRunEnds(newId)!;
    assert.equal(summary.status, 'finished', summary.error);
    assert.equal(summary.name, 'synthetic wd 5');
  });
});
