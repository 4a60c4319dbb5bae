// Per-epoch cost of the labelErrors probe for `npm run bench` (issue 17: < 5% target): the same
// run with and without probes.labelErrors, interleaved round by round on each engine, on the
// grok example (4,704 training pairs, 97 classes) and on an MNIST MLP (5,000 digits, dropout).
// An epoch's time is the wall time between consecutive epoch events as they arrive (so the
// probe's per-epoch bookkeeping after the event counts too), median over epochs 2..E; the
// probe's one-off end-of-run pass (probabilities, dropout passes, payload) is reported apart,
// as the time from the last epoch event to the probe event.
import { parseExperiment, type ExperimentInput } from '../src/protocol/experiment';
import { collectRun, median, type RunEngine } from './benchShared';

interface Case {
  id: string;
  label: string;
  spec: (withProbe: boolean, epochs: number) => ExperimentInput;
}

const GROK_LAYERS: ExperimentInput['model']['layers'] = [
  { type: 'dense', units: 512, useBias: false, init: 'normal', initStd: 0.1 },
  { type: 'activation', fn: 'square' },
  { type: 'dense', units: 97, useBias: false, init: 'normal', initStd: 0.0441941738 },
];

export const OVERHEAD_CASES: Case[] = [
  {
    id: 'grok-quadratic',
    label: 'grok quadratic 194-512-97, 4,704 train pairs, batch 512',
    spec: (withProbe, epochs) => ({
      name: 'bench label errors',
      seed: 0,
      dataset: { kind: 'modular', p: 97, operation: 'add', trainFraction: 0.5, labelNoise: { kind: 'symmetric', rate: 0.3 } },
      model: { layers: GROK_LAYERS },
      training: { epochs, batchSize: 512, optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.98, weightDecay: 5 } },
      ...(withProbe ? { probes: { labelErrors: {} } } : {}),
    }),
  },
  {
    id: 'mnist-mlp',
    label: 'MNIST MLP 784-256-dropout-10, 5,000 train digits, batch 128',
    spec: (withProbe, epochs) => ({
      name: 'bench label errors',
      seed: 0,
      dataset: { kind: 'mnist', train: 5000, test: 1000, labelNoise: { kind: 'symmetric', rate: 0.4 } },
      model: { layers: [{ type: 'dense', units: 256 }, { type: 'activation', fn: 'relu' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 10 }] },
      training: { epochs, batchSize: 128, optimizer: { kind: 'adam', lr: 1e-3 } },
      ...(withProbe ? { probes: { labelErrors: {} } } : {}),
    }),
  },
];

interface Timed {
  epochSeconds: number;
  /** Last epoch event to the end of the run (the probes after training, finished, the process's exit). */
  tailSeconds: number;
}

async function timedRun(spec: ExperimentInput, engine: RunEngine): Promise<Timed> {
  const arrivals: number[] = [];
  const r = await collectRun(parseExperiment(spec), engine, () => arrivals.push(performance.now()));
  if (r.failed) throw new Error(`label-error overhead run failed: ${r.failed}`);
  const end = performance.now();
  if (spec.probes?.labelErrors && !r.probes.some((p) => p.probe.kind === 'labelErrors')) throw new Error(`no labelErrors probe: ${r.logs.join('; ')}`);
  const gaps = arrivals.slice(1).map((t, i) => (t - arrivals[i]) / 1000);
  return { epochSeconds: median(gaps.slice(1)), tailSeconds: (end - arrivals[arrivals.length - 1]) / 1000 };
}

export interface OverheadRow {
  case: string;
  label: string;
  engine: string;
  epochs: number;
  rounds: number;
  offSeconds: number;
  onSeconds: number;
  /** Median over rounds of on / off - 1 (the rounds pair runs made side by side). */
  overhead: number;
  /** Median seconds from the last epoch event to the run's end, without and with the probe: the difference is its one-off end-of-run pass. */
  tailOffSeconds: number;
  tailOnSeconds: number;
  samples: { off: number[]; on: number[] };
}

/** Rounds of (off, on) runs per case and engine, alternating which goes first. */
export async function benchLabelErrorOverhead(engines: RunEngine[], rounds = 3, epochs = 8, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<OverheadRow[]> {
  const rows: OverheadRow[] = [];
  for (const engine of engines) {
    for (const c of OVERHEAD_CASES) {
      const off: number[] = [];
      const on: number[] = [];
      const tails: { off: number[]; on: number[] } = { off: [], on: [] };
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? [false, true] : [true, false];
        for (const withProbe of order) {
          const t = await timedRun(c.spec(withProbe, epochs), engine);
          (withProbe ? on : off).push(t.epochSeconds);
          tails[withProbe ? 'on' : 'off'].push(t.tailSeconds);
        }
        log(`  labelErrors overhead ${engine.backend} ${c.id} round ${r + 1}: off ${off[r].toFixed(3)} s, on ${on[r].toFixed(3)} s per epoch`);
      }
      rows.push({
        case: c.id,
        label: c.label,
        engine: engine.backend,
        epochs,
        rounds,
        offSeconds: median(off),
        onSeconds: median(on),
        overhead: median(on.map((v, i) => v / off[i] - 1)),
        tailOffSeconds: median(tails.off),
        tailOnSeconds: median(tails.on),
        samples: { off, on },
      });
    }
  }
  return rows;
}
