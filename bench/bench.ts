// `npm run bench`: seconds per epoch of the shipped example (quadratic grokking
// model, p = 97, batch 512) and of a ReLU MLP 194-512-512-97 on the wasm and cpu
// backends, through the real training loop (train()), and of the same models in
// PyTorch on the same machine (bench/peer/torch_epoch.py, one thread), measured in
// the same run so the ratios compare like with like. Medians; the first epoch is
// dropped on wasm and PyTorch as warm-up. First of all, the time to first epoch of a fresh
// engine process (bench/firstEpoch.ts). Writes bench-results/bench.json.
//   node dist/bench.js [--wasm-epochs N] [--cpu-epochs N] [--peer-epochs N] [--skip-cpu] [--skip-peer] [--eval-thread auto|off]
//     [--first-epoch-runs N] [--skip-first-epoch] [--out FILE]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { isEvalThread } from '../src/engine/evalThread';
import { train } from '../src/engine/train';
import { runAnalysisBench } from './analysis';
import { GROK_MLP_LAYERS } from './benchShared';
import { type FirstEpochResult, formatFirstEpoch, timeToFirstEpoch } from './firstEpoch';
import { benchProbes } from './probeBench';
import { parseExperiment } from '../src/protocol/experiment';
import type { Experiment, ExperimentInput } from '../src/protocol/experiment';

const dataset = {
  kind: 'modular',
  p: 97,
  operation: 'add',
  trainFraction: 0.5,
  labelNoise: { kind: 'symmetric', rate: 0.3 },
} as const;
const training = (epochs: number) => ({
  epochs,
  batchSize: 512,
  optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.98, weightDecay: 5 },
}) as const;

const models: { id: string; label: string; layers: ExperimentInput['model']['layers'] }[] = [
  {
    id: 'grok-quadratic',
    label: 'quadratic 194-512-97, no bias (examples/grok-corrupted)',
    layers: [
      { type: 'dense', units: 512, useBias: false, init: 'normal', initStd: 0.1 },
      { type: 'activation', fn: 'square' },
      { type: 'dense', units: 97, useBias: false, init: 'normal', initStd: 0.0441941738 },
    ],
  },
  {
    id: 'relu-mlp',
    label: 'ReLU MLP 194-512-512-97',
    layers: GROK_MLP_LAYERS,
  },
];

function experimentFor(layers: ExperimentInput['model']['layers'], epochs: number): Experiment {
  return parseExperiment({ name: 'bench', seed: 0, dataset, model: { layers }, training: training(epochs) });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Measurement {
  model: string;
  backend: string;
  epochs: number;
  secondsPerEpoch: number;
  /** Median of the training steps alone (no per-epoch evaluation). */
  trainSecondsPerEpoch: number | null;
  samples: number[];
}

/** PyTorch's numbers for one model, or why there are none. */
type PeerResult =
  | { available: true; torch: string; blas: string; threads: number; trainSeconds: number; epochSeconds: number; trainSamples: number[]; epochSamples: number[] }
  | { available: false; reason: string };

const PEER_PYTHON = '/usr/bin/python3';
const PEER_SETUP = 'apt-get install -y python3-torch libopenblas0-pthread (scripts/ensure-torch-peer.sh)';

/** bench/peer/torch_epoch.py from the bundle (dist/) or from source (bench/). */
function peerScript(): string {
  for (const dir of [path.join(__dirname, '..', 'bench', 'peer'), path.join(__dirname, 'peer')]) {
    const file = path.join(dir, 'torch_epoch.py');
    if (fs.existsSync(file)) return file;
  }
  return path.join('bench', 'peer', 'torch_epoch.py');
}

function measurePeer(modelId: string, epochs: number): PeerResult {
  const r = spawnSync(PEER_PYTHON, [peerScript(), '--model', modelId, '--epochs', String(epochs), '--threads', '1'], { encoding: 'utf8' });
  if (r.error) return { available: false, reason: `${PEER_PYTHON}: ${r.error.message}; install with ${PEER_SETUP}` };
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return { available: false, reason: /No module named 'torch'/.test(r.stderr) ? `PyTorch is not installed for ${PEER_PYTHON}: ${PEER_SETUP}` : `torch_epoch.py exited ${r.status}: ${last}` };
  }
  const out = JSON.parse(r.stdout) as Omit<Extract<PeerResult, { available: true }>, 'available'>;
  process.stderr.write(`  ${modelId} pytorch (1 thread): train ${out.trainSeconds.toFixed(3)} s, train + eval ${out.epochSeconds.toFixed(3)} s per epoch\n`);
  return { available: true, ...out };
}

let evalThread: 'auto' | false = 'auto';

async function measure(modelId: string, layers: ExperimentInput['model']['layers'], backend: 'wasm' | 'cpu', epochs: number): Promise<Measurement> {
  const seconds: number[] = [];
  const trainSeconds: number[] = [];
  let actual = backend as string;
  let error: string | undefined;
  await train(experimentFor(layers, epochs), {
    backend,
    evalThread,
    onEvent: (e) => {
      if (e.type === 'started') actual = e.backend;
      if (e.type === 'epoch') {
        seconds.push(e.seconds);
        if (e.trainSeconds !== undefined) trainSeconds.push(e.trainSeconds);
        process.stderr.write(`  ${modelId} ${actual} epoch ${e.epoch}/${epochs}: ${e.seconds.toFixed(3)} s\n`);
      }
      if (e.type === 'failed') error = e.message;
    },
  });
  if (error) throw new Error(`${modelId} on ${backend}: ${error}`);
  if (actual !== backend) throw new Error(`${modelId}: asked for ${backend}, got ${actual}`);
  // The first wasm epoch includes one-time XNNPACK setup; cpu epochs are too slow to spare one.
  const warm = backend === 'wasm' && seconds.length > 2 ? 1 : 0;
  return {
    model: modelId,
    backend,
    epochs,
    secondsPerEpoch: median(seconds.slice(warm)),
    trainSecondsPerEpoch: trainSeconds.length ? median(trainSeconds.slice(warm)) : null,
    samples: seconds,
  };
}

function peerColumns(wasm: Measurement | undefined, peer: PeerResult | undefined) {
  if (!peer?.available) return { pytorchTrain: null, pytorchEpoch: null, wasmTrainOverPytorch: null, wasmOverPytorch: null };
  return {
    pytorchTrain: peer.trainSeconds,
    pytorchEpoch: peer.epochSeconds,
    wasmTrainOverPytorch: wasm?.trainSecondsPerEpoch ? wasm.trainSecondsPerEpoch / peer.trainSeconds : null,
    wasmOverPytorch: wasm ? wasm.secondsPerEpoch / peer.epochSeconds : null,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'wasm-epochs': { type: 'string', default: '6' },
      'cpu-epochs': { type: 'string', default: '2' },
      'peer-epochs': { type: 'string', default: '8' },
      'skip-cpu': { type: 'boolean', default: false },
      'skip-peer': { type: 'boolean', default: false },
      // 'off' evaluates every epoch on the training thread (for A/B runs of the second thread).
      'eval-thread': { type: 'string', default: 'auto' },
      'skip-probes': { type: 'boolean', default: false },
      'skip-analysis': { type: 'boolean', default: false },
      'only-probes': { type: 'boolean', default: false },
      'first-epoch-runs': { type: 'string', default: '3' },
      'skip-first-epoch': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join('bench-results', 'bench.json') },
    },
  });
  evalThread = values['eval-thread'] === 'off' ? false : 'auto';
  const wasmEpochs = Number(values['wasm-epochs']);
  const cpuEpochs = Number(values['cpu-epochs']);
  // Fresh processes, before this one loads anything: process start to the first epoch event,
  // per backend (the torch engine adds its own key).
  const firstEpoch: Record<string, FirstEpochResult> = {};
  if (!values['skip-first-epoch'] && !values['only-probes']) {
    firstEpoch.wasm = await timeToFirstEpoch('wasm', { runs: Number(values['first-epoch-runs']) });
    process.stderr.write(`${formatFirstEpoch(firstEpoch.wasm)}\n`);
  }
  // The probes first, so their RSS is what a process running them needs, not what the
  // training rows before them (wasm heaps, the evaluation thread) left behind.
  const probes = values['skip-probes'] ? null : await benchProbes();
  const results: Measurement[] = [];
  const peers = new Map<string, PeerResult>();
  for (const m of values['only-probes'] ? [] : models) {
    results.push(await measure(m.id, m.layers, 'wasm', wasmEpochs));
    // Right after the wasm run, so both see the same machine load.
    if (!values['skip-peer']) peers.set(m.id, measurePeer(m.id, Number(values['peer-epochs'])));
    if (!values['skip-cpu']) results.push(await measure(m.id, m.layers, 'cpu', cpuEpochs));
  }

  const rows = models.map((m) => {
    const wasm = results.find((r) => r.model === m.id && r.backend === 'wasm');
    const cpu = results.find((r) => r.model === m.id && r.backend === 'cpu');
    return {
      model: m.id,
      label: m.label,
      wasm: wasm?.secondsPerEpoch ?? null,
      cpu: cpu?.secondsPerEpoch ?? null,
      cpuOverWasm: wasm && cpu ? cpu.secondsPerEpoch / wasm.secondsPerEpoch : null,
      wasmTrain: wasm?.trainSecondsPerEpoch ?? null,
      ...peerColumns(wasm, peers.get(m.id)),
    };
  });
  const report = {
    time: new Date().toISOString(),
    node: process.version,
    evalThread,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    examplesPerEpoch: Math.round(0.5 * 97 * 97),
    batchSize: 512,
    note: 'seconds per epoch through train(): training steps plus accuracy on the full train and test sets; wasmTrain: the training steps alone; pytorch*: the same model, data, AdamW and batch in PyTorch with one thread (bench/peer/torch_epoch.py), measured right after the wasm run',
    peer: values['skip-peer'] ? null : Object.fromEntries(peers),
    rows,
    measurements: results,
    // Fork of dist/engine.js to its first epoch event on examples/grok-corrupted, median of N, with phases (bench/firstEpoch.ts).
    firstEpoch,
    // Probe speed (bench/probeBench.ts): ablation rank-1 vs per-unit loop, MC dropout, RSS.
    probes,
    // Model-code analysis of a 5,000-line file (bench/analysis.ts): full and one-character-edit medians.
    analysis: values['skip-analysis'] ? null : await runAnalysisBench(),
  };
  fs.mkdirSync(path.dirname(path.resolve(values.out!)), { recursive: true });
  fs.writeFileSync(values.out!, JSON.stringify(report, null, 2) + '\n');

  const fmt = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));
  const ratio = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)}x`);
  const w = Math.max(...rows.map((r) => r.label.length));
  console.log(`\n${'model'.padEnd(w)}  wasm s/epoch  cpu s/epoch  cpu/wasm  | train only: wasm  pytorch  wasm/pytorch | with eval: pytorch  wasm/pytorch`);
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(w)}  ${fmt(r.wasm).padStart(12)}  ${fmt(r.cpu).padStart(11)}  ${ratio(r.cpuOverWasm).padStart(8)}  |  ${fmt(r.wasmTrain).padStart(15)}  ${fmt(r.pytorchTrain).padStart(7)}  ${ratio(r.wasmTrainOverPytorch).padStart(12)} |  ${fmt(r.pytorchEpoch).padStart(16)}  ${ratio(r.wasmOverPytorch).padStart(12)}`,
    );
  }
  for (const [id, p] of peers) if (!p.available) console.log(`PyTorch peer for ${id}: ${p.reason}`);
  for (const r of Object.values(firstEpoch)) console.log(`\n${formatFirstEpoch(r)}`);
  if (report.probes) {
    const p = report.probes;
    console.log(`\nablation, 512 units: rank-1 ${p.ablation.rank1Seconds.toFixed(2)} s, per-unit loop ${p.ablation.loopSeconds.toFixed(2)} s (${p.ablation.loopOverRank1.toFixed(1)}x), batched ${p.ablation.batchedSeconds.toFixed(2)} s`);
    console.log(`MC dropout T=30 x 5000: ${p.mcDropout.seconds.toFixed(2)} s; peak RSS ${p.rssMiB.maxRss.toFixed(0)} MiB`);
  }
  if (report.analysis) {
    const a = report.analysis;
    console.log(`\nanalysis, ${a.lines} lines: full ${a.analyzeFullMedianMs} ms, one-character edit ${a.analyzeIncrementalMedianMs} ms (budget ${a.budgetMs} ms), parse alone ${a.parseOnlyMedianMs} ms`);
  }
  console.log(`\nwritten to ${values.out}`);
}

// The bundle also runs train()'s evaluation thread, which must not start the benchmark.
if (!isEvalThread()) {
  main().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exitCode = 1;
  });
}
