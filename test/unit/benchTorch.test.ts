// The pieces `npm run bench` measures engines with (bench/peakRss.ts, bench/engineRss.ts,
// bench/torchEngineBench.ts), on real processes: what they report, and that without torch
// every PyTorch column says why it is empty. No timing is asserted (speed lives in the bench).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { once } from 'node:events';
import { pythonEnginePeak, runWithPeakRss } from '../../bench/engineRss';
import { watchPeakRss } from '../../bench/peakRss';
import { checkTorch, measurePaired, measurePeer, measureTorchEngine } from '../../bench/torchEngineBench';
import { findTorchPython } from '../../scripts/torch-python';
import { buildBundles, enginePath } from './helpers/bundle';
import { tinyExperiment } from './helpers/experiments';

const MISSING = path.join('/nonexistent', 'python3');

describe('bench: peak RSS of the engines, torch columns', function () {
  this.timeout(120_000);
  before(() => buildBundles());

  it('peak RSS: the root process and each descendant by its command line, from /proc', async () => {
    // bash stays the parent (the trailing `true` keeps it from exec-ing node); node holds 120 MiB.
    const script = 'const b = Buffer.alloc(120 * 2 ** 20, 1); process.stdout.write(`ready ${b[0]}\\n`); process.stdin.resume();';
    const root = spawn('bash', ['-c', `node -e '${script}'; true`], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const watch = watchPeakRss(root.pid!);
      const [chunk] = await once(root.stdout!, 'data');
      assert.match(String(chunk), /^ready 1/);
      const peak = watch.stop();
      assert.ok(peak.rootMiB !== null && peak.rootMiB < 60, `bash: ${peak.rootMiB} MiB`);
      const node = Object.entries(peak.descendantsMiB).find(([cmd]) => cmd.startsWith('node -e'));
      assert.ok(node, JSON.stringify(peak.descendantsMiB));
      assert.ok(node[1] >= 120, `node: ${node[1]} MiB`);
    } finally {
      root.stdin!.end();
      await once(root, 'close');
    }
  });

  it('peak RSS of a whole wasm run: engine.js, from its fork to its last event', async () => {
    const r = await runWithPeakRss({ backend: 'wasm', experiment: tinyExperiment({ epochs: 3 }), enginePath });
    assert.equal(r.failed, undefined);
    assert.equal(r.backend, 'wasm');
    assert.equal(r.epochs, 3);
    assert.ok(r.peakRss.rootMiB! > 50, `engine.js ${r.peakRss.rootMiB} MiB`);
    assert.equal(pythonEnginePeak(r.peakRss), null);
  });

  it('peak RSS of a whole torch run: the Python engine is found among engine.js\'s children', async () => {
    const python = findTorchPython();
    const r = await runWithPeakRss({ backend: 'torch', experiment: tinyExperiment({ epochs: 2 }), enginePath, python });
    assert.equal(r.failed, undefined);
    assert.equal(r.backend, 'torch-cpu');
    assert.equal(r.epochs, 2);
    const engines = Object.keys(r.peakRss.descendantsMiB).filter((cmd) => /-m reglens\.engine/.test(cmd));
    assert.equal(engines.length, 1, JSON.stringify(r.peakRss));
    assert.ok(pythonEnginePeak(r.peakRss)! > 100, `python ${pythonEnginePeak(r.peakRss)} MiB (torch alone is more)`);
  });

  it('without torch every measurement says why instead of failing', async () => {
    const torch = await checkTorch(MISSING);
    assert.equal(torch.available, false);
    if (torch.available) return;
    assert.match(torch.reason, /Python interpreter "\/nonexistent\/python3" not found/);
    assert.match(torch.reason, /apt-get install -y python3-torch/);
    assert.deepEqual(await measureTorchEngine(torch, tinyExperiment(), 1), torch);
    assert.deepEqual(await measurePaired(torch, tinyExperiment(), 'relu-mlp', 1, 2), torch);
    const peer = measurePeer(MISSING, 'relu-mlp', 2, 1);
    assert.equal(peer.available, false);
    if (!peer.available) assert.match(peer.reason, /\/nonexistent\/python3: spawnSync \/nonexistent\/python3 ENOENT/);
    const r = await runWithPeakRss({ backend: 'torch', experiment: tinyExperiment({ epochs: 2 }), enginePath, python: MISSING });
    assert.match(r.failed ?? '', /not found/);
    assert.equal(r.epochs, 0);
  });
});
