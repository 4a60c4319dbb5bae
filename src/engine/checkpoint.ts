// A run's checkpoint: everything the TF.js training loop needs to continue after epoch k as
// if it had never stopped (a Slurm requeue, preemption or resubmission): the weights (and a
// co-teaching peer's), the optimizers' state (tf.Optimizer.getWeights: Adam's moments and
// step count), the random streams' positions, the batch order, early stopping's best epoch.
// One file, <runDir>/checkpoint.bin (a JSON header, then float32 data), replaced by rename,
// so a task killed while writing leaves the previous checkpoint whole. model.save does not
// write file:// on every backend (wasm), hence our own format.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Accuracy } from '../protocol/engineMessages';
import type { Experiment } from '../protocol/experiment';
import { assignWeights, weightsOf } from './evalThread';
import type { Model } from './model';
import type { ProbesState, ProbesStateJson } from './probes/probes';

export const CHECKPOINT_FILE = 'checkpoint.bin';
const MAGIC = 'RLCK1';

export interface LoopState {
  epoch: number;
  totalSeconds: number;
  last: Accuracy | null;
  rngs: Record<string, number>;
  order: Int32Array;
  best?: { epoch: number; value: number; accuracy: Accuracy; weights?: Float32Array[] };
  /** What the probes gathered so far (probes.ts saveState). */
  probes?: ProbesState;
}

interface Header {
  magic: string;
  /** The experiment minus training.epochs (a resumed run may be given more epochs). */
  experiment: unknown;
  epoch: number;
  totalSeconds: number;
  last: Accuracy | null;
  rngs: Record<string, number>;
  order: number;
  best?: { epoch: number; value: number; accuracy: Accuracy; weights?: number[] };
  models: number[][];
  optimizers: { name: string; shape: number[]; dtype: string }[][];
  /** The probes' JSON state and the lengths of their arrays (after the batch order). */
  probes?: { json: ProbesStateJson; arrays: number[] };
}

function identity(e: Experiment): unknown {
  const { training, ...rest } = e;
  const { epochs: _epochs, ...t } = training;
  return { ...rest, training: t };
}

/** Writes the checkpoint after `state.epoch`. */
export async function saveCheckpoint(runDir: string, experiment: Experiment, state: LoopState, models: Model[], optimizers: tf.Optimizer[]): Promise<void> {
  const arrays: Float32Array[] = [];
  const models_: number[][] = [];
  for (const m of models) {
    const w = weightsOf(m);
    models_.push(w.map((a) => a.length));
    arrays.push(...w);
  }
  const opts: Header['optimizers'] = [];
  for (const o of optimizers) {
    const named = await o.getWeights();
    const entry: Header['optimizers'][number] = [];
    for (const n of named) {
      entry.push({ name: n.name, shape: n.tensor.shape, dtype: n.tensor.dtype });
      arrays.push(Float32Array.from(await n.tensor.data()));
    }
    opts.push(entry);
  }
  let bestWeights: number[] | undefined;
  if (state.best?.weights) {
    bestWeights = state.best.weights.map((a) => a.length);
    arrays.push(...state.best.weights);
  }
  arrays.push(Float32Array.from(state.order));
  if (state.probes) arrays.push(...state.probes.arrays);
  const header: Header = {
    magic: MAGIC,
    experiment: identity(experiment),
    epoch: state.epoch,
    totalSeconds: state.totalSeconds,
    last: state.last,
    rngs: state.rngs,
    order: state.order.length,
    ...(state.best ? { best: { epoch: state.best.epoch, value: state.best.value, accuracy: state.best.accuracy, ...(bestWeights ? { weights: bestWeights } : {}) } } : {}),
    models: models_,
    optimizers: opts,
    ...(state.probes ? { probes: { json: state.probes.json, arrays: state.probes.arrays.map((a) => a.length) } } : {}),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const file = path.join(runDir, CHECKPOINT_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, json);
    for (const a of arrays) fs.writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Loads the checkpoint into the models and optimizers (built as for a fresh run) and returns
 * the loop's state, or undefined when there is none; throws when it belongs to another experiment.
 */
export async function loadCheckpoint(runDir: string, experiment: Experiment, models: Model[], optimizers: tf.Optimizer[]): Promise<LoopState | undefined> {
  const file = path.join(runDir, CHECKPOINT_FILE);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const n = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as Header;
  if (header.magic !== MAGIC) throw new Error(`${file} is not a RegLens checkpoint`);
  if (JSON.stringify(header.experiment) !== JSON.stringify(identity(experiment))) {
    throw new Error(`${file} was written for a different experiment (spec.json changed since); delete it to start this run over`);
  }
  if (header.models.length !== models.length || header.optimizers.length !== optimizers.length) throw new Error(`${file} does not match the model`);
  // Copied out, so the float32 views are aligned whatever the header's length.
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 4 + n, buf.byteOffset + buf.length));
  let at = 0;
  const take = (count: number) => {
    const a = data.slice(at, at + count);
    at += count;
    return a;
  };
  header.models.forEach((sizes, i) => assignWeights(models[i], sizes.map(take)));
  for (let i = 0; i < optimizers.length; i++) {
    const named = header.optimizers[i].map((w) => {
      const size = w.shape.reduce((a, b) => a * b, 1);
      return { name: w.name, tensor: tf.tensor(take(size), w.shape, w.dtype as tf.DataType) };
    });
    await optimizers[i].setWeights(named);
    // setWeights copies them into its own variables.
    for (const w of named) w.tensor.dispose();
  }
  const bestWeights = header.best?.weights?.map(take);
  const order = Int32Array.from(take(header.order));
  const probes = header.probes ? { json: header.probes.json, arrays: header.probes.arrays.map(take) } : undefined;
  if (at !== data.length) throw new Error(`${file} is damaged: ${data.length - at} values more than its header describes`);
  return {
    epoch: header.epoch,
    totalSeconds: header.totalSeconds,
    last: header.last,
    rngs: header.rngs,
    order,
    ...(header.best ? { best: { epoch: header.best.epoch, value: header.best.value, accuracy: header.best.accuracy, ...(bestWeights ? { weights: bestWeights } : {}) } } : {}),
    ...(probes ? { probes } : {}),
  };
}
