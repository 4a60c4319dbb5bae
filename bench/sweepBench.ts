// Wall time of the same 2-run sweep (examples/grok-sweep.reglens.json, weight decay 0 and 5)
// through the built CLI with --parallel 1 and --parallel 2, in alternating order so drift in
// the machine's load hits both alike. Each run of a sweep is its own engine process and TF.js
// on wasm trains on one thread, so on N free cores up to N runs should overlap.
//   node esbuild.mjs && npx tsx bench/sweepBench.ts [--epochs 30] [--rounds 3] [--out bench-results/sweep.json]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    file: { type: 'string', default: 'examples/grok-sweep.reglens.json' },
    out: { type: 'string', default: 'bench-results/sweep.json' },
  },
});
const epochs = Number(values.epochs);
const rounds = Number(values.rounds);
const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
if (!fs.existsSync(cli)) throw new Error(`${cli} not found: run node esbuild.mjs first`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Trial {
  parallel: number;
  round: number;
  wallSeconds: number;
  loadAvg1Before: number;
  /** Per run: median of its epochs' own timings (slows down when runs share a core). */
  runs: { name: string; status: string; medianEpochSeconds: number }[];
}

async function trial(parallel: number, round: number): Promise<Trial> {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-sweep-bench-'));
  const loadAvg1Before = os.loadavg()[0];
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [cli, 'run', path.resolve(root, values.file!), '--epochs', String(epochs), '--parallel', String(parallel), '--backend', 'wasm', '--quiet', '--runs-dir', runsDir],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('exit', resolve);
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`sweep with --parallel ${parallel} exited ${code}`);
  const runs = fs.readdirSync(runsDir).map((id) => {
    const summary = JSON.parse(fs.readFileSync(path.join(runsDir, id, 'summary.json'), 'utf8')) as { name: string; status: string };
    const seconds = fs
      .readFileSync(path.join(runsDir, id, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; seconds?: number })
      .filter((e) => e.type === 'epoch')
      .map((e) => e.seconds!);
    return { name: summary.name, status: summary.status, medianEpochSeconds: median(seconds) };
  });
  fs.rmSync(runsDir, { recursive: true, force: true });
  console.log(`round ${round} --parallel ${parallel}: ${wallSeconds.toFixed(1)} s (load ${loadAvg1Before.toFixed(2)} before)`);
  return { parallel, round, wallSeconds, loadAvg1Before, runs };
}

async function main() {
  const trials: Trial[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Alternate which goes first, so a trend in the background load does not favour one.
    const order = round % 2 ? [1, 2] : [2, 1];
    for (const p of order) trials.push(await trial(p, round));
  }
  const wall = (p: number) => trials.filter((t) => t.parallel === p).map((t) => t.wallSeconds);
  const m1 = median(wall(1));
  const m2 = median(wall(2));
  const result = {
    time: new Date().toISOString(),
    command: `npx tsx bench/sweepBench.ts --epochs ${epochs} --rounds ${rounds}`,
    experiment: values.file,
    epochsPerRun: epochs,
    runsPerSweep: 2,
    cpus: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    node: process.version,
    medianWallSeconds: { parallel1: m1, parallel2: m2 },
    parallel2OverParallel1: m2 / m1,
    speedup: m1 / m2,
    trials,
  };
  fs.mkdirSync(path.dirname(path.resolve(root, values.out!)), { recursive: true });
  fs.writeFileSync(path.resolve(root, values.out!), JSON.stringify(result, null, 1) + '\n');
  console.log(`median wall: --parallel 1 ${m1.toFixed(1)} s, --parallel 2 ${m2.toFixed(1)} s, ratio ${(m2 / m1).toFixed(2)} (speedup ${(m1 / m2).toFixed(2)}x)`);
}

void main();
