// The training loop: one experiment in, a stream of EngineEvents out. Runs in the
// engine child process (worker.ts) and in unit tests / the benchmark directly.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core ships gradients separately (the @tensorflow/tfjs bundle imports them for you).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { formatMonitored, monitorText, type EngineEvent, type Accuracy, type EarlyStoppingOutcome, type EpochEvent } from '../protocol/engineMessages';
import type { BackendName, Experiment, LayerSpec } from '../protocol/experiment';
import { selectBackend } from './backend';
import { nativeSearchDirs } from './nativeBackend';
import { Dataset, makeDataset } from './data/dataset';
import { accuracyOf, evaluateTest, oneHotTargets, predict, predictWithMargins } from './evaluate';
import { assignWeights, EvalThread, type EvalResult, weightsOf } from './evalThread';
import { buildModel, Model, ModelShapeError } from './model';
import { ModelSourceError, resolveModel } from './modelSource';
import { cutmixBatch } from './regularizers/cutmix';
import { l2Penalty, meanCE, multiSampleDropoutLoss, perSampleCE, smooth } from './regularizers/loss';
import { candidateMask, featureGroupMask, forgetRate, smallLossIndices } from './regularizers/sampling';
import { createProbes } from './probes/probes';
import { ExperimentShapeError, resolveGroups } from './experimentShape';
import { deriveRng, shuffle } from './prng';
import { startupClock } from './startupClock';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';

export interface TrainOptions {
  backend: BackendName;
  /** Folders searched for @tensorflow/tfjs-node(-gpu) after REGLENS_NATIVE_MODULES: the
   *  configured path, the workspace folder (its node_modules), the extension's global storage. */
  nativeModuleDirs?: string[];
  /** Relative dataset, topology and module paths resolve against this folder (the experiment file's). */
  baseDir?: string;
  /** The run folder: where artifacts such as the pruned model go. Without it nothing is saved. */
  runDir?: string;
  /** Continue from <runDir>/checkpoint.bin when there is one (training.checkpointEvery writes it). */
  resume?: boolean;
  signal?: AbortSignal;
  /**
   * Evaluate each epoch on a second thread while the next one trains (wasm only). 'auto'
   * (the default) does so when an evaluation is large enough to be worth a thread.
   */
  evalThread?: 'auto' | boolean;
  /**
   * Why faster engines earlier in the auto order were not used (no torch in the Python, ...):
   * recorded in started.backendNote before the backend's own note, but not logged as a
   * warning, since an engine that is not installed is the normal case under auto.
   */
  backendNotes?: string[];
  /** experiment.dataset already built (while the torch engine checked itself, before falling back here). */
  dataset?: Dataset;
  /** Phases (seconds) that ran in this process before train(), e.g. the engine's load; reported in started.startup. */
  startupPhases?: Record<string, number>;
  onEvent: (e: EngineEvent) => void;
  /**
   * Called once with the trained model after the last epoch (and any early-stopping
   * restore), before the probes read it: how the conformance tests compare the trained
   * weights with the PyTorch engine's. The model is disposed when train() returns.
   */
  onTrained?: (model: Model) => void;
}

/**
 * Below this much evaluation work per epoch (multiply-adds, ~10 ms on wasm) a second thread
 * costs more than it saves: its start-up loads the backend and a copy of the model.
 */
const EVAL_THREAD_MIN_MACS = 100e6;

/** Longest stretch of synchronous work before letting IPC (cancel) in. */
const YIELD_EVERY_MS = 100;

const now = () => new Date().toISOString();
const joinNotes = (notes: string[]) => (notes.length ? { backendNote: notes.join(' ') } : {});
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains the experiment, emitting started, one epoch event per epoch, then finished,
 * or failed (never throws). On cancellation it emits an info log and returns
 * without finished. The backend in the experiment, when set, wins over opts.backend.
 */
export async function train(experiment: Experiment, opts: TrainOptions): Promise<void> {
  const { onEvent, signal } = opts;
  const disposables: { dispose(): void }[] = [];
  // Emits an epoch still being evaluated on the eval thread (set once training starts).
  let flushPending: () => Promise<void> = async () => undefined;
  const phases = startupClock(opts.startupPhases);
  try {
    const nativeDirs = nativeSearchDirs(opts.nativeModuleDirs ?? []);
    const choice = experiment.backend ?? opts.backend;
    // worker.ts hands torch runs to the PyTorch engine before they get here.
    if (choice === 'torch') throw new Error('backend "torch" is trained by the PyTorch engine (src/engine/torchBridge.ts), not by the TF.js loop');
    let backend = await selectBackend(choice, { nativeDirs });
    phases.end('backend');
    const { dataset: ds, training, seed } = experiment;
    const baseDir = opts.baseDir ?? process.cwd();
    // The data first: a module's factory is told the input size and class count.
    const data: Dataset = opts.dataset ?? makeDataset(ds, seed, baseDir);
    phases.end('dataset');
    const resolved = await resolveModel(experiment.model, baseDir, { inputSize: data.inputSize, classes: data.classes, image: data.image, seed });
    const layers = resolved.layers;
    if (!experiment.model.layers.length) {
      onEvent({ type: 'log', level: 'info', message: `Model from ${experiment.model.topology ?? experiment.model.module?.path}: ${layers.map(describeLayer).join(' → ')}${resolved.weights ? ' (saved weights loaded)' : ''}` });
    }
    if (resolved.inputSize !== undefined && resolved.weights && resolved.inputSize !== data.inputSize) {
      throw new ExperimentShapeError(`model.topology: the saved model takes ${resolved.inputSize} inputs but the dataset has ${data.inputSize}`);
    }
    if (backend.name === 'wasm' && layers.some((l) => l.type === 'conv2d')) {
      // Checked before any tensor exists, so the whole run is on one backend.
      const cpu = await selectBackend('cpu');
      backend = {
        name: cpu.name,
        note: 'This run uses the cpu backend (slow): the model has conv2d layers and the wasm backend has no Conv2DBackpropFilter kernel to train them. Install @tensorflow/tfjs-node for fast convolutions.',
      };
    }
    if (backend.note) onEvent({ type: 'log', level: 'warning', message: backend.note });

    const regs = training.regularizers ?? {};
    const model: Model = buildModel(layers, data.inputSize, seed, data.image, 'init', resolved.weights);
    disposables.push(model);
    if (model.outputSize !== data.classes) {
      throw new ExperimentShapeError(
        `model.layers: the model outputs ${model.outputSize} values but the dataset has ${data.classes} classes; make the last dense layer ${data.classes} units wide`,
      );
    }
    if (regs.cutmix && !data.image) {
      throw new ExperimentShapeError(`training.regularizers.cutmix: CutMix pastes image patches and needs an image dataset (mnist), not ${data.kind}`);
    }
    const groups = regs.featureGroupDropout ? resolveGroups(regs.featureGroupDropout.groups, data) : [];
    // Co-teaching's peer: same architecture, its own initial weights.
    const peer = regs.coTeaching ? buildModel(layers, data.inputSize, seed, data.image, 'init-peer') : undefined;
    if (peer) disposables.push(peer);
    const tau = regs.coTeaching ? (regs.coTeaching.forgetRate ?? data.noiseRate) : 0;

    const nTrain = data.train.n;
    // Dense one-hot inputs on purpose for modular data: an XNNPACK matmul beats a row gather here (measured).
    const xTrain = tf.tensor2d(data.train.x, [nTrain, data.inputSize]);
    const xTest = tf.tensor2d(data.test.x, [data.test.n, data.inputSize]);
    // Training targets, label smoothing folded in once (CutMix mixes them further per batch).
    const yTrain = tf.tidy(() =>
      smooth(oneHotTargets(data.train.labels, data.classes), regs.labelSmoothing ?? 0),
    );
    const yTest = oneHotTargets(data.test.labels, data.classes);
    disposables.push(xTrain, xTest, yTrain, yTest);
    // Mini-batches are copied from host arrays: faster than tf.gather on wasm (bench/pairedEpochs.ts --variant hostBatch).
    const yTrainHost = yTrain.dataSync() as Float32Array;
    // Probes (experiment.probes) read the model after epochs and at the end (src/engine/probes).
    const probes = createProbes({
      model,
      layers,
      spec: experiment.probes,
      runDir: opts.runDir,
      data: {
        xTrain,
        xTest,
        trainLabels: data.train.labels,
        corrupted: data.train.corrupted,
        testLabels: data.test.labels,
        modularP: data.modular?.p,
        ...(data.image ? { image: { width: data.image.width, height: data.image.height } } : {}),
      },
      seed,
      totalEpochs: training.epochs,
      classes: data.classes,
      source: data.train.source,
      onEvent,
    });
    disposables.push(probes);

    const opt = training.optimizer;
    const makeOptimizer = () => (opt.kind === 'adam' ? tf.train.adam(opt.lr, opt.beta1, opt.beta2) : tf.train.sgd(opt.lr));
    const optimizer = makeOptimizer();
    disposables.push(optimizer);
    const peerOptimizer = peer ? makeOptimizer() : undefined;
    if (peerOptimizer) disposables.push(peerOptimizer);
    // Decoupled (AdamW) decay on every trainable variable, biases included, as
    // torch.optim.AdamW does by default. TF.js has no AdamW (METHODS §10).
    const decay = 1 - opt.lr * opt.weightDecay;
    phases.end('model');

    onEvent({
      type: 'started',
      time: now(),
      backend: backend.name,
      ...joinNotes([...(opts.backendNotes ?? []), ...(backend.note ? [backend.note] : [])]),
      totalEpochs: training.epochs,
      dataset: {
        train: nTrain,
        corrupted: data.train.corruptedCount,
        test: data.test.n,
        inputSize: data.inputSize,
        classes: data.classes,
      },
      parameters: model.parameters,
      startup: phases.report(),
    });

    const batchRng = deriveRng(seed, 'batches');
    const dropoutRng = deriveRng(seed, 'dropout');
    const nextSeed = () => Math.floor(dropoutRng() * 2 ** 31);
    // Separate streams so switching one regularizer on does not reshuffle the others.
    const nestedRng = deriveRng(seed, 'nested-dropout');
    const cutmixRng = deriveRng(seed, 'cutmix');
    const groupRng = deriveRng(seed, 'feature-groups');
    const candidateRng = deriveRng(seed, 'candidates');
    const msd = regs.multiSampleDropout;
    const l2 = regs.l2 ?? 0;
    const d = data.inputSize;
    const K = data.classes;

    /** The training loss of one network on a batch (what the optimizer minimises). */
    const lossOf = (m: Model, x: tf.Tensor2D, y: tf.Tensor2D, cand: tf.Tensor1D | undefined) => (): tf.Scalar => {
      let loss: tf.Scalar;
      if (msd) {
        const features = m.forward(x, { mode: 'train', nextSeed, rng: nestedRng, featuresOnly: true }).logits;
        loss = multiSampleDropoutLoss(features, m, y, msd.samples, msd.rate, nextSeed, cand);
      } else {
        loss = meanCE(m.forward(x, { mode: 'train', nextSeed, rng: nestedRng }).logits, y, cand);
      }
      return l2 ? tf.add(loss, l2Penalty(m, l2)) : loss;
    };
    const step = (m: Model, o: tf.Optimizer, x: tf.Tensor2D, y: tf.Tensor2D, cand: tf.Tensor1D | undefined): tf.Scalar => {
      const loss = o.minimize(lossOf(m, x, y, cand), true, m.variables)!;
      if (decay !== 1) {
        tf.tidy(() => {
          for (const v of m.variables) v.assign(tf.mul(v, decay));
        });
      }
      return loss;
    };
    const patience = regs.earlyStopping;
    // The best epoch so far by the monitored value; its weights only when they are to be restored.
    let best: { epoch: number; value: number; accuracy: Accuracy; weights?: Float32Array[] } | undefined;
    let stoppedAt: number | null = null;
    const order = new Int32Array(nTrain);
    for (let i = 0; i < nTrain; i++) order[i] = i;
    const batchSize = Math.min(training.batchSize, nTrain);

    let epochsDone = 0;
    let totalSeconds = 0;
    let last: Accuracy | null = null;
    let lastYield = performance.now();

    // Evaluation of epoch N on a second thread overlaps the training of epoch N + 1. The
    // first epoch, epochs after which a probe reads the model, the last epoch, and runs with
    // early stopping (which must decide before training on) are evaluated here, in order.
    const evalMacs = (nTrain + data.test.n) * model.parameters;
    // Checkpointing saves the weights of the epoch just reported: evaluation stays on this thread.
    const checkpointEvery = opts.runDir ? training.checkpointEvery : undefined;
    const evalThread =
      backend.name === 'wasm' && !patience && !checkpointEvery && training.epochs > 1 && (opts.evalThread === true || ((opts.evalThread ?? 'auto') === 'auto' && evalMacs >= EVAL_THREAD_MIN_MACS))
        ? EvalThread.start(
            {
              layers,
              inputSize: d,
              classes: K,
              image: data.image,
              seed,
              xTrain: data.train.x,
              xTest: data.test.x,
              testLabels: data.test.labels,
              ...(probes.wantsTrainMargins ? { trainLabels: data.train.labels } : {}),
            },
            backend.name,
          )
        : undefined;
    if (evalThread) {
      disposables.push(evalThread);
      onEvent({ type: 'log', level: 'info', message: 'Each epoch is evaluated on a second thread while the next one trains.' });
    }
    interface TrainedEpoch {
      epoch: number;
      loss: number;
      trainSeconds: number;
      labelPrecision?: number;
    }
    let pending: (TrainedEpoch & { weights: Float32Array[]; result: Promise<EvalResult>; postSeconds: number }) | undefined;
    let fellBack = false;
    // weights: that epoch's weights (the model itself has moved on when the thread evaluated it).
    const emitEpoch = async (t: TrainedEpoch, r: EvalResult, evalSeconds: number, weights: () => Float32Array[]): Promise<void> => {
      last = accuracyOf(data, r.trainPred, r.testPred);
      const seconds = t.trainSeconds + evalSeconds;
      totalSeconds += seconds;
      epochsDone = t.epoch;
      const epochEvent: EpochEvent = {
        type: 'epoch',
        epoch: t.epoch,
        loss: t.loss,
        accuracy: last,
        seconds,
        trainSeconds: t.trainSeconds,
        ...(Number.isFinite(r.testLoss) ? { testLoss: r.testLoss } : {}),
        ...(t.labelPrecision !== undefined ? { labelPrecision: t.labelPrecision } : {}),
      };
      onEvent(epochEvent);
      await probes.afterEpoch(epochEvent, { trainPred: r.trainPred, trainMargin: r.trainMargin, weights });
    };
    const evaluateHere = (): EvalResult => {
      const test = evaluateTest(model, xTest, yTest);
      if (probes.wantsTrainMargins) {
        const train = predictWithMargins(model, xTrain, data.train.labels);
        return { trainPred: train.pred, trainMargin: train.margin, testPred: test.pred, testLoss: test.loss };
      }
      return { trainPred: predict(model, xTrain), testPred: test.pred, testLoss: test.loss };
    };
    flushPending = async () => {
      const p = pending;
      if (!p) return;
      pending = undefined;
      const t0 = performance.now();
      let r: EvalResult;
      try {
        r = await p.result;
      } catch (err) {
        // The thread failed: evaluate that epoch's own weights here, so no epoch is lost.
        if (!fellBack) {
          fellBack = true;
          onEvent({ type: 'log', level: 'warning', message: `Evaluating on the training thread from epoch ${p.epoch} on: ${(err as Error).message}` });
        }
        const current = weightsOf(model);
        assignWeights(model, p.weights);
        r = evaluateHere();
        assignWeights(model, current);
      }
      await emitEpoch(p, r, p.postSeconds + (performance.now() - t0) / 1000, () => p.weights);
    };

    const rngs = { batchRng, dropoutRng, nestedRng, cutmixRng, groupRng, candidateRng };
    const models = peer ? [model, peer] : [model];
    const optimizers = peerOptimizer ? [optimizer, peerOptimizer] : [optimizer];
    let firstEpoch = 1;
    if (opts.resume && opts.runDir) {
      const restored = await loadCheckpoint(opts.runDir, experiment, models, optimizers);
      if (restored) {
        for (const [name, rng] of Object.entries(rngs)) if (restored.rngs[name] !== undefined) rng.setState(restored.rngs[name]);
        order.set(restored.order);
        epochsDone = restored.epoch;
        totalSeconds = restored.totalSeconds;
        last = restored.last;
        best = restored.best;
        // An older checkpoint without it: the probes start over from here (their payloads say over how many epochs).
        if (restored.probes) probes.restoreState(restored.probes);
        firstEpoch = restored.epoch + 1;
        onEvent({ type: 'log', level: 'info', message: `Resumed from the checkpoint after epoch ${restored.epoch} (weights, optimizer state, random streams, probe bookkeeping).` });
      }
    }
    const checkpoint = async (epoch: number) => {
      if (!checkpointEvery || !opts.runDir || epoch % checkpointEvery !== 0 || epoch >= training.epochs) return;
      const states = Object.fromEntries(Object.entries(rngs).map(([k, r]) => [k, r.getState()]));
      try {
        await saveCheckpoint(opts.runDir, experiment, { epoch, totalSeconds, last, rngs: states, order, ...(best ? { best } : {}), probes: probes.saveState() }, models, optimizers);
      } catch (err) {
        // Training goes on without it: a lost checkpoint costs a restart, a failed run costs the run.
        if (!checkpointWarned) onEvent({ type: 'log', level: 'warning', message: `Could not write the checkpoint in ${opts.runDir}: ${(err as Error).message}. Training continues; a requeued run would start over.` });
        checkpointWarned = true;
      }
    };
    let checkpointWarned = false;

    for (let epoch = firstEpoch; epoch <= training.epochs; epoch++) {
      const t0 = performance.now();
      shuffle(batchRng, order);
      let lossSum = tf.scalar(0);
      let selected = 0;
      let selectedClean = 0;
      for (let start = 0; start < nTrain; start += batchSize) {
        if (signal?.aborted) {
          lossSum.dispose();
          await flushPending();
          onEvent({ type: 'log', level: 'info', message: `Cancelled after ${epochsDone} epochs.` });
          return;
        }
        const rows = order.subarray(start, Math.min(start + batchSize, nTrain));
        const size = rows.length;
        const batch: tf.Tensor[] = [];
        const keep = <T extends tf.Tensor>(t: T): T => {
          batch.push(t);
          return t;
        };
        let xb: tf.Tensor2D;
        let yb: tf.Tensor2D;
        const xs = new Float32Array(size * d);
        const ys = new Float32Array(size * K);
        rows.forEach((r, i) => {
          xs.set(data.train.x.subarray(r * d, r * d + d), i * d);
          ys.set(yTrainHost.subarray(r * K, r * K + K), i * K);
        });
        if (regs.cutmix && data.image && cutmixRng() < regs.cutmix.prob) {
          const mixed = cutmixBatch(xs, ys, size, K, data.image, regs.cutmix.beta, cutmixRng);
          xb = keep(tf.tensor2d(mixed.x, [size, d]));
          yb = keep(tf.tensor2d(mixed.y, [size, K]));
        } else {
          xb = keep(tf.tensor2d(xs, [size, d]));
          yb = keep(tf.tensor2d(ys, [size, K]));
        }
        if (groups.length) {
          xb = keep(tf.mul(xb, keep(tf.tensor2d(featureGroupMask(groupRng, size, d, groups, regs.featureGroupDropout!.rate), [size, d]))));
        }
        const cand = regs.candidateDropout
          ? keep(tf.tensor1d(candidateMask(candidateRng, K, regs.candidateDropout.keep, Array.from(rows, (r) => data.train.labels[r]))))
          : undefined;
        let loss: tf.Scalar;
        if (peer && peerOptimizer) {
          // Co-teaching: each network ranks the batch by its own CE (inference-mode pass)
          // and hands its small-loss samples to the PEER, which trains on them.
          const rate = forgetRate(epoch - 1, tau, regs.coTeaching!.gradualEpochs);
          const ranked = [model, peer].map((m) => {
            const l = tf.tidy(() => perSampleCE(m.forward(xb, { mode: 'eval' }).logits, yb, cand));
            const v = l.dataSync();
            l.dispose();
            return smallLossIndices(v, rate);
          });
          for (const sel of ranked) {
            for (const i of sel) {
              selected++;
              if (!data.train.corrupted[rows[i]]) selectedClean++;
            }
          }
          const [byModel, byPeer] = ranked.map((sel) => keep(tf.tensor1d(sel, 'int32')));
          loss = step(model, optimizer, keep(tf.gather(xb, byPeer)), keep(tf.gather(yb, byPeer)), cand);
          tf.dispose(step(peer, peerOptimizer, keep(tf.gather(xb, byModel)), keep(tf.gather(yb, byModel)), cand));
        } else {
          loss = step(model, optimizer, xb, yb, cand);
        }
        const next = tf.tidy(() => tf.add(lossSum, tf.mul(loss, size)) as tf.Scalar);
        lossSum.dispose();
        loss.dispose();
        tf.dispose(batch);
        lossSum = next;
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      const meanLoss = lossSum.dataSync()[0] / nTrain;
      lossSum.dispose();
      const trainSeconds = (performance.now() - t0) / 1000;
      // The previous epoch, evaluated on the other thread meanwhile, is reported first.
      await flushPending();
      if (!Number.isFinite(meanLoss)) {
        throw new Error(
          `the training loss became ${meanLoss} in epoch ${epoch}; try a lower learning rate (training.optimizer.lr)`,
        );
      }
      const trained: TrainedEpoch = { epoch, loss: meanLoss, trainSeconds, ...(peer && selected ? { labelPrecision: selectedClean / selected } : {}) };
      // Epoch 1 is evaluated here: handed to the thread, its event would wait for epoch 2's
      // training and for the thread's start-up (the time to first epoch, docs/results.md).
      if (evalThread && !evalThread.error && epoch > 1 && epoch < training.epochs && !probes.readsModelAfter(epoch)) {
        const t1 = performance.now();
        const weights = weightsOf(model);
        const result = evalThread.evaluate(weights);
        // Handled when the epoch is flushed; this keeps a failure meanwhile from counting as unhandled.
        result.catch(() => undefined);
        pending = { ...trained, weights, result, postSeconds: (performance.now() - t1) / 1000 };
      } else {
        const t1 = performance.now();
        const r = evaluateHere();
        await emitEpoch(trained, r, (performance.now() - t1) / 1000, () => weightsOf(model));
        const value = patience?.monitor === 'testAccuracy' ? last!.test : r.testLoss;
        if (patience && Number.isFinite(value)) {
          const improved = !best || (patience.monitor === 'testAccuracy' ? value > best.value + patience.minDelta : value < best.value - patience.minDelta);
          if (improved) {
            best = { epoch, value, accuracy: last!, ...(patience.restoreBest ? { weights: weightsOf(model) } : {}) };
          } else if (epoch - best!.epoch >= patience.patience) {
            onEvent({
              type: 'log',
              level: 'info',
              message: `Early stopping after epoch ${epoch}: the ${monitorText(patience.monitor)} has not improved for ${patience.patience} epochs (best ${formatMonitored(patience.monitor, best!.value)} at epoch ${best!.epoch}).`,
            });
            stoppedAt = epoch;
            break;
          }
        }
      }
      await checkpoint(epoch);
      // Always yield between epochs so a cancel message is seen promptly.
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    await flushPending();
    if (signal?.aborted) {
      onEvent({ type: 'log', level: 'info', message: `Cancelled after ${epochsDone} epochs.` });
      return;
    }
    let earlyStopping: EarlyStoppingOutcome | undefined;
    if (patience && best) {
      let restoredEpoch: number | null = null;
      if (best.weights) {
        // Before the probes, so they (and a saved pruned model) measure the restored weights.
        if (best.epoch !== epochsDone) assignWeights(model, best.weights);
        restoredEpoch = best.epoch;
        last = best.accuracy;
        onEvent({
          type: 'log',
          level: 'info',
          message: `Restored the weights of epoch ${best.epoch} (best ${monitorText(patience.monitor)} ${formatMonitored(patience.monitor, best.value)}); the final numbers are that epoch's.`,
        });
      }
      earlyStopping = { monitor: patience.monitor, stoppedAt, bestEpoch: best.epoch, best: best.value, restoredEpoch };
    }
    opts.onTrained?.(model);
    await probes.afterTraining(epochsDone);
    onEvent({
      type: 'finished',
      time: now(),
      epochs: epochsDone,
      final: last,
      secondsPerEpoch: epochsDone ? totalSeconds / epochsDone : null,
      ...(earlyStopping ? { earlyStopping } : {}),
    });
  } catch (err) {
    // An epoch already trained and being evaluated elsewhere is still reported.
    await flushPending().catch(() => undefined);
    const e = err instanceof Error ? err : new Error(String(err));
    onEvent({
      type: 'failed',
      time: now(),
      message: e.message,
      // User errors (the experiment or its model) need no stack; engine bugs do.
      ...(e instanceof ExperimentShapeError || e instanceof ModelSourceError || e instanceof ModelShapeError || !e.stack ? {} : { stack: e.stack }),
    });
  } finally {
    for (const d of disposables) d.dispose();
  }
}

/** One layer as text for the "model from" log line, e.g. dense(64) or dropout(0.5). */
function describeLayer(l: LayerSpec): string {
  switch (l.type) {
    case 'dense':
      return `dense(${l.units})`;
    case 'conv2d':
      return `conv2d(${l.filters}, ${l.kernelSize}x${l.kernelSize})`;
    case 'activation':
      return l.fn;
    case 'dropout':
      return `dropout(${l.rate})`;
    case 'maxPool':
      return `maxPool(${l.poolSize})`;
    default:
      return l.type;
  }
}

/** Feature-group columns as indices; names need a CSV header. */
