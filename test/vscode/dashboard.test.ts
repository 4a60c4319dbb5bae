// The dashboard features in a real extension host: compare panels, HTML report and PNG
// export, delete/rerun, the status bar and the "Active Run" view. Synthetic run folders are
// written with schema-valid events (the probe events the engine will emit), so every
// section has data without waiting for the engine.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { parseEngineEvent } from '../../src/protocol/engineMessages';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

function syntheticEvents(weightDecay: number, epochs: number, units: number): unknown[] {
  const memorizes = weightDecay === 0;
  const events: unknown[] = [
    { type: 'started', time: '2025-01-01T00:00:00.000Z', backend: 'wasm', totalEpochs: epochs, dataset: { train: 264, corrupted: 79, test: 265, inputSize: 46, classes: 23 }, parameters: 64 * 69 },
  ];
  for (let e = 1; e <= epochs; e++) {
    const corrupted = memorizes ? Math.min(1, e / epochs) : e <= epochs / 2 ? e / epochs : Math.max(0, 1 - (2 * e) / epochs);
    events.push({ type: 'epoch', epoch: e, loss: 3 / e, accuracy: { cleanTrain: Math.min(1, 0.2 + e / epochs), corruptedTrain: corrupted, test: memorizes ? 0.1 : Math.min(1, e / epochs) }, seconds: 0.01, labelPrecision: 0.7 + 0.2 * (e / epochs) });
    const scores = Array.from({ length: units }, (_, u) => (u % 5 === 0 ? 0.5 + 0.5 * (e / epochs) : 0.1));
    events.push({ type: 'probe', epoch: e, probe: { kind: 'neuronScores', layer: 'dense_0', method: 'ipr', scores, raw: scores.map((s) => 1 - s), detail: { spectrum: scores.map((s) => [s, 1 - s, 0.2]) } } });
  }
  // The pruning probe as the engine reports it with probes.pruning.save (run a) or without (run b).
  const curve = { cleanTrain: [1, 0.9], corruptedTrain: [memorizes ? 1 : 0, 0], test: [0.5, 0.5] };
  events.push({ type: 'probe', epoch: epochs, probe: { kind: 'pruning', layer: 'dense_0', method: 'ipr', pruned: [0, 8], units, memorizingFirst: curve, generalizingFirst: curve, ...(memorizes ? { savedModel: 'pruned-model/model.json' } : {}) } });
  events.push({ type: 'finished', time: '2025-01-01T00:01:00.000Z', epochs, final: { cleanTrain: 1, corruptedTrain: memorizes ? 1 : 0, test: memorizes ? 0.1 : 1 }, secondsPerEpoch: 0.01 });
  for (const e of events) {
    const r = parseEngineEvent(e);
    if (!r.ok) throw new Error(`synthetic event invalid: ${r.error}`);
  }
  return events;
}

/** Writes a finished run folder the way RunFolder does (spec, events, summary). */
function writeRun(id: string, name: string, weightDecay: number, opts: { truncate?: boolean } = {}): string {
  const dir = path.join(workspaceUri('.reglens/runs').fsPath, id);
  mkdirSync(dir, { recursive: true });
  const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
  spec.name = name;
  spec.training.optimizer.weightDecay = weightDecay;
  writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  let text = syntheticEvents(weightDecay, 6, 64).map((e) => JSON.stringify(e)).join('\n') + '\n';
  if (opts.truncate) text += '{"type":"epoch","epo';
  writeFileSync(path.join(dir, 'events.jsonl'), text);
  if (weightDecay === 0) {
    mkdirSync(path.join(dir, 'pruned-model'), { recursive: true });
    writeFileSync(path.join(dir, 'pruned-model', 'model.json'), JSON.stringify({ format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));
    writeFileSync(path.join(dir, 'pruned-model', 'weights.bin'), Buffer.alloc(64, 1));
  }
  const final = { cleanTrain: 1, corruptedTrain: weightDecay === 0 ? 1 : 0, test: weightDecay === 0 ? 0.1 : 1 };
  writeFileSync(
    path.join(dir, 'summary.json'),
    JSON.stringify({ id, name, status: 'finished', startedAt: '2025-01-01T00:00:00.000Z', endedAt: '2025-01-01T00:01:00.000Z', epochs: 6, totalEpochs: 6, backend: 'wasm', final }),
  );
  return dir;
}

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
      return /RegLens [1-9]\d*\/5000 · (torch-cpu|wasm|cpu)/.test(t) ? t : undefined;
    });
    assert.match(text, /5000/);
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
