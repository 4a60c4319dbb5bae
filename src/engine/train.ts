// The training loop: one experiment in, a stream of EngineEvents out. Runs in the
// engine child process (worker.ts) and in unit tests / the benchmark directly.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core ships gradients separately (the @tensorflow/tfjs bundle imports them for you).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { EngineEvent, Accuracy } from '../protocol/engineMessages';
import type { Experiment } from '../protocol/experiment';
import { BackendChoice, selectBackend } from './backend';
import { makeModularDataset, oneHotPairs } from './data/modular';
import { accuracyOf, predict } from './evaluate';
import { buildModel, Model } from './model';
import { deriveRng, shuffle } from './prng';

export interface TrainOptions {
  backend: BackendChoice;
  signal?: AbortSignal;
  onEvent: (e: EngineEvent) => void;
}

/** Longest stretch of synchronous work before letting IPC (cancel) in. */
const YIELD_EVERY_MS = 100;

const now = () => new Date().toISOString();
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ExperimentShapeError extends Error {}

/**
 * Trains the experiment, emitting started, one epoch event per epoch, then finished,
 * or failed (never throws). On cancellation it emits an info log and returns
 * without finished. The backend in the experiment, when set, wins over opts.backend.
 */
export async function train(experiment: Experiment, opts: TrainOptions): Promise<void> {
  const { onEvent, signal } = opts;
  const disposables: { dispose(): void }[] = [];
  try {
    const backend = await selectBackend(experiment.backend ?? opts.backend);
    if (backend.note) onEvent({ type: 'log', level: 'warning', message: backend.note });

    const { dataset: ds, training, seed } = experiment;
    const data = makeModularDataset(ds, seed);
    const model: Model = buildModel(experiment.model.layers, data.inputSize, seed);
    disposables.push(model);
    if (model.outputSize !== data.classes) {
      throw new ExperimentShapeError(
        `model.layers: the model outputs ${model.outputSize} values but the dataset has ${data.classes} classes; make the last dense layer ${data.classes} units wide`,
      );
    }

    const nTrain = data.train.pairs.length;
    // Dense one-hot inputs on purpose: an XNNPACK matmul beats a row gather here (measured).
    const xTrain = tf.tensor2d(oneHotPairs(data.train.pairs, data.p), [nTrain, data.inputSize]);
    const xTest = tf.tensor2d(oneHotPairs(data.test.pairs, data.p), [data.test.pairs.length, data.inputSize]);
    const yTrain = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(data.train.labels, 'int32'), data.classes), 'float32'));
    disposables.push(xTrain, xTest, yTrain);

    const opt = training.optimizer;
    const optimizer =
      opt.kind === 'adam' ? tf.train.adam(opt.lr, opt.beta1, opt.beta2) : tf.train.sgd(opt.lr);
    disposables.push(optimizer);
    // Decoupled (AdamW) decay on every trainable variable, biases included, as
    // torch.optim.AdamW does by default. TF.js has no AdamW (METHODS §10).
    const decay = 1 - opt.lr * opt.weightDecay;

    onEvent({
      type: 'started',
      time: now(),
      backend: backend.name,
      ...(backend.note ? { backendNote: backend.note } : {}),
      totalEpochs: training.epochs,
      dataset: {
        train: nTrain,
        corrupted: data.train.corruptedCount,
        test: data.test.pairs.length,
        inputSize: data.inputSize,
        classes: data.classes,
      },
      parameters: model.parameters,
    });

    const batchRng = deriveRng(seed, 'batches');
    const dropoutRng = deriveRng(seed, 'dropout');
    const nextSeed = () => Math.floor(dropoutRng() * 2 ** 31);
    const order = new Int32Array(nTrain);
    for (let i = 0; i < nTrain; i++) order[i] = i;
    const batchSize = Math.min(training.batchSize, nTrain);

    let epochsDone = 0;
    let totalSeconds = 0;
    let last: Accuracy | null = null;
    let lastYield = performance.now();

    for (let epoch = 1; epoch <= training.epochs; epoch++) {
      const t0 = performance.now();
      shuffle(batchRng, order);
      let lossSum = tf.scalar(0);
      for (let start = 0; start < nTrain; start += batchSize) {
        if (signal?.aborted) {
          lossSum.dispose();
          onEvent({ type: 'log', level: 'info', message: `Cancelled after ${epochsDone} epochs.` });
          return;
        }
        const idx = tf.tensor1d(order.subarray(start, Math.min(start + batchSize, nTrain)), 'int32');
        const size = idx.shape[0];
        const loss: tf.Scalar = optimizer.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(
              tf.gather(yTrain, idx),
              model.apply(tf.gather(xTrain, idx), true, nextSeed),
            ),
          true,
          model.variables,
        )!;
        if (decay !== 1) {
          tf.tidy(() => {
            for (const v of model.variables) v.assign(tf.mul(v, decay));
          });
        }
        const next = tf.tidy(() => tf.add(lossSum, tf.mul(loss, size)) as tf.Scalar);
        lossSum.dispose();
        loss.dispose();
        idx.dispose();
        lossSum = next;
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      const meanLoss = lossSum.dataSync()[0] / nTrain;
      lossSum.dispose();
      if (!Number.isFinite(meanLoss)) {
        throw new Error(
          `the training loss became ${meanLoss} in epoch ${epoch}; try a lower learning rate (training.optimizer.lr)`,
        );
      }
      last = accuracyOf(data, predict(model, xTrain), predict(model, xTest));
      const seconds = (performance.now() - t0) / 1000;
      totalSeconds += seconds;
      epochsDone = epoch;
      onEvent({ type: 'epoch', epoch, loss: meanLoss, accuracy: last, seconds });
      // Always yield between epochs so a cancel message is seen promptly.
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (signal?.aborted) {
      onEvent({ type: 'log', level: 'info', message: `Cancelled after ${epochsDone} epochs.` });
      return;
    }
    onEvent({
      type: 'finished',
      time: now(),
      epochs: epochsDone,
      final: last,
      secondsPerEpoch: epochsDone ? totalSeconds / epochsDone : null,
    });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    onEvent({
      type: 'failed',
      time: now(),
      message: e.message,
      ...(e instanceof ExperimentShapeError || !e.stack ? {} : { stack: e.stack }),
    });
  } finally {
    for (const d of disposables) d.dispose();
  }
}
