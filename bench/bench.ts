// `npm run bench`: seconds per epoch of the shipped example (quadratic grokking
// model, p = 97, batch 512) and of a ReLU MLP 194-512-512-97 on the wasm and cpu
// backends, through the real training loop (train()). Medians; the first epoch
// is dropped on wasm as warm-up. Writes bench-results/bench.json.
//   node dist/bench.js [--wasm-epochs N] [--cpu-epochs N] [--skip-cpu] [--out FILE]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { train } from '../src/engine/train';
import { runAnalysisBench } from './analysis';
import { GROK_MLP_LAYERS } from './benchShared';
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
  samples: number[];
}

async function measure(modelId: string, layers: ExperimentInput['model']['layers'], backend: 'wasm' | 'cpu', epochs: number): Promise<Measurement> {
  const seconds: number[] = [];
  let actual = backend as string;
  let error: string | undefined;
  await train(experimentFor(layers, epochs), {
    backend,
    onEvent: (e) => {
      if (e.type === 'started') actual = e.backend;
      if (e.type === 'epoch') {
        seconds.push(e.seconds);
        process.stderr.write(`  ${modelId} ${actual} epoch ${e.epoch}/${epochs}: ${e.seconds.toFixed(3)} s\n`);
      }
      if (e.type === 'failed') error = e.message;
    },
  });
  if (error) throw new Error(`${modelId} on ${backend}: ${error}`);
  if (actual !== backend) throw new Error(`${modelId}: asked for ${backend}, got ${actual}`);
  // The first wasm epoch includes one-time XNNPACK setup; cpu epochs are too slow to spare one.
  const samples = backend === 'wasm' && seconds.length > 2 ? seconds.slice(1) : seconds;
  return { model: modelId, backend, epochs, secondsPerEpoch: median(samples), samples: seconds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'wasm-epochs': { type: 'string', default: '6' },
      'cpu-epochs': { type: 'string', default: '2' },
      'skip-cpu': { type: 'boolean', default: false },
      'skip-probes': { type: 'boolean', default: false },
      'skip-analysis': { type: 'boolean', default: false },
      'only-probes': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join('bench-results', 'bench.json') },
    },
  });
  const wasmEpochs = Number(values['wasm-epochs']);
  const cpuEpochs = Number(values['cpu-epochs']);
  const results: Measurement[] = [];
  for (const m of values['only-probes'] ? [] : models) {
    results.push(await measure(m.id, m.layers, 'wasm', wasmEpochs));
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
    };
  });
  const report = {
    time: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    examplesPerEpoch: Math.round(0.5 * 97 * 97),
    batchSize: 512,
    note: 'seconds per epoch through train(): training steps plus accuracy on the full train and test sets',
    rows,
    measurements: results,
    // Probe speed (bench/probeBench.ts): ablation rank-1 vs per-unit loop, MC dropout, RSS.
    probes: values['skip-probes'] ? null : await benchProbes(),
    // Model-code analysis of a 5,000-line file (bench/analysis.ts): full and one-character-edit medians.
    analysis: values['skip-analysis'] ? null : await runAnalysisBench(),
  };
  fs.mkdirSync(path.dirname(path.resolve(values.out!)), { recursive: true });
  fs.writeFileSync(values.out!, JSON.stringify(report, null, 2) + '\n');

  const fmt = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));
  const w = Math.max(...rows.map((r) => r.label.length));
  console.log(`\n${'model'.padEnd(w)}  wasm s/epoch  cpu s/epoch  cpu/wasm`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(w)}  ${fmt(r.wasm).padStart(12)}  ${fmt(r.cpu).padStart(11)}  ${r.cpuOverWasm === null ? '-' : `${r.cpuOverWasm.toFixed(1)}x`}`);
  }
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

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
