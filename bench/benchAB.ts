// Summarises an interleaved before/after run of bench/bench.ts (wasm, no probes): reads
// bench-results/bench-before-<tag>-<i>.json and bench-after-<tag>-<i>.json and writes
// bench-results/bench-<tag>-ab.json with per-round seconds per epoch and their medians.
// The rounds were run as (before = a copy of the tree with the old code, run from that copy):
//   for r in 1 2 3; do
//     (cd OLD_COPY && npx tsx bench/bench.ts --skip-cpu --skip-probes --wasm-epochs 12 --out $PWD/bench-results/bench-before-<tag>-$r.json)
//     npx tsx bench/bench.ts --skip-cpu --skip-probes --wasm-epochs 12 --out bench-results/bench-after-<tag>-$r.json
//   done
//   npx tsx bench/benchAB.ts --tag hostbatch
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const { values } = parseArgs({ options: { tag: { type: 'string', default: 'hostbatch' } } });
const tag = values.tag!;
const dir = 'bench-results';
const read = (v: 'before' | 'after') =>
  fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(`bench-${v}-${tag}-`) && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { time: string; rows: { model: string; wasm: number }[] });
const before = read('before');
const after = read('after');
const models = before[0].rows.map((r) => r.model);
const summary = models.map((m) => {
  const b = before.map((j) => j.rows.find((r) => r.model === m)!.wasm);
  const a = after.map((j) => j.rows.find((r) => r.model === m)!.wasm);
  return { model: m, before: b, after: a, medianBefore: median(b), medianAfter: median(a), afterOverBefore: median(a) / median(b) };
});
const out = path.join(dir, `bench-${tag}-ab.json`);
fs.writeFileSync(out, JSON.stringify({ time: new Date().toISOString(), tag, note: 'wasm seconds per epoch through train() (bench/bench.ts, 12 epochs, first dropped), rounds interleaved before/after', summary }, null, 1) + '\n');
for (const s of summary) console.log(`${s.model}: before ${s.medianBefore.toFixed(3)} s/epoch, after ${s.medianAfter.toFixed(3)} s/epoch (${s.afterOverBefore.toFixed(3)}x)`);
