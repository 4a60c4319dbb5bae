// The probes a training run carries (experiment.probes): train.ts calls afterEpoch after
// every epoch event and afterTraining once at the end; each emits `probe` events.
// Probes read the model in inference mode and never change its weights.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { EngineEvent, EpochEvent, Probe } from '../../protocol/engineMessages';
import type { LayerSpec, ProbesSpec } from '../../protocol/experiment';
import type { Model } from '../model';
import { saveModel } from '../modelSource';
import { ablationScores, EvalData, maskedHits, prefixHits, toAccuracy } from './ablation';
import { detectDynamics } from './dynamics';
import { iprToMemorization, neuronIpr } from './fourier';
import { LabelErrorsRun, type EpochEval, type LabelErrorsState } from './labelErrorsProbe';
import { mcDropoutProbe } from './mcDropout';
import { HiddenLayer, ProbeNetwork, probeNetwork } from './network';
import { otsuThreshold, spearman } from './stats';

export interface ProbeData {
  xTrain: tf.Tensor2D;
  xTest: tf.Tensor2D;
  /** Training labels as trained on (corrupted where corrupted[i] = 1). */
  trainLabels: Int32Array;
  corrupted: Uint8Array;
  testLabels: Int32Array;
  /** Modulus when the dataset is modular arithmetic (enables the Fourier IPR). */
  modularP?: number;
  /** Image shape when rows are grayscale images (mostUncertain then carries pixels). */
  image?: { width: number; height: number };
}

export interface ProbeContext {
  model: Model;
  layers: LayerSpec[];
  spec: ProbesSpec | undefined;
  data: ProbeData;
  seed: number;
  totalEpochs: number;
  /** Class count and each training row's index in its source (the labelErrors probe). */
  classes?: number;
  source?: Int32Array;
  onEvent: (e: EngineEvent) => void;
  /** The run folder; probes.pruning.save writes <runDir>/pruned-model/ there. */
  runDir?: string;
}

export interface Probes {
  /** Whether afterEpoch(epoch) reads the model: then it must run before training goes on. */
  readsModelAfter(epoch: number): boolean;
  /** Whether the evaluation after each epoch must return the training rows' margins (EpochEval.trainMargin). */
  readonly wantsTrainMargins: boolean;
  afterEpoch(e: EpochEvent, ev?: EpochEval): Promise<void>;
  afterTraining(epochsDone: number): Promise<void>;
  /**
   * What the probes have gathered across epochs (the dynamics series, the labelErrors
   * bookkeeping and best-epoch weights, the MC round), for a run's checkpoint: without it a
   * requeued run would rank label errors and detect dynamics from its resumed epochs only.
   */
  saveState(): ProbesState;
  restoreState(state: ProbesState): void;
  dispose(): void;
}

export interface ProbesState {
  json: ProbesStateJson;
  arrays: Float32Array[];
}

export interface ProbesStateJson {
  lastEpoch: number;
  mcRound: number;
  history: { epoch: number; trainLoss: number; testLoss: number; corruptedTrain: number | null }[];
  labelErrorsFailed: boolean;
  labelErrors?: LabelErrorsState;
}

type Method = 'ipr' | 'ablation';
interface Scores {
  layer: HiddenLayer;
  method: Method;
  /** Higher = more memorizing. */
  scores: number[];
  raw: number[];
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function buildEvalData(d: ProbeData): EvalData {
  const nTrain = d.trainLabels.length;
  const nTest = d.testLabels.length;
  const labels = new Int32Array(nTrain + nTest);
  labels.set(d.trainLabels);
  labels.set(d.testLabels, nTrain);
  const group = new Uint8Array(nTrain + nTest).fill(2);
  const counts: [number, number, number] = [0, 0, nTest];
  for (let i = 0; i < nTrain; i++) {
    group[i] = d.corrupted[i] ? 1 : 0;
    counts[group[i]]++;
  }
  return { x: tf.concat([d.xTrain, d.xTest], 0), labels, group, counts };
}

/** IPR applies to the first layer of a modular-arithmetic model (one-hot(m) ++ one-hot(n) inputs). */
function iprApplies(ctx: ProbeContext, layer: HiddenLayer): boolean {
  const p = ctx.data.modularP;
  return p !== undefined && layer.denseIndex === 0 && ctx.model.dense[0].kernel.shape[0] === 2 * p;
}

export function memorizationScores(ctx: ProbeContext, net: ProbeNetwork, eval_: () => EvalData, want: 'auto' | Method, layerName?: string): { scores: Scores; probe: Probe } {
  const defaultLayer = want === 'ablation' || ctx.data.modularP === undefined ? net.hidden[net.hidden.length - 1] : net.hidden[0];
  const layer = layerName ? net.layer(layerName) : defaultLayer;
  if (!layer) throw new Error(`probes: no hidden layer ${layerName ?? ''} to score (hidden layers: ${net.hidden.map((l) => l.name).join(', ') || 'none'})`);
  let method: Method = want === 'auto' ? (iprApplies(ctx, layer) ? 'ipr' : 'ablation') : want;
  if (method === 'ipr' && !iprApplies(ctx, layer)) {
    ctx.onEvent({ type: 'log', level: 'warning', message: `probes.memorization: IPR needs the first layer of a modular-arithmetic model; using ablation on ${layer.name}` });
    method = 'ablation';
  }
  if (method === 'ipr') {
    const p = ctx.data.modularP!;
    const kernel = ctx.model.dense[0].kernel.dataSync() as Float32Array;
    const next = ctx.model.dense[1]?.kernel;
    const out = next && next.shape[1] === p ? (next.dataSync() as Float32Array) : undefined;
    const r = neuronIpr(kernel, layer.units, p, out);
    const scores = iprToMemorization(r.ipr);
    return {
      scores: { layer, method, scores, raw: r.ipr },
      probe: {
        kind: 'neuronScores',
        layer: layer.name,
        method,
        scores,
        raw: r.ipr,
        detail: { spectrum: r.spectrum, ...(r.outputIpr ? { outputIpr: r.outputIpr } : {}) },
      },
    };
  }
  if (net.unsupported) throw new Error(`ablation scores unavailable: ${net.unsupported}`);
  const a = ablationScores(net, layer, eval_());
  return {
    scores: { layer, method, scores: a.score, raw: a.score },
    probe: {
      kind: 'neuronScores',
      layer: layer.name,
      method,
      scores: a.score,
      raw: a.score,
      detail: { cleanDrop: a.cleanDrop, corruptedDrop: a.corruptedDrop, testDrop: a.testDrop },
    },
  };
}

/** Unit indices, most memorizing first (ties by index, so the order is deterministic). */
function memorizingOrder(s: Scores): number[] {
  return Array.from({ length: s.layer.units }, (_, i) => i).sort((a, b) => s.scores[b] - s.scores[a] || a - b);
}

/** Folder (inside the run folder) and file the pruned model goes to; savedModel is relative to the run folder. */
export const PRUNED_MODEL_DIR = 'pruned-model';

/**
 * Saves the model with the memorizing mode of `s.layer` pruned (the Otsu split the pruning
 * probe reports). Zeroing unit j of dense_i's block output equals zeroing row j of the next
 * dense kernel, so the saved model is a plain model: no mask to carry, any consumer of the
 * weights gets the pruned network.
 */
export function savePrunedModel(runDir: string, model: Model, layers: LayerSpec[], s: Scores, pruned: number, accuracy: Record<string, unknown>): string {
  const units = memorizingOrder(s).slice(0, pruned).sort((a, b) => a - b);
  const next = `dense_${s.layer.denseIndex + 1}/kernel`;
  const weights = model.namedWeights().map(({ name, variable }) => {
    const values = Float32Array.from(variable.dataSync() as Float32Array);
    if (name === next) {
      const cols = variable.shape[1]!;
      for (const j of units) values.fill(0, j * cols, (j + 1) * cols);
    }
    return { name, shape: variable.shape, values };
  });
  saveModel(path.join(runDir, PRUNED_MODEL_DIR), layers, model.inputSize, weights, {
    pruned: { layer: s.layer.name, method: s.method, units, of: s.layer.units, accuracy },
  });
  return `${PRUNED_MODEL_DIR}/model.json`;
}

/**
 * Cumulative pruning (METHODS §1): zero units in order of memorization score (most
 * memorizing first; the reverse order as the control) and record the three accuracies.
 * The counts are `steps` even points plus the split between the two modes of the raw
 * score histogram (Otsu), so the "prune the memorizing mode" result is always a point.
 */
export function pruningProbe(net: ProbeNetwork, s: Scores, data: EvalData, steps: number): Extract<Probe, { kind: 'pruning' }> {
  const H = s.layer.units;
  const memFirst = memorizingOrder(s);
  const genFirst = [...memFirst].reverse();
  const threshold = otsuThreshold(s.raw);
  // IPR: low raw = memorizing; ablation: high raw = memorizing.
  const split = s.raw.filter((v) => (s.method === 'ipr' ? v <= threshold : v > threshold)).length;
  const counts = [...new Set([...Array.from({ length: steps + 1 }, (_, i) => Math.round((i * H) / steps)), split])].sort((a, b) => a - b);
  const masks = new Float32Array(2 * counts.length * H).fill(1);
  counts.forEach((k, r) => {
    for (let i = 0; i < k; i++) {
      masks[r * H + memFirst[i]] = 0;
      masks[(counts.length + r) * H + genFirst[i]] = 0;
    }
  });
  const hits = maskedHits(net, s.layer, data, masks);
  const curve = (offset: number) => {
    const accs = counts.map((_, r) => toAccuracy(hits, data.counts, (offset + r) * 3));
    return { cleanTrain: accs.map((a) => a.cleanTrain), corruptedTrain: accs.map((a) => a.corruptedTrain), test: accs.map((a) => a.test) };
  };
  return {
    kind: 'pruning',
    layer: s.layer.name,
    method: s.method,
    pruned: counts,
    units: H,
    memorizingFirst: curve(0),
    generalizingFirst: curve(counts.length),
    rawAtPruned: counts.map((k) => (k === 0 ? null : s.raw[memFirst[k - 1]])),
    modeSplit: { pruned: split, threshold },
  };
}

/** Truncation curve acc(k) on test, K* = argmax_k (acc_k - 1e-5 k), importance = test drop when the unit alone is zeroed (METHODS §2). */
export function nestedOrderingProbe(net: ProbeNetwork, layer: HiddenLayer, data: EvalData): Extract<Probe, { kind: 'nestedOrdering' }> {
  const H = layer.units;
  const hits = prefixHits(net, layer, data);
  const accuracy = Array.from({ length: H }, (_, k) => toAccuracy(hits, data.counts, k * 3).test);
  let kStar = 1;
  for (let k = 1; k <= H; k++) if (accuracy[k - 1] - 1e-5 * k > accuracy[kStar - 1] - 1e-5 * kStar) kStar = k;
  const importance = ablationScores(net, layer, data).testDrop;
  return {
    kind: 'nestedOrdering',
    layer: layer.name,
    k: Array.from({ length: H }, (_, k) => k + 1),
    accuracy,
    kStar,
    importance,
    rankCorrelation: spearman(
      Array.from({ length: H }, (_, i) => i),
      importance,
    ),
  };
}

const NOOP: Probes = {
  readsModelAfter: () => false,
  wantsTrainMargins: false,
  afterEpoch: async () => undefined,
  afterTraining: async () => undefined,
  saveState: () => ({ json: { lastEpoch: 0, mcRound: 0, history: [], labelErrorsFailed: false }, arrays: [] }),
  restoreState: () => undefined,
  dispose: () => undefined,
};

export function createProbes(ctx: ProbeContext): Probes {
  const spec = ctx.spec;
  if (!spec || Object.values(spec).every((v) => v === undefined)) return NOOP;
  const net = probeNetwork(ctx.model, ctx.layers);
  let evalData: EvalData | undefined;
  const data = () => (evalData ??= buildEvalData(ctx.data));
  const nTrain = ctx.data.trainLabels.length;
  let history: ProbesStateJson['history'] = [];
  let mcRound = 0;
  let lastEpoch = 0;
  const labelErrors = spec.labelErrors
    ? new LabelErrorsRun(spec.labelErrors, ctx.model, net, {
        xTrain: ctx.data.xTrain,
        trainLabels: ctx.data.trainLabels,
        corrupted: ctx.data.corrupted,
        source: ctx.source,
        classes: ctx.classes ?? ctx.model.outputSize,
        image: ctx.data.image,
      }, ctx.seed)
    : undefined;
  let labelErrorsFailed = false;

  const emit = (epoch: number, probe: Probe) => ctx.onEvent({ type: 'probe', epoch, probe });
  // A failing probe must not kill the run: it becomes a warning (issue 3, "never crash mid-run").
  const guarded = async (what: string, f: () => void) => {
    try {
      f();
    } catch (err) {
      ctx.onEvent({ type: 'log', level: 'warning', message: `probe ${what} failed: ${(err as Error).message}` });
    }
    await yieldToEventLoop();
  };

  const testLoss = (): number =>
    tf.tidy(() => {
      const logits = ctx.model.apply(ctx.data.xTest, false);
      const y = tf.oneHot(tf.tensor1d(ctx.data.testLabels, 'int32'), logits.shape[1]);
      return tf.losses.softmaxCrossEntropy(y, logits).dataSync()[0];
    });

  const memorization = (epoch: number) =>
    guarded('memorization', () => {
      const m = spec.memorization!;
      const primary = memorizationScores(ctx, net, data, m.method, m.layer).probe;
      emit(epoch, primary);
      // The primary layer first: it is the one the dashboard shows until the user picks another.
      const more = m.alsoLayers === 'all' ? net.hidden.map((l) => l.name) : (m.alsoLayers ?? []);
      const done = new Set([primary.kind === 'neuronScores' ? primary.layer : '']);
      for (const name of more) {
        if (done.has(name)) continue;
        done.add(name);
        // IPR fits only the first layer of a modular model: elsewhere 'auto' picks ablation quietly.
        emit(epoch, memorizationScores(ctx, net, data, m.method === 'ablation' ? 'ablation' : 'auto', name).probe);
      }
    });
  const dynamics = (epoch: number) =>
    guarded('dynamics', () => {
      const d = detectDynamics(history);
      emit(epoch, {
        kind: 'dynamics',
        ...d,
        series: {
          epoch: history.map((h) => h.epoch),
          trainLoss: history.map((h) => h.trainLoss),
          testLoss: history.map((h) => h.testLoss),
          corruptedTrain: history.map((h) => h.corruptedTrain),
        },
      });
    });
  const mc = (epoch: number) =>
    guarded('mcDropout', () => {
      const m = spec.mcDropout!;
      emit(
        epoch,
        mcDropoutProbe(net, data(), {
          passes: m.passes,
          examples: m.examples,
          seed: ctx.seed + epoch,
          round: mcRound++,
          evalLogits: (x) => ctx.model.apply(x, false),
          image: ctx.data.image,
          nTrain,
        }),
      );
    });

  // A periodic probe's schedule: every k epochs, except the last (afterTraining covers it).
  const due = (every: number | undefined, epoch: number) => every !== undefined && every > 0 && epoch % every === 0 && epoch !== ctx.totalEpochs;
  return {
    readsModelAfter(epoch) {
      return due(spec.dynamics?.every, epoch) || due(spec.memorization?.every, epoch) || due(spec.mcDropout?.every, epoch);
    },
    wantsTrainMargins: labelErrors !== undefined,
    async afterEpoch(e, ev) {
      lastEpoch = e.epoch;
      if (labelErrors && !labelErrorsFailed && ev) {
        try {
          labelErrors.afterEpoch(e, ev);
        } catch (err) {
          // Once: the bookkeeping of later epochs would be incomplete anyway.
          labelErrorsFailed = true;
          ctx.onEvent({ type: 'log', level: 'warning', message: `probe labelErrors failed: ${(err as Error).message}` });
        }
      }
      if (spec.dynamics) {
        history.push({
          epoch: e.epoch,
          trainLoss: e.loss,
          testLoss: e.testLoss ?? testLoss(),
          corruptedTrain: e.accuracy.corruptedTrain,
        });
        if (due(spec.dynamics.every, e.epoch)) await dynamics(e.epoch);
      }
      if (due(spec.memorization?.every, e.epoch)) await memorization(e.epoch);
      if (due(spec.mcDropout?.every, e.epoch)) await mc(e.epoch);
    },
    async afterTraining(epochsDone) {
      const epoch = epochsDone || lastEpoch;
      if (spec.memorization) await memorization(epoch);
      if (spec.pruning) {
        const p = spec.pruning;
        await guarded('pruning', () => {
          if (net.unsupported) throw new Error(net.unsupported);
          const m = spec.memorization;
          const { scores } = memorizationScores(ctx, net, data, m?.method ?? 'auto', m?.layer);
          const probe = pruningProbe(net, scores, data(), p.steps);
          if (p.save) {
            if (!ctx.runDir) {
              probe.saveNote = 'not saved: the engine was started without a run folder (runDir)';
            } else {
              const split = probe.modeSplit?.pruned ?? 0;
              const at = probe.pruned.indexOf(split);
              try {
                probe.savedModel = savePrunedModel(ctx.runDir, ctx.model, ctx.layers, scores, split, {
                  cleanTrain: probe.memorizingFirst.cleanTrain[at],
                  corruptedTrain: probe.memorizingFirst.corruptedTrain[at],
                  test: probe.memorizingFirst.test[at],
                });
              } catch (err) {
                probe.saveNote = `not saved: ${(err as Error).message}`;
              }
            }
          }
          emit(epoch, probe);
        });
      }
      if (spec.mcDropout) await mc(epoch);
      if (spec.nestedOrdering) {
        await guarded('nestedOrdering', () => {
          if (net.unsupported) throw new Error(net.unsupported);
          const name = spec.nestedOrdering!.layer ?? net.nestedLayers[0] ?? net.hidden[net.hidden.length - 1]?.name;
          const layer = name ? net.layer(name) : undefined;
          if (!layer) throw new Error(`no hidden layer ${name ?? ''} to truncate`);
          emit(epoch, nestedOrderingProbe(net, layer, data()));
        });
      }
      if (spec.dynamics) await dynamics(epoch);
      if (labelErrors && !labelErrorsFailed) await guarded('labelErrors', () => emit(epoch, labelErrors.finish(epochsDone)));
    },
    saveState() {
      const le = labelErrors?.saveState();
      return {
        json: { lastEpoch, mcRound, history: history.map((h) => ({ ...h })), labelErrorsFailed, ...(le ? { labelErrors: le.json } : {}) },
        arrays: le?.arrays ?? [],
      };
    },
    restoreState(state) {
      ({ lastEpoch, mcRound, labelErrorsFailed } = state.json);
      history = state.json.history.map((h) => ({ ...h }));
      if (labelErrors && state.json.labelErrors) labelErrors.restoreState(state.json.labelErrors, state.arrays);
      else if (labelErrors && !labelErrorsFailed) throw new Error('the checkpoint has no labelErrors bookkeeping although the experiment asks for it');
    },
    dispose() {
      evalData?.x.dispose();
      evalData = undefined;
    },
  };
}
