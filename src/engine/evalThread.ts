// The per-epoch evaluation (predictions on the whole train and test sets) on a second
// thread, so it overlaps the next epoch's training instead of following it. On wasm an
// epoch of the grok models spends about a third of its time there, and tfjs runs wasm on
// one thread in Node, so the second core is otherwise idle.
//
// The thread holds its own copy of the model (same layer list, same backend) and gets the
// weights of the epoch to evaluate by message; the numbers are the same as evaluating on
// the training thread (same kernels, same inputs; tested). Nothing is shared but messages.
//
// The thread runs this very file: as src/engine/evalThread.ts under tsx (tests), or inside
// the bundle that contains train() (dist/engine.js, dist/bench.js), whose entry must not
// start its own main() on a worker thread (see isEvalThread).
import * as path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../protocol/experiment';
import { selectBackend } from './backend';
import type { ImageShape } from './data/dataset';
import { evaluateTest, oneHotTargets, predict, predictWithMargins } from './evaluate';
import { buildModel, type Model } from './model';

export interface EvalSetup {
  layers: LayerSpec[];
  inputSize: number;
  classes: number;
  image?: ImageShape;
  seed: number;
  xTrain: Float32Array;
  xTest: Float32Array;
  testLabels: Int32Array;
  /** Given: the thread also returns each training row's margin for its label (the labelErrors probe). */
  trainLabels?: Int32Array;
}

export interface EvalResult {
  trainPred: Int32Array;
  /** z_y - max_{j != y} z_j per training row, when the labelErrors probe asked for it. */
  trainMargin?: Float32Array;
  testPred: Int32Array;
  testLoss: number;
}

type ToThread = { type: 'evaluate'; id: number; weights: Float32Array[] };
type FromThread =
  | { type: 'ready' }
  | { type: 'result'; id: number; trainPred: Int32Array; trainMargin?: Float32Array; testPred: Int32Array; testLoss: number }
  | { type: 'error'; message: string };

const MARK = 'reglensEvalThread';

/** True on the evaluation thread: bundle entries skip their own main() there. */
export function isEvalThread(): boolean {
  return !isMainThread && (workerData as Record<string, unknown> | null)?.[MARK] !== undefined;
}

/** The weights the thread needs, in namedWeights() order (trainable and batch-norm state). */
export function weightsOf(model: Model): Float32Array[] {
  return model.namedWeights().map((w) => (w.variable.dataSync() as Float32Array).slice());
}

/** Sets the model's weights from arrays in namedWeights() order. */
export function assignWeights(model: Model, weights: Float32Array[]): void {
  const named = model.namedWeights();
  if (weights.length !== named.length) throw new Error(`expected ${named.length} weight arrays, got ${weights.length}`);
  named.forEach((w, i) => {
    const t = tf.tensor(weights[i], w.variable.shape);
    w.variable.assign(t);
    t.dispose();
  });
}

/** The training thread's handle. Every failure becomes a rejected promise, never a crash. */
export class EvalThread {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: EvalResult) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    sizes: { train: number; test: number },
  ) {
    worker.on('message', (m: FromThread) => {
      // Same process, but still a boundary: a reply of the wrong shape stops the thread instead
      // of turning into wrong accuracies.
      if (m?.type === 'result') {
        const ok =
          m.trainPred instanceof Int32Array &&
          m.trainPred.length === sizes.train &&
          (m.trainMargin === undefined || (m.trainMargin instanceof Float32Array && m.trainMargin.length === sizes.train)) &&
          m.testPred instanceof Int32Array &&
          m.testPred.length === sizes.test &&
          typeof m.testLoss === 'number';
        if (!ok) return this.fail(new Error('the evaluation thread sent a malformed result'));
        this.waiting.get(m.id)?.resolve({ trainPred: m.trainPred, ...(m.trainMargin ? { trainMargin: m.trainMargin } : {}), testPred: m.testPred, testLoss: m.testLoss });
        this.waiting.delete(m.id);
      } else if (m?.type === 'error') {
        this.fail(new Error(String(m.message)));
      }
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`the evaluation thread exited (code ${code})`)));
  }

  /** Starts the thread; it loads the backend and builds the model while training begins. */
  static start(setup: EvalSetup, backend: string): EvalThread {
    const source = __filename.endsWith('.ts');
    // Fault injection for the tests: the thread exits after this many evaluations, as a crash would.
    const crashAfter = Number(process.env.REGLENS_TEST_EVAL_THREAD_CRASH_AFTER) || undefined;
    const worker = new Worker(source ? path.join(__dirname, 'evalThread.ts') : __filename, {
      workerData: { [MARK]: { setup, backend, crashAfter } },
      // Under tsx (tests) the thread needs the TypeScript loader too.
      ...(source ? { execArgv: ['--require', 'tsx/cjs'] } : {}),
    });
    return new EvalThread(worker, { train: setup.xTrain.length / setup.inputSize, test: setup.xTest.length / setup.inputSize });
  }

  /** Why the thread stopped working, once it has. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Evaluates these weights (taken with weightsOf) on the thread. */
  evaluate(weights: Float32Array[]): Promise<EvalResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<EvalResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const msg: ToThread = { type: 'evaluate', id, weights };
      // Copied, not transferred: the caller keeps its snapshot as a fallback.
      this.worker.postMessage(msg);
    });
  }

  dispose(): void {
    this.failure ??= new Error('the evaluation thread was stopped');
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
    void this.worker.terminate();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    void this.worker.terminate();
  }
}

async function runEvalThread(): Promise<void> {
  const port = parentPort!;
  const { setup, backend, crashAfter } = (workerData as Record<string, { setup: EvalSetup; backend: string; crashAfter?: number }>)[MARK];
  let evaluated = 0;
  try {
    const b = await selectBackend(backend as 'wasm');
    if (b.name !== backend) throw new Error(`the evaluation thread got the ${b.name} backend, not ${backend}`);
    const model = buildModel(setup.layers, setup.inputSize, setup.seed, setup.image, 'init');
    const xTrain = tf.tensor2d(setup.xTrain, [setup.xTrain.length / setup.inputSize, setup.inputSize]);
    const xTest = tf.tensor2d(setup.xTest, [setup.xTest.length / setup.inputSize, setup.inputSize]);
    const yTest = oneHotTargets(setup.testLabels, setup.classes);
    port.on('message', (m: ToThread) => {
      if (crashAfter !== undefined && evaluated++ >= crashAfter) process.exit(3);
      try {
        assignWeights(model, m.weights);
        const train = setup.trainLabels ? predictWithMargins(model, xTrain, setup.trainLabels) : { pred: predict(model, xTrain), margin: undefined };
        const test = evaluateTest(model, xTest, yTest);
        const reply: FromThread = { type: 'result', id: m.id, trainPred: train.pred, ...(train.margin ? { trainMargin: train.margin } : {}), testPred: test.pred, testLoss: test.loss };
        const moved = [train.pred.buffer as ArrayBuffer, test.pred.buffer as ArrayBuffer, ...(train.margin ? [train.margin.buffer as ArrayBuffer] : [])];
        port.postMessage(reply, moved);
      } catch (err) {
        port.postMessage({ type: 'error', message: (err as Error).message } satisfies FromThread);
      }
    });
    port.postMessage({ type: 'ready' } satisfies FromThread);
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies FromThread);
  }
}

if (isEvalThread()) void runEvalThread();
