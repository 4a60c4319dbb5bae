// "Run Experiment" on a file with a `sweep`: every member is its own run (engine process and
// run folder), and the members open together in a compare panel.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

describe('Run Experiment on a sweep', () => {
  it('runs a 2-run sweep as two finished run folders and opens them in a compare panel', async () => {
    const api = await extensionApi<RegLensApi>();
    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    spec.name = 'tiny sweep';
    spec.training.epochs = 2;
    spec.sweep = { 'training.optimizer.weightDecay': [0, 5] };
    const file = workspaceUri('sweep.reglens.json');
    await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(spec, null, 2)));
    try {
      const runIds = await vscode.commands.executeCommand<string[]>('reglens.runExperiment', file);
      assert.ok(Array.isArray(runIds), 'a sweep returns the run ids');
      assert.equal(runIds.length, 2);
      const summaries = await Promise.all(runIds.map((id) => api.whenRunEnds(id)!));
      assert.deepEqual(
        summaries.map((s) => [s.name, s.status, s.epochs]),
        [
          ['tiny sweep [weightDecay=0]', 'finished', 2],
          ['tiny sweep [weightDecay=5]', 'finished', 2],
        ],
      );
      for (const id of runIds) {
        const dir = path.join(workspaceUri('.reglens/runs').fsPath, id);
        const onDisk = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
        assert.equal(onDisk.status, 'finished');
        assert.ok(existsSync(path.join(dir, 'events.jsonl')));
        assert.equal(JSON.parse(readFileSync(path.join(dir, 'spec.json'), 'utf8')).sweep, undefined);
      }
      const key = [...runIds].sort().join(',');
      await waitFor('a compare panel with both runs', () => api.openCompares().some((ids) => [...ids].sort().join(',') === key));
    } finally {
      await vscode.workspace.fs.delete(file);
    }
  });

  it('rejects a sweep value that makes a run invalid, starting nothing', async () => {
    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    spec.sweep = { 'training.optimizer.weightDecay': [0, -1] };
    const file = workspaceUri('bad-sweep.reglens.json');
    await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(spec)));
    try {
      const result = await vscode.commands.executeCommand<unknown>('reglens.runExperiment', file);
      assert.equal(result, undefined);
    } finally {
      await vscode.workspace.fs.delete(file);
    }
  });
});
