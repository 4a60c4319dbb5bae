// The real "Run Experiment" command in a real extension host: trains the fixture
// experiment in the engine child process and checks what it wrote to disk.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

describe('Run Experiment', () => {
  it('is contributed under the RegLens category', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['reglens.runExperiment', 'reglens.cancelRun', 'reglens.openDashboard']) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
  });

  it('trains the fixture experiment, streams it to a dashboard and writes the run folder', async () => {
    const api = await extensionApi<RegLensApi>();
    const file = workspaceUri('tiny.reglens.json');
    const spec = JSON.parse(readFileSync(file.fsPath, 'utf8'));
    const runId = await vscode.commands.executeCommand<string>('reglens.runExperiment', file);
    assert.equal(typeof runId, 'string', 'the command returns the run id');
    const ended = api.whenRunEnds(runId);
    assert.ok(ended, 'the run is live in this window');
    const summary = await ended;
    assert.equal(summary.status, 'finished', `run ended ${summary.status}: ${summary.error ?? ''}`);
    assert.equal(summary.epochs, spec.training.epochs);

    const dir = path.join(workspaceUri('.reglens/runs').fsPath, runId);
    for (const f of ['spec.json', 'events.jsonl', 'summary.json']) assert.ok(existsSync(path.join(dir, f)), `${f} written`);
    const events = readFileSync(path.join(dir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(events[0].type, 'started');
    // auto: torch-cpu where python3 on PATH has torch, else wasm (cpu when wasm cannot load).
    assert.ok(['torch-cpu', 'wasm', 'cpu'].includes(events[0].backend), `backend ${events[0].backend}`);
    const epochs = events.filter((e) => e.type === 'epoch');
    assert.equal(epochs.length, spec.training.epochs, 'one epoch event per epoch on disk');
    assert.deepEqual(
      epochs.map((e) => e.epoch),
      Array.from({ length: spec.training.epochs }, (_, i) => i + 1),
    );
    assert.equal(events[events.length - 1].type, 'finished');
    const onDisk = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.equal(onDisk.status, 'finished');

    await waitFor('the dashboard panel of the run', () => api.openDashboards().includes(runId));
    const tab = await waitFor('a dashboard tab', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('RegLens:')),
    );
    assert.match(tab.label, /RegLens: /);
  });

  it('Stop Run kills the engine, marks the run cancelled and keeps the epochs it reported', async () => {
    const api = await extensionApi<RegLensApi>();
    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    spec.name = 'long run to cancel';
    spec.training.epochs = 5000;
    const file = workspaceUri('long.reglens.json');
    await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(spec)));
    const runId = await vscode.commands.executeCommand<string>('reglens.runExperiment', file);
    const events = path.join(workspaceUri('.reglens/runs').fsPath, runId, 'events.jsonl');
    await waitFor('two epochs on disk', () =>
      existsSync(events) && readFileSync(events, 'utf8').split('\n').filter((l) => l.includes('"epoch"')).length >= 2,
    );
    await vscode.commands.executeCommand('reglens.cancelRun', runId);
    const summary = await api.whenRunEnds(runId)!;
    assert.equal(summary.status, 'cancelled');
    const lines = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const epochs = lines.filter((e) => e.type === 'epoch');
    assert.ok(epochs.length >= 2 && epochs.length < 5000, `${epochs.length} epochs kept on disk`);
    assert.ok(!lines.some((e) => e.type === 'finished'), 'a cancelled run has no finished event');
    await vscode.workspace.fs.delete(file);
  });

  it('reglens.training.evaluationThread "on" evaluates on a second thread in the engine, epochs all on disk', async () => {
    const api = await extensionApi<RegLensApi>();
    const cfg = vscode.workspace.getConfiguration('reglens');
    await cfg.update('training.evaluationThread', 'on', vscode.ConfigurationTarget.Workspace);
    try {
      const file = workspaceUri('tiny.reglens.json');
      const spec = JSON.parse(readFileSync(file.fsPath, 'utf8'));
      const runId = await vscode.commands.executeCommand<string>('reglens.runExperiment', file);
      const summary = await api.whenRunEnds(runId)!;
      assert.equal(summary.status, 'finished', summary.error ?? '');
      const events = readFileSync(path.join(workspaceUri('.reglens/runs').fsPath, runId, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      if (events[0].backend !== 'wasm') return; // the thread is for wasm; a cpu fallback evaluates in place
      assert.ok(events.some((e) => e.type === 'log' && /second thread/.test(e.message)), 'the engine says it uses the thread');
      assert.deepEqual(
        events.filter((e) => e.type === 'epoch').map((e) => e.epoch),
        Array.from({ length: spec.training.epochs }, (_, i) => i + 1),
      );
    } finally {
      await cfg.update('training.evaluationThread', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('a CLI run killed with SIGKILL reads "died <when> · epoch N/total" in the Runs view and opens', async () => {
    const api = await extensionApi<RegLensApi>();
    const ext = vscode.extensions.getExtension('reglens.reglens')!;
    const runsDir = workspaceUri('.reglens/runs').fsPath;
    const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
    const cli = path.join(ext.extensionPath, 'dist', 'cli.js');
    const args = [cli, 'run', workspaceUri('tiny.reglens.json').fsPath, '--epochs', '5000', '--backend', 'cpu', '--quiet', '--runs-dir', runsDir];
    // Its own process group, so one kill reaches the CLI and its engine; Electron's execPath runs as Node.
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const runId = await waitFor('the CLI run folder', () => (existsSync(runsDir) ? readdirSync(runsDir).find((d) => !before.has(d)) : undefined));
    const events = path.join(runsDir, runId, 'events.jsonl');
    const epochsOnDisk = () =>
      (existsSync(events) ? readFileSync(events, 'utf8') : '').split('\n').filter((l) => {
        try {
          return JSON.parse(l).type === 'epoch';
        } catch {
          return false; // blank, or cut off by the kill
        }
      }).length;
    try {
      await waitFor('3 epochs on disk', () => epochsOnDisk() >= 3);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
    await exited;
    const n = epochsOnDisk();
    const item = await waitFor('the run in the Runs view', async () => (await api.runsTree()).find((i) => i.runId === runId));
    assert.match(item.description, new RegExp(`^died (just now|\\d+ (s|min) ago) · epoch ${n}/5000 · test \\d+\\.\\d%, noise fitted [<>]?\\d+\\.\\d%$`));
    await vscode.commands.executeCommand('reglens.openRun', runId);
    await waitFor('its dashboard', () => api.openDashboards().includes(runId));
    rmSync(path.join(runsDir, runId), { recursive: true, force: true });
  });

  it('rejects an invalid experiment file without starting a run', async () => {
    const bad = workspaceUri('broken.reglens.json');
    await vscode.workspace.fs.writeFile(bad, Buffer.from('{"name": "x", "training": {"epochs": -1}}'));
    const runId = await vscode.commands.executeCommand<string | undefined>('reglens.runExperiment', bad);
    assert.equal(runId, undefined);
    await vscode.workspace.fs.delete(bad);
  });
});
