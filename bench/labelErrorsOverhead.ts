// Per-epoch cost of the labelErrors probe for `npm run bench` (issue 17: < 5% target), on the
// grok example (4,704 training pairs, 97 classes) and on an MNIST MLP (5,000 digits, dropout),
// two ways: benchLabelErrorComponents times the probe's per-epoch pieces against the epoch
// they add to, in one process per engine (the number to read on a shared machine); and
// benchLabelErrorOverhead runs the same experiment with and without probes.labelErrors,
// interleaved round by round (whole-run wall time, honest but noisy under load).
// An epoch's time is the wall time between consecutive epoch events as they arrive (so the
// probe's per-epoch bookkeeping after the event counts too), median over epochs 2..E; the
// probe's one-off end-of-run pass (probabilities, dropout passes, payload) is reported apart,
// as the time from the last epoch event to the probe event.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/engine/backend';
import { makeDataset } from '../src/engine/data/dataset';
import { writeDatasetNpy } from '../src/engine/data/datasetNpy';
import { predict, predictWithMargins } from '../src/engine/evaluate';
import { weightsOf } from '../src/engine/evalThread';
import { buildModel } from '../src/engine/model';
import { LabelErrorTracker } from '../src/engine/probes/labelErrorsPayload';
import { train } from '../src/engine/train';
import { pythonPackageDir } from '../src/engine/torchBridge';
import { parseExperiment, type ExperimentInput } from '../src/protocol/experiment';
import { collectRun, median, type RunEngine } from './benchShared';

interface Case {
  id: string;
  label: string;
  spec: (withProbe: boolean, epochs: number) => ExperimentInput;
}

const GROK_LAYERS: ExperimentInput['model']['layers'] = [
  { type: 'dense', units: 512, useBias: false, init: 'normal', initStd: 0.1 },
  { type: 'activation', fn: 'square' },
  { type: 'dense', units: 97, useBias: false, init: 'normal', initStd: 0.0441941738 },
];

export const OVERHEAD_CASES: Case[] = [
  {
    id: 'grok-quadratic',
    label: 'grok quadratic 194-512-97, 4,704 train pairs, batch 512',
    spec: (withProbe, epochs) => ({
      name: 'bench label errors',
      seed: 0,
      dataset: { kind: 'modular', p: 97, operation: 'add', trainFraction: 0.5, labelNoise: { kind: 'symmetric', rate: 0.3 } },
      model: { layers: GROK_LAYERS },
      training: { epochs, batchSize: 512, optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.98, weightDecay: 5 } },
      ...(withProbe ? { probes: { labelErrors: {} } } : {}),
    }),
  },
  {
    id: 'mnist-mlp',
    label: 'MNIST MLP 784-256-dropout-10, 5,000 train digits, batch 128',
    spec: (withProbe, epochs) => ({
      name: 'bench label errors',
      seed: 0,
      dataset: { kind: 'mnist', train: 5000, test: 1000, labelNoise: { kind: 'symmetric', rate: 0.4 } },
      model: { layers: [{ type: 'dense', units: 256 }, { type: 'activation', fn: 'relu' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 10 }] },
      training: { epochs, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } },
      ...(withProbe ? { probes: { labelErrors: {} } } : {}),
    }),
  },
];

interface Timed {
  epochSeconds: number;
  /** Last epoch event to the end of the run (the probes after training, finished, the process's exit). */
  tailSeconds: number;
}

async function timedRun(spec: ExperimentInput, engine: RunEngine): Promise<Timed> {
  const arrivals: number[] = [];
  const r = await collectRun(parseExperiment(spec), engine, () => arrivals.push(performance.now()));
  if (r.failed) throw new Error(`label-error overhead run failed: ${r.failed}`);
  const end = performance.now();
  if (spec.probes?.labelErrors && !r.probes.some((p) => p.probe.kind === 'labelErrors')) throw new Error(`no labelErrors probe: ${r.logs.join('; ')}`);
  const gaps = arrivals.slice(1).map((t, i) => (t - arrivals[i]) / 1000);
  return { epochSeconds: median(gaps.slice(1)), tailSeconds: (end - arrivals[arrivals.length - 1]) / 1000 };
}

export interface OverheadRow {
  case: string;
  label: string;
  engine: string;
  epochs: number;
  rounds: number;
  offSeconds: number;
  onSeconds: number;
  /** Median over rounds of on / off - 1 (the rounds pair runs made side by side). */
  overhead: number;
  /** Median seconds from the last epoch event to the run's end, without and with the probe: the difference is its one-off end-of-run pass. */
  tailOffSeconds: number;
  tailOnSeconds: number;
  samples: { off: number[]; on: number[] };
}

/** Rounds of (off, on) runs per case and engine, alternating which goes first. */
export async function benchLabelErrorOverhead(engines: RunEngine[], rounds = 3, epochs = 8, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<OverheadRow[]> {
  const rows: OverheadRow[] = [];
  for (const engine of engines) {
    for (const c of OVERHEAD_CASES) {
      const off: number[] = [];
      const on: number[] = [];
      const tails: { off: number[]; on: number[] } = { off: [], on: [] };
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? [false, true] : [true, false];
        for (const withProbe of order) {
          const t = await timedRun(c.spec(withProbe, epochs), engine);
          (withProbe ? on : off).push(t.epochSeconds);
          tails[withProbe ? 'on' : 'off'].push(t.tailSeconds);
        }
        log(`  labelErrors overhead ${engine.backend} ${c.id} round ${r + 1}: off ${off[r].toFixed(3)} s, on ${on[r].toFixed(3)} s per epoch`);
      }
      rows.push({
        case: c.id,
        label: c.label,
        engine: engine.backend,
        epochs,
        rounds,
        offSeconds: median(off),
        onSeconds: median(on),
        overhead: median(on.map((v, i) => v / off[i] - 1)),
        tailOffSeconds: median(tails.off),
        tailOnSeconds: median(tails.on),
        samples: { off, on },
      });
    }
  }
  return rows;
}

export interface ComponentRow {
  case: string;
  engine: string;
  /** Median seconds of one epoch without the probe: training steps plus the evaluation. */
  epochSeconds: number;
  /** Median seconds the probe adds per epoch: margins on top of the evaluation, the tracker's update, a weight copy (paid only at a new best test accuracy; counted every epoch here). */
  margins: number;
  update: number;
  snapshot: number;
  /** (margins + update + snapshot) / epochSeconds. */
  overhead: number;
  rounds: number;
}

const timed = (f: () => void) => {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
};

/**
 * The probe's per-epoch work measured piece by piece, interleaved with what it adds to, in one
 * process per engine: robust to a loaded machine, where whole-run A/B timings swing by 2x.
 */
export async function benchLabelErrorComponents(python: string | undefined, rounds = 15, epochs = 4, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<ComponentRow[]> {
  const rows: ComponentRow[] = [];
  await selectBackend('wasm');
  for (const c of OVERHEAD_CASES) {
    const experiment = parseExperiment(c.spec(false, epochs));
    const data = makeDataset(experiment.dataset, experiment.seed);
    // wasm: the engine's own epoch time (train() without the probe, evaluation on this thread), then the pieces.
    const seconds: number[] = [];
    await train(experiment, { backend: 'wasm', evalThread: false, dataset: data, onEvent: (e) => e.type === 'epoch' && e.epoch > 1 && seconds.push(e.seconds) });
    const model = buildModel(experiment.model.layers, data.inputSize, 0, data.image, 'init');
    const x = tf.tensor2d(data.train.x, [data.train.n, data.inputSize]);
    const tracker = new LabelErrorTracker(data.train.labels);
    const s = { margins: [] as number[], update: [] as number[], snapshot: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const plain = timed(() => predict(model, x));
      let out: { pred: Int32Array; margin: Float32Array } | undefined;
      const withMargins = timed(() => (out = predictWithMargins(model, x, data.train.labels)));
      s.margins.push(Math.max(0, withMargins - plain));
      s.update.push(timed(() => tracker.update(out!.pred, out!.margin)));
      s.snapshot.push(timed(() => weightsOf(model)));
    }
    x.dispose();
    model.dispose();
    const epochSeconds = median(seconds);
    const row = { case: c.id, engine: 'wasm', epochSeconds, margins: median(s.margins), update: median(s.update), snapshot: median(s.snapshot), rounds, overhead: 0 };
    row.overhead = (row.margins + row.update + row.snapshot) / epochSeconds;
    rows.push(row);
    log(`  labelErrors pieces wasm ${c.id}: epoch ${epochSeconds.toFixed(3)} s; margins +${(row.margins * 1000).toFixed(1)} ms, update ${(row.update * 1000).toFixed(1)} ms, weight copy ${(row.snapshot * 1000).toFixed(1)} ms = ${(row.overhead * 100).toFixed(1)}%`);
    if (!python) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-le-overhead-'));
    try {
      writeDatasetNpy(path.join(dir, 'data'), data);
      const job = path.join(dir, 'job.json');
      fs.writeFileSync(job, JSON.stringify({ command: { type: 'start', experiment, backend: 'torch', device: 'cpu', dataDir: path.join(dir, 'data') }, rounds: Math.ceil(rounds / epochs), epochs: epochs + 1 }));
      const r = spawnSync(python, [path.join(__dirname, '..', 'bench', 'label_errors_overhead.py'), job], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: [pythonPackageDir(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), OMP_NUM_THREADS: '1' },
      });
      if (r.status !== 0) throw new Error(`bench/label_errors_overhead.py failed: ${r.stderr}`);
      const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as { train: number; evaluate: number; evaluateWithMargins: number; update: number; snapshot: number };
      const epochTorch = t.train + t.evaluate;
      const torchRow = { case: c.id, engine: 'torch', epochSeconds: epochTorch, margins: Math.max(0, t.evaluateWithMargins - t.evaluate), update: t.update, snapshot: t.snapshot, rounds: Math.ceil(rounds / epochs) * epochs, overhead: 0 };
      torchRow.overhead = (torchRow.margins + torchRow.update + torchRow.snapshot) / epochTorch;
      rows.push(torchRow);
      log(`  labelErrors pieces torch ${c.id}: epoch ${epochTorch.toFixed(3)} s; margins +${(torchRow.margins * 1000).toFixed(1)} ms, update ${(torchRow.update * 1000).toFixed(1)} ms, state_dict copy ${(torchRow.snapshot * 1000).toFixed(1)} ms = ${(torchRow.overhead * 100).toFixed(1)}%`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
