// Runs every example in examples/ in full through the CLI, as a user would, one example at a
// time, and keeps what each run's events.jsonl says about the claims in its description:
// bench-results/examples.json; `--table` prints the markdown table of docs/results.md.
//   node esbuild.mjs && npx tsx bench/examples.ts [--only grok-corrupted,moons-mlp] [--parallel N]
//     [--without-early-stopping]   (a copy of each file without its early stopping: the full curves)
//   npx tsx bench/examples.ts --table
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { EngineEvent, FinishedEvent, Probe } from '../src/protocol/engineMessages';

const root = path.join(__dirname, '..');
const out = path.join(root, 'bench-results', 'examples.json');
/** Epochs at which the corrupted-train accuracy is kept: enough to see memorization being delayed. */
const CHECKPOINTS = [5, 10, 20, 50, 100];

interface RunRecord {
  name: string;
  epochs: number;
  final: FinishedEvent['final'];
  status: 'finished' | 'failed' | 'incomplete';
  bestTest: { epoch: number; test: number };
  /** Corrupted-train accuracy (wrong labels fitted) at CHECKPOINTS reached and at the last epoch. */
  corruptedAt: Record<string, number | null>;
  lastEpoch: { test: number; corruptedTrain: number | null; cleanTrain: number };
  lowestTestLoss?: { epoch: number; testLoss: number };
  earlyStopping?: FinishedEvent['earlyStopping'];
  labelPrecision?: { epoch12?: number; last: number };
  nestedOrdering?: { kStar: number; rankCorrelation: number; accuracyAtD: number; accuracyAt8: number };
  medianEpochSeconds: number;
}

interface ExampleRecord {
  file: string;
  command: string;
  date: string;
  wallSeconds: number;
  runs: RunRecord[];
}

function summarise(name: string, events: EngineEvent[]): RunRecord {
  const epochs = events.flatMap((e) => (e.type === 'epoch' ? [e] : []));
  const finished = events.find((e): e is FinishedEvent => e.type === 'finished');
  const failed = events.some((e) => e.type === 'failed');
  const best = epochs.reduce((b, e) => (e.accuracy.test > b.accuracy.test ? e : b), epochs[0]);
  const last = epochs[epochs.length - 1];
  const corruptedAt: Record<string, number | null> = {};
  for (const k of CHECKPOINTS) if (k <= epochs.length) corruptedAt[k] = epochs[k - 1].accuracy.corruptedTrain;
  const withLoss = epochs.filter((e) => e.testLoss !== undefined);
  const lowest = withLoss.reduce((b, e) => (e.testLoss! < b.testLoss! ? e : b), withLoss[0]);
  const precision = epochs.filter((e) => e.labelPrecision !== undefined);
  const nested = events.flatMap((e) => (e.type === 'probe' && e.probe.kind === 'nestedOrdering' ? [e.probe] : []))[0] as Extract<Probe, { kind: 'nestedOrdering' }> | undefined;
  const secs = epochs.map((e) => e.seconds).sort((a, b) => a - b);
  return {
    name,
    epochs: epochs.length,
    final: finished?.final ?? null,
    status: finished ? 'finished' : failed ? 'failed' : 'incomplete',
    bestTest: { epoch: best.epoch, test: best.accuracy.test },
    corruptedAt,
    lastEpoch: { test: last.accuracy.test, corruptedTrain: last.accuracy.corruptedTrain, cleanTrain: last.accuracy.cleanTrain },
    ...(lowest ? { lowestTestLoss: { epoch: lowest.epoch, testLoss: lowest.testLoss! } } : {}),
    ...(finished?.earlyStopping ? { earlyStopping: finished.earlyStopping } : {}),
    ...(precision.length
      ? { labelPrecision: { ...(precision.length >= 12 ? { epoch12: precision[11].labelPrecision! } : {}), last: precision[precision.length - 1].labelPrecision! } }
      : {}),
    ...(nested
      ? { nestedOrdering: { kStar: nested.kStar, rankCorrelation: nested.rankCorrelation, accuracyAtD: nested.accuracy[nested.accuracy.length - 1], accuracyAt8: nested.accuracy[7] } }
      : {}),
    medianEpochSeconds: secs[Math.floor(secs.length / 2)],
  };
}

const WITHOUT_ES = ' (without earlyStopping)';

function runExample(file: string, parallel: number, withoutEarlyStopping: boolean): ExampleRecord {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-examples-'));
  let source = path.join(root, 'examples', file);
  if (withoutEarlyStopping) {
    const spec = JSON.parse(fs.readFileSync(source, 'utf8')) as { $schema?: string; training: { regularizers?: Record<string, unknown> } };
    delete spec.$schema;
    delete spec.training.regularizers?.earlyStopping;
    source = path.join(runsDir, file);
    fs.writeFileSync(source, JSON.stringify(spec));
  }
  const args = ['dist/cli.js', 'run', source, '--runs-dir', path.join(runsDir, 'runs'), '--quiet', '--parallel', String(parallel)];
  const t0 = performance.now();
  const table = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  const wallSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(table);
  const runs = fs
    .readdirSync(path.join(runsDir, 'runs'))
    .map((id) => {
      const dir = path.join(runsDir, 'runs', id);
      const events = fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngineEvent);
      const spec = JSON.parse(fs.readFileSync(path.join(dir, 'spec.json'), 'utf8')) as { experiment?: { name: string }; name?: string };
      const started = events.find((e) => e.type === 'started')?.time ?? '';
      return { started, record: summarise(spec.experiment?.name ?? spec.name ?? id, events) };
    })
    // Run order (a sweep's members as listed), not folder-name order.
    .sort((a, b) => a.started.localeCompare(b.started))
    .map((r) => r.record);
  fs.rmSync(runsDir, { recursive: true, force: true });
  const command = withoutEarlyStopping ? `node dist/cli.js run <examples/${file} without training.regularizers.earlyStopping>` : `node dist/cli.js run examples/${file}`;
  return { file: file + (withoutEarlyStopping ? WITHOUT_ES : ''), command, date: new Date().toISOString(), wallSeconds, runs };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : (v * 100).toFixed(1));

function table(records: ExampleRecord[]): string {
  const lines = [
    '| example | run | epochs | final test % | final corrupted fitted % | best test % (epoch) | corrupted fitted % at epoch 5 / 10 / 20 / 50 / 100 | early stopping | other |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const ex of records) {
    for (const r of ex.runs) {
      const es = r.earlyStopping;
      const esText = es ? `${es.stoppedAt ? `stopped at ${es.stoppedAt}` : 'did not fire'}, best ${es.monitor} at ${es.bestEpoch}${es.restoredEpoch ? `, epoch ${es.restoredEpoch} restored` : ''}` : '-';
      const other = [
        r.lowestTestLoss ? `lowest test loss at epoch ${r.lowestTestLoss.epoch}` : '',
        r.labelPrecision ? `label precision ${pct(r.labelPrecision.epoch12)} at 12, ${pct(r.labelPrecision.last)} at the end` : '',
        r.nestedOrdering
          ? `K* ${r.nestedOrdering.kStar}, Spearman ${r.nestedOrdering.rankCorrelation.toFixed(3)}, acc(8)/acc(D) ${((r.nestedOrdering.accuracyAt8 / r.nestedOrdering.accuracyAtD) * 100).toFixed(1)}%`
          : '',
        `${r.medianEpochSeconds.toFixed(2)} s/epoch`,
      ].filter(Boolean);
      const at = CHECKPOINTS.map((k) => (k in r.corruptedAt ? pct(r.corruptedAt[k]) : '-')).join(' / ');
      lines.push(
        `| ${ex.file.replace('.reglens.json', '')} | ${r.name.replace(/^.*\[/, '[')} | ${r.epochs} | ${pct(r.final?.test)} | ${pct(r.final?.corruptedTrain)} | ${pct(r.bestTest.test)} (${r.bestTest.epoch}) | ${at} | ${esText} | ${other.join('; ')} |`,
      );
    }
  }
  return lines.join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, parallel: { type: 'string', default: '1' }, table: { type: 'boolean', default: false }, 'without-early-stopping': { type: 'boolean', default: false } },
  });
  const previous: ExampleRecord[] = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as ExampleRecord[]) : [];
  if (values.table) {
    console.log(table(previous));
    return;
  }
  const wanted = values.only?.split(',').map((s) => (s.endsWith('.reglens.json') ? s : `${s}.reglens.json`));
  const files = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.reglens.json') && (!wanted || wanted.includes(f))).sort();
  const records = new Map(previous.map((r) => [r.file, r]));
  for (const file of files) {
    process.stderr.write(`== ${file}\n`);
    const record = runExample(file, Number(values.parallel), values['without-early-stopping']);
    records.set(record.file, record);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify([...records.values()].sort((a, b) => a.file.localeCompare(b.file)), null, 2) + '\n');
  }
  console.log(table([...records.values()]));
}

main();
