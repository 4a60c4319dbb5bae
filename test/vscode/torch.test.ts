// The PyTorch engine from a real extension host: reglens.python.interpreter names a Python
// with torch (scripts/torch-python.ts finds one; .ci/run installs Debian's python3-torch), a
// run of an experiment with backend "torch" trains in it, and its dashboard fills.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findTorchPython } from '../../scripts/torch-python';
import type { RegLensApi } from '../../src/extension';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

describe('PyTorch engine', () => {
  it('trains a run on torch in the interpreter of reglens.python.interpreter, and its dashboard fills', async () => {
    const api = await extensionApi<RegLensApi>();
    const cfg = vscode.workspace.getConfiguration('reglens');
    await cfg.update('python.interpreter', findTorchPython(), vscode.ConfigurationTarget.Workspace);
    const file = workspaceUri('torch.reglens.json');
    try {
      const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
      spec.name = 'tiny on torch';
      spec.backend = 'torch';
      spec.training.epochs = 6;
      spec.probes = { dynamics: { every: 2 } };
      await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(spec)));
      const runId = await vscode.commands.executeCommand<string>('reglens.runExperiment', file);
      const summary = await api.whenRunEnds(runId)!;
      assert.equal(summary.status, 'finished', summary.error ?? '');
      assert.equal(summary.backend, 'torch-cpu');
      const events = readFileSync(path.join(workspaceUri('.reglens/runs').fsPath, runId, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(events[0].type, 'started');
      assert.equal(events[0].backend, 'torch-cpu');
      assert.deepEqual(
        events.filter((e) => e.type === 'epoch').map((e) => e.epoch),
        [1, 2, 3, 4, 5, 6],
      );
      assert.ok(events.some((e) => e.type === 'probe' && e.probe.kind === 'dynamics'), 'the torch engine ran its probes');

      // The dashboard drew the run: its accuracy chart renders to a PNG only once it has epochs.
      await waitFor('the dashboard of the torch run', () => api.openDashboards().includes(runId));
      const target = path.join(workspaceUri('.').fsPath, 'torch-acc-chart.png');
      const written = await waitFor(
        'a PNG of the torch run\'s accuracy chart',
        async () => (await vscode.commands.executeCommand<string | undefined>('reglens.exportChartPng', runId, 'acc-chart', target)) ?? undefined,
        60_000,
      );
      assert.equal(written, target);
      const png = readFileSync(target);
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'PNG signature');
    } finally {
      await cfg.update('python.interpreter', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.workspace.fs.delete(file);
    }
  });
});
