import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exitCodeFor, parseCliArgs } from '../../src/cli';
import { listRuns, readRunView } from '../../src/runs/runFolder';
import { buildBundles, cliPath } from './helpers/bundle';
import { slowExperiment, tinyExperiment } from './helpers/experiments';
import { mulberry32, randNormal } from '../../src/engine/prng';

/** A run's events.jsonl, one parsed event per line. */
const recordedEvents = (runsDir: string, id: string) =>
  fs
    .readFileSync(path.join(runsDir, id, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
/** Resolves once `probe` holds (checked every 20 ms), rejects after `timeoutMs`. */
async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('reglens CLI', function () {
  this.timeout(60000);
  let dir: string;
  before(() => buildBundles());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-cli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: 'utf8' });
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return file;
  };

  it('parses arguments', () => {
    assert.deepEqual(parseCliArgs(['--help']), { kind: 'help' });
    assert.deepEqual(parseCliArgs(['-v']), { kind: 'version' });
    const r = parseCliArgs(['run', 'a.json', '--epochs', '5', '--backend', 'cpu', '--quiet']);
    assert.equal(r.kind === 'run' && r.epochs, 5);
    assert.equal(r.kind === 'run' && r.backend, 'cpu');
    assert.equal(r.kind === 'run' && r.runsDir, path.resolve('.reglens', 'runs'));
    for (const bad of [[], ['go'], ['run'], ['run', 'a', 'b'], ['run', 'a', '--epochs', '0'], ['run', 'a', '--epochs', '2.5'], ['run', 'a', '--backend', 'gpu'], ['run', 'a', '--nope']]) {
      assert.throws(() => parseCliArgs(bad), Error, bad.join(' '));
    }
    assert.equal(exitCodeFor('finished', false), 0);
    assert.equal(exitCodeFor('finished', true), 1);
    assert.equal(exitCodeFor('failed', false), 1);
    assert.equal(exitCodeFor('died', false), 1);
    assert.equal(exitCodeFor('cancelled', false), 130);
    const p = parseCliArgs(['run', 'a.json', '--parallel', '3']);
    assert.equal(p.kind === 'run' && p.parallel, 3);
    for (const bad of [['run', 'a', '--parallel', '0'], ['run', 'a', '--parallel', 'x']]) assert.throws(() => parseCliArgs(bad), /--parallel/);
    assert.equal(p.kind === 'run' && p.evalThread, 'auto');
    const e = parseCliArgs(['run', 'a.json', '--eval-thread', 'off']);
    assert.equal(e.kind === 'run' && e.evalThread, 'off');
    assert.throws(() => parseCliArgs(['run', 'a', '--eval-thread', 'maybe']), /--eval-thread must be auto, on or off/);
  });

  it('--eval-thread on: the bundled engine evaluates on a second thread running its own bundle', async () => {
    const file = write('tiny.reglens.json', tinyExperiment({ epochs: 4 }));
    const runsDir = path.join(dir, 'runs');
    const r = cli(['run', file, '--backend', 'wasm', '--eval-thread', 'on', '--runs-dir', runsDir]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const [run] = await listRuns(runsDir);
    const events = recordedEvents(runsDir, run.id);
    assert.equal(events[0].backend, 'wasm');
    assert.ok(events.some((x) => x.type === 'log' && /second thread/.test(x.message)), JSON.stringify(events.filter((x) => x.type === 'log')));
    assert.ok(!events.some((x) => x.type === 'log' && x.level === 'warning'), 'no fallback');
    assert.deepEqual(events.filter((x) => x.type === 'epoch').map((x) => x.epoch), [1, 2, 3, 4]);
    assert.equal(events[events.length - 1].type, 'finished');
  });

  it('--help and --version', () => {
    assert.match(cli(['--help']).stdout, /Usage: reglens run/);
    const v = cli(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^reglens \d+\.\d+\.\d+/);
    assert.equal(cli(['frobnicate']).status, 2);
  });

  it('runs an experiment, records it and prints the final table', () => {
    const file = write('tiny.reglens.json', tinyExperiment());
    const r = cli(['run', file, '--epochs', '3', '--backend', 'cpu']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /clean-train accuracy\s+\d+\.\d%/);
    assert.match(r.stdout, /corrupted-train fitted\s+\d+\.\d%/);
    assert.match(r.stdout, /test accuracy\s+\d+\.\d%/);
    assert.match(r.stdout, /epochs\s+3\/3/);
    assert.match(r.stdout, /backend\s+cpu/);
    assert.match(r.stdout, /run folder\s+\.reglens[/\\]runs[/\\]\d{8}-\d{6}-[0-9a-f]{4}/);
  });

  it('says why it trains on another backend than the fastest, and a run that failed before any epoch shows n/a, not "no corrupted labels"', () => {
    const file = write('tiny.reglens.json', tinyExperiment());
    // auto with an interpreter that does not exist: torch is passed over, with the reason, before training.
    const auto = cli(['run', file, '--epochs', '1', '--python', path.join(dir, 'no-such-python')]);
    assert.equal(auto.status, 0, auto.stderr);
    assert.match(auto.stderr, /^backend (wasm|cpu|tensorflow\S*): .*torch not used: /m);
    // torch asked with that interpreter: the run fails before its first epoch.
    const failed = cli(['run', file, '--epochs', '1', '--backend', 'torch', '--python', path.join(dir, 'no-such-python')]);
    assert.equal(failed.status, 1);
    assert.match(failed.stdout, /status\s+failed \(/);
    assert.match(failed.stdout, /corrupted-train fitted\s+n\/a\n/);
  });

  it('runs a sweep as separate runs and prints one row per run', async () => {
    const file = write('sweep.reglens.json', { ...tinyExperiment({ epochs: 2 }), sweep: { 'training.optimizer.weightDecay': [0, 5] } });
    const runsDir = path.join(dir, 'runs');
    const r = cli(['run', file, '--parallel', '2', '--backend', 'cpu', '--runs-dir', runsDir]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /tiny: sweep of 2 runs, 2 at a time, [\d.]+ s wall/);
    assert.match(r.stdout, /^\s+weightDecay=0\s+finished\s+2\/2\s+\d+\.\d%/m);
    assert.match(r.stdout, /^\s+weightDecay=5\s+finished\s+2\/2\s+\d+\.\d%/m);
    const runs = await listRuns(runsDir);
    assert.deepEqual(runs.map((x) => x.name).sort(), ['tiny [weightDecay=0]', 'tiny [weightDecay=5]']);
    assert.ok(runs.every((x) => x.status === 'finished'));
    const spec = JSON.parse(fs.readFileSync(path.join(runsDir, runs[0].id, 'spec.json'), 'utf8'));
    assert.equal(spec.sweep, undefined, 'each run folder records a plain experiment');
  });

  it('a sweep exits 1 when any run fails, and 2 for a sweep value the schema rejects', () => {
    const runsDir = path.join(dir, 'runs');
    // 5 output units for 11 classes: that member fails in the engine, the other finishes.
    const file = write('sweep.reglens.json', { ...tinyExperiment({ epochs: 2 }), sweep: { 'model.layers.2.units': [11, 5] } });
    const r = cli(['run', file, '--quiet', '--backend', 'cpu', '--runs-dir', runsDir]);
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /units=11\s+finished/);
    assert.match(r.stdout, /units=5\s+failed/);
    const bad = write('bad-sweep.reglens.json', { ...tinyExperiment(), sweep: { 'training.optimizer.weightDecay': [-1] } });
    const b = cli(['run', bad, '--runs-dir', path.join(dir, 'bad-runs')]);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /sweep\["training\.optimizer\.weightDecay"\] = -1 makes run 1 .*training\.optimizer\.weightDecay/);
    assert.equal(fs.existsSync(path.join(dir, 'bad-runs')), false, 'no run folder for an invalid sweep');
  });

  it('rejects a bad experiment with exit 2, naming the field and line', () => {
    const text = JSON.stringify(tinyExperiment(), null, 2).replace('"batchSize": 32', '"batchSize": "big"');
    const file = write('bad.reglens.json', text);
    const r = cli(['run', file, '--runs-dir', path.join(dir, 'runs')]);
    assert.equal(r.status, 2);
    const line = text.slice(0, text.indexOf('"batchSize"')).split('\n').length;
    assert.match(r.stderr, new RegExp(`bad\\.reglens\\.json:${line}:\\d+: training\\.batchSize`));
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false, 'no run folder for an invalid experiment');
    assert.equal(cli(['run', path.join(dir, 'missing.json')]).status, 2);
  });

  it('a missing experiment file is "experiment file not found", exit 2', () => {
    const r = cli(['run', 'missing.reglens.json']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'reglens: experiment file not found: missing.reglens.json\n');
  });

  it('an unknown option or a missing value: one line naming it, a pointer to --help, exit 2', () => {
    const bogus = cli(['run', 'x.json', '--bogus']);
    assert.equal(bogus.status, 2);
    assert.equal(bogus.stderr, 'reglens: unknown option --bogus\nRun "reglens --help" for the commands and options.\n');
    const bare = cli(['run', 'x.json', '--epochs']);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /^reglens: option --epochs needs a value\n/);
  });

  it('--help: option descriptions in one aligned column, flags too wide for theirs on a line of their own', () => {
    const help = cli(['--help']).stdout;
    const options = help.slice(help.indexOf('Options:\n') + 9, help.indexOf('\n\nExit codes'));
    const lines = options.split('\n');
    const column = /^ {2}--epochs N +/.exec(lines[0])![0].length;
    assert.ok(lines.length > 10, options);
    for (const [i, line] of lines.entries()) {
      assert.ok(line.length <= 80, `longer than 80 columns: ${line}`);
      const flag = /^ {2}(-\S*(?: \S+)*)/.exec(line)?.[1];
      if (!flag) {
        assert.match(line, new RegExp(`^ {${column}}\\S`), `a description line starts in column ${column + 1}: ${line}`);
      } else if (line.length > 2 + flag.length) {
        // "  --flag ARG" then at least two spaces, then the description, in the column.
        assert.ok(/ {2}\S/.test(line.slice(column - 2, column + 1)) && line[column] !== ' ', `description of ${flag} not in column ${column + 1}: ${line}`);
      } else {
        assert.ok(2 + flag.length >= column - 1, `${flag} could fit its column`);
        assert.match(lines[i + 1], new RegExp(`^ {${column}}\\S`), `the description of ${flag} follows on the next line`);
      }
    }
    assert.match(options, /^ {2}--backend auto\|torch\|tensorflow-gpu\|tensorflow\|wasm\|cpu\n +engine and backend/m);
  });

  describe('the final table', () => {
    const withRegularizers = (t: ReturnType<typeof tinyExperiment>, regularizers: Record<string, unknown>) => ({
      ...t,
      training: { ...t.training, regularizers: { ...t.training.regularizers, ...regularizers } },
    });
    const runTable = async (experiment: unknown) => {
      const runsDir = path.join(dir, 'runs');
      const r = cli(['run', write('exp.reglens.json', experiment), '--backend', 'cpu', '--runs-dir', runsDir]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const [run] = await listRuns(runsDir);
      const events = recordedEvents(runsDir, run.id);
      return { table: r.stdout.slice(r.stdout.lastIndexOf('\nexp') + 1), events, epochs: events.filter((e) => e.type === 'epoch') };
    };

    it('says that early stopping fired, when, on which best value, and which epoch the weights are from', async () => {
      // No later epoch beats the first by 0.99: it stops after epoch 1 + patience.
      const exp = { ...withRegularizers(tinyExperiment({ epochs: 20 }), { earlyStopping: { patience: 2, minDelta: 0.99, monitor: 'testAccuracy', restoreBest: true } }), name: 'exp' };
      const { table, epochs } = await runTable(exp);
      assert.equal(epochs.length, 3);
      const first = (100 * epochs[0].accuracy.test).toFixed(1);
      assert.match(table, /epochs\s+3\/20\n/);
      assert.match(table, new RegExp(`early stopping\\s+stopped after epoch 3 \\(best test accuracy ${escapeRe(first)}% at epoch 1\\)\\n`));
      assert.match(table, /weights\s+restored to epoch 1's \(the accuracies above are that epoch's\)\n/);
      assert.match(table, new RegExp(`test accuracy\\s+${escapeRe(first)}%\\n`), "the table's accuracies are the restored epoch's");
      assert.doesNotMatch(table, /label precision/);
    });

    it('says when early stopping did not fire and the last weights were kept', async () => {
      const exp = { ...withRegularizers(tinyExperiment({ epochs: 3 }), { earlyStopping: { patience: 50, monitor: 'testLoss' } }), name: 'exp' };
      const { table, epochs } = await runTable(exp);
      const best = epochs.reduce((b: { testLoss: number; epoch: number }, e: { testLoss: number; epoch: number }) => (e.testLoss < b.testLoss ? e : b));
      assert.match(table, new RegExp(`early stopping\\s+did not stop early \\(best test loss ${best.testLoss.toFixed(4)} at epoch ${best.epoch}\\)\\n`));
      assert.match(table, /weights\s+the last epoch's\n/);
    });

    it("shows co-teaching's label precision of the last epoch", async () => {
      const exp = { ...withRegularizers(tinyExperiment({ epochs: 3 }), { coTeaching: { gradualEpochs: 1 } }), name: 'exp' };
      const { table, epochs } = await runTable(exp);
      const last = epochs[epochs.length - 1].labelPrecision;
      assert.equal(typeof last, 'number');
      assert.match(table, new RegExp(`label precision\\s+${escapeRe((100 * last).toFixed(1))}% of the samples co-teaching selected at the last epoch have clean labels\\n`));
      assert.doesNotMatch(table, /early stopping/);
    });
  });

  describe('label errors (probes.labelErrors)', () => {
    /** Two Gaussian classes in 3-D; a blank line and a header shift data rows off the file lines. */
    const writeCsvData = () => {
      const r = mulberry32(5);
      const rows = ['a,b,c,kind', ''];
      for (let i = 0; i < 160; i++) {
        const y = i % 2;
        rows.push([0, 1, 2].map(() => (randNormal(r) + (y ? 1.5 : -1.5)).toFixed(3)).join(',') + `,${y ? 'cat' : 'dog'}`);
      }
      return write('data.csv', rows.join('\n') + '\n');
    };
    const experiment = (probes: object | undefined) => ({
      name: 'exp',
      seed: 1,
      dataset: { kind: 'csv', path: 'data.csv', testFraction: 0.25, labelNoise: { kind: 'symmetric', rate: 0.25 } },
      model: { layers: [{ type: 'dense', units: 16 }, { type: 'activation', fn: 'relu' }, { type: 'dense', units: 2 }] },
      training: { epochs: 15, batchSize: 16, optimizer: { kind: 'adam', lr: 0.01 } },
      ...(probes ? { probes } : {}),
    });

    it('prints each method\'s AUROC and precision at k and the top suspects; --export-label-errors writes every example with its CSV line', () => {
      const data = fs.readFileSync(writeCsvData(), 'utf8').split('\n');
      const out = path.join(dir, 'suspects.csv');
      const r = cli(['run', write('exp.reglens.json', experiment({ labelErrors: { methods: ['aum', 'forgetting', 'smallLoss', 'confidentLearning'], topK: 5 } })), '--backend', 'wasm', '--runs-dir', path.join(dir, 'runs'), '--quiet', '--export-label-errors', out]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /suspected label errors \(120 training examples; probabilities from epoch \d+/);
      assert.match(r.stdout, /method\s+AUROC\s+precision@k \(k = 30, the corrupted labels\)/);
      for (const m of ['area under the margin', 'forgetting events', 'small loss', 'confident learning']) assert.match(r.stdout, new RegExp(`${m}\\s+0\\.\\d{3}\\s+\\d+\\.\\d%`));
      assert.match(r.stdout, /top 5 by [a-z -]+:\n\s+rank\s+index\s+csv line\s+given\s+suggested\s+score\s+truth\n\s+1\s+\d+\s+\d+\s+(cat|dog)/);
      assert.match(r.stdout, /exported 120 rows to suspects\.csv/);
      const [head, ...rows] = fs.readFileSync(out, 'utf8').trim().split('\n');
      assert.equal(head, 'index,source,csv_line,given_label,suggested_label,given_value,suggested_value,corrupted,aum_score,aum_rank,forgetting_score,forgetting_rank,smallLoss_score,smallLoss_rank,confidentLearning_score,confidentLearning_rank');
      assert.equal(rows.length, 120);
      const cells = rows.map((l) => l.split(','));
      assert.equal(cells.filter((c) => c[7] === '1').length, 30);
      for (const c of cells) {
        const fileLabel = data[Number(c[2]) - 1].split(',')[3];
        // A clean example's given label is the file's; a corrupted one was flipped by labelNoise.
        assert.equal(fileLabel === c[5], c[7] === '0', `csv line ${c[2]}: file says ${fileLabel}, export ${c[5]} (corrupted ${c[7]})`);
      }
      // Sorted by the method printed first, rank 1 first; every method ranks each example once.
      assert.ok([9, 11, 13, 15].some((col) => cells.every((c, i) => Number(c[col]) === i + 1)), 'rows in the rank order of one method');
      for (const col of [9, 11, 13, 15]) assert.deepEqual(cells.map((c) => Number(c[col])).sort((a, b) => a - b), Array.from({ length: 120 }, (_, i) => i + 1));
    });

    it('--export-label-errors without the probe: exit 2, naming the field to add', () => {
      writeCsvData();
      const r = cli(['run', write('exp.reglens.json', experiment(undefined)), '--backend', 'wasm', '--runs-dir', path.join(dir, 'runs'), '--export-label-errors', 'x.csv']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--export-label-errors needs "probes": \{ "labelErrors": \{\} \} in /);
    });
  });

  describe('a dataset that cannot be built is a bad experiment: exit 2, file and line on stderr, no run folder', () => {
    const csvExperiment = (csv: string, extra: Record<string, unknown> = {}) => {
      const t = tinyExperiment({ epochs: 2 });
      return { ...t, dataset: { kind: 'csv', path: csv, testFraction: 0.25, ...extra } };
    };
    const runBad = (experiment: unknown, env: NodeJS.ProcessEnv = {}) => {
      const text = JSON.stringify(experiment, null, 2);
      const file = write('bad.reglens.json', text);
      const runsDir = path.join(dir, 'runs');
      const r = spawnSync(process.execPath, [cliPath, 'run', file, '--runs-dir', runsDir], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
      assert.equal(r.status, 2, r.stderr + r.stdout);
      assert.equal(fs.existsSync(runsDir), false, 'no run folder');
      assert.equal(r.stdout, '');
      return { stderr: r.stderr, file, lineOf: (needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length };
    };
    const rows = ['x1,x2,label', ...Array.from({ length: 12 }, (_, i) => `${i},${(i * 7) % 5},${i % 2}`)];

    it('a missing CSV file, located at dataset.path', () => {
      const { stderr, file, lineOf } = runBad(csvExperiment('nowhere.csv'));
      const missing = path.join(dir, 'nowhere.csv');
      assert.equal(stderr, `reglens: ${file}:${lineOf('"path"')}:13: dataset.path: CSV file not found: ${missing}\n`);
    });

    it('a value that is not a number: the CSV line', () => {
      const bad = [...rows];
      bad[5] = '4,oops,0';
      write('data.csv', bad.join('\n') + '\n');
      const { stderr } = runBad(csvExperiment('data.csv'));
      assert.equal(stderr, `reglens: ${path.join(dir, 'data.csv')}:6: column "x2" is "oops", not a number\n`);
    });

    it('an unknown label column: the header line, and where the experiment names it', () => {
      write('data.csv', rows.join('\n') + '\n');
      const { stderr, file, lineOf } = runBad(csvExperiment('data.csv', { labelColumn: 'class' }));
      assert.equal(
        stderr,
        `reglens: ${file}:${lineOf('"labelColumn"')}:20: dataset.labelColumn: ${path.join(dir, 'data.csv')}:1: labelColumn "class" is not in the header (x1, x2, label)\n`,
      );
    });

    it('a missing MNIST digits file', () => {
      const digits = path.join(dir, 'digits');
      fs.mkdirSync(digits);
      fs.writeFileSync(path.join(digits, '0.json'), JSON.stringify({ data: new Array(28 * 28).fill(0) }));
      const t = tinyExperiment({ epochs: 2 });
      const { stderr, file, lineOf } = runBad({ ...t, dataset: { kind: 'mnist', train: 10, test: 5 } }, { REGLENS_MNIST_DIR: digits });
      const where = `${file}:${lineOf('"kind": "mnist"')}:13: dataset.kind`;
      assert.match(stderr, new RegExp(`^reglens: ${escapeRe(where)}: MNIST file not found: ${escapeRe(path.join(digits, '1.json'))} \\(REGLENS_MNIST_DIR must name`));
    });

    it('in a sweep, a member whose dataset cannot be built stops the sweep before any run', () => {
      write('data.csv', rows.join('\n') + '\n');
      const { stderr } = runBad({ ...csvExperiment('data.csv'), sweep: { 'dataset.labelColumn': ['label', 'nope'] } });
      assert.match(stderr, /labelColumn "nope" is not in the header/);
    });
  });

  it('a run killed with SIGKILL (CLI and engine): listed as died with the epochs and accuracies on disk; its dashboard snapshot has them all', async () => {
    const total = 5000;
    const file = write('long.reglens.json', tinyExperiment({ epochs: total }));
    const runsDir = path.join(dir, 'runs');
    // Its own process group, so one kill reaches the CLI and the engine it forked.
    const child = spawn(process.execPath, [cliPath, 'run', file, '--backend', 'cpu', '--quiet', '--runs-dir', runsDir], { cwd: dir, detached: true, stdio: 'ignore' });
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const epochLines = () => {
      const [id] = fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : [];
      // The run folder exists a moment before its events.jsonl does.
      const events = id ? path.join(runsDir, id, 'events.jsonl') : '';
      const text = events && fs.existsSync(events) ? fs.readFileSync(events, 'utf8') : '';
      return text.split('\n').flatMap((l) => {
        try {
          const e = JSON.parse(l);
          return e.type === 'epoch' ? [e] : [];
        } catch {
          return []; // blank, or cut off by the kill
        }
      });
    };
    await until('5 epochs in events.jsonl', () => epochLines().length >= 5);
    process.kill(-child.pid!, 'SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const onDisk = epochLines();
    const n = onDisk.length;
    const [run] = await listRuns(runsDir);
    assert.equal(JSON.parse(fs.readFileSync(path.join(runsDir, run.id, 'summary.json'), 'utf8')).epochs, 0, 'summary.json was written at the start only');
    assert.equal(run.status, 'died');
    assert.equal(run.epochs, n);
    assert.equal(run.totalEpochs, total);
    assert.deepEqual(run.final, onDisk[n - 1].accuracy);
    assert.equal(run.backend, 'cpu');
    assert.match(run.error ?? '', new RegExp(`exited after epoch ${n} of ${total} without recording an end`));

    const view = await readRunView(path.join(runsDir, run.id));
    assert.equal(view.status, 'died');
    assert.equal(view.totalEpochs, total);
    assert.deepEqual(
      view.events.filter((e) => e.type === 'epoch'),
      onDisk,
    );
  });

  it('Ctrl+C cancels: exit 130, run recorded as cancelled', async () => {
    const file = write('slow.reglens.json', slowExperiment(300));
    const runsDir = path.join(dir, 'runs');
    const child = spawn(process.execPath, [cliPath, 'run', file, '--runs-dir', runsDir], { cwd: dir });
    let out = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/epoch 1\//.test(out)) resolve();
      }),
    );
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 130);
    const [run] = await listRuns(runsDir);
    assert.equal(run.status, 'cancelled');
    assert.ok(run.epochs >= 1 && run.epochs < 300);
  });

  it('Ctrl+C on a sweep cancels every running run: exit 130', async () => {
    const file = write('slow-sweep.reglens.json', { ...slowExperiment(300), sweep: { seed: [0, 1, 2] } });
    const runsDir = path.join(dir, 'runs');
    const child = spawn(process.execPath, [cliPath, 'run', file, '--parallel', '2', '--runs-dir', runsDir], { cwd: dir });
    let err = '';
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/\[2\/3\] started/.test(err)) resolve();
      }),
    );
    child.kill('SIGINT');
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 130, err);
    const runs = await listRuns(runsDir);
    assert.equal(runs.length, 2, 'the third run never started');
    assert.ok(runs.every((r) => r.status === 'cancelled'), JSON.stringify(runs.map((r) => r.status)));
    assert.match(out, /seed=2\s+not started/);
  });
});
