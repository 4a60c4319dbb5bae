// The label-error table of docs/results.md (issue 17): every labelErrors method on MNIST with
// 20% / 40% symmetric and 30% pair-flip noise and on the grok task, three seeds, AUROC and
// precision at k = the number of corrupted labels, mean ± sd over the seeds.
//
//   npx tsx bench/labelErrors.ts --backend torch --python /usr/bin/python3 [--seeds 3] [--only mnist-sym40]
//   npx tsx bench/labelErrors.ts --cleaning [--seeds 3] ...   the cleaning loop on MNIST 40% symmetric:
//     each seed's run, then the same run without the top k of confident learning (k = what it
//     flags) and with their suggested labels; test accuracy of the three (bench-results/label-errors-cleaning.json)
//
// Writes bench-results/label-errors[-<backend>].json (every run's metrics) and prints the
// markdown table. Each run goes through the real engine (train() on TF.js, engine.js's torch
// path on torch) with only probes.labelErrors on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LABEL_ERROR_METHODS, type LabelErrorMethod } from '../src/engine/probes/labelErrors';
import { derivedExperiment } from '../src/host/export/labelErrorsCsv';
import type { LabelErrorsProbe } from '../src/protocol/engineMessages';
import { parseExperiment, type ExperimentInput } from '../src/protocol/experiment';
import { collectRun, type RunEngine } from './benchShared';

/** MNIST sizes: modest, so the whole table runs in minutes on two shared cores. */
export const MNIST_TRAIN = 5000;
export const MNIST_TEST = 1000;
export const MNIST_EPOCHS = 30;

interface Setting {
  id: string;
  label: string;
  spec: (seed: number) => ExperimentInput;
}

const probes = { labelErrors: {} };

function mnist(kind: 'symmetric' | 'pairflip', rate: number): (seed: number) => ExperimentInput {
  return (seed) => ({
    name: `MNIST ${rate * 100}% ${kind}`,
    seed,
    dataset: { kind: 'mnist', train: MNIST_TRAIN, test: MNIST_TEST, labelNoise: { kind, rate } },
    model: {
      layers: [{ type: 'dense', units: 256 }, { type: 'activation', fn: 'relu' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 10 }],
    },
    training: { epochs: MNIST_EPOCHS, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } },
    probes,
  });
}

/** examples/grok-corrupted.reglens.json (30% symmetric noise, weight decay 5, 200 epochs) with only this probe. */
function grok(seed: number): ExperimentInput {
  const base = JSON.parse(fs.readFileSync(path.join('examples', 'grok-corrupted.reglens.json'), 'utf8')) as ExperimentInput & { $schema?: string };
  delete base.$schema;
  return { ...base, seed, probes };
}

export const SETTINGS: Setting[] = [
  { id: 'mnist-sym20', label: `MNIST, 20% symmetric`, spec: mnist('symmetric', 0.2) },
  { id: 'mnist-sym40', label: `MNIST, 40% symmetric`, spec: mnist('symmetric', 0.4) },
  { id: 'mnist-pair30', label: `MNIST, 30% pair flip`, spec: mnist('pairflip', 0.3) },
  { id: 'grok', label: 'grok task (mod 97, 30% symmetric, wd 5, 200 epochs)', spec: grok },
];

interface RunResult {
  setting: string;
  seed: number;
  backend: string;
  wallSeconds: number;
  checkpointEpoch: number;
  finalTest: number;
  k: number;
  methods: Partial<Record<LabelErrorMethod, { auroc: number | null; precisionAtK: number; flagged?: number } | { unavailable: string }>>;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]) => (v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)) : 0);
const pm = (v: number[]) => (v.length ? `${mean(v).toFixed(3)} ± ${sd(v).toFixed(3)}` : 'n/a');

/** The markdown table: one row per setting and metric, one column per method. */
export function tableOf(runs: RunResult[]): string {
  const names: Record<LabelErrorMethod, string> = { aum: 'AUM', forgetting: 'forgetting', smallLoss: 'small loss', confidentLearning: 'confident learning', mcDropout: 'MC dropout' };
  const lines = [`| setting | metric | ${LABEL_ERROR_METHODS.map((m) => names[m]).join(' | ')} |`, `|---|---|${LABEL_ERROR_METHODS.map(() => '---').join('|')}|`];
  for (const s of SETTINGS) {
    const rs = runs.filter((r) => r.setting === s.id);
    if (!rs.length) continue;
    for (const [metric, key] of [
      ['AUROC', 'auroc'],
      ['precision@k', 'precisionAtK'],
    ] as const) {
      const cells = LABEL_ERROR_METHODS.map((m) => {
        const v = rs.flatMap((r) => {
          const x = r.methods[m];
          return x && !('unavailable' in x) && x[key] !== null ? [x[key] as number] : [];
        });
        return v.length ? pm(v) : 'n/a (no dropout)';
      });
      lines.push(`| ${s.label} (k = ${rs[0].k}, ${rs.length} seeds) | ${metric} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const backend = flag('--backend') ?? 'torch';
  const engine: RunEngine = backend === 'torch' ? { backend: 'torch', python: flag('--python') ?? process.env.REGLENS_PYTHON ?? 'python3' } : { backend: backend as 'wasm' };
  const seeds = Number(flag('--seeds') ?? 3);
  const only = flag('--only')?.split(',');
  if (args.includes('--cleaning')) return cleaning(engine, seeds);
  const out = path.join('bench-results', `label-errors${backend === 'torch' ? '' : `-${backend}`}.json`);
  const runs: RunResult[] = [];
  const t0 = performance.now();
  for (const s of SETTINGS) {
    if (only && !only.includes(s.id)) continue;
    for (let seed = 0; seed < seeds; seed++) {
      const r = await collectRun(parseExperiment(s.spec(seed)), engine, () => undefined);
      if (r.failed) throw new Error(`${s.id} seed ${seed}: ${r.failed}`);
      const probe = r.probes.find((p) => p.probe.kind === 'labelErrors')?.probe as LabelErrorsProbe | undefined;
      if (!probe) throw new Error(`${s.id} seed ${seed}: no labelErrors probe (${r.logs.join('; ')})`);
      const methods: RunResult['methods'] = {};
      for (const m of probe.methods) {
        methods[m.method] = m.unavailable !== undefined ? { unavailable: m.unavailable } : { auroc: m.metrics!.auroc, precisionAtK: m.metrics!.precisionAtK, ...(m.flagged !== undefined ? { flagged: m.flagged } : {}) };
      }
      const k = probe.methods.find((m) => m.metrics)?.metrics?.k ?? 0;
      runs.push({ setting: s.id, seed, backend: r.backend, wallSeconds: r.wallSeconds, checkpointEpoch: probe.checkpointEpoch, finalTest: r.epochs[r.epochs.length - 1].accuracy.test, k, methods });
      const line = probe.methods.map((m) => `${m.method} ${m.metrics ? `${m.metrics.auroc!.toFixed(3)}/${m.metrics.precisionAtK.toFixed(3)}` : 'n/a'}`).join(', ');
      console.log(`${s.id} seed ${seed} (${r.wallSeconds.toFixed(0)} s, checkpoint epoch ${probe.checkpointEpoch}): ${line}`);
    }
  }
  const note = `npx tsx bench/labelErrors.ts --backend ${backend}${engine.backend === 'torch' ? ` --python ${engine.python}` : ''} --seeds ${seeds}; MNIST ${MNIST_TRAIN} train / ${MNIST_TEST} test digits, MLP 784-256 ReLU, dropout 0.3, 10, Adam 1e-3, batch 128, ${MNIST_EPOCHS} epochs; grok: examples/grok-corrupted.reglens.json; probes.labelErrors defaults (checkpoint bestTestAccuracy, 20 MC passes). Seeds 0..${seeds - 1} (the split, the noise, the init and the batches).`;
  fs.mkdirSync('bench-results', { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ note, started: new Date(Date.now() - (performance.now() - t0)).toISOString(), wallSeconds: (performance.now() - t0) / 1000, runs }, null, 1) + '\n');
  console.log(`\n${tableOf(runs)}\n\nwrote ${out} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

/** Final and best test accuracy of a run. */
const testOf = (epochs: { accuracy: { test: number } }[]) => ({ final: epochs[epochs.length - 1].accuracy.test, best: Math.max(...epochs.map((e) => e.accuracy.test)) });

async function cleaning(engine: RunEngine, seeds: number): Promise<void> {
  const t0 = performance.now();
  const setting = SETTINGS.find((s) => s.id === 'mnist-sym40')!;
  const rows: unknown[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const spec = setting.spec(seed);
    const base = await collectRun(parseExperiment(spec), engine, () => undefined);
    const probe = base.probes.find((p) => p.probe.kind === 'labelErrors')?.probe as LabelErrorsProbe | undefined;
    if (base.failed || !probe) throw new Error(`seed ${seed}: ${base.failed ?? 'no labelErrors probe'}`);
    const k = probe.methods.find((m) => m.method === 'confidentLearning')!.flagged!;
    const row: Record<string, unknown> = { seed, k, corrupted: probe.methods[0].metrics!.k, original: testOf(base.epochs) };
    for (const mode of ['exclude', 'relabel'] as const) {
      const derived = derivedExperiment(spec, probe, 'confidentLearning', k, mode);
      const r = await collectRun(parseExperiment({ ...derived, probes: {} }), engine, () => undefined);
      if (r.failed) throw new Error(`seed ${seed} ${mode}: ${r.failed}`);
      const started = r.epochs.length;
      row[mode] = { ...testOf(r.epochs), epochs: started };
    }
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  const out = path.join('bench-results', 'label-errors-cleaning.json');
  const note = `npx tsx bench/labelErrors.ts --cleaning --seeds ${seeds}${engine.backend === 'torch' ? ` --python ${engine.python}` : ` --backend ${engine.backend}`}: MNIST 40% symmetric as in label-errors.json; k = the examples confident learning flags; exclude = the same run with dataset.excludeExamples = those k, relabel = with dataset.relabel to the checkpoint's argmax (the dashboard's two retrain buttons); test accuracy of the last epoch (final) and the best epoch.`;
  fs.writeFileSync(out, JSON.stringify({ note, wallSeconds: (performance.now() - t0) / 1000, rows }, null, 1) + '\n');
  console.log(`wrote ${out}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
