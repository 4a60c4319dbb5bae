#!/usr/bin/env node
// `reglens run <experiment.reglens.json>`: the extension's engine, headless. Same
// engine process, same run folder format, so CLI runs show up in the extension.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import { version } from '../package.json';
import { loadCsv } from './engine/data/csv';
import { parseCommandLine, UsageError } from './cliArgs';
import { DatasetError, makeDataset } from './engine/data/dataset';
import { defaultMethod, labelErrorsCsv, labelErrorsReport, type CsvSource } from './host/export/labelErrorsCsv';
import { EvalThreadSchema, formatMonitored, monitorText, type EngineEvent, type EvalThreadChoice, type LabelErrorsProbe } from './protocol/engineMessages';
import { BackendNameSchema, DeviceNameSchema, ExperimentError, parseExperimentText } from './protocol/experiment';
import { locateJsonPath } from './protocol/jsonLocate';
import type { BackendName, DeviceName, Experiment } from './protocol/experiment';
import { expandSweep, isSweep } from './protocol/sweep';
import type { SweepMember } from './protocol/sweep';
import type { EngineOutcome } from './runs/engineProcess';
import { LINT_USAGE, parseLintArgs, runLint } from './lint/lintCommand';
import { startRecordedRun } from './runs/recordedRun';
import type { RecordedRun, RecordedRunResult } from './runs/recordedRun';
import { RunFolder, readRun } from './runs/runFolder';
import type { RunSummary } from './runs/runFolder';
import { cancelSweep, memberDir, readManifest, resubmitFailed, submitSlurmSweep, watchSlurmSweep } from './runs/slurmSweep';
import type { SweepManifest } from './runs/slurmSweep';
import { evalThreadForSweep, resolveParallelism, runSweep } from './runs/sweepRunner';
import type { SweepMemberResult } from './runs/sweepRunner';

const USAGE = `Usage: reglens run <experiment.reglens.json> [options]
       reglens lint [paths...] [options]   (see reglens lint --help)

Trains the experiment and records it in a run folder (spec.json, events.jsonl,
summary.json) that the RegLens VS Code extension lists and charts.

An experiment with a "sweep" field, e.g. {"training.optimizer.weightDecay": [0, 5]},
runs every combination of the values as its own run (one engine process each) and
prints one table with a row per run.

       reglens resubmit <sweep folder>

Resubmits the members of a Slurm sweep that did not finish (failed, cancelled, timed
out, preempted) as a new array job in the same sweep folder; each continues its own
run from its last checkpoint.

Options:
${formatOptions([
  ['--epochs N', 'override training.epochs (of every run of a sweep)'],
  ['--parallel N', 'sweeps: runs training at once (default: the number of CPU cores)'],
  [
    '--backend auto|torch|tensorflow-gpu|tensorflow|wasm|cpu',
    "engine and backend (default: the experiment's, else auto: torch on a GPU, tfjs-node-gpu, torch on the CPU, tfjs-node, wasm, cpu; the first that is present and works)",
  ],
  ['--device auto|cuda|mps|cpu', "PyTorch device for torch (default: the experiment's, else auto)"],
  ['--python PATH', 'Python with torch >= 1.13 for the torch engine (default: REGLENS_PYTHON, else python3 on PATH)'],
  ['--runs-dir DIR', 'where run folders go (default: ./.reglens/runs)'],
  [
    '--eval-thread auto|on|off',
    'evaluate each epoch on a second thread while the next one trains (wasm; default auto: when the evaluation is large enough, and not for sweep members running in parallel)',
  ],
  [
    '--native-modules DIR',
    'folder holding (node_modules of) @tensorflow/tfjs-node or tfjs-node-gpu; repeatable. Also searched: REGLENS_NATIVE_MODULES (a path list, first), then the current folder.',
  ],
  ['--slurm', 'sweeps: submit the sweep to Slurm as one array job (sbatch) instead of running it here; the experiment\'s "slurm" field sets partition, time, cpus, gpus, memory. Prints a row per member as it ends; Ctrl+C cancels the job (scancel).'],
  ['--sweep-dir DIR --sweep-member I', 'run member I of the Slurm sweep in DIR (what each array task of the batch script runs)'],
  ['--export-label-errors FILE', 'with probes.labelErrors: write every training example\'s label-error scores and ranks as CSV (with the file line for a CSV dataset)'],
  ['--quiet', 'print only the final table'],
  ['-h, --help', 'show this help'],
  ['-v, --version', 'show the version'],
])}

Exit codes: 0 finished (a sweep: every run), 1 failed (a sweep: any run), 2 bad usage
or experiment (also a dataset that cannot be built), 130 cancelled (Ctrl+C).`;

const HELP_HINT = 'Run "reglens --help" for the commands and options.';

export const EXIT = { finished: 0, failed: 1, usage: 2, cancelled: 130 } as const;

interface RunArgs {
  file: string;
  epochs?: number;
  backend?: BackendName;
  device?: DeviceName;
  python?: string;
  runsDir: string;
  quiet: boolean;
  nativeModules: string[];
  /** Sweep members at once; undefined: one per CPU core. */
  parallel?: number;
  evalThread: EvalThreadChoice;
  /** Submit the sweep to Slurm. */
  slurm?: boolean;
  /** Run one member of a Slurm sweep (a task of its array job). */
  sweepMember?: { dir: string; index: number };
  /** --export-label-errors: CSV of the labelErrors probe. */
  exportLabelErrors?: string;
}

type Parsed = { kind: 'help' } | { kind: 'version' } | ({ kind: 'run' } & RunArgs) | { kind: 'resubmit'; sweepDir: string; quiet: boolean };

export function parseCliArgs(argv: string[]): Parsed {
  const { values, positionals } = parseCommandLine(argv, {
    epochs: { type: 'string' },
    backend: { type: 'string' },
    device: { type: 'string' },
    python: { type: 'string' },
    'runs-dir': { type: 'string' },
    parallel: { type: 'string' },
    slurm: { type: 'boolean' },
    'sweep-dir': { type: 'string' },
    'sweep-member': { type: 'string' },
    'eval-thread': { type: 'string' },
    'native-modules': { type: 'string', multiple: true },
    'export-label-errors': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  });
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [command, file, ...rest] = positionals;
  if (!command) throw new UsageError('missing command');
  if (command === 'resubmit') {
    if (!file) throw new UsageError('missing sweep folder (the folder with sweep.json, <runs dir>/sweeps/<id>)');
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    return { kind: 'resubmit', sweepDir: path.resolve(file), quiet: values.quiet ?? false };
  }
  if (command !== 'run') throw new UsageError(`unknown command "${command}"`);
  if (!file) throw new UsageError('missing experiment file');
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  let epochs: number | undefined;
  if (values.epochs !== undefined) {
    epochs = Number(values.epochs);
    if (!/^\d+$/.test(values.epochs) || !Number.isSafeInteger(epochs) || epochs < 1) {
      throw new UsageError(`--epochs must be a positive integer, got "${values.epochs}"`);
    }
  }
  let parallel: number | undefined;
  if (values.parallel !== undefined) {
    parallel = Number(values.parallel);
    if (!/^\d+$/.test(values.parallel) || !Number.isSafeInteger(parallel) || parallel < 1) {
      throw new UsageError(`--parallel must be a positive integer, got "${values.parallel}"`);
    }
  }
  const evalThread = EvalThreadSchema.safeParse(values['eval-thread'] ?? 'auto');
  if (!evalThread.success) throw new UsageError(`--eval-thread must be auto, on or off, got "${values['eval-thread']}"`);
  let backend: RunArgs['backend'];
  if (values.backend !== undefined) {
    const r = BackendNameSchema.safeParse(values.backend);
    if (!r.success) throw new UsageError(`--backend must be ${BackendNameSchema.options.join(', ')}, got "${values.backend}"`);
    backend = r.data;
  }
  let device: RunArgs['device'];
  if (values.device !== undefined) {
    const r = DeviceNameSchema.safeParse(values.device);
    if (!r.success) throw new UsageError(`--device must be ${DeviceNameSchema.options.join(', ')}, got "${values.device}"`);
    device = r.data;
  }
  if (values.python !== undefined && !values.python.trim()) throw new UsageError('--python needs the path of a Python interpreter');
  let sweepMember: RunArgs['sweepMember'];
  if (values['sweep-member'] !== undefined || values['sweep-dir'] !== undefined) {
    const raw = values['sweep-member'];
    if (raw === undefined || !/^\d+$/.test(raw)) throw new UsageError(`--sweep-member must be a member index (0, 1, ...), got "${raw ?? ''}"`);
    if (!values['sweep-dir']) throw new UsageError('--sweep-member needs --sweep-dir (the sweep folder with sweep.json)');
    if (values.slurm) throw new UsageError('--slurm submits a sweep; --sweep-member runs one member of a submitted one: give one of them');
    sweepMember = { dir: path.resolve(values['sweep-dir']), index: Number(raw) };
  }
  return {
    kind: 'run',
    file,
    epochs,
    backend,
    device,
    // A path is taken relative to the current folder; a bare name (python3.11) is looked up on PATH by the engine.
    ...(values.python !== undefined ? { python: /[\\/]/.test(values.python) ? path.resolve(values.python) : values.python } : {}),
    runsDir: path.resolve(values['runs-dir'] ?? path.join('.reglens', 'runs')),
    quiet: values.quiet ?? false,
    nativeModules: (values['native-modules'] ?? []).map((d) => path.resolve(d)),
    ...(parallel !== undefined ? { parallel } : {}),
    evalThread: evalThread.data,
    ...(values.slurm ? { slurm: true } : {}),
    ...(sweepMember ? { sweepMember } : {}),
    ...(values['export-label-errors'] !== undefined ? { exportLabelErrors: path.resolve(values['export-label-errors']) } : {}),
  };
}

/** Options as two aligned columns, descriptions wrapped; a flag too wide for its column gets a line of its own. */
function formatOptions(rows: [flags: string, description: string][], flagWidth = 27, width = 80): string {
  const indent = ' '.repeat(2 + flagWidth);
  const out: string[] = [];
  for (const [flags, description] of rows) {
    const lines: string[] = [];
    let line = '';
    for (const word of description.split(' ')) {
      if (line && indent.length + line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
    if (flags.length + 2 > flagWidth) out.push(`  ${flags}`);
    else out.push(`  ${flags.padEnd(flagWidth)}${lines.shift()}`);
    for (const l of lines) out.push(indent + l);
  }
  return out.join('\n');
}

/** Reads and validates the file, applying command-line overrides. Throws ExperimentError. */
export function loadExperiment(args: RunArgs): { experiment: Experiment; text: string } {
  let text: string;
  try {
    text = fs.readFileSync(args.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ExperimentError(
      code === 'ENOENT' ? `experiment file not found: ${args.file}` : `cannot read the experiment file ${args.file}: ${code ?? (err as Error).message}`,
      undefined,
    );
  }
  const experiment = parseExperimentText(text, args.file);
  if (args.epochs !== undefined) experiment.training.epochs = args.epochs;
  // Recorded in spec.json, so the run folder says which backend was asked for.
  if (args.backend !== undefined) experiment.backend = args.backend;
  if (args.device !== undefined) experiment.device = args.device;
  return { experiment, text };
}

/**
 * Builds every run's dataset once, before any run folder exists: a missing CSV, a bad value in
 * it or missing MNIST files is a bad experiment (exit 2, file and line named), not a failed run.
 * Throws ExperimentError, located at the experiment field to fix when one is to blame.
 */
export function checkDatasets(experiments: Experiment[], file: string, text: string): void {
  const baseDir = path.dirname(path.resolve(file));
  const checked = new Set<string>();
  for (const experiment of experiments) {
    const key = JSON.stringify(experiment.dataset);
    if (checked.has(key)) continue;
    checked.add(key);
    try {
      makeDataset(experiment.dataset, experiment.seed, baseDir);
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      const pos = err.field ? locateJsonPath(text, err.field.split('.')) : undefined;
      const where = pos ? `${file}:${pos.line}:${pos.column}: ${err.field}: ` : '';
      throw new ExperimentError(where + err.message, err.field, pos?.line, pos?.column);
    }
  }
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '   n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);

/** Shows progress: a bar on a terminal, a line per epoch (at most one a second) otherwise. */
class Progress {
  private bar: SingleBar | undefined;
  private lastLine = 0;
  constructor(
    private readonly quiet: boolean,
    private readonly tty: boolean,
  ) {}

  start(total: number, backend: string, note?: string) {
    if (this.quiet) return;
    // Why this backend and not the one asked for (or a faster one): say it before training.
    if (note) process.stderr.write(`backend ${backend}: ${note}\n`);
    if (this.tty) {
      this.bar = new SingleBar({
        format: ` {bar} {value}/{total} epochs | loss {loss} | test {test} | {spe} s/epoch | ${backend}`,
        hideCursor: true,
        clearOnComplete: false,
      });
      this.bar.start(total, 0, { loss: '-', test: '-', spe: '-' });
    } else {
      process.stdout.write(`training ${total} epochs on ${backend}\n`);
    }
  }

  epoch(e: Extract<EngineEvent, { type: 'epoch' }>, total: number, secondsPerEpoch: number) {
    if (this.quiet) return;
    const payload = { loss: e.loss.toFixed(4), test: pct(e.accuracy.test).trim(), spe: secondsPerEpoch.toFixed(2) };
    if (this.bar) return this.bar.update(e.epoch, payload);
    const t = Date.now();
    if (t - this.lastLine < 1000 && e.epoch !== total) return;
    this.lastLine = t;
    const corrupted = e.accuracy.corruptedTrain === null ? '' : ` corrupted-train ${pct(e.accuracy.corruptedTrain).trim()}`;
    process.stdout.write(
      `epoch ${e.epoch}/${total} loss ${payload.loss} clean-train ${pct(e.accuracy.cleanTrain).trim()}${corrupted} test ${payload.test} (${payload.spe} s/epoch)\n`,
    );
  }

  /** Messages go to stderr, above the bar. */
  message(text: string) {
    if (this.bar) process.stderr.write('\n');
    process.stderr.write(text.endsWith('\n') ? text : text + '\n');
  }

  stop() {
    this.bar?.stop();
    this.bar = undefined;
  }
}

function finalTable(result: RecordedRunResult, dir: string): string {
  const { summary, secondsPerEpoch, earlyStopping: es } = result;
  const rows: [string, string][] = [
    ['status', summary.status + (summary.error ? ` (${summary.error})` : '')],
    ['clean-train accuracy', pct(summary.final?.cleanTrain).trim()],
    [
      'corrupted-train fitted',
      summary.final === undefined || summary.final === null
        ? 'n/a'
        : summary.final.corruptedTrain === null
        ? 'n/a (no corrupted labels)'
        : `${pct(summary.final.corruptedTrain).trim()} (predicts the corrupted label)`,
    ],
    ['test accuracy', pct(summary.final?.test).trim()],
    ['epochs', `${summary.epochs}/${summary.totalEpochs}`],
  ];
  if (es) {
    const best = `best ${monitorText(es.monitor)} ${formatMonitored(es.monitor, es.best)} at epoch ${es.bestEpoch}`;
    rows.push(
      ['early stopping', es.stoppedAt === null ? `did not stop early (${best})` : `stopped after epoch ${es.stoppedAt} (${best})`],
      ['weights', es.restoredEpoch === null ? "the last epoch's" : `restored to epoch ${es.restoredEpoch}'s (the accuracies above are that epoch's)`],
    );
  }
  if (result.labelPrecision !== undefined) {
    rows.push(['label precision', `${pct(result.labelPrecision).trim()} of the samples co-teaching selected at the last epoch have clean labels`]);
  }
  rows.push(
    ['backend', summary.backend ?? '-'],
    ['s/epoch', secondsPerEpoch === null ? '-' : secondsPerEpoch.toFixed(3)],
    ['run folder', path.relative(process.cwd(), dir) || dir],
  );
  const w = Math.max(...rows.map(([k]) => k.length));
  return `\n${summary.name}\n` + rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

function enginePath(): string {
  const p = path.join(__dirname, 'engine.js');
  if (!fs.existsSync(p)) throw new Error(`${p} not found: build first (node esbuild.mjs)`);
  return p;
}

async function run(args: RunArgs): Promise<number> {
  if (args.sweepMember) return runSlurmMember(args, args.sweepMember);
  let experiment: Experiment;
  let members: SweepMember[] | undefined;
  try {
    let text: string;
    ({ experiment, text } = loadExperiment(args));
    if (isSweep(experiment)) members = expandSweep(experiment);
    checkDatasets(members ? members.map((m) => m.experiment) : [experiment], args.file, text);
  } catch (err) {
    if (err instanceof ExperimentError) {
      process.stderr.write(`reglens: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  if (args.slurm && !members) {
    process.stderr.write('reglens: --slurm submits a sweep (an experiment with a "sweep" field); this experiment has none: run it without --slurm\n');
    return EXIT.usage;
  }
  if (members && args.slurm) return runSlurmSweep(args, experiment, members);
  if (members && args.exportLabelErrors) {
    process.stderr.write('reglens: --export-label-errors takes a single run; run a sweep member on its own to export it\n');
    return EXIT.usage;
  }
  if (args.exportLabelErrors && !experiment.probes?.labelErrors) {
    process.stderr.write(`reglens: --export-label-errors needs "probes": { "labelErrors": {} } in ${args.file}\n`);
    return EXIT.usage;
  }
  if (members) return runSweepMembers(args, experiment.name, members);
  const progress = new Progress(args.quiet, Boolean(process.stdout.isTTY));
  const total = experiment.training.epochs;
  let seconds = 0;
  let labelErrors: LabelErrorsProbe | undefined;

  const recorded = await startRecordedRun({
    ...engineOptions(args),
    experiment,
    backend: experiment.backend ?? 'auto',
    evalThread: args.evalThread,
    onWriteError: (message) => progress.message(`reglens: ${message}`),
    engineOutputInError: args.quiet,
    onEvent(event) {
      switch (event.type) {
        case 'started':
          progress.start(event.totalEpochs, event.backend, event.backendNote);
          break;
        case 'epoch':
          seconds += event.seconds;
          progress.epoch(event, total, seconds / event.epoch);
          break;
        case 'log':
          if (event.level !== 'info') progress.message(`reglens: ${event.level}: ${event.message}`);
          break;
        case 'probe':
          if (event.probe.kind === 'labelErrors') labelErrors = event.probe;
          break;
      }
    },
    onStderr(text) {
      if (!args.quiet) progress.message(text);
    },
  });
  const handle = recorded.handle;

  const offSigint = onSigint(
    () => {
      progress.message('reglens: cancelling (Ctrl+C again to stop immediately)');
      handle.cancel();
    },
    () => [handle.pid],
  );
  const result = await recorded.ended.finally(() => {
    offSigint();
    progress.stop();
  });
  process.stdout.write(finalTable(result, recorded.dir));
  if (labelErrors) {
    const csv = csvSourceOf(experiment, path.dirname(path.resolve(args.file)));
    process.stdout.write('\n' + labelErrorsReport(labelErrors, Math.min(10, experiment.probes?.labelErrors?.topK ?? 10), csv));
    if (args.exportLabelErrors) {
      fs.writeFileSync(args.exportLabelErrors, labelErrorsCsv(labelErrors, defaultMethod(labelErrors) ?? 'aum', csv));
      process.stdout.write(`  exported ${labelErrors.examples} rows to ${path.relative(process.cwd(), args.exportLabelErrors) || args.exportLabelErrors}\n`);
    }
  } else if (args.exportLabelErrors) {
    process.stderr.write('reglens: --export-label-errors: the run sent no labelErrors probe (see the warnings above); nothing exported\n');
  }
  return exitCodeFor(result.outcome, result.writeFailed);
}

/** Options every run of this invocation shares (single run or sweep member). */
function engineOptions(args: RunArgs) {
  return {
    enginePath: enginePath(),
    runsDir: args.runsDir,
    experimentFile: path.resolve(args.file),
    // REGLENS_NATIVE_MODULES reaches the engine through the environment and is searched first.
    nativeModuleDirs: [...args.nativeModules, process.cwd()],
    baseDir: path.dirname(path.resolve(args.file)),
    // REGLENS_PYTHON also reaches the engine through the environment.
    ...(args.python ? { python: args.python } : {}),
  };
}

/** First Ctrl+C: `cancel`. Second: SIGKILL the engines. Returns the unsubscribe. */
function onSigint(cancel: () => void, pids: () => (number | undefined)[]): () => void {
  let interrupted = 0;
  const listener = () => {
    interrupted++;
    if (interrupted === 1) return cancel();
    for (const pid of pids()) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('SIGINT', listener);
  return () => process.off('SIGINT', listener);
}

/** A sweep: members as separate engine processes, `--parallel` at a time, one table at the end. */
async function runSweepMembers(args: RunArgs, title: string, members: SweepMember[]): Promise<number> {
  const parallel = resolveParallelism(args.parallel);
  const total = members.length;
  const say = (text: string) => {
    if (!args.quiet) process.stderr.write(text + '\n');
  };
  say(`reglens: sweep of ${total} runs, ${Math.min(parallel, total)} at a time`);
  const live = new Map<number, RecordedRun>();
  const t0 = Date.now();
  let ended = 0;
  const tag = (i: number) => `[${i + 1}/${total}]`;

  const sweep = runSweep(members, {
    parallel,
    start: async (member, i) => {
      const recorded = await startRecordedRun({
        ...engineOptions(args),
        experiment: member.experiment,
        backend: member.experiment.backend ?? 'auto',
        evalThread: evalThreadForSweep(args.evalThread, parallel),
        // Several engines share the terminal: no live engine output, but a dead engine's last words go into its error.
        engineOutputInError: true,
        onWriteError: (message) => say(`reglens: ${tag(i)} ${message}`),
        onEvent(event) {
          if (event.type === 'log' && event.level !== 'info') say(`reglens: ${tag(i)} ${event.level}: ${event.message}`);
        },
      });
      live.set(i, recorded);
      say(`${tag(i)} started ${member.label} (${path.relative(process.cwd(), recorded.dir) || recorded.dir})`);
      return { cancel: () => recorded.handle.cancel(), ended: recorded.ended };
    },
    onEnded(r) {
      ended++;
      live.delete(r.index);
      const what = r.state === 'ended' ? `${r.result.outcome}, test ${pct(r.result.summary.final?.test).trim()}` : r.state === 'error' ? `could not start: ${r.error}` : 'not started';
      say(`${tag(r.index)} ${what} — ${members[r.index].label} (${ended}/${total} done)`);
    },
  });

  const offSigint = onSigint(
    () => {
      say('reglens: cancelling the sweep (Ctrl+C again to stop immediately)');
      sweep.cancel();
    },
    () => [...live.values()].map((r) => r.handle.pid),
  );
  const results = await sweep.done.finally(offSigint);
  const wall = (Date.now() - t0) / 1000;
  process.stdout.write(sweepTable(title, args.runsDir, members, results, wall, parallel));
  return sweepExitCode(results, sweep.cancelled);
}

/** Nonzero when any member did not finish: 130 after Ctrl+C, else 1 for a failed, dead or unrecorded member. */
export function sweepExitCode(results: SweepMemberResult<RecordedRunResult>[], cancelled: boolean): number {
  if (cancelled) return EXIT.cancelled;
  const ok = results.every((r) => r.state === 'ended' && r.result.outcome === 'finished' && !r.result.writeFailed);
  return ok ? EXIT.finished : EXIT.failed;
}

function sweepTable(
  title: string,
  runsDir: string,
  members: SweepMember[],
  results: SweepMemberResult<RecordedRunResult>[],
  wallSeconds: number,
  parallel: number,
): string {
  const head = ['run', 'status', 'epochs', 'clean-train', 'corrupted-train', 'test', 's/epoch', 'backend', 'run folder'];
  const rows = results.map((r) => {
    const label = members[r.index].label;
    if (r.state !== 'ended') return [label, r.state === 'skipped' ? 'not started' : 'error', '-', '-', '-', '-', '-', '-', '-'];
    const s = r.result.summary;
    return [
      label,
      s.status,
      `${s.epochs}/${s.totalEpochs}`,
      pct(s.final?.cleanTrain).trim(),
      s.final?.corruptedTrain === null || !s.final ? 'n/a' : pct(s.final.corruptedTrain).trim(),
      pct(s.final?.test).trim(),
      r.result.secondsPerEpoch === null ? '-' : r.result.secondsPerEpoch.toFixed(3),
      s.backend ?? '-',
      path.relative(process.cwd(), path.join(runsDir, s.id)) || path.join(runsDir, s.id),
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => '  ' + cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  const errors = results.flatMap((r) =>
    r.state === 'error' ? [`  ${members[r.index].label}: ${r.error}`] : r.state === 'ended' && r.result.summary.error ? [`  ${members[r.index].label}: ${r.result.summary.error}`] : [],
  );
  return (
    `\n${title}: sweep of ${members.length} runs, ${Math.min(parallel, members.length)} at a time, ${wallSeconds.toFixed(1)} s wall\n` +
    [line(head), ...rows.map(line)].join('\n') +
    '\n' +
    (errors.length ? `errors:\n${errors.join('\n')}\n` : '')
  );
}

/**
 * One member of a Slurm sweep, as its array task runs it: reopens the member's run folder
 * (made at submission; missing means the node does not share the runs folder), continues from
 * its checkpoint when it has one, and turns Slurm's SIGTERM (scancel, time limit, requeue,
 * preemption) into a clean cancel so every reported epoch stays recorded.
 */
async function runSlurmMember(args: RunArgs, member: { dir: string; index: number }): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`reglens: ${message}\n`);
    return EXIT.failed;
  };
  let manifest: SweepManifest;
  try {
    manifest = await readManifest(member.dir);
  } catch (err) {
    return fail(`${(err as Error).message} (host ${os.hostname()})`);
  }
  if (member.index >= manifest.members.length) return fail(`sweep ${manifest.id} has ${manifest.members.length} members; there is no member ${member.index}`);
  const dir = memberDir(manifest, member.index);
  let reopened: Awaited<ReturnType<typeof RunFolder.reopen>>;
  try {
    reopened = await RunFolder.reopen(dir, { slurm: { taskId: member.index, ...(process.env.SLURM_ARRAY_JOB_ID ? { jobId: process.env.SLURM_ARRAY_JOB_ID } : {}) } });
  } catch (err) {
    return fail(`cannot open this member's run folder on ${os.hostname()}: ${(err as Error).message}. The runs folder must be on a filesystem the Slurm nodes share with the machine that submitted the sweep.`);
  }
  const { experiment } = await readRun(dir);
  if (!experiment) return fail(`${dir}/spec.json is missing or invalid`);
  if (args.epochs !== undefined) experiment.training.epochs = args.epochs;
  if (args.backend !== undefined) experiment.backend = args.backend;
  if (args.device !== undefined) experiment.device = args.device;
  const say = (text: string) => process.stderr.write(text.endsWith('\n') ? text : text + '\n');
  say(`reglens: member ${member.index} (${manifest.members[member.index].label}) run ${reopened.folder.id}${reopened.lastEpoch ? `, continuing after epoch ${reopened.lastEpoch}` : ''}`);
  let signalled: string | undefined;
  const recorded = await startRecordedRun({
    ...engineOptions(args),
    experimentFile: manifest.experimentFile,
    baseDir: path.dirname(manifest.experimentFile),
    experiment,
    backend: experiment.backend ?? 'auto',
    // The task has its CPUs; one evaluation thread each is the sweep's own choice.
    evalThread: evalThreadForSweep(args.evalThread, 2),
    engineOutputInError: true,
    reopened,
    engineEnv: { REGLENS_ENGINE_IGNORE_SIGTERM: '1' },
    cancelledBecause: () => (signalled ? `stopped by Slurm (${signalled}: scancel, time limit, preemption or requeue)` : undefined),
    onWriteError: (message) => say(`reglens: ${message}`),
    onEvent(event) {
      if (event.type === 'epoch') say(`epoch ${event.epoch} loss ${event.loss.toFixed(4)} test ${pct(event.accuracy.test).trim()}`);
      else if (event.type === 'log' && event.level !== 'info') say(`reglens: ${event.level}: ${event.message}`);
    },
    onStderr: (text) => say(text),
  });
  const onTerm = (sig: NodeJS.Signals) => {
    signalled = sig;
    recorded.handle.cancel();
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  const result = await recorded.ended.finally(() => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
  });
  process.stdout.write(finalTable(result, recorded.dir));
  return exitCodeFor(result.outcome, result.writeFailed);
}

/** Statuses of a Slurm member as the CLI prints them. */
const statusText = (s: RunSummary) => (s.status === 'timedOut' ? 'timed out' : s.status);

/** Follows a submitted Slurm sweep to its end: a line per member as it ends, then the table. Ctrl+C cancels the job. */
async function followSlurmSweep(sweepDir: string, manifest: SweepManifest, quiet: boolean, members: readonly number[]): Promise<number> {
  const say = (text: string) => {
    if (!quiet) process.stderr.write(text + '\n');
  };
  const total = manifest.members.length;
  const reported = new Set<number>();
  const seen = new Map<number, string>();
  const controller = new AbortController();
  let cancelled = false;
  const offSigint = onSigint(
    () => {
      cancelled = true;
      say('reglens: cancelling the sweep (scancel); Ctrl+C again to stop watching');
      void cancelSweep(sweepDir).catch((err: Error) => say(`reglens: ${err.message}`));
    },
    () => {
      controller.abort();
      return [];
    },
  );
  const t0 = Date.now();
  const states = await watchSlurmSweep(sweepDir, {
    signal: controller.signal,
    intervalMs: Number(process.env.REGLENS_SLURM_POLL_MS) || 2000,
    onError: (err) => say(`reglens: asking Slurm failed (retrying): ${err.message}`),
    onChange(m) {
      if (!members.includes(m.index)) return;
      const tag = `[${m.index + 1}/${total}]`;
      const label = manifest.members[m.index].label;
      const status = `${statusText(m.summary)}${m.summary.status === 'queued' && m.task?.reason ? ` (${m.task.reason})` : ''}`;
      if (m.ended && !reported.has(m.index)) {
        reported.add(m.index);
        const s = m.summary;
        process.stdout.write(
          `${tag} ${statusText(s)} ${label}: epochs ${s.epochs}/${s.totalEpochs}, test ${pct(s.final?.test).trim()}, job ${s.slurm?.jobId}_${m.index}${s.error ? ` — ${s.error}` : ''} (${reported.size}/${members.length} done)\n`,
        );
      } else if (!m.ended && seen.get(m.index) !== m.summary.status) {
        // A requeued member says so (queued again after epoch N) rather than looking new.
        say(`${tag} ${status} ${label}${m.summary.status === 'queued' && m.summary.error ? ` — ${m.summary.error}` : ''}`);
      }
      seen.set(m.index, m.summary.status);
    },
  }).finally(offSigint);
  const wall = (Date.now() - t0) / 1000;
  const mine = states.filter((m) => members.includes(m.index));
  const head = ['run', 'status', 'epochs', 'test', 'slurm task', 'run folder'];
  const rows = mine.map((m) => [
    manifest.members[m.index].label,
    statusText(m.summary),
    `${m.summary.epochs}/${m.summary.totalEpochs}`,
    pct(m.summary.final?.test).trim(),
    `${m.summary.slurm?.jobId ?? '?'}_${m.index}`,
    path.relative(process.cwd(), memberDir(manifest, m.index)) || memberDir(manifest, m.index),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => '  ' + cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  process.stdout.write(`\n${manifest.name}: Slurm sweep of ${members.length} runs, ${wall.toFixed(1)} s wall, folder ${sweepDir}\n${[line(head), ...rows.map(line)].join('\n')}\n`);
  if (controller.signal.aborted) return EXIT.cancelled;
  if (cancelled) return EXIT.cancelled;
  return mine.length === members.length && mine.every((m) => m.summary.status === 'finished') ? EXIT.finished : EXIT.failed;
}

/** `reglens run sweep.reglens.json --slurm`: one sbatch array job, then follows it. */
async function runSlurmSweep(args: RunArgs, experiment: Experiment, members: SweepMember[]): Promise<number> {
  let submitted: Awaited<ReturnType<typeof submitSlurmSweep>>;
  const t0 = Date.now();
  try {
    submitted = await submitSlurmSweep({
      experiment,
      members,
      experimentFile: path.resolve(args.file),
      runsDir: args.runsDir,
      defaults: {},
      nodePath: process.execPath,
      cliPath: path.resolve(__filename),
      ...(args.backend ? { backend: args.backend } : {}),
      ...(args.device ? { device: args.device } : {}),
      ...(args.python ? { python: args.python } : {}),
    });
  } catch (err) {
    process.stderr.write(`reglens: could not submit the sweep to Slurm: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  const { sweepDir, manifest } = submitted;
  if (!args.quiet) {
    process.stderr.write(
      `reglens: submitted ${members.length} runs as Slurm job ${manifest.submissions[0].jobId} (array 0-${members.length - 1}${manifest.slurm.maxConcurrent ? `%${manifest.slurm.maxConcurrent}` : ''}) in ${(Date.now() - t0) / 1000} s; sweep folder ${sweepDir}\n`,
    );
  }
  return followSlurmSweep(sweepDir, manifest, args.quiet, members.map((m) => m.index));
}

/** `reglens resubmit <sweep folder>`. */
async function resubmit(sweepDir: string, quiet: boolean): Promise<number> {
  let r: Awaited<ReturnType<typeof resubmitFailed>>;
  try {
    r = await resubmitFailed(sweepDir);
  } catch (err) {
    process.stderr.write(`reglens: could not resubmit: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  if (r.indices.length === 0) {
    process.stdout.write(`every member of ${r.manifest.name} finished (or is still queued or running): nothing to resubmit\n`);
    return EXIT.finished;
  }
  const job = r.manifest.submissions[r.manifest.submissions.length - 1];
  if (!quiet) process.stderr.write(`reglens: resubmitted members ${job.array} as Slurm job ${job.jobId}\n`);
  return followSlurmSweep(sweepDir, r.manifest, quiet, r.indices);
}

export function exitCodeFor(outcome: EngineOutcome, recordFailed: boolean): number {
  if (outcome === 'cancelled') return EXIT.cancelled;
  if (outcome === 'finished') return recordFailed ? EXIT.failed : EXIT.finished;
  return EXIT.failed;
}

/** `reglens lint ...`: its own options and exit codes (src/lint/lintCommand.ts). */
async function lint(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseLintArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`reglens lint: ${err.message}\nRun "reglens lint --help" for the options.\n`);
    return EXIT.usage;
  }
  if (args === 'help') {
    process.stdout.write(LINT_USAGE + '\n');
    return 0;
  }
  return runLint(args, process.cwd(), (s) => process.stdout.write(s), (s) => process.stderr.write(s), version);
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'lint') return lint(argv.slice(1));
  let parsed: Parsed;
  try {
    parsed = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(argv.length ? `reglens: ${err.message}\n${HELP_HINT}\n` : `${USAGE}\n`);
    return EXIT.usage;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`reglens ${version}\n`);
    return 0;
  }
  if (parsed.kind === 'resubmit') return resubmit(parsed.sweepDir, parsed.quiet);
  return run(parsed);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`reglens: ${err.message}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}

/** File lines and label values of a CSV dataset, so exports point into the user's file. */
function csvSourceOf(experiment: Experiment, baseDir: string): CsvSource | undefined {
  const ds = experiment.dataset;
  if (ds.kind !== 'csv') return undefined;
  const parsed = loadCsv(path.resolve(baseDir, ds.path), ds);
  return { lines: parsed.lines, classNames: parsed.classNames };
}
