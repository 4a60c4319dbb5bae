// A run folder written by the Python recorder (reglens.init in a user's script), read by the
// TS side while the script runs (EventsTail: epoch by epoch, partial lines held back) and
// after it was killed with SIGKILL (listRuns: died, every logged epoch kept).
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findTorchPython } from '../../../scripts/torch-python';
import { EventsTail } from '../../../src/runs/eventsTail';
import { listRuns, readRunView } from '../../../src/runs/runFolder';

const PYTHON_DIR = path.join(__dirname, '..', '..', '..', 'python');

// Logs one epoch per line read from stdin, then prints the epoch: the test decides the pace.
const SCRIPT = `
import sys, torch, reglens
torch.set_num_threads(1)
torch.manual_seed(0)
run = reglens.init(name="recorder under test", runs_dir=sys.argv[1], epochs=50)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(8, 2))
x = torch.randn(60, 4); y = (x[:, 0] > 0).long()
run.watch(model, layers=["0"], probe=reglens.ProbeSet(x[:40], y[:40], corrupted=torch.arange(40) < 8, x_test=x[40:], y_test=y[40:]), every=2, mc_dropout=3)
print(run.dir, flush=True)
for epoch in range(50):
    if not sys.stdin.readline():
        break
    run.log_epoch(epoch, loss=1.0 / (epoch + 1))
    print(epoch + 1, flush=True)
run.finish()
`;

class Script {
  readonly child: ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private waiters: (() => void)[] = [];
  private stderr = '';

  constructor(python: string, runsDir: string) {
    this.child = spawn(python, ['-c', SCRIPT, runsDir], { env: { ...process.env, PYTHONPATH: PYTHON_DIR } });
    let buf = '';
    this.child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        for (const w of this.waiters.splice(0)) w();
      }
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async line(): Promise<string> {
    while (this.lines.length === 0) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`script exited: ${this.stderr}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.lines.shift() as string;
  }

  step(): void {
    this.child.stdin.write('\n');
  }

  exited(): Promise<void> {
    return this.child.exitCode !== null || this.child.signalCode !== null ? Promise.resolve() : new Promise((r) => this.child.once('exit', () => r()));
  }
}

describe('recorder run folders (Python reglens.init, read by the TS side)', function () {
  this.timeout(120_000);
  let python: string;
  let runsDir: string;
  const started: Script[] = [];

  before(() => {
    python = findTorchPython();
  });
  beforeEach(() => {
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-recorder-'));
  });
  afterEach(async () => {
    for (const s of started.splice(0)) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await s.exited();
    }
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('is followed epoch by epoch while the script runs, then listed as died after kill -9 with every epoch kept', async () => {
    const script = new Script(python, runsDir);
    started.push(script);
    const dir = await script.line();
    assert.equal(path.dirname(dir), runsDir);
    // Listed (as running) before the first epoch: summary.json is written first.
    const early = await listRuns(runsDir);
    assert.equal(early.length, 1);
    assert.equal(early[0].status, 'running');
    assert.equal(early[0].name, 'recorder under test');
    const tail = new EventsTail(path.join(dir, 'events.jsonl'));
    const first = await tail.read();
    assert.deepEqual(first.events.map((e) => e.type), ['started']);
    for (let epoch = 1; epoch <= 4; epoch++) {
      script.step();
      assert.equal(await script.line(), String(epoch));
      const got = await tail.read();
      assert.equal(got.invalidLines, 0);
      const epochs = got.events.filter((e) => e.type === 'epoch').map((e) => (e.type === 'epoch' ? e.epoch : 0));
      assert.deepEqual(epochs, [epoch], `epoch ${epoch} arrives alone, once`);
      // every=2: the probes (ablation of "0", MC dropout) follow the even epochs, with their wall time.
      const probes = got.events.filter((e) => e.type === 'probe');
      assert.equal(probes.length, epoch % 2 === 0 ? 2 : 0);
      for (const p of probes) assert.ok(p.type === 'probe' && typeof p.seconds === 'number' && p.seconds >= 0);
    }
    script.child.kill('SIGKILL');
    await script.exited();
    const runs = await listRuns(runsDir);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'died');
    assert.equal(runs[0].epochs, 4);
    assert.match(runs[0].error ?? '', /after epoch 4 of 50/);
    const view = await readRunView(dir);
    assert.equal(view.events.filter((e) => e.type === 'epoch').length, 4);
    assert.equal(view.notice, undefined, 'no partial line: each event was written whole');
  });

  it('a finished script is listed as finished with its final accuracies', async () => {
    const script = new Script(python, runsDir);
    started.push(script);
    const dir = await script.line();
    script.step();
    await script.line();
    script.child.stdin.end();
    await script.exited();
    assert.equal(script.child.exitCode, 0);
    const [run] = await listRuns(runsDir);
    assert.equal(run.status, 'finished');
    assert.equal(run.epochs, 1);
    assert.ok(run.final && run.final.corruptedTrain !== null);
    assert.equal(run.backend, 'torch-cpu');
    const view = await readRunView(dir);
    assert.equal(view.events.at(-1)?.type, 'finished');
  });
});

describe('EventsTail', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-tail-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const log = (message: string) => JSON.stringify({ type: 'log', level: 'info', message });

  it('returns only appended events, holds a partial last line until its newline, and restarts on truncation', async () => {
    const file = path.join(dir, 'events.jsonl');
    const tail = new EventsTail(file);
    assert.deepEqual((await tail.read()).events, [], 'a missing file has no events yet');
    fs.writeFileSync(file, `${log('a')}\n${log('b')}\n`);
    assert.deepEqual((await tail.read()).events.map((e) => e.type === 'log' && e.message), ['a', 'b']);
    const c = log('c – ü');
    fs.appendFileSync(file, c.slice(0, 10));
    assert.deepEqual((await tail.read()).events, [], 'half a line is not an event yet');
    fs.appendFileSync(file, `${c.slice(10)}\nnot json\n`);
    const r = await tail.read();
    assert.deepEqual(r.events.map((e) => e.type === 'log' && e.message), ['c – ü']);
    assert.equal(r.invalidLines, 1);
    assert.equal(tail.position, fs.statSync(file).size);
    fs.writeFileSync(file, `${log('new')}\n`);
    const again = await tail.read();
    assert.equal(again.restarted, true);
    assert.deepEqual(again.events.map((e) => e.type === 'log' && e.message), ['new']);
  });

  it('does not split a multi-byte character cut between two reads', async () => {
    const file = path.join(dir, 'events.jsonl');
    const line = Buffer.from(`${log('ππππ')}\n`);
    const tail = new EventsTail(file);
    const cut = line.indexOf(Buffer.from('π')) + 1; // inside the first π's two bytes
    fs.writeFileSync(file, line.subarray(0, cut));
    assert.deepEqual((await tail.read()).events, []);
    fs.appendFileSync(file, line.subarray(cut));
    assert.deepEqual((await tail.read()).events.map((e) => e.type === 'log' && e.message), ['ππππ']);
  });
});
