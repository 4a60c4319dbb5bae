// MNIST runs behind docs/results.md (METHODS §2 nested dropout, §4 multi-sample dropout).
// Driven by bench/reproduce.ts (`--only nested,nested-control,msd,msd-plain`, `--table`);
// each run goes through the real train() and writes bench-results/reproduce-<id>.json.
//
// - nested: examples/mnist-nested-dropout.reglens.json as is (784-128 ReLU -> nestedDropout
//   (half-Gaussian, sigma 32) -> bias-free dense 10), probe nestedOrdering.
// - nested-control: the same file with the nestedDropout layer removed.
// - msd / msd-plain: 784-256 ReLU -> {dropout 0.5 | multi-sample dropout M = 8, rate 0.5}
//   -> dense 10, same seed, same data and optimizer; epochs (and wall seconds) until test
//   accuracy first reaches each target.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Probe } from '../src/protocol/engineMessages';
import { parseExperiment } from '../src/protocol/experiment';
import type { ExperimentInput } from '../src/protocol/experiment';
import { collectRun, engineFlags, type RunEngine } from './benchShared';

export const resultsDir = path.join('bench-results');
/** bench-results/reproduce-<id>.json (TF.js), reproduce-torch-<id>.json (the PyTorch engine). */
export const fileOf = (id: string, backend = 'wasm') => path.join(resultsDir, `reproduce-${backend === 'torch' ? 'torch-' : ''}${id}.json`);

const NESTED_EXAMPLE = path.join('examples', 'mnist-nested-dropout.reglens.json');
/** k values whose acc(k) / acc(D) the table shows. */
const SHARE_K = [1, 2, 4, 8, 16, 32, 64, 128];
/** Test-accuracy targets for the multi-sample dropout comparison (best test accuracy of both arms is ~97%). */
const TARGETS = [0.95, 0.96, 0.965, 0.97];

interface EpochRow {
  epoch: number;
  test: number;
  cumulativeSeconds: number;
}
/** First epoch (and cumulative epoch seconds) at which test accuracy reaches each target. */
function reachTargets(perEpoch: EpochRow[]): { target: number; epoch: number | null; seconds: number | null }[] {
  return TARGETS.map((t) => {
    const e = perEpoch.find((r) => r.test >= t);
    return { target: t, epoch: e?.epoch ?? null, seconds: e?.cumulativeSeconds ?? null };
  });
}

export interface MnistRunDef {
  id: string;
  label: string;
  kind: 'nested' | 'msd';
  /** Default epochs (--epochs overrides). */
  epochs: number;
  spec: (epochs: number, seed: number) => ExperimentInput;
}

function nestedSpec(withNested: boolean, epochs: number, seed: number): ExperimentInput {
  const base = JSON.parse(fs.readFileSync(NESTED_EXAMPLE, 'utf8')) as ExperimentInput & { $schema?: string };
  delete base.$schema;
  const all = base.model.layers ?? [];
  const layers = withNested ? all : all.filter((l) => l.type !== 'nestedDropout');
  return { ...base, seed, model: { layers }, training: { ...base.training, epochs }, probes: { nestedOrdering: {} } };
}

function msdSpec(multi: boolean, epochs: number, seed: number): ExperimentInput {
  return {
    name: `MNIST ${multi ? 'multi-sample dropout M=8' : 'dropout'} 0.5`,
    seed,
    dataset: { kind: 'mnist', train: 8000, test: 2000 },
    model: {
      layers: [
        { type: 'dense', units: 256, init: 'he' },
        { type: 'activation', fn: 'relu' },
        ...(multi ? [] : [{ type: 'dropout', rate: 0.5 } as const]),
        { type: 'dense', units: 10 },
      ],
    },
    training: {
      epochs,
      batchSize: 128,
      optimizer: { kind: 'adam', lr: 0.001 },
      ...(multi ? { regularizers: { multiSampleDropout: { samples: 8, rate: 0.5 } } } : {}),
    },
  };
}

export const mnistRuns: MnistRunDef[] = [
  { id: 'nested', label: 'nested dropout (half-Gaussian, sigma 32)', kind: 'nested', epochs: 20, spec: (e, s) => nestedSpec(true, e, s) },
  { id: 'nested-control', label: 'control: no nested dropout', kind: 'nested', epochs: 20, spec: (e, s) => nestedSpec(false, e, s) },
  { id: 'msd-plain', label: 'dropout 0.5 (one mask)', kind: 'msd', epochs: 30, spec: (e, s) => msdSpec(false, e, s) },
  { id: 'msd', label: 'multi-sample dropout, M = 8, rate 0.5', kind: 'msd', epochs: 30, spec: (e, s) => msdSpec(true, e, s) },
];

export async function runMnist(def: MnistRunDef, epochsArg: number | undefined, seed: number, engine: RunEngine): Promise<void> {
  const epochs = epochsArg ?? def.epochs;
  const spec = def.spec(epochs, seed);
  const experiment = parseExperiment(spec);
  const run = await collectRun(experiment, engine, (e) => {
    process.stderr.write(`${def.id} epoch ${e.epoch}: loss ${e.loss.toFixed(4)} train ${e.accuracy.cleanTrain.toFixed(4)} test ${e.accuracy.test.toFixed(4)} (${e.seconds.toFixed(2)} s)\n`);
  });
  const { epochs: epochsSeen, probes, logs, failed, wallSeconds } = run;
  const last = epochsSeen[epochsSeen.length - 1];
  const seriesSeconds: number[] = [];
  let cum = 0;
  for (const e of epochsSeen) seriesSeconds.push((cum += e.seconds));
  const summary: Record<string, unknown> = {
    id: def.id,
    label: def.label,
    command: `npx tsx bench/reproduce.ts --only ${def.id}${epochsArg !== undefined ? ` --epochs ${epochs}` : ''}${seed !== 0 ? ` --seed ${seed}` : ''}${engineFlags(engine)}`,
    time: new Date().toISOString(),
    backend: run.backend,
    failed,
    seed,
    epochs: last?.epoch ?? 0,
    wallSeconds,
    medianEpochSeconds: run.medianEpochSeconds,
    final: last?.accuracy ?? null,
    spec,
    perEpoch: epochsSeen.map((e, i) => ({ epoch: e.epoch, loss: e.loss, testLoss: e.testLoss, train: e.accuracy.cleanTrain, test: e.accuracy.test, seconds: e.seconds, cumulativeSeconds: seriesSeconds[i] })),
    logs,
  };
  if (def.kind === 'nested') {
    const p = probes.find((q) => q.probe.kind === 'nestedOrdering')?.probe as Extract<Probe, { kind: 'nestedOrdering' }> | undefined;
    if (p) {
      const D = p.k.length;
      const full = p.accuracy[D - 1];
      summary.nested = {
        layer: p.layer,
        units: D,
        fullAccuracy: full,
        kStar: p.kStar,
        accuracyAtKStar: p.accuracy[p.kStar - 1],
        rankCorrelation: p.rankCorrelation,
        share: SHARE_K.filter((k) => k <= D).map((k) => ({ k, accuracy: p.accuracy[k - 1], share: full > 0 ? p.accuracy[k - 1] / full : null })),
        /** Smallest k whose acc(k) reaches the given fraction of acc(D). */
        kFor: [0.9, 0.99].map((f) => ({ fraction: f, k: p.k[p.accuracy.findIndex((a) => a >= f * full)] ?? null })),
        curve: { k: p.k, accuracy: p.accuracy },
        importance: p.importance,
      };
    } else {
      summary.nested = null;
    }
  } else {
    summary.targets = reachTargets(summary.perEpoch as EpochRow[]);
    summary.bestTest = epochsSeen.reduce((b, e) => Math.max(b, e.accuracy.test), 0);
  }
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = fileOf(seed === 0 ? def.id : `${def.id}-seed${seed}`, engine.backend);
  fs.writeFileSync(file, JSON.stringify(summary, null, 1) + '\n');
  process.stderr.write(`${def.id}: written ${file}${failed ? ` (failed: ${failed})` : ''}\n`);
}

const pct = (v: unknown, d = 1) => (typeof v === 'number' ? (100 * v).toFixed(d) : '-');

/** Markdown tables of the MNIST runs from their JSON files (seed 0, plus any other seeds found). */
export function mnistTables(): string {
  const read = (file: string) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined);
  /** Seed 0, then every other seed found, for one engine. */
  const seedsOf = (id: string, backend: string) => {
    const prefix = path.basename(fileOf(`${id}-seed`, backend)).slice(0, -'.json'.length);
    const others = fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir).filter((f) => f.startsWith(prefix)).sort() : [];
    return [read(fileOf(id, backend)), ...others.map((f) => read(path.join(resultsDir, f)))].filter((r) => r);
  };
  const engines = [
    { backend: 'wasm', label: 'wasm' },
    { backend: 'torch', label: 'torch' },
  ];
  const out: string[] = [];
  const nestedK = SHARE_K;
  out.push(`| run | engine | seed | epochs | test acc(D) % | ${nestedK.map((k) => `acc(${k}) / acc(D)`).join(' | ')} | k for 90% / 99% of acc(D) | K* (acc at K*) | Spearman(index, importance) |`);
  out.push(`|---|---|---|---|---|${nestedK.map(() => '---').join('|')}|---|---|---|`);
  for (const def of mnistRuns.filter((d) => d.kind === 'nested')) {
    for (const { backend, label } of engines) {
      const rs = seedsOf(def.id, backend);
      if (!rs.length && backend === 'wasm') out.push(`| ${def.label} | ${label} | | pending |`);
      for (const r of rs) {
        if (r.failed || !r.nested) {
          out.push(`| ${def.label} | ${label} | ${r.seed} | failed: ${String(r.failed ?? 'no nestedOrdering probe').slice(0, 100)} |`);
          continue;
        }
        const n = r.nested;
        const shares = nestedK.map((k) => {
          const s = n.share.find((x: { k: number }) => x.k === k);
          return s ? `${pct(s.share)}` : '-';
        });
        out.push(
          `| ${def.label} | ${label} | ${r.seed} | ${r.epochs} | ${pct(n.fullAccuracy, 2)} | ${shares.join(' | ')} | ${n.kFor.map((x: { k: number | null }) => x.k ?? '-').join(' / ')} | ${n.kStar} (${pct(n.accuracyAtKStar, 2)}) | ${n.rankCorrelation.toFixed(3)} |`,
        );
      }
    }
  }
  out.push('');
  out.push(`| run | engine | seed | epochs | ${TARGETS.map((t) => `epochs (s) to ${pct(t)}%`).join(' | ')} | best test % | final test % | median s/epoch |`);
  out.push(`|---|---|---|---|${TARGETS.map(() => '---').join('|')}|---|---|---|`);
  for (const def of mnistRuns.filter((d) => d.kind === 'msd')) {
    for (const { backend, label } of engines) {
      const rs = seedsOf(def.id, backend);
      if (!rs.length && backend === 'wasm') out.push(`| ${def.label} | ${label} | | pending |`);
      for (const r of rs) {
        if (r.failed) {
          out.push(`| ${def.label} | ${label} | ${r.seed} | failed: ${String(r.failed).slice(0, 100)} |`);
          continue;
        }
        const cells = reachTargets(r.perEpoch).map((t: { epoch: number | null; seconds: number | null }) => (t.epoch === null ? 'not reached' : `${t.epoch} (${t.seconds!.toFixed(1)})`));
        out.push(`| ${def.label} | ${label} | ${r.seed} | ${r.epochs} | ${cells.join(' | ')} | ${pct(r.bestTest, 2)} | ${pct(r.final.test, 2)} | ${r.medianEpochSeconds.toFixed(2)} |`);
      }
    }
  }
  return out.join('\n');
}
