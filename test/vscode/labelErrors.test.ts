// The label-error finder in a real extension host (issue 17): a run of a CSV experiment with
// probes.labelErrors, its "Suspected label errors" section drawn (its precision-recall chart
// exported as PNG), the CSV export, and the cleaning loop's second run opened in Compare.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

/** Two Gaussian-ish classes in 3-D from a fixed LCG; a header and a blank line shift rows off file lines. */
function writeCsv(file: string, rows: number): void {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const lines = ['f1,f2,f3,label', ''];
  for (let i = 0; i < rows; i++) {
    const y = i % 2;
    lines.push([0, 1, 2].map(() => ((rand() + rand() + rand() - 1.5) * 1.5 + (y ? 1.4 : -1.4)).toFixed(3)).join(',') + `,${y ? 'yes' : 'no'}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

describe('Suspected label errors', () => {
  const api = () => extensionApi<RegLensApi>();
  let runId = '';
  const n = 160;
  const nTrain = 120;

  before(async function () {
    this.timeout(120_000);
    writeCsv(workspaceUri('label-errors.csv').fsPath, n);
    const experiment = {
      name: 'label errors (test fixture)',
      seed: 3,
      backend: 'wasm',
      dataset: { kind: 'csv', path: 'label-errors.csv', testFraction: 0.25, labelNoise: { kind: 'symmetric', rate: 0.25 } },
      model: { layers: [{ type: 'dense', units: 16 }, { type: 'activation', fn: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 2 }] },
      training: { epochs: 12, batchSize: 16, optimizer: { kind: 'adam', lr: 0.01 } },
      probes: { labelErrors: { topK: 5, mcPasses: 4 } },
    };
    const file = workspaceUri('label-errors.reglens.json');
    writeFileSync(file.fsPath, JSON.stringify(experiment, null, 2));
    runId = await vscode.commands.executeCommand<string>('reglens.runExperiment', file);
    const summary = await (await api()).whenRunEnds(runId);
    assert.equal(summary?.status, 'finished', `run ended ${summary?.status}: ${summary?.error ?? ''}`);
  });

  it('contributes the export and retrain commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['reglens.exportLabelErrors', 'reglens.retrainWithoutSuspects', 'reglens.retrainWithSuggestedLabels']) assert.ok(commands.includes(id), `${id} is registered`);
  });

  it('the dashboard draws the section: its precision-recall chart exports as PNG', async () => {
    const a = await api();
    await vscode.commands.executeCommand('reglens.openRun', runId);
    await waitFor('the dashboard of the run', () => a.openDashboards().includes(runId));
    const target = path.join(workspaceUri('.').fsPath, 'le-pr-chart.png');
    const written = await waitFor('a PNG of the label-error PR curve', async () => (await vscode.commands.executeCommand<string | undefined>('reglens.exportChartPng', runId, 'le-pr-chart', target)) ?? undefined, 60_000);
    assert.equal(written, target);
    const bytes = readFileSync(target);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'PNG signature');
    assert.ok(bytes.length > 1000, `${bytes.length} bytes`);
  });

  it('exports every training example with its CSV line, labels, truth and each method\'s score and rank', async () => {
    const target = path.join(workspaceUri('.').fsPath, 'suspects.csv');
    assert.equal(await vscode.commands.executeCommand('reglens.exportLabelErrors', runId, target), target);
    const [head, ...rows] = readFileSync(target, 'utf8').trim().split('\n');
    const cols = head.split(',');
    assert.deepEqual(cols.slice(0, 8), ['index', 'source', 'csv_line', 'given_label', 'suggested_label', 'given_value', 'suggested_value', 'corrupted']);
    for (const m of ['aum', 'forgetting', 'smallLoss', 'confidentLearning', 'mcDropout']) assert.ok(cols.includes(`${m}_score`) && cols.includes(`${m}_rank`), `${m} columns`);
    assert.equal(rows.length, nTrain);
    const data = readFileSync(workspaceUri('label-errors.csv').fsPath, 'utf8').split('\n');
    const corrupted = rows.filter((r) => r.split(',')[7] === '1').length;
    assert.equal(corrupted, 30);
    for (const r of rows) {
      const c = r.split(',');
      const label = data[Number(c[2]) - 1].split(',')[3];
      assert.equal(label === c[5], c[7] === '0', `csv line ${c[2]}: file ${label}, export ${c[5]}, corrupted ${c[7]}`);
    }
  });

  it('"Retrain without the top k" starts a second run without them and opens Compare against the first', async function () {
    this.timeout(120_000);
    const a = await api();
    const second = await vscode.commands.executeCommand<string>('reglens.retrainWithoutSuspects', runId, 10);
    assert.equal(typeof second, 'string');
    assert.notEqual(second, runId);
    await waitFor('a compare panel of both runs', () => a.openCompares().some((ids) => ids.includes(runId) && ids.includes(second)));
    const summary = await a.whenRunEnds(second);
    assert.equal(summary?.status, 'finished', `${summary?.error ?? ''}`);
    const dir = path.join(workspaceUri('.reglens/runs').fsPath, second);
    const spec = JSON.parse(readFileSync(path.join(dir, 'spec.json'), 'utf8'));
    assert.equal(spec.dataset.excludeExamples.length, 10);
    assert.match(spec.name, /without the top 10 suspects/);
    const started = JSON.parse(readFileSync(path.join(dir, 'events.jsonl'), 'utf8').split('\n')[0]);
    assert.equal(started.dataset.train, nTrain - 10);
    // The exclusions are the first run's top 10 by the method the export ranks first.
    const first = readFileSync(path.join(workspaceUri('.').fsPath, 'suspects.csv'), 'utf8').trim().split('\n').slice(1, 11).map((r) => Number(r.split(',')[1]));
    assert.deepEqual([...spec.dataset.excludeExamples].sort((x: number, y: number) => x - y), first.sort((x, y) => x - y));
  });
});
