// "Probe this model with RegLens" in a real extension host: the lens on an nn.Sequential, the
// two experiment files it writes (validated with the experiment schema), and a short run of both
// opened side by side in the compare dashboard; on an nn.Module subclass, the class itself
// trained on torch (model.pytorch) in both variants.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findTorchPython } from '../../scripts/torch-python';
import type { RegLensApi } from '../../src/extension';
import { parseExperimentText } from '../../src/protocol/experiment';
import type { ProbeCommandResult } from '../../src/host/probe/probeCommand';
import { extensionApi, waitFor, workspaceUri } from './waitFor';

const TITLE = 'Probe this PyTorch Model…';

async function probeLens(name: string, from = 'probe_mlp.py'): Promise<vscode.CodeLens> {
  const src = workspaceUri(from);
  const dst = workspaceUri(name);
  await vscode.workspace.fs.copy(src, dst, { overwrite: true });
  const doc = await vscode.workspace.openTextDocument(dst);
  await vscode.window.showTextDocument(doc);
  return waitFor(`a "${TITLE}" code lens`, async () => {
    const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 20);
    return all.find((l) => l.command?.title === TITLE);
  });
}

describe('Probe this model with RegLens', () => {
  before(async () => {
    await extensionApi();
  });

  it('shows the lens on an nn.Sequential and writes two valid experiment files', async () => {
    const api = await extensionApi<RegLensApi>();
    const lens = await probeLens('probe_files.py');
    assert.equal(lens.range.start.line, 4, 'above `model = nn.Sequential(`');
    const cmd = lens.command!;
    const result = await vscode.commands.executeCommand<ProbeCommandResult>(cmd.command, ...(cmd.arguments ?? []), {
      dataset: 'moons',
      labelNoise: { kind: 'symmetric', rate: 0.3 },
      run: false,
    });
    assert.ok(result, 'the command returns what it wrote');
    assert.deepEqual(
      result.files.map((f) => f.replace(/^.*[\\/]/, '')),
      ['probe_files.probe.reglens.json', 'probe_files.probe-regularized.reglens.json'],
    );
    for (const f of result.files) assert.equal(path.dirname(f), workspaceUri('.reglens/experiments').fsPath, 'not among the sources');
    assert.ok(api.notices().some((n) => n.text.includes('.reglens/experiments/: probe_files.probe.reglens.json and probe_files.probe-regularized.reglens.json')), 'says where they went');
    const [plain, regularized] = result.files.map((f) => parseExperimentText(readFileSync(f, 'utf8'), f));
    assert.equal(plain.dataset.kind, 'moons');
    assert.deepEqual(plain.dataset.labelNoise, { kind: 'symmetric', rate: 0.3 });
    const types = (e: typeof plain) => e.model.layers.map((l) => l.type).join(' ');
    assert.equal(types(plain), 'dense activation dense activation dense');
    assert.equal(types(regularized), 'dense activation dropout dense activation dropout dense');
    const out = plain.model.layers[plain.model.layers.length - 1];
    assert.equal(out.type === 'dense' && out.units, 2, 'output rewired to the two moons classes');
    assert.match(result.regularizer, /^dropout 0\.3/);
  });

  it('on an nn.Module subclass trains the class itself on torch (as written, and with dropout hooked after a hidden Linear), both in one compare panel', async () => {
    const api = await extensionApi<RegLensApi>();
    const cfg = vscode.workspace.getConfiguration('reglens');
    await cfg.update('python.interpreter', findTorchPython(), vscode.ConfigurationTarget.Workspace);
    try {
      const lens = await probeLens('probe_module_run.py', 'probe_module.py');
      assert.equal(lens.range.start.line, 4, 'above `class ResidualNet(nn.Module):`');
      const cmd = lens.command!;
      // hidden has no default: given here, so no input box is shown.
      const result = await vscode.commands.executeCommand<ProbeCommandResult>(cmd.command, ...(cmd.arguments ?? []), { dataset: 'moons', epochs: 2, args: { hidden: 16 } });
      assert.equal(result?.runIds?.length, 2, 'both runs started');
      const [plain, regularized] = result.files.map((f) => parseExperimentText(readFileSync(f, 'utf8'), f));
      // The experiments live in .reglens/experiments/; the class's file is named relative to them.
      assert.deepEqual(plain.model.pytorch, { file: '../../probe_module_run.py', class: 'ResidualNet', args: { hidden: 16 } });
      assert.deepEqual(regularized.model.pytorch?.addDropout, { after: 'res', rate: 0.3 });
      const [a, b] = result.runIds!;
      await waitFor('a compare panel of both runs', () => api.openCompares().some((ids) => ids.includes(a) && ids.includes(b)));
      for (const id of [a, b]) {
        const summary = await api.whenRunEnds(id);
        assert.equal(summary?.status, 'finished', `run ${id} ended ${summary?.status}: ${summary?.error ?? ''}`);
        assert.equal(summary?.backend, 'torch-cpu');
        assert.equal(summary?.epochs, 2);
      }
      const events = readFileSync(path.join(workspaceUri('.reglens/runs').fsPath, b, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const mc = events.find((e) => e.type === 'probe' && e.probe.kind === 'mcDropout');
      assert.ok(mc && mc.probe.unavailable === undefined, 'MC dropout samples the dropout the hook added');
    } finally {
      await cfg.update('python.interpreter', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('runs both experiments (2 epochs) and opens them in one compare panel', async () => {
    const api = await extensionApi<RegLensApi>();
    assert.ok(vscode.workspace.isTrusted, 'the test workspace is trusted');
    const lens = await probeLens('probe_run.py');
    const cmd = lens.command!;
    const result = await vscode.commands.executeCommand<ProbeCommandResult>(cmd.command, ...(cmd.arguments ?? []), {
      dataset: 'moons',
      epochs: 2,
    });
    assert.equal(result?.runIds?.length, 2, 'both runs started');
    const [a, b] = result.runIds!;
    await waitFor('a compare panel of both runs', () => api.openCompares().some((ids) => ids.includes(a) && ids.includes(b)));
    assert.ok(!api.openDashboards().includes(a) && !api.openDashboards().includes(b), 'no dashboard of its own under the compare panel');
    const before = api.notices().length;
    for (const id of [a, b]) {
      const summary = await api.whenRunEnds(id);
      assert.equal(summary?.status, 'finished', `run ${id} ended ${summary?.status}: ${summary?.error ?? ''}`);
      assert.equal(summary?.epochs, 2);
    }
    // One progress for both runs; the verdict in a notification and in the compare panel.
    const progress = api.notices().filter((n) => n.severity === 'progress');
    assert.equal(progress.filter((n) => n.text.startsWith('RegLens: probing')).length >= 1, true);
    assert.ok(!progress.some((n) => n.text.startsWith('RegLens: Probe:')), 'no progress per run');
    const verdict = await waitFor('the verdict notification', () => api.notices().slice(before).find((n) => n.text.startsWith('RegLens probe of ')));
    assert.match(verdict.text, /(helped|did not help|no clear difference|mixed effect): it fitted .*corrupted training labels \(\d+\.\d% → \d+\.\d%\).*test accuracy/);
    const details = await waitFor('the compare verdict', () => {
      const d = api.compareDetails([a, b]);
      return d?.verdict && d.verdict.outcome !== 'undecided' ? d : undefined;
    });
    assert.equal(verdict.text, `RegLens probe of model: ${details.verdict!.text}`);
    assert.ok(details.differences.length > 0, 'the table of differing hyperparameters has rows');
  });
});
