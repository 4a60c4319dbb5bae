// Time to first epoch: from starting a fresh engine process (fork of dist/engine.js, as the
// extension and the CLI do) to its first epoch event, for one backend, with the phases it
// went through. Used by `npm run bench` (bench-results/bench.json, `firstEpoch`); alone:
//   node esbuild.mjs && npx tsx bench/firstEpoch.ts [--backend wasm] [--runs 3] [--via engine|cli] [--out FILE]
// --via cli times `node dist/cli.js run` instead: its start to the "epoch 1/" line it prints.
import { fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { EngineCommand, EngineEvent, EpochEvent, StartedEvent } from '../src/protocol/engineMessages';

const root = path.join(__dirname, '..');
const GROK = path.join(root, 'examples', 'grok-corrupted.reglens.json');

/** dist/engine.js next to the bundle (dist/bench.js) or, from source, in the repository's dist/. */
function engineFile(): string {
  const candidates = [path.join(__dirname, 'engine.js'), path.join(root, 'dist', 'engine.js')];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new Error(`no engine bundle at ${candidates.join(' or ')}: run node esbuild.mjs first`);
  return found;
}

export interface FirstEpochSample {
  /** fork() to the first epoch event, seconds. */
  seconds: number;
  /** Where they went, in order; they add up to `seconds`. spawn: fork() to the process's own
   *  start; then the started event's phases (engineLoad, command, backend, dataset, model and,
   *  under auto, torchCheck); firstEpochTrain / firstEpochEvaluation from the epoch event;
   *  other: the rest (messages, the evaluation thread's start on the training thread). */
  phases: Record<string, number>;
  backend: string;
}

export interface FirstEpochResult {
  /** The backend asked for, as in an experiment's `backend` (wasm, torch, auto, ...). */
  backend: string;
  via: 'engine' | 'cli';
  experiment: string;
  runs: number;
  /** The machine's 1-minute load average before the first run (the phases stretch with it). */
  loadAverage: number;
  medianSeconds: number;
  /** Per phase, the median over the runs (medians need not add up to medianSeconds). */
  medianPhases: Record<string, number>;
  samples: FirstEpochSample[];
}

export interface FirstEpochOptions {
  runs?: number;
  /** Default: examples/grok-corrupted.reglens.json. */
  experimentFile?: string;
  /** Extra fields of the start command (device, python, evalThread, ...). */
  command?: Partial<Extract<EngineCommand, { type: 'start' }>>;
  /** Give up on one run after this long (default 120 s). */
  timeoutSeconds?: number;
  /** engine (default): fork dist/engine.js; cli: run dist/cli.js, which forks it in turn. */
  via?: 'engine' | 'cli';
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One `reglens run` from its start to the "epoch 1/" line; phases from the run's events.jsonl. */
async function oneCliRun(backend: string, file: string, opts: FirstEpochOptions): Promise<FirstEpochSample> {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-first-epoch-'));
  const cli = path.join(path.dirname(engineFile()), 'cli.js');
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'run', file, '--backend', backend, '--runs-dir', runsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let times: [number, number];
  try {
    times = await new Promise<[number, number]>((resolve, reject) => {
      let out = '';
      let startedAt: number | undefined;
      const timer = setTimeout(() => reject(new Error(`no first epoch within ${opts.timeoutSeconds ?? 120} s`)), (opts.timeoutSeconds ?? 120) * 1000);
      child.on('exit', (code) => reject(new Error(`the CLI exited (${code}) before its first epoch: ${stderr.trim().split('\n').pop() ?? ''}`)));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const at = (performance.now() - t0) / 1000;
        if (startedAt === undefined && /^training \d+ epochs on /m.test(out)) startedAt = at;
        if (/^epoch 1\//m.test(out)) {
          clearTimeout(timer);
          resolve([startedAt ?? at, at]);
        }
      });
    });
  } finally {
    child.removeAllListeners('exit');
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      // Ctrl+C: the CLI cancels its run, records it and exits.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
  }
  try {
    const [id] = fs.readdirSync(runsDir);
    const events = fs.readFileSync(path.join(runsDir, id, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngineEvent);
    const started = events.find((e): e is StartedEvent => e.type === 'started');
    const epoch = events.find((e): e is EpochEvent => e.type === 'epoch');
    if (!started || !epoch) throw new Error(`the run folder has no started and epoch events: ${stderr.trim().split('\n').pop() ?? ''}`);
    const s = sample(times[1], times[0], started, epoch);
    // "spawn" is here the CLI's own start-up, its checks and the fork of the engine.
    const { spawn: cliPart, ...rest } = s.phases;
    return { ...s, phases: { cli: cliPart, ...rest } };
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
}

/** One fresh engine process: started, first epoch, then cancelled (so a Python child exits too). */
async function oneRun(backend: string, file: string, opts: FirstEpochOptions): Promise<FirstEpochSample> {
  const experiment = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete experiment.$schema;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-first-epoch-'));
  const command = { type: 'start', experiment, backend, baseDir: path.dirname(file), runDir, ...opts.command } as EngineCommand;
  const t0 = performance.now();
  const child = fork(engineFile(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    return await new Promise<FirstEpochSample>((resolve, reject) => {
      let started: { at: number; event: StartedEvent } | undefined;
      const timer = setTimeout(() => reject(new Error(`no first epoch within ${opts.timeoutSeconds ?? 120} s`)), (opts.timeoutSeconds ?? 120) * 1000);
      child.on('exit', (code) => reject(new Error(`the engine exited (${code}) before its first epoch: ${stderr.trim().split('\n').pop() ?? ''}`)));
      child.on('message', (e: EngineEvent) => {
        const at = performance.now();
        if (e.type === 'failed') reject(new Error(`the run failed: ${e.message}`));
        if (e.type === 'started') started = { at, event: e };
        if (e.type !== 'epoch' || !started) return;
        clearTimeout(timer);
        resolve(sample((at - t0) / 1000, (started.at - t0) / 1000, started.event, e));
      });
      child.send(command);
    });
  } finally {
    child.removeAllListeners('exit');
    if (child.connected) {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'cancel' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

function sample(seconds: number, toStarted: number, started: StartedEvent, epoch: EpochEvent): FirstEpochSample {
  const phases: Record<string, number> = {};
  if (started.startup) {
    phases.spawn = toStarted - started.startup.sinceProcessStart;
    Object.assign(phases, started.startup.phases);
    // What the engine did not put in a phase before `started` (small).
    const named = Object.values(started.startup.phases).reduce((a, b) => a + b, 0);
    phases.unaccounted = started.startup.sinceProcessStart - named;
  } else {
    phases.toStarted = toStarted;
  }
  const train = epoch.trainSeconds ?? epoch.seconds;
  phases.firstEpochTrain = train;
  phases.firstEpochEvaluation = epoch.seconds - train;
  phases.other = seconds - toStarted - epoch.seconds;
  return { seconds, phases, backend: started.backend };
}

/** Median of `runs` fresh processes (default 3), one after the other. */
export async function timeToFirstEpoch(backend: string, opts: FirstEpochOptions = {}): Promise<FirstEpochResult> {
  const file = opts.experimentFile ?? GROK;
  const runs = opts.runs ?? 3;
  const samples: FirstEpochSample[] = [];
  const loadAverage = os.loadavg()[0];
  for (let i = 0; i < runs; i++) samples.push(await (opts.via === 'cli' ? oneCliRun : oneRun)(backend, file, opts));
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.phases)))];
  return {
    backend,
    via: opts.via ?? 'engine',
    experiment: path.relative(root, file),
    runs,
    loadAverage,
    medianSeconds: median(samples.map((s) => s.seconds)),
    medianPhases: Object.fromEntries(names.map((n) => [n, median(samples.map((s) => s.phases[n] ?? 0))])),
    samples,
  };
}

export function formatFirstEpoch(r: FirstEpochResult): string {
  const phases = Object.entries(r.medianPhases)
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(', ');
  return `time to first epoch, ${r.backend} via ${r.via} (${r.experiment}, median of ${r.runs} fresh processes, load ${r.loadAverage.toFixed(1)}): ${r.medianSeconds.toFixed(2)} s [${r.samples.map((s) => s.seconds.toFixed(2)).join(', ')}]\n  phases (s, medians): ${phases}`;
}

// Alone only: in the dist/bench.js bundle require.main === module holds for every module.
if (require.main === module && /firstEpoch\.ts$/.test(__filename)) {
  const { values } = parseArgs({
    options: { backend: { type: 'string', default: 'wasm' }, runs: { type: 'string', default: '3' }, via: { type: 'string', default: 'engine' }, out: { type: 'string' } },
  });
  if (values.via !== 'engine' && values.via !== 'cli') throw new Error(`--via engine|cli, not ${values.via}`);
  timeToFirstEpoch(values.backend!, { runs: Number(values.runs), via: values.via }).then(
    (r) => {
      console.log(formatFirstEpoch(r));
      if (values.out) fs.writeFileSync(values.out, JSON.stringify({ time: new Date().toISOString(), loadAverageAfter: os.loadavg()[0], ...r }, null, 2) + '\n');
    },
    (err: Error) => {
      console.error(`firstEpoch: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
