// The runs behind docs/results.md (issue 3, "Results that must reproduce"): modular
// addition p = 97, train fraction 0.5, 30% symmetric label noise, quadratic network
// width 512, Adam lr 5e-3 betas (0.9, 0.98) with decoupled weight decay, batch 512.
// Each run goes through the real train() with probes on and writes
// bench-results/reproduce-<id>.json; `--table` prints the markdown table from those files.
// The MNIST runs (nested dropout, multi-sample dropout: ids nested, nested-control,
// msd-plain, msd) live in bench/mnistRuns.ts and are dispatched from here too.
//   npx tsx bench/reproduce.ts [--only id,id] [--epochs N] [--seed S] [--backend wasm|cpu|torch] [--python PATH]
// (torch: the PyTorch engine on the CPU, results in bench-results/reproduce-torch-<id>.json)
//   npx tsx bench/reproduce.ts --table
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Probe } from '../src/protocol/engineMessages';
import { parseExperiment } from '../src/protocol/experiment';
import type { ExperimentInput } from '../src/protocol/experiment';
import { collectRun, engineFlags, type RunEngine } from './benchShared';
import { fileOf, mnistRuns, mnistTables, runMnist } from './mnistRuns';

type Layers = ExperimentInput['model']['layers'];
const first = { type: 'dense', units: 512, useBias: false, init: 'normal', initStd: 0.1 } as const;
const out = { type: 'dense', units: 97, useBias: false, init: 'normal', initStd: 0.0441941738 } as const;
const square = { type: 'activation', fn: 'square' } as const;

interface RunDef {
  id: string;
  label: string;
  weightDecay: number;
  layers: Layers;
}

const runs: RunDef[] = [
  { id: 'wd5', label: 'weight decay 5', weightDecay: 5, layers: [first, square, out] },
  { id: 'wd2', label: 'weight decay 2', weightDecay: 2, layers: [first, square, out] },
  { id: 'wd0', label: 'weight decay 0 (= dropout 0)', weightDecay: 0, layers: [first, square, out] },
  // Dropout on the first layer's pre-activation, as in Doshi et al. (METHODS §1).
  { id: 'dropout0.3', label: 'dropout 0.3, wd 0', weightDecay: 0, layers: [first, { type: 'dropout', rate: 0.3 }, square, out] },
  { id: 'dropout0.6', label: 'dropout 0.6, wd 0', weightDecay: 0, layers: [first, { type: 'dropout', rate: 0.6 }, square, out] },
  // W BN(phi(.)) (METHODS §1 BatchNorm variant), run with this task's other settings.
  { id: 'batchnorm', label: 'batch norm after x^2, wd 0', weightDecay: 0, layers: [first, square, { type: 'batchNorm' } as never, out] },
];

const resultsDir = path.join('bench-results');

async function runOne(def: RunDef, epochs: number, engine: RunEngine): Promise<void> {
  const spec = {
    name: `reproduce ${def.id}`,
    seed: 0,
    dataset: { kind: 'modular', p: 97, operation: 'add', trainFraction: 0.5, labelNoise: { kind: 'symmetric', rate: 0.3 } },
    model: { layers: def.layers },
    training: { epochs, batchSize: 512, optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.98, weightDecay: def.weightDecay } },
    probes: {
      memorization: { every: 50, method: 'ipr' },
      pruning: { steps: 32 },
      mcDropout: { passes: 30, examples: 5000 },
      dynamics: { every: 1000 },
    },
  };
  const experiment = parseExperiment(spec);
  const run = await collectRun(experiment, engine, (e) => {
    if (e.epoch % 25 === 0) {
      const a = e.accuracy;
      process.stderr.write(`${def.id} epoch ${e.epoch}: clean ${a.cleanTrain.toFixed(3)} corrupted ${a.corruptedTrain?.toFixed(3)} test ${a.test.toFixed(3)} (${e.seconds.toFixed(2)} s)\n`);
    }
  });
  const { epochs: epochsSeen, probes, logs, failed } = run;
  const last = epochsSeen[epochsSeen.length - 1];
  const pruning = probes.find((p) => p.probe.kind === 'pruning')?.probe as Extract<Probe, { kind: 'pruning' }> | undefined;
  const mc = probes.find((p) => p.probe.kind === 'mcDropout')?.probe as Extract<Probe, { kind: 'mcDropout' }> | undefined;
  const dyn = [...probes].reverse().find((p) => p.probe.kind === 'dynamics')?.probe as Extract<Probe, { kind: 'dynamics' }> | undefined;
  const iprs = probes.filter((p) => p.probe.kind === 'neuronScores').map((p) => {
    const raw = (p.probe as Extract<Probe, { kind: 'neuronScores' }>).raw;
    const sorted = [...raw].sort((a, b) => a - b);
    return { epoch: p.epoch, median: sorted[Math.floor(sorted.length / 2)], below005: raw.filter((v) => v < 0.05).length };
  });
  let prune: Record<string, unknown> | undefined;
  if (pruning) {
    const i = pruning.pruned.indexOf(pruning.modeSplit!.pruned);
    const m = pruning.memorizingFirst;
    const g = pruning.generalizingFirst;
    prune = {
      units: pruning.units,
      modeSplit: pruning.modeSplit,
      atModeSplit: { cleanTrain: m.cleanTrain[i], corruptedTrain: m.corruptedTrain[i], test: m.test[i] },
      controlAtSameCount: { cleanTrain: g.cleanTrain[i], corruptedTrain: g.corruptedTrain[i], test: g.test[i] },
      curve: pruning,
    };
  }
  const summary = {
    id: def.id,
    label: def.label,
    command: `npx tsx bench/reproduce.ts --only ${def.id}${epochs !== 300 ? ` --epochs ${epochs}` : ''}${engineFlags(engine)}`,
    time: new Date().toISOString(),
    backend: run.backend,
    failed,
    epochs: last?.epoch ?? 0,
    wallSeconds: run.wallSeconds,
    medianEpochSeconds: run.medianEpochSeconds,
    final: last?.accuracy ?? null,
    spec,
    accuracyEvery10: epochsSeen.filter((e) => e.epoch % 10 === 0).map((e) => ({ epoch: e.epoch, ...e.accuracy, loss: e.loss })),
    ipr: iprs,
    pruning: prune,
    mcDropout: mc ? { unavailable: mc.unavailable, summary: mc.summary, seconds: undefined } : undefined,
    dynamics: dyn ? { unlearningEpoch: dyn.unlearningEpoch, degradationEpoch: dyn.degradationEpoch } : undefined,
    logs,
  };
  fs.mkdirSync(resultsDir, { recursive: true });
  // A run with another epoch budget gets its own file (reproduce-<id>-e<epochs>.json): the table
  // reads only the 300-epoch files.
  const file = fileOf(epochs === 300 ? def.id : `${def.id}-e${epochs}`, engine.backend);
  fs.writeFileSync(file, JSON.stringify(summary, null, 1) + '\n');
  process.stderr.write(`${def.id}: written ${file}${failed ? ` (failed: ${failed})` : ''}\n`);
}

const pct = (v: unknown) => (typeof v === 'number' ? (100 * v).toFixed(1) : '-');

/** The engines a results table has rows for: TF.js wasm (reproduce-<id>.json) and the PyTorch engine (reproduce-torch-<id>.json). */
const ENGINES = [
  { backend: 'wasm', label: 'wasm' },
  { backend: 'torch', label: 'torch' },
] as const;

function table(): void {
  const rows: string[] = [
    '| run | engine | epochs | clean-train % | corrupted fitted % | test % | unlearning epoch | low-IPR pruned (Otsu) | after pruning: clean / corrupted / test % | MC dropout (T=30): entropy clean / corrupted / test, ECE |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const def of runs) {
    for (const { backend, label } of ENGINES) {
      const file = fileOf(def.id, backend);
      if (!fs.existsSync(file)) {
        if (backend === 'wasm') rows.push(`| ${def.label} | ${label} | pending | | | | | | | |`);
        continue;
      }
      const r = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (r.failed) {
        rows.push(`| ${def.label} | ${label} | failed: ${String(r.failed).slice(0, 120)} | | | | | | | |`);
        continue;
      }
      const p = r.pruning;
      const mc = r.mcDropout;
      const mcCell = !mc ? '-' : mc.unavailable ? 'unavailable (no dropout)' : `${mc.summary.meanEntropy.clean.toFixed(3)} / ${mc.summary.meanEntropy.corrupted?.toFixed(3)} / ${mc.summary.meanEntropy.test.toFixed(3)}, ECE ${mc.summary.ece.toFixed(3)}`;
      rows.push(
        `| ${def.label} | ${label} | ${r.epochs} | ${pct(r.final.cleanTrain)} | ${pct(r.final.corruptedTrain)} | ${pct(r.final.test)} | ${r.dynamics?.unlearningEpoch ?? '-'} | ${p ? `${p.modeSplit.pruned}/${p.units} (IPR <= ${p.modeSplit.threshold.toFixed(3)})` : '-'} | ${p ? `${pct(p.atModeSplit.cleanTrain)} / ${pct(p.atModeSplit.corruptedTrain)} / ${pct(p.atModeSplit.test)}` : '-'} | ${mcCell} |`,
      );
    }
  }
  console.log(rows.join('\n'));
  console.log('');
  console.log(mnistTables());
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string', default: '0' },
      backend: { type: 'string', default: 'wasm' },
      python: { type: 'string', default: process.env.REGLENS_PYTHON ?? 'python3' },
      table: { type: 'boolean', default: false },
    },
  });
  if (values.table) return table();
  const only = values.only?.split(',');
  const known = [...runs.map((r) => r.id), ...mnistRuns.map((r) => r.id)];
  const unknown = only?.filter((id) => !known.includes(id)) ?? [];
  if (unknown.length) throw new Error(`unknown run ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  const backend = values.backend!;
  if (backend !== 'wasm' && backend !== 'cpu' && backend !== 'torch') throw new Error(`--backend must be wasm, cpu or torch, not ${backend}`);
  const engine: RunEngine = backend === 'torch' ? { backend, python: values.python! } : { backend };
  for (const def of runs.filter((r) => !only || only.includes(r.id))) {
    if (Number(values.seed) !== 0) throw new Error('--seed applies to the MNIST runs only');
    await runOne(def, epochs ?? 300, engine);
  }
  for (const def of mnistRuns.filter((r) => !only || only.includes(r.id))) {
    await runMnist(def, epochs, Number(values.seed), engine);
  }
}

main().catch((err: Error) => {
  console.error(`reproduce: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
