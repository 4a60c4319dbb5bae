// A sweep submitted to a real one-machine Slurm from VS Code (reglens.sweeps.executor "slurm"):
// the test starts munged/slurmctld/slurmd through test/harness/slurm.mjs inside the extension
// host, so the extension's sbatch/squeue find the cluster through SLURM_CONF, and stops the
// daemons by pid at the end. The members must go queued -> running -> finished in the Runs view.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

interface Cluster {
  stop(): Promise<void>;
}
// The bundle is CommonJS: a real import() (not esbuild's require) loads the .mjs harness.
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<{ startSlurm(o?: { cpus?: number }): Promise<Cluster>; slurmAvailable(): string | undefined }>;
const harness = path.join(__dirname, '..', '..', '..', 'test', 'harness', 'slurm.mjs');

const missing = (() => {
  for (const c of ['sbatch', 'slurmctld', 'slurmd', 'munged']) {
    if (!['/usr/bin', '/usr/sbin', ...(process.env.PATH ?? '').split(':')].some((d) => d && existsSync(path.join(d, c)))) return `${c} is not installed (apt-get install slurm-wlm munge)`;
  }
  if (process.getuid?.() !== 0) return 'the test cluster runs its daemons as root';
  return undefined;
})();

(missing ? describe.skip : describe)(`Sweeps on Slurm from VS Code${missing ? ` (skipped: ${missing})` : ''}`, function () {
  this.timeout(180_000);
  let cluster: Cluster | undefined;
  const config = () => vscode.workspace.getConfiguration('reglens');

  before(async () => {
    cluster = await (await importEsm(`file://${harness}`)).startSlurm({ cpus: 2 });
    await config().update('sweeps.executor', 'slurm', vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await config().update('sweeps.executor', undefined, vscode.ConfigurationTarget.Workspace);
    await cluster?.stop();
  });

  it('submits a sweep as one array job; its members go queued -> running -> finished in the Runs view', async () => {
    const api = await extensionApi<RegLensApi>();
    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    spec.name = 'slurm sweep';
    spec.backend = 'wasm';
    spec.training.epochs = 60;
    spec.training.batchSize = 16;
    spec.sweep = { seed: [1, 2] };
    // One member at a time: the second waits in the queue (JobArrayTaskLimit) while the first runs.
    spec.slurm = { maxConcurrent: 1 };
    const file = workspaceUri('slurm-sweep.reglens.json');
    await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(spec, null, 2)));
    try {
      const runIds = await vscode.commands.executeCommand<string[]>('reglens.runExperiment', file);
      assert.ok(Array.isArray(runIds) && runIds.length === 2, `run ids: ${JSON.stringify(runIds)}`);
      const seen = new Map<string, string[]>(runIds.map((id) => [id, []]));
      await waitFor(
        'both members finished in the Runs view',
        async () => {
          const rows = await api.runsTree();
          for (const id of runIds) {
            const row = rows.find((r) => r.runId === id);
            const status = row?.description.split(/[ ·(]/)[0];
            const history = seen.get(id)!;
            if (status && history.at(-1) !== status) history.push(status);
          }
          return runIds.every((id) => seen.get(id)!.at(-1) === 'finished');
        },
        150_000,
      );
      const second = seen.get(runIds[1])!;
      assert.deepEqual(second, ['queued', 'running', 'finished'], `second member's statuses in the Runs view: ${second.join(' -> ')}`);
      assert.deepEqual(seen.get(runIds[0])!.slice(-2), ['running', 'finished']);
      const summaries = runIds.map((id) => JSON.parse(readFileSync(path.join(workspaceUri('.reglens/runs').fsPath, id, 'summary.json'), 'utf8')));
      assert.deepEqual(summaries.map((s) => [s.status, s.epochs, s.slurm.taskId]), [
        ['finished', 60, 0],
        ['finished', 60, 1],
      ]);
      assert.equal(summaries[0].slurm.jobId, summaries[1].slurm.jobId, 'one array job');
      const key = [...runIds].sort().join(',');
      await waitFor('a compare panel with both members', () => api.openCompares().some((ids) => [...ids].sort().join(',') === key));
    } finally {
      await vscode.workspace.fs.delete(file);
    }
  });

  it('Stop Run on a running member cancels its Slurm task (scancel), keeping its epochs; Resubmit Failed Sweep Members from its row runs it again in the same run', async () => {
    const api = await extensionApi<RegLensApi>();
    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    spec.name = 'slurm stop';
    spec.backend = 'wasm';
    spec.training.epochs = 100000;
    spec.training.batchSize = 1;
    spec.sweep = { seed: [1] };
    const file = workspaceUri('slurm-stop.reglens.json');
    await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(spec, null, 2)));
    try {
      const [runId] = await vscode.commands.executeCommand<string[]>('reglens.runExperiment', file);
      const summaryFile = path.join(workspaceUri('.reglens/runs').fsPath, runId, 'summary.json');
      await waitFor('the member running its third epoch', async () => /^running · epoch ([3-9]|\d\d+)\//.test((await api.runsTree()).find((r) => r.runId === runId)?.description ?? ''), 90_000);
      await vscode.commands.executeCommand('reglens.cancelRun', runId);
      // The extension's watcher writes Slurm's outcome into summary.json once the task has ended.
      const summary = await waitFor(
        'the member cancelled in Slurm',
        () => {
          const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
          return s.status === 'cancelled' && s.slurm?.state === 'CANCELLED' ? s : undefined;
        },
        60_000,
      );
      assert.match(summary.error, /^cancelled in Slurm after epoch \d+ of 100000 \(every reported epoch is kept\)/);
      const epochs = readFileSync(path.join(path.dirname(summaryFile), 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"epoch"')).length;
      assert.ok(epochs >= 3 && epochs === summary.epochs, `${epochs} epochs recorded, summary says ${summary.epochs}`);
      const row = await waitFor('the Runs view showing it cancelled', async () => {
        const r = (await api.runsTree()).find((x) => x.runId === runId);
        return r?.description.startsWith('cancelled') ? r : undefined;
      });

      // Resubmit Failed Sweep Members is in the row's context menu: the contribution's `when` matches the row.
      const menus = vscode.extensions.getExtension('reglens.reglens')!.packageJSON.contributes.menus['view/item/context'] as { command: string; when: string }[];
      const when = menus.find((m) => m.command === 'reglens.resubmitFailedSweepMembers')?.when ?? '';
      const pattern = /viewItem =~ \/(.+)\/$/.exec(when)?.[1];
      assert.ok(pattern && new RegExp(pattern).test(row.contextValue), `menu when "${when}" vs row "${row.contextValue}"`);
      // The menu hands the command the row's element; the member runs again in the same run folder.
      const resubmitted = await vscode.commands.executeCommand<string[]>('reglens.resubmitFailedSweepMembers', { runId });
      assert.deepEqual(resubmitted, [runId]);
      await waitFor(
        'the resubmitted member running past its earlier epochs',
        () => {
          const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
          return s.status === 'running' && s.slurm?.attempts === 2 && s.slurm.jobId !== summary.slurm.jobId;
        },
        90_000,
      );
      await waitFor('the Runs view showing it running again', async () => (await api.runsTree()).find((r) => r.runId === runId)?.description.startsWith('running'));
      assert.doesNotMatch((await api.runsTree()).find((r) => r.runId === runId)!.contextValue, /resubmittable/, 'not offered while it runs');
      await vscode.commands.executeCommand('reglens.cancelRun', runId);
      await waitFor('the second attempt cancelled in Slurm', () => JSON.parse(readFileSync(summaryFile, 'utf8')).slurm?.state === 'CANCELLED', 60_000);
      const events = readFileSync(path.join(path.dirname(summaryFile), 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"epoch"')).map((l) => JSON.parse(l).epoch as number);
      assert.deepEqual(events, Array.from({ length: events.length }, (_, i) => i + 1), 'one run, every epoch once across both attempts');
    } finally {
      await vscode.workspace.fs.delete(file);
    }
  });
});
