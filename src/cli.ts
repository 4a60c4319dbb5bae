#!/usr/bin/env node
// `reglens run <experiment.reglens.json>`: the extension's engine, headless. Same
// engine process, same run folder format, so CLI runs show up in the extension.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { version } from '../package.json';
import type { EngineEvent } from './protocol/engineMessages';
import { BackendNameSchema, ExperimentError, parseExperimentText } from './protocol/experiment';
import type { BackendName, Experiment } from './protocol/experiment';
import { startEngine } from './runs/engineProcess';
import type { EngineOutcome } from './runs/engineProcess';
import { RunFolder } from './runs/runFolder';
import type { RunSummary } from './runs/runFolder';

const USAGE = `Usage: reglens run <experiment.reglens.json> [options]

Trains the experiment and records it in a run folder (spec.json, events.jsonl,
summary.json) that the RegLens VS Code extension lists and charts.

Options:
  --epochs N                 override training.epochs
  --backend auto|tensorflow-gpu|tensorflow|wasm|cpu TensorFlow.js backend (default: the experiment's, else auto)
  --runs-dir DIR             where run folders go (default: ./.reglens/runs)
  --native-modules DIR       folder holding (node_modules of) @tensorflow/tfjs-node or
                             tfjs-node-gpu; repeatable. Also searched: REGLENS_NATIVE_MODULES
                             (a path list, first), then the current folder.
  --quiet                    print only the final table
  -h, --help                 show this help
  -v, --version              show the version

Exit codes: 0 finished, 1 failed, 2 bad usage or experiment, 130 cancelled (Ctrl+C).`;

export const EXIT = { finished: 0, failed: 1, usage: 2, cancelled: 130 } as const;

class UsageError extends Error {}

interface RunArgs {
  file: string;
  epochs?: number;
  backend?: BackendName;
  runsDir: string;
  quiet: boolean;
  nativeModules: string[];
}

type Parsed = { kind: 'help' } | { kind: 'version' } | ({ kind: 'run' } & RunArgs);

export function parseCliArgs(argv: string[]): Parsed {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        epochs: { type: 'string' },
        backend: { type: 'string' },
        'runs-dir': { type: 'string' },
        'native-modules': { type: 'string', multiple: true },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [command, file, ...rest] = positionals;
  if (!command) throw new UsageError('missing command');
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
  let backend: RunArgs['backend'];
  if (values.backend !== undefined) {
    const r = BackendNameSchema.safeParse(values.backend);
    if (!r.success) throw new UsageError(`--backend must be auto, tensorflow-gpu, tensorflow, wasm or cpu, got "${values.backend}"`);
    backend = r.data;
  }
  return {
    kind: 'run',
    file,
    epochs,
    backend,
    runsDir: path.resolve(values['runs-dir'] ?? path.join('.reglens', 'runs')),
    quiet: values.quiet ?? false,
    nativeModules: (values['native-modules'] ?? []).map((d) => path.resolve(d)),
  };
}

/** Reads and validates the file, applying command-line overrides. Throws ExperimentError. */
export function loadExperiment(args: RunArgs): Experiment {
  let text: string;
  try {
    text = fs.readFileSync(args.file, 'utf8');
  } catch (err) {
    throw new ExperimentError(`${args.file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, undefined);
  }
  const experiment = parseExperimentText(text, args.file);
  if (args.epochs !== undefined) experiment.training.epochs = args.epochs;
  // Recorded in spec.json, so the run folder says which backend was asked for.
  if (args.backend !== undefined) experiment.backend = args.backend;
  return experiment;
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

  start(total: number, backend: string) {
    if (this.quiet) return;
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

function finalTable(summary: RunSummary, secondsPerEpoch: number | null, dir: string): string {
  const rows: [string, string][] = [
    ['status', summary.status + (summary.error ? ` (${summary.error})` : '')],
    ['clean-train accuracy', pct(summary.final?.cleanTrain).trim()],
    [
      'corrupted-train fitted',
      summary.final?.corruptedTrain === null || summary.final === undefined || summary.final === null
        ? 'n/a (no corrupted labels)'
        : `${pct(summary.final.corruptedTrain).trim()} (predicts the corrupted label)`,
    ],
    ['test accuracy', pct(summary.final?.test).trim()],
    ['epochs', `${summary.epochs}/${summary.totalEpochs}`],
    ['backend', summary.backend ?? '-'],
    ['s/epoch', secondsPerEpoch === null ? '-' : secondsPerEpoch.toFixed(3)],
    ['run folder', path.relative(process.cwd(), dir) || dir],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `\n${summary.name}\n` + rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

function enginePath(): string {
  const p = path.join(__dirname, 'engine.js');
  if (!fs.existsSync(p)) throw new Error(`${p} not found: build first (node esbuild.mjs)`);
  return p;
}

async function run(args: RunArgs): Promise<number> {
  let experiment: Experiment;
  try {
    experiment = loadExperiment(args);
  } catch (err) {
    if (err instanceof ExperimentError) {
      process.stderr.write(`reglens: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  const folder = await RunFolder.create(args.runsDir, experiment, { experimentFile: path.resolve(args.file) });
  const progress = new Progress(args.quiet, Boolean(process.stdout.isTTY));
  const total = experiment.training.epochs;
  let pending: Promise<void> = Promise.resolve();
  let writeError: string | undefined;
  let failure: string | undefined;
  let seconds = 0;
  let epochs = 0;
  let engineOutput = '';

  const handle = startEngine({
    enginePath: enginePath(),
    experiment,
    backend: experiment.backend ?? 'auto',
    // REGLENS_NATIVE_MODULES reaches the engine through the environment and is searched first.
    nativeModuleDirs: [...args.nativeModules, process.cwd()],
    baseDir: path.dirname(path.resolve(args.file)),
    runDir: folder.dir,
    onEvent(event) {
      pending = pending.then(
        () => folder.append(event),
      ).catch((err: Error) => {
        if (!writeError) {
          writeError = `could not write ${folder.dir}: ${err.message}`;
          progress.message(`reglens: ${writeError}`);
        }
      });
      switch (event.type) {
        case 'started':
          progress.start(event.totalEpochs, event.backend);
          break;
        case 'epoch':
          seconds += event.seconds;
          epochs = event.epoch;
          progress.epoch(event, total, seconds / epochs);
          break;
        case 'log':
          if (event.level !== 'info') progress.message(`reglens: ${event.level}: ${event.message}`);
          break;
        case 'failed':
          failure = event.message;
          break;
        case 'finished':
          break;
      }
    },
    onStderr(text) {
      // Kept for the report if the engine dies; shown live unless --quiet.
      engineOutput = (engineOutput + text).slice(-4000);
      if (!args.quiet) progress.message(text);
    },
  });

  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted === 1) {
      progress.message('reglens: cancelling (Ctrl+C again to stop immediately)');
      handle.cancel();
    } else if (handle.pid !== undefined) {
      try {
        process.kill(handle.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('SIGINT', onSigint);

  const { outcome, code, signal } = await handle.done;
  process.off('SIGINT', onSigint);
  progress.stop();
  await pending;
  const error =
    outcome === 'failed'
      ? failure
      : outcome === 'died'
        ? `the engine exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})${args.quiet && engineOutput ? `:\n${engineOutput}` : ''}`
        : writeError;
  let summary: RunSummary;
  try {
    summary = await folder.finish(outcome, error);
  } catch (err) {
    process.stderr.write(`reglens: could not write the run summary: ${(err as Error).message}\n`);
    summary = { ...folder.summary(), status: outcome, error };
  }
  process.stdout.write(finalTable(summary, epochs ? seconds / epochs : null, folder.dir));
  return exitCodeFor(outcome, writeError !== undefined);
}

export function exitCodeFor(outcome: EngineOutcome, recordFailed: boolean): number {
  if (outcome === 'cancelled') return EXIT.cancelled;
  if (outcome === 'finished') return recordFailed ? EXIT.failed : EXIT.finished;
  return EXIT.failed;
}

export async function main(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`reglens: ${err.message}\n\n${USAGE}\n`);
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
