// The same 4-run sweep (examples/grok-sweep.reglens.json with weight decay 0/5 x seed 0/1)
// through the built CLI run locally (--parallel = cores) and submitted to a real one-machine
// Slurm (--slurm; test/harness/slurm.mjs, node CPUs = cores), in alternating order so drift
// in the machine's load hits both alike. Measured: wall time of the whole sweep, and the time
// from starting the CLI to the first epoch of any member on disk (for Slurm that includes
// sbatch, the scheduler's start of the task and the member's own start-up).
//   node esbuild.mjs && npx tsx bench/slurmSweepBench.ts [--epochs 20] [--rounds 2] [--out bench-results/slurm-sweep.json]
// Needs root and Debian's slurm-wlm + munge (as .ci/run installs).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench-results/slurm-sweep.json' },
  },
});
const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
if (!fs.existsSync(cli)) throw new Error(`${cli} not found: run node esbuild.mjs first`);
const cores = os.availableParallelism();

interface Timing {
  wallSeconds: number;
  firstEpochSeconds: number | null;
  code: number | null;
}

/** Runs the CLI, polling the runs folder for the first epoch line (every 20 ms). */
function timed(args: string[], runsDir: string, cwd: string): Promise<Timing> {
  const t0 = performance.now();
  let first: number | null = null;
  const poll = setInterval(() => {
    if (first !== null || !fs.existsSync(runsDir)) return;
    for (const d of fs.readdirSync(runsDir)) {
      const f = path.join(runsDir, d, 'events.jsonl');
      if (fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('"type":"epoch"')) {
        first = (performance.now() - t0) / 1000;
        return;
      }
    }
  }, 20);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args, '--runs-dir', runsDir, '--quiet'], { cwd, stdio: 'ignore', env: { ...process.env, REGLENS_SLURM_POLL_MS: '500' } });
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ wallSeconds: (performance.now() - t0) / 1000, firstEpochSeconds: first, code });
    });
  });
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-slurm-bench-'));
  const spec = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'grok-sweep.reglens.json'), 'utf8'));
  delete spec.$schema;
  spec.training.epochs = Number(values.epochs);
  spec.backend = 'wasm';
  spec.sweep = { 'training.optimizer.weightDecay': [0, 5], seed: [0, 1] };
  const file = path.join(work, 'sweep.reglens.json');
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
  const harness = (await import(pathToFileURL(path.join(root, 'test', 'harness', 'slurm.mjs')).href)) as { startSlurm(o: { cpus: number }): Promise<{ stop(): Promise<void> }> };
  const cluster = await harness.startSlurm({ cpus: cores });
  const rows: { executor: string; round: number; timing: Timing }[] = [];
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      const order = round % 2 ? ['slurm', 'local'] : ['local', 'slurm'];
      for (const executor of order) {
        const runsDir = path.join(work, `${executor}-${round}`);
        const args = executor === 'slurm' ? ['run', file, '--slurm'] : ['run', file, '--parallel', String(cores)];
        const timing = await timed(args, runsDir, work);
        rows.push({ executor, round, timing });
        console.log(`${executor} round ${round}: wall ${timing.wallSeconds.toFixed(1)} s, first epoch ${timing.firstEpochSeconds?.toFixed(2)} s, exit ${timing.code}`);
      }
    }
  } finally {
    await cluster.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const of = (executor: string) => rows.filter((r) => r.executor === executor).map((r) => r.timing);
  const summary = Object.fromEntries(
    ['local', 'slurm'].map((e) => [e, { wallSeconds: median(of(e).map((t) => t.wallSeconds)), firstEpochSeconds: median(of(e).map((t) => t.firstEpochSeconds ?? NaN)) }]),
  );
  const out = {
    date: new Date().toISOString(),
    command: `npx tsx bench/slurmSweepBench.ts --epochs ${values.epochs} --rounds ${values.rounds}`,
    sweep: 'examples/grok-sweep.reglens.json, weightDecay [0, 5] x seed [0, 1], wasm',
    epochs: Number(values.epochs),
    cores,
    loadavg: os.loadavg(),
    slurm: 'Debian slurm-wlm 22.05, one node (this machine), CPUs = cores, poll 500 ms',
    medians: summary,
    rows,
  };
  fs.mkdirSync(path.dirname(path.resolve(root, values.out!)), { recursive: true });
  fs.writeFileSync(path.resolve(root, values.out!), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(summary));
}

void main();
