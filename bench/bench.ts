// `npm run bench`: seconds per epoch of the shipped example (quadratic grokking
// model, p = 97, batch 512) and of a ReLU MLP 194-512-512-97 on the wasm and cpu
// backends through the real training loop (train()), on the PyTorch engine (python -m
// reglens.engine, started as engine.js starts it) and in hand-written PyTorch
// (bench/peer/torch_epoch.py), at 1 thread and at all cores, in rounds that interleave
// the engines so that every ratio compares runs made side by side; then each engine's
// time from process start to its first epoch and its peak memory on the grok example
// with its probes. Medians (the first epoch of each run is dropped as warm-up on wasm
// and PyTorch), ratios as medians of the per-round ratios. Writes bench-results/bench.json.
// Without torch the PyTorch columns say why they are empty.
//   node dist/bench.js [--rounds N] [--wasm-epochs N] [--torch-epochs N] [--cpu-epochs N] [--python PATH]
//     [--skip-cpu] [--skip-torch] [--skip-first-epoch] [--skip-probes] [--skip-analysis] [--skip-workspace-index] [--skip-lint] [--only-probes]
//     [--eval-thread auto|off] [--skip-label-errors] [--only-label-errors] [--out FILE]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { isEvalThread } from '../src/engine/evalThread';
import { train } from '../src/engine/train';
import { runAnalysisBench } from './analysis';
import { runWorkspaceIndexBench } from './workspaceIndex';
import { formatLintBench, runLintBench } from './lintBench';
import { GROK_MLP_LAYERS, median } from './benchShared';
import { grokExample, pythonEnginePeak, runWithPeakRss, type RssRunResult } from './engineRss';
import { formatFirstEpoch, timeToFirstEpoch, type FirstEpochResult } from './firstEpoch';
import { benchLabelErrorComponents, benchLabelErrorOverhead } from './labelErrorsOverhead';
import { benchProbes } from './probeBench';
import { checkTorch, importTorchSeconds, measurePaired, measurePeer, measureTorchEngine, type EngineTimes, type PairedTimes, type PeerTimes, type TorchCheck } from './torchEngineBench';
import { parseExperiment } from '../src/protocol/experiment';
import type { Experiment, ExperimentInput } from '../src/protocol/experiment';

const dataset = {
  kind: 'modular',
  p: 97,
  operation: 'add',
  trainFraction: 0.5,
  labelNoise: { kind: 'symmetric', rate: 0.3 },
} as const;
const training = (epochs: number) => ({
  epochs,
  batchSize: 512,
  optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.98, weightDecay: 5 },
}) as const;

const models: { id: string; label: string; layers: ExperimentInput['model']['layers'] }[] = [
  {
    id: 'grok-quadratic',
    label: 'quadratic 194-512-97, no bias (examples/grok-corrupted)',
    layers: [
      { type: 'dense', units: 512, useBias: false, init: 'normal', initStd: 0.1 },
      { type: 'activation', fn: 'square' },
      { type: 'dense', units: 97, useBias: false, init: 'normal', initStd: 0.0441941738 },
    ],
  },
  {
    id: 'relu-mlp',
    label: 'ReLU MLP 194-512-512-97',
    layers: GROK_MLP_LAYERS,
  },
];

function experimentFor(layers: ExperimentInput['model']['layers'], epochs: number): Experiment {
  return parseExperiment({ name: 'bench', seed: 0, dataset, model: { layers }, training: training(epochs) });
}

interface Measurement {
  model: string;
  backend: string;
  epochs: number;
  secondsPerEpoch: number;
  /** Median of the training steps alone (no per-epoch evaluation). */
  trainSecondsPerEpoch: number | null;
  samples: number[];
}

let evalThread: 'auto' | false = 'auto';

async function measure(modelId: string, layers: ExperimentInput['model']['layers'], backend: 'wasm' | 'cpu', epochs: number): Promise<Measurement> {
  const seconds: number[] = [];
  const trainSeconds: number[] = [];
  let actual = backend as string;
  let error: string | undefined;
  await train(experimentFor(layers, epochs), {
    backend,
    evalThread,
    onEvent: (e) => {
      if (e.type === 'started') actual = e.backend;
      if (e.type === 'epoch') {
        seconds.push(e.seconds);
        if (e.trainSeconds !== undefined) trainSeconds.push(e.trainSeconds);
        process.stderr.write(`  ${modelId} ${actual} epoch ${e.epoch}/${epochs}: ${e.seconds.toFixed(3)} s\n`);
      }
      if (e.type === 'failed') error = e.message;
    },
  });
  if (error) throw new Error(`${modelId} on ${backend}: ${error}`);
  if (actual !== backend) throw new Error(`${modelId}: asked for ${backend}, got ${actual}`);
  // The first wasm epoch includes one-time XNNPACK setup; cpu epochs are too slow to spare one.
  const warm = backend === 'wasm' && seconds.length > 2 ? 1 : 0;
  return {
    model: modelId,
    backend,
    epochs,
    secondsPerEpoch: median(seconds.slice(warm)),
    trainSecondsPerEpoch: trainSeconds.length ? median(trainSeconds.slice(warm)) : null,
    samples: seconds,
  };
}

/** A median of per-round values, or null when any round has none. */
function medianOrNull(xs: (number | null | undefined)[]): number | null {
  return xs.length && xs.every((x): x is number => typeof x === 'number') ? median(xs) : null;
}

interface TorchRound {
  engine: EngineTimes;
  peer: PeerTimes;
}

/** One model at one thread count: the torch engine against the peer and against wasm, over the rounds. */
function torchRow(threads: number, rounds: TorchRound[], wasm: Measurement[]) {
  const missing = rounds.map((r) => (!r.engine.available ? r.engine.reason : !r.peer.available ? `peer: ${r.peer.reason}` : null)).find((x) => x);
  if (missing) return { threads, unavailable: missing };
  const ok = rounds as { engine: Extract<EngineTimes, { available: true }>; peer: Extract<PeerTimes, { available: true }> }[];
  const per = <T>(f: (r: (typeof ok)[number], w: Measurement) => T) => ok.map((r, i) => f(r, wasm[i]));
  return {
    threads,
    engineTrain: median(per((r) => r.engine.trainSeconds)),
    engineEpoch: median(per((r) => r.engine.epochSeconds)),
    peerTrain: median(per((r) => r.peer.trainSeconds)),
    peerEpoch: median(per((r) => r.peer.epochSeconds)),
    // Ratios within a round (runs made one right after the other), then their median.
    engineOverPeerTrain: median(per((r) => r.engine.trainSeconds / r.peer.trainSeconds)),
    engineOverPeerEpoch: median(per((r) => r.engine.epochSeconds / r.peer.epochSeconds)),
    wasmOverEngineTrain: medianOrNull(per((r, w) => (w.trainSecondsPerEpoch === null ? null : w.trainSecondsPerEpoch / r.engine.trainSeconds))),
    wasmOverEngineEpoch: median(per((r, w) => w.secondsPerEpoch / r.engine.epochSeconds)),
    backendNote: ok[0].engine.backendNote,
    rounds: ok.map((r) => ({ engineTrain: r.engine.trainSeconds, engineEpoch: r.engine.epochSeconds, peerTrain: r.peer.trainSeconds, peerEpoch: r.peer.epochSeconds })),
  };
}

/**
 * Time to first epoch of a fresh engine process (bench/firstEpoch.ts, with its phases) on
 * wasm and on torch, Python's own `import torch` apart; run first, before this process
 * loads anything.
 */
async function firstEpochs(torch: TorchCheck | null, runs: number) {
  const out: { wasm: FirstEpochResult; torch: FirstEpochResult | { unavailable: string }; importTorchSeconds: number | { unavailable: string } | null } = {
    wasm: await timeToFirstEpoch('wasm', { runs }),
    torch: { unavailable: 'skipped (--skip-torch)' },
    importTorchSeconds: null,
  };
  process.stderr.write(`${formatFirstEpoch(out.wasm)}\n`);
  if (torch && !torch.available) out.torch = { unavailable: torch.reason };
  if (torch?.available) {
    try {
      out.torch = await timeToFirstEpoch('torch', { runs, command: { python: torch.python } });
      process.stderr.write(`${formatFirstEpoch(out.torch)}\n`);
    } catch (err) {
      out.torch = { unavailable: (err as Error).message };
    }
    const imports: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = importTorchSeconds(torch.python);
      if (typeof t !== 'number') {
        out.importTorchSeconds = { unavailable: t.reason };
        break;
      }
      imports.push(t);
    }
    if (imports.length === runs) out.importTorchSeconds = median(imports);
  }
  return out;
}

/** Peak RSS of each engine over the grok example with its probes (engine.js for wasm, the Python engine for torch), engines alternating. */
async function peakMemory(torch: TorchCheck | null, runs: number, epochs: number) {
  const experiment = grokExample(epochs);
  const wasm: RssRunResult[] = [];
  const onTorch: RssRunResult[] = [];
  for (let r = 0; r < runs; r++) {
    wasm.push(await runWithPeakRss({ backend: 'wasm', experiment }));
    if (torch?.available) onTorch.push(await runWithPeakRss({ backend: 'torch', experiment, python: torch.python, device: 'cpu' }));
  }
  const summary = (xs: RssRunResult[], of: (x: RssRunResult) => number | null) => {
    const failed = xs.find((x) => x.failed)?.failed;
    return failed ? { unavailable: `a run failed: ${failed}` } : { medianMiB: medianOrNull(xs.map(of)), runs: xs };
  };
  for (const x of [...wasm, ...onTorch]) process.stderr.write(`  peak RSS, ${x.backend}: engine.js ${x.peakRss.rootMiB?.toFixed(0)} MiB, Python ${pythonEnginePeak(x.peakRss)?.toFixed(0) ?? '-'} MiB${x.failed ? ` (failed: ${x.failed})` : ''}\n`);
  return {
    experiment: `examples/grok-corrupted.reglens.json with its probes, ${epochs} epochs`,
    note: 'VmHWM (peak resident set) of the engine process: dist/engine.js on wasm (its evaluation thread included); on torch the Python engine, and engine.js beside it',
    wasm: summary(wasm, (x) => x.peakRss.rootMiB),
    torch: !torch ? { unavailable: 'skipped (--skip-torch)' } : !torch.available ? { unavailable: torch.reason } : summary(onTorch, (x) => pythonEnginePeak(x.peakRss)),
    torchEngineJs: torch?.available ? summary(onTorch, (x) => x.peakRss.rootMiB) : null,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      'wasm-epochs': { type: 'string', default: '6' },
      'torch-epochs': { type: 'string', default: '6' },
      // One: the cpu backend is ~50-80x slower than wasm; a second epoch would add minutes.
      'cpu-epochs': { type: 'string', default: '1' },
      'first-epoch-runs': { type: 'string', default: '3' },
      // Epochs of the peak-memory runs (the grok example with its probes).
      'rss-epochs': { type: 'string', default: '20' },
      'skip-rss': { type: 'boolean', default: false },
      // Epoch pairs of the in-process engine-vs-peer comparison (one thread); 0 skips it.
      pairs: { type: 'string', default: '20' },
      python: { type: 'string', default: process.env.REGLENS_PYTHON ?? '/usr/bin/python3' },
      'skip-cpu': { type: 'boolean', default: false },
      'skip-torch': { type: 'boolean', default: false },
      // Older name of --skip-torch (the peer was the only PyTorch column).
      'skip-peer': { type: 'boolean', default: false },
      'skip-first-epoch': { type: 'boolean', default: false },
      // 'off' evaluates every epoch on the training thread (for A/B runs of the second thread).
      'eval-thread': { type: 'string', default: 'auto' },
      'skip-probes': { type: 'boolean', default: false },
      'skip-analysis': { type: 'boolean', default: false },
      'skip-workspace-index': { type: 'boolean', default: false },
      'skip-lint': { type: 'boolean', default: false },
      'only-probes': { type: 'boolean', default: false },
      // The labelErrors probe's per-epoch overhead (bench/labelErrorsOverhead.ts), wasm and torch.
      'skip-label-errors': { type: 'boolean', default: false },
      'only-label-errors': { type: 'boolean', default: false },
      'label-error-epochs': { type: 'string', default: '8' },
      out: { type: 'string', default: path.join('bench-results', 'bench.json') },
    },
  });
  evalThread = values['eval-thread'] === 'off' ? false : 'auto';
  const rounds = Math.max(1, Number(values.rounds));
  const wasmEpochs = Number(values['wasm-epochs']);
  const torchEpochs = Number(values['torch-epochs']);
  const cpuEpochs = Number(values['cpu-epochs']);
  const skipTorch = values['skip-torch'] || values['skip-peer'];
  const python = values.python!;
  const cores = os.cpus().length;
  const threadCounts = [...new Set([1, cores])];
  const torch = skipTorch ? null : await checkTorch(python);
  if (torch && !torch.available) process.stderr.write(`  torch unavailable: ${torch.reason}\n`);
  // Fresh processes, before this one loads anything: process start to the first epoch event.
  const onlyLabelErrors = values['only-label-errors'];
  const firstEpoch = values['skip-first-epoch'] || values['only-probes'] || onlyLabelErrors ? null : await firstEpochs(torch, Number(values['first-epoch-runs']));
  // The probes next, so their RSS is what a process running them needs, not what the
  // training rows before them (wasm heaps, the evaluation thread) left behind.
  const probes = values['skip-probes'] || onlyLabelErrors ? null : await benchProbes();
  const speedModels = values['only-probes'] || onlyLabelErrors ? [] : models;
  const wasmRuns = new Map<string, Measurement[]>(speedModels.map((m) => [m.id, []]));
  const torchRuns = new Map<string, TorchRound[]>();
  for (let r = 0; r < rounds; r++) {
    for (const m of speedModels) {
      wasmRuns.get(m.id)!.push(await measure(m.id, m.layers, 'wasm', wasmEpochs));
      if (!torch) continue;
      for (const threads of threadCounts) {
        const key = `${m.id}/${threads}`;
        if (!torchRuns.has(key)) torchRuns.set(key, []);
        const engine = () => measureTorchEngine(torch, experimentFor(m.layers, torchEpochs), threads);
        const peer = () => (torch.available ? measurePeer(python, m.id, torchEpochs, threads) : torch);
        // Right after the wasm run, so all see the same machine; who goes first alternates by round.
        let e: EngineTimes;
        let p: PeerTimes;
        if (r % 2 === 0) {
          e = await engine();
          p = peer();
        } else {
          p = peer();
          e = await engine();
        }
        const say = (x: EngineTimes | PeerTimes) => (x.available ? `train ${x.trainSeconds.toFixed(3)} s, with eval ${x.epochSeconds.toFixed(3)} s` : x.reason);
        process.stderr.write(`  round ${r + 1} ${m.id} ${threads} thread(s): torch engine ${say(e)}; peer ${say(p)}\n`);
        torchRuns.get(key)!.push({ engine: e, peer: p });
      }
    }
  }
  const paired = new Map<string, PairedTimes>();
  for (const m of speedModels) {
    if (!torch || Number(values.pairs) <= 0) break;
    const p = await measurePaired(torch, experimentFor(m.layers, 1), m.id, 1, Number(values.pairs));
    process.stderr.write(`  paired in one process, ${m.id}, 1 thread: ${p.available ? `engine/peer train ${p.engineOverPeerTrain.toFixed(3)}, epoch ${p.engineOverPeerEpoch.toFixed(3)} (${p.pairs} pairs)` : p.reason}\n`);
    paired.set(m.id, p);
  }
  const cpuRuns = new Map<string, Measurement>();
  for (const m of speedModels) if (!values['skip-cpu']) cpuRuns.set(m.id, await measure(m.id, m.layers, 'cpu', cpuEpochs));
  const memory = values['skip-rss'] || values['only-probes'] || onlyLabelErrors ? null : await peakMemory(torch, Number(values['first-epoch-runs']), Number(values['rss-epochs']));

  const rows = speedModels.map((m) => {
    const wasm = wasmRuns.get(m.id)!;
    const cpu = cpuRuns.get(m.id);
    const wasmEpoch = median(wasm.map((w) => w.secondsPerEpoch));
    const torchRows = torch ? threadCounts.map((t) => torchRow(t, torchRuns.get(`${m.id}/${t}`)!, wasm)) : [];
    const one = torchRows.find((x) => x.threads === 1 && !('unavailable' in x)) as Extract<ReturnType<typeof torchRow>, { peerTrain: number }> | undefined;
    const peer1 = (torchRuns.get(`${m.id}/1`) ?? []).map((x) => x.peer);
    return {
      model: m.id,
      label: m.label,
      wasm: wasmEpoch,
      cpu: cpu?.secondsPerEpoch ?? null,
      cpuOverWasm: cpu ? cpu.secondsPerEpoch / wasmEpoch : null,
      wasmTrain: medianOrNull(wasm.map((w) => w.trainSecondsPerEpoch)),
      // The peer at one thread, as before the torch engine existed.
      pytorchTrain: one?.peerTrain ?? null,
      pytorchEpoch: one?.peerEpoch ?? null,
      wasmTrainOverPytorch: one ? medianOrNull(wasm.map((w, i) => (w.trainSecondsPerEpoch === null || !peer1[i].available ? null : w.trainSecondsPerEpoch / (peer1[i] as { trainSeconds: number }).trainSeconds))) : null,
      wasmOverPytorch: one ? medianOrNull(wasm.map((w, i) => (peer1[i].available ? w.secondsPerEpoch / (peer1[i] as { epochSeconds: number }).epochSeconds : null))) : null,
      torch: torchRows,
      // The engine's loop and the peer's alternating epoch by epoch in one process, one thread.
      paired: paired.get(m.id) ?? null,
    };
  });
  const report = {
    time: new Date().toISOString(),
    node: process.version,
    evalThread,
    cpus: cores,
    cpuModel: os.cpus()[0]?.model,
    loadAverage: os.loadavg(),
    examplesPerEpoch: Math.round(0.5 * 97 * 97),
    batchSize: 512,
    rounds,
    note: `seconds per epoch: training steps plus accuracy on the full train and test sets; *Train: the training steps alone. wasm: train() in this process (${wasmEpochs} epochs a round, the first dropped); torch engine: python -m reglens.engine through trainOnTorch (as engine.js runs it, ${torchEpochs} epochs a round, the first dropped) with REGLENS_TORCH_THREADS; peer: the same model, data, AdamW and batch in hand-written PyTorch (bench/peer/torch_epoch.py, same thread count, first epoch dropped). Each round runs wasm, then the engine and the peer (alternating who goes first); values are medians over ${rounds} rounds, ratios medians of the per-round ratios. pytorch*: the peer at one thread.`,
    torch: !torch ? null : torch.available ? { python: torch.python, torch: torch.check.torch, device: torch.check.device, selfCheckSeconds: torch.selfCheckSeconds } : { unavailable: torch.reason },
    rows,
    measurements: { wasm: Object.fromEntries(wasmRuns), cpu: Object.fromEntries(cpuRuns), torch: Object.fromEntries(torchRuns) },
    // Fork of dist/engine.js to its first epoch event on examples/grok-corrupted, median of N, with phases (bench/firstEpoch.ts).
    firstEpoch,
    // Peak RSS of each engine on the grok example with its probes (bench/engineRss.ts).
    memory,
    // Probe speed (bench/probeBench.ts): ablation rank-1 vs per-unit loop, MC dropout, RSS.
    probes,
    // Model-code analysis of a 5,000-line file (bench/analysis.ts): full and one-character-edit medians.
    analysis: values['skip-analysis'] || onlyLabelErrors ? null : await runAnalysisBench(),
    // The workspace index on 1,000 Python files (bench/workspaceIndex.ts): total, per file, longest slice, memory.
    workspaceIndex: values['skip-workspace-index'] || onlyLabelErrors ? null : await runWorkspaceIndexBench(),
    // The labelErrors probe's per-epoch cost, with vs without, each engine (bench/labelErrorsOverhead.ts).
    labelErrors:
      values['skip-label-errors'] || values['only-probes']
        ? null
        : {
            components: await benchLabelErrorComponents(torch?.available ? torch.python : undefined),
            wholeRuns: await benchLabelErrorOverhead([{ backend: 'wasm' }, ...(torch?.available ? [{ backend: 'torch' as const, python: torch.python }] : [])], rounds, Number(values['label-error-epochs'])),
          },
    // `reglens lint` on 1,000 corpus copies, bundled CLI in a fresh process (bench/lintBench.ts): wall time and peak RSS.
    lint: values['skip-lint'] || onlyLabelErrors ? null : runLintBench(),
  };
  fs.mkdirSync(path.dirname(path.resolve(values.out!)), { recursive: true });
  fs.writeFileSync(values.out!, JSON.stringify(report, null, 2) + '\n');
  printReport(report);
  console.log(`\nwritten to ${values.out}`);
}

function printReport(report: {
  rows: {
    label: string;
    wasm: number;
    cpu: number | null;
    cpuOverWasm: number | null;
    wasmTrain: number | null;
    torch: ReturnType<typeof torchRow>[];
    paired: PairedTimes | null;
  }[];
  firstEpoch: Awaited<ReturnType<typeof firstEpochs>> | null;
  memory: Awaited<ReturnType<typeof peakMemory>> | null;
  probes: Awaited<ReturnType<typeof benchProbes>> | null;
  analysis: Awaited<ReturnType<typeof runAnalysisBench>> | null;
  workspaceIndex: Awaited<ReturnType<typeof runWorkspaceIndexBench>> | null;
  labelErrors: { components: Awaited<ReturnType<typeof benchLabelErrorComponents>>; wholeRuns: Awaited<ReturnType<typeof benchLabelErrorOverhead>> } | null;
  lint: ReturnType<typeof runLintBench> | null;
  torch: unknown;
}): void {
  const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const ratio = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${x.toFixed(2)}x`);
  const { rows } = report;
  const w = Math.max(5, ...rows.map((r) => r.label.length));
  console.log(`\n${'model'.padEnd(w)}  wasm s/epoch  wasm train  cpu s/epoch  cpu/wasm`);
  for (const r of rows) console.log(`${r.label.padEnd(w)}  ${fmt(r.wasm).padStart(12)}  ${fmt(r.wasmTrain).padStart(10)}  ${fmt(r.cpu).padStart(11)}  ${ratio(r.cpuOverWasm).padStart(8)}`);
  if (report.torch) {
    console.log(`\n${'model'.padEnd(w)}  threads | train: torch engine  peer  engine/peer (<= 1.15)  wasm/engine | epoch with eval: torch engine  peer  engine/peer  wasm/engine`);
    for (const r of rows) {
      for (const t of r.torch) {
        if ('unavailable' in t) {
          console.log(`${r.label.padEnd(w)}  ${String(t.threads).padStart(7)} | unavailable: ${t.unavailable}`);
          continue;
        }
        console.log(
          `${r.label.padEnd(w)}  ${String(t.threads).padStart(7)} | ${fmt(t.engineTrain).padStart(19)}  ${fmt(t.peerTrain).padStart(4)}  ${ratio(t.engineOverPeerTrain).padStart(21)}  ${ratio(t.wasmOverEngineTrain).padStart(11)} | ${fmt(t.engineEpoch).padStart(29)}  ${fmt(t.peerEpoch).padStart(4)}  ${ratio(t.engineOverPeerEpoch).padStart(11)}  ${ratio(t.wasmOverEngineEpoch).padStart(11)}`,
        );
      }
    }
  }
  for (const r of rows) {
    const p = r.paired;
    if (!p) continue;
    const text = p.available
      ? `engine/peer train ${ratio(p.engineOverPeerTrain)} (${fmt(p.engineTrain)} vs ${fmt(p.peerTrain)} s; engine faster in ${p.pairsEngineFasterTrain} of ${p.pairs} pairs), epoch with eval ${ratio(p.engineOverPeerEpoch)}`
      : `unavailable: ${p.reason}`;
    console.log(`paired epochs in one process, 1 thread, ${r.label}: ${text}`);
  }
  const fe = report.firstEpoch;
  if (fe) {
    console.log('');
    for (const r of [fe.wasm, fe.torch]) console.log('unavailable' in r ? `time to first epoch, torch: unavailable: ${r.unavailable}` : formatFirstEpoch(r));
    const imp = fe.importTorchSeconds;
    if (typeof imp === 'number') {
      const torchFirst = 'unavailable' in fe.torch ? null : fe.torch.medianSeconds;
      console.log(`Python's own import of torch (python -c 'import torch', timed inside): ${imp.toFixed(2)} s median${torchFirst === null ? '' : `; torch's first epoch without it: ${(torchFirst - imp).toFixed(2)} s`}`);
    } else if (imp) console.log(`import torch: unavailable: ${imp.unavailable}`);
  }
  const mem = report.memory;
  if (mem) {
    const cell = (x: { unavailable: string } | { medianMiB: number | null } | null) => (!x ? '-' : 'unavailable' in x ? `unavailable: ${x.unavailable}` : x.medianMiB === null ? '-' : `${x.medianMiB.toFixed(0)} MiB`);
    console.log(`
peak RSS (${mem.experiment}, median): wasm engine.js ${cell(mem.wasm)}; torch: Python engine ${cell(mem.torch)}, engine.js beside it ${cell(mem.torchEngineJs)}`);
  }
  if (report.probes) {
    const p = report.probes;
    console.log(`\nablation, 512 units: rank-1 ${p.ablation.rank1Seconds.toFixed(2)} s, per-unit loop ${p.ablation.loopSeconds.toFixed(2)} s (${p.ablation.loopOverRank1.toFixed(1)}x), batched ${p.ablation.batchedSeconds.toFixed(2)} s`);
    console.log(`MC dropout T=30 x 5000: ${p.mcDropout.seconds.toFixed(2)} s; peak RSS ${p.rssMiB.maxRss.toFixed(0)} MiB`);
  }
  if (report.analysis) {
    const a = report.analysis;
    console.log(`\nanalysis, ${a.lines} lines: full ${a.analyzeFullMedianMs} ms, one-character edit ${a.analyzeIncrementalMedianMs} ms (budget ${a.budgetMs} ms), parse alone ${a.parseOnlyMedianMs} ms`);
    console.log(`  with the workspace index on (${a.indexedFiles} files): one-character edit ${a.analyzeIncrementalWithIndexMedianMs} ms (p90 ${a.analyzeIncrementalWithIndexP90Ms} ms), summary update once typing pauses ${a.summaryUpdateMedianMs} ms`);
  }
  if (report.workspaceIndex) {
    const w = report.workspaceIndex;
    console.log(
      `workspace index, ${w.files} files (${w.lines} lines): ${w.totalMs} ms, per file ${w.perFileMedianMs} ms (p90 ${w.perFileP90Ms}), longest slice ${w.longestSliceMs} ms (CPU ${w.longestSliceCpuMs} ms) ` +
        `(${w.slicesOver16Ms} over 16 ms), event-loop max delay ${w.eventLoopMaxDelayMs} ms, peak RSS ${w.peakRssMiB} MiB, index heap ${w.indexHeapMiB} MiB, re-index one file ${w.reindexOneFileMedianMs} ms`,
    );
  }
  if (report.labelErrors) {
    console.log('\nlabelErrors probe, its per-epoch pieces against the epoch (target < 5%):');
    for (const r of report.labelErrors.components) {
      console.log(`  ${r.engine.padEnd(5)} ${r.case}: epoch ${r.epochSeconds.toFixed(3)} s; margins ${(r.margins * 1000).toFixed(1)} ms, update ${(r.update * 1000).toFixed(1)} ms, weight copy ${(r.snapshot * 1000).toFixed(1)} ms: ${(r.overhead * 100).toFixed(1)}%`);
    }
    console.log('labelErrors probe, whole runs: seconds per epoch without / with it, and the end-of-run pass:');
    for (const r of report.labelErrors.wholeRuns) {
      console.log(`  ${r.engine.padEnd(5)} ${r.label}: ${r.offSeconds.toFixed(3)} / ${r.onSeconds.toFixed(3)} s, overhead ${(r.overhead * 100).toFixed(1)}%; after the last epoch ${r.tailOffSeconds.toFixed(2)} -> ${r.tailOnSeconds.toFixed(2)} s`);
    }
  }
  if (report.lint) console.log(formatLintBench(report.lint));
}

// The bundle also runs train()'s evaluation thread, which must not start the benchmark.
if (!isEvalThread()) {
  main().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exitCode = 1;
  });
}
