// The recorder from a real extension host: a user's training script using reglens.init,
// started outside the extension (a child process of the test, as from a terminal), appears
// in the Runs view, and its open dashboard receives each epoch while the script runs. The
// script logs an epoch only when the test asks, so "while it runs" is what is checked.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findTorchPython } from '../../scripts/torch-python';
import type { RegLensApi } from '../../src/extension';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

const SCRIPT = `
import sys, torch, reglens
torch.set_num_threads(1)
torch.manual_seed(0)
run = reglens.init(name="recorder from a terminal", epochs=5)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(8, 2))
x = torch.randn(60, 4); y = (x[:, 0] > 0).long()
run.watch(model, layers=["0"], probe=reglens.ProbeSet(x[:40], y[:40], corrupted=torch.arange(40) < 8, x_test=x[40:], y_test=y[40:]), every=2, mc_dropout=3)
print(run.id, flush=True)
with run:
    for epoch in range(5):
        if not sys.stdin.readline():
            break
        run.log_epoch(epoch, loss=1.0 / (epoch + 1))
        print(epoch + 1, flush=True)
`;

describe('recorder runs from another process', () => {
  it('a script using reglens.init appears in the Runs view and its dashboard fills epoch by epoch', async () => {
    const api = await extensionApi<RegLensApi>();
    const runsDir = workspaceUri('.reglens/runs').fsPath;
    const pythonDir = path.join(vscode.extensions.getExtension('reglens.reglens')!.extensionPath, 'python');
    const child = spawn(findTorchPython(), ['-c', SCRIPT], {
      env: { ...process.env, PYTHONPATH: pythonDir, REGLENS_RUNS_DIR: runsDir },
      cwd: workspaceUri('.').fsPath,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines: string[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts);
    });
    const nextLine = (what: string) => waitFor(`${what} (script stderr: ${stderr.slice(-300)})`, () => lines.shift(), 60_000);
    try {
      const runId = await nextLine('the recorder run id');
      const item = await waitFor('the recorder run in the Runs view', async () => (await api.runsTree()).find((i) => i.runId === runId));
      assert.equal(item.label, 'recorder from a terminal');
      assert.match(item.description, /^running/);
      await vscode.commands.executeCommand('reglens.openRun', runId);
      await waitFor('the dashboard of the recorder run', () => api.openDashboards().includes(runId));
      for (let epoch = 1; epoch <= 3; epoch++) {
        child.stdin.write('\n');
        assert.equal(await nextLine(`epoch ${epoch} logged`), String(epoch));
        // The script waits for the test before the next epoch: this one reached the open dashboard while it runs.
        const sent = await waitFor(`epoch ${epoch} sent to the dashboard`, () => {
          const e = api.followedEpochs(runId);
          return e.includes(epoch) ? e : undefined;
        });
        assert.deepEqual(sent, Array.from({ length: epoch }, (_, i) => i + 1), 'each epoch once, in order');
        if (epoch === 2) {
          const view = await waitFor('the Runs view at epoch 2', async () => (await api.runsTree()).find((i) => i.runId === runId && /epoch 2\/5/.test(i.description)));
          assert.match(view.description, /running · epoch 2\/5/);
        }
      }
      // The page drew them: it was opened before epoch 1 (a snapshot without epochs), and its
      // accuracy chart renders to a PNG only once it has epochs.
      const target = path.join(workspaceUri('.').fsPath, 'recorder-acc-chart.png');
      const written = await waitFor(
        'a PNG of the followed run\'s accuracy chart',
        async () => (await vscode.commands.executeCommand<string | undefined>('reglens.exportChartPng', runId, 'acc-chart', target)) ?? undefined,
        60_000,
      );
      assert.deepEqual([...readFileSync(String(written)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'PNG signature');
      child.stdin.end(); // the script's loop ends, `with run` finishes it
      await waitFor('the recorder run listed as finished', async () => (await api.runsTree()).find((i) => i.runId === runId && /^finished/.test(i.description)), 60_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('Run Python File with RegLens runs the file in a terminal with the recorder importable and opens its run\'s dashboard', async () => {
    const api = await extensionApi<RegLensApi>();
    const cfg = vscode.workspace.getConfiguration('reglens');
    await cfg.update('python.interpreter', findTorchPython(), vscode.ConfigurationTarget.Workspace);
    const file = workspaceUri('launched_by_reglens.py');
    const script = [
      'import torch, reglens',
      'torch.set_num_threads(1)',
      'with reglens.init(name="launched by the command", epochs=2) as run:',
      '    for epoch in range(2):',
      '        run.log_epoch(epoch, loss=1.0 / (epoch + 1))',
      '',
    ].join('\n');
    await vscode.workspace.fs.writeFile(file, Buffer.from(script));
    const before = new Set(api.openDashboards());
    try {
      const launch = await vscode.commands.executeCommand<{ launchId: string; runsDir: string; commandLine: string }>('reglens.runPythonFile', file);
      assert.ok(launch, 'the command started the file');
      assert.equal(launch.runsDir, workspaceUri('.reglens/runs').fsPath);
      const runId = await waitFor('the dashboard of the launched run', () => api.openDashboards().find((id) => !before.has(id)), 90_000);
      const spec = JSON.parse(readFileSync(path.join(launch.runsDir, runId, 'spec.json'), 'utf8'));
      assert.equal(spec.source, 'recorder');
      assert.equal(spec.launch, launch.launchId);
      assert.equal(spec.name, 'launched by the command');
      await waitFor('the launched run listed as finished', async () => (await api.runsTree()).find((i) => i.runId === runId && /^finished/.test(i.description)), 60_000);
    } finally {
      await cfg.update('python.interpreter', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.workspace.fs.delete(file);
    }
  });

  it('Install the Python Package shows the pip command for the selected interpreter', async () => {
    const cfg = vscode.workspace.getConfiguration('reglens');
    const python = findTorchPython();
    await cfg.update('python.interpreter', python, vscode.ConfigurationTarget.Workspace);
    try {
      const line = await vscode.commands.executeCommand<string>('reglens.installPythonPackage', 'none');
      const pkg = path.join(vscode.extensions.getExtension('reglens.reglens')!.extensionPath, 'python');
      assert.ok(line.startsWith(`${python} -m pip install `), line);
      assert.ok(line.endsWith(pkg) || line.endsWith(`'${pkg}'`), line);
    } finally {
      await cfg.update('python.interpreter', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});

