// Turns experiment.model into the engine's layer list. The engine trains its own layers
// (raw variables, custom-grad matmuls; see model.ts) and the probes read that list, so a
// Keras / TF.js topology is TRANSLATED into it rather than run through tf.layers
// (tfjs-layers is not even bundled): every probe and regularizer then works on imported
// models too, and a layer with no counterpart fails up front, by name, instead of mid-run.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { LayerSchema } from '../protocol/experiment';
import type { LayerSpec, ModelSpec } from '../protocol/experiment';
import type { ImageShape } from './data/dataset';

export class ModelSourceError extends Error {}

/** The format tag of the model.json written by saveModel (pruned models). */
export const SAVED_FORMAT = 'reglens-layers';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keras spells the same thing several ways across versions: [k, k] or k. */
function square(v: unknown, what: string, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v : [v];
  if (!arr.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) throw new ModelSourceError(`${where}: ${what} ${JSON.stringify(v)} is not a positive integer size`);
  if (arr.some((x) => x !== arr[0])) throw new ModelSourceError(`${where}: only square ${what} is supported, got ${JSON.stringify(v)}`);
  return arr[0] as number;
}

const ACTIVATIONS: Record<string, Extract<LayerSpec, { type: 'activation' }>['fn'] | null> = {
  linear: null,
  relu: 'relu',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  gelu: 'gelu',
  square: 'square',
  // Softmax on the output is what the engine's cross-entropy applies to the logits anyway.
  softmax: null,
};

function activationLayers(name: unknown, where: string, isLast: boolean): LayerSpec[] {
  if (name === undefined || name === null) return [];
  const key = isObject(name) ? String(name.class_name ?? '').toLowerCase() : String(name).toLowerCase();
  if (!(key in ACTIVATIONS)) {
    throw new ModelSourceError(`${where}: activation "${key}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  if (key === 'softmax' && !isLast) throw new ModelSourceError(`${where}: softmax is only supported as the output activation`);
  const fn = ACTIVATIONS[key];
  return fn ? [{ type: 'activation', fn }] : [];
}

function initOf(init: unknown): Pick<Extract<LayerSpec, { type: 'dense' }>, 'init' | 'initStd'> {
  const cls = isObject(init) ? String(init.class_name ?? '') : '';
  const cfg = isObject(init) && isObject(init.config) ? init.config : {};
  if (/^He(Normal|Uniform)$/.test(cls)) return { init: 'he' };
  if (/^(RandomNormal|TruncatedNormal)$/.test(cls) && typeof cfg.stddev === 'number' && cfg.stddev > 0) return { init: 'normal', initStd: cfg.stddev };
  if (/^LeCun(Normal|Uniform)$/.test(cls)) return { init: 'normal' };
  // Glorot (the Keras default) and anything else: the engine draws its own seeded init.
  return { init: 'glorot' };
}

interface KerasLayer {
  className: string;
  name: string;
  config: Json;
}

/** The layer list of a topology, whatever wrapper it comes in (tf.io artifacts, toJSON(), Keras 2/3). */
function kerasLayers(json: unknown, where: string): KerasLayer[] {
  let topo: unknown = json;
  if (isObject(topo) && 'modelTopology' in topo) topo = topo.modelTopology;
  if (isObject(topo) && 'model_config' in topo) topo = topo.model_config;
  if (!isObject(topo) || typeof topo.class_name !== 'string') {
    throw new ModelSourceError(`${where}: not a Keras / TF.js model topology (expected "modelTopology" or a "class_name")`);
  }
  const cls = topo.class_name;
  const cfg = topo.config;
  // Keras < 2.2 wrote a Sequential's config as the bare layer array.
  const raw = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
  if (!raw) throw new ModelSourceError(`${where}: the topology has no layer list`);
  const layers = raw.map((l, i): KerasLayer => {
    if (!isObject(l) || typeof l.class_name !== 'string') throw new ModelSourceError(`${where}: layer ${i} has no class_name`);
    const config = isObject(l.config) ? l.config : {};
    return { className: l.class_name, name: String(config.name ?? l.name ?? `layer_${i}`), config };
  });
  if (cls === 'Sequential') return layers;
  if (cls === 'Model' || cls === 'Functional') {
    // Only a single chain (each layer fed by the one before it) maps onto a layer list.
    for (let i = 1; i < raw.length; i++) {
      const inbound = JSON.stringify((raw[i] as Json).inbound_nodes ?? []);
      if (!inbound.includes(`"${layers[i - 1].name}"`)) {
        throw new ModelSourceError(`${where}: layer "${layers[i].name}" is not fed by "${layers[i - 1].name}"; only sequential (single-chain) models can be imported`);
      }
    }
    return layers;
  }
  throw new ModelSourceError(`${where}: model class "${cls}" is not supported (Sequential or a single-chain functional Model)`);
}

export const SUPPORTED_KERAS_LAYERS = ['InputLayer', 'Dense', 'Activation', 'ReLU', 'Dropout', 'BatchNormalization', 'Conv2D', 'MaxPooling2D', 'Flatten'];

/**
 * Translates a Keras / TF.js topology (model.json, model.toJSON(), Keras 2 or 3 config) into
 * the engine's layer list. Throws ModelSourceError naming the first layer it cannot map.
 */
export function translateTopology(json: unknown, where = 'model.topology'): LayerSpec[] {
  const layers = kerasLayers(json, where);
  const out: LayerSpec[] = [];
  layers.forEach((l, i) => {
    const at = `${where}: layer ${i} "${l.name}" (${l.className})`;
    const c = l.config;
    const isLast = i === layers.length - 1;
    switch (l.className) {
      case 'InputLayer':
        return;
      case 'Dense':
        if (typeof c.units !== 'number') throw new ModelSourceError(`${at}: no units`);
        out.push({ type: 'dense', units: c.units, useBias: c.use_bias !== false, ...initOf(c.kernel_initializer) }, ...activationLayers(c.activation, at, isLast));
        return;
      case 'Activation':
        out.push(...activationLayers(c.activation, at, isLast));
        return;
      case 'ReLU':
        if ((c.max_value ?? null) !== null || (c.negative_slope ?? 0) !== 0) throw new ModelSourceError(`${at}: only a plain ReLU (no max_value, no negative_slope) is supported`);
        out.push({ type: 'activation', fn: 'relu' });
        return;
      case 'Softmax':
        if (!isLast) throw new ModelSourceError(`${at}: softmax is only supported as the output layer`);
        return;
      case 'Dropout': {
        const rate = Number(c.rate ?? 0);
        if (!(rate >= 0 && rate < 1)) throw new ModelSourceError(`${at}: rate ${c.rate} is outside [0, 1)`);
        out.push({ type: 'dropout', rate });
        return;
      }
      case 'BatchNormalization':
        if (c.axis !== undefined && c.axis !== -1 && !(Array.isArray(c.axis) && c.axis.length === 1 && c.axis[0] === -1)) {
          // Keras 3 writes the resolved positive axis; only the last (channel) axis is supported.
          const a = Array.isArray(c.axis) ? c.axis[0] : c.axis;
          if (typeof a !== 'number' || a < 1) throw new ModelSourceError(`${at}: only normalisation over the last axis is supported`);
        }
        out.push({ type: 'batchNorm', momentum: typeof c.momentum === 'number' ? c.momentum : 0.99, epsilon: typeof c.epsilon === 'number' ? c.epsilon : 1e-3 });
        return;
      case 'Conv2D': {
        if (c.data_format === 'channels_first') throw new ModelSourceError(`${at}: channels_first is not supported (the engine is NHWC)`);
        if ((square(c.dilation_rate, 'dilation_rate', at) ?? 1) !== 1) throw new ModelSourceError(`${at}: dilated convolutions are not supported`);
        const padding = c.padding === 'same' ? 'same' : c.padding === 'valid' || c.padding === undefined ? 'valid' : undefined;
        if (!padding) throw new ModelSourceError(`${at}: padding "${c.padding}" is not supported`);
        out.push(
          {
            type: 'conv2d',
            filters: Number(c.filters),
            kernelSize: square(c.kernel_size, 'kernel_size', at) ?? 3,
            strides: square(c.strides, 'strides', at) ?? 1,
            padding,
            useBias: c.use_bias !== false,
          },
          ...activationLayers(c.activation, at, isLast),
        );
        return;
      }
      case 'MaxPooling2D': {
        const size = square(c.pool_size, 'pool_size', at) ?? 2;
        const strides = square(c.strides, 'strides', at) ?? size;
        if (strides !== size) throw new ModelSourceError(`${at}: only strides equal to pool_size are supported`);
        if (c.padding === 'same') throw new ModelSourceError(`${at}: only padding "valid" is supported`);
        out.push({ type: 'maxPool', poolSize: size });
        return;
      }
      case 'Flatten':
        out.push({ type: 'flatten' });
        return;
      default:
        throw new ModelSourceError(`${at}: layer type ${l.className} is not supported; supported: ${SUPPORTED_KERAS_LAYERS.join(', ')}`);
    }
  });
  if (!out.length) throw new ModelSourceError(`${where}: the topology has no trainable layers`);
  return validateLayers(out, where);
}

function validateLayers(layers: unknown, where: string): LayerSpec[] {
  const r = z.array(LayerSchema).min(1).safeParse(layers);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ModelSourceError(`${where}: ${issue.path.length ? `layers.${issue.path.join('.')}: ` : ''}${issue.message}`);
}

/** A model.json written by saveModel: our own layer list plus tf.io weights. */
export interface SavedModel {
  layers: LayerSpec[];
  inputSize: number;
  weights?: Map<string, Float32Array>;
  /** Shape of each weight (TF layout), as the manifest gives it. */
  weightShapes?: Map<string, number[]>;
}

/** Reads a topology file: a Keras / TF.js model.json, or one saveModel wrote (then with weights). */
export function loadTopologyFile(file: string, where = 'model.topology'): SavedModel | { layers: LayerSpec[] } {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ModelSourceError(`${where}: cannot read ${file} (${e.code ?? e.message})`);
  }
  if (isObject(json) && json.format === SAVED_FORMAT) return readSavedModel(path.dirname(file), json, where);
  return { layers: translateTopology(json, where) };
}

// ---- user modules ----

/** What a factory is called with. tf is the engine's own tfjs-core (no tf.layers). */
export interface FactoryContext {
  tf: typeof tf;
  inputSize: number;
  classes: number;
  image?: ImageShape;
  seed: number;
}

type Bundler = { build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] }> };

/**
 * esbuild for bundling user modules: the user's project's own, else the one next to the
 * engine (a dev checkout, an npm-installed CLI). esbuild is a native binary per platform,
 * so it cannot be bundled into dist/engine.js; a packaged extension without it still runs
 * plain CommonJS .js/.cjs modules, which need no bundling.
 */
function findEsbuild(fromDir: string): Bundler | undefined {
  for (const base of [path.join(fromDir, 'noop.js'), __filename]) {
    try {
      return createRequire(base)('esbuild') as Bundler;
    } catch {
      // Not there: next place.
    }
  }
  return undefined;
}

// The engine's tfjs instance stands in for these when the user's project has none: the
// factory then shares the engine's backend and can use tf ops (but not tf.layers).
const TF_ALIASES = new Set(['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);

function canResolve(id: string, fromDir: string): boolean {
  try {
    createRequire(path.join(fromDir, 'noop.js')).resolve(id);
    return true;
  } catch {
    return false;
  }
}

/** Bundles (TS/ESM) or reads (CJS) the module and evaluates it; returns its exports. */
export async function loadUserModule(file: string, where = 'model.module'): Promise<Record<string, unknown>> {
  if (!fs.existsSync(file)) throw new ModelSourceError(`${where}: ${file} does not exist`);
  const dir = path.dirname(file);
  const esbuild = findEsbuild(dir);
  let code: string;
  if (esbuild) {
    try {
      const result = await esbuild.build({
        entryPoints: [file],
        bundle: true,
        write: false,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        logLevel: 'silent',
        // tfjs packages the project cannot resolve come from the engine (see TF_ALIASES).
        plugins: [
          {
            name: 'reglens-tf',
            setup(b: { onResolve(o: { filter: RegExp }, cb: (a: { path: string }) => unknown): void }) {
              b.onResolve({ filter: /^@tensorflow\// }, (a) => (TF_ALIASES.has(a.path) && !canResolve(a.path, dir) ? { path: a.path, external: true } : undefined));
            },
          },
        ],
        // Native bindings must load from disk, never be inlined.
        external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
      });
      code = result.outputFiles?.[0]?.text ?? '';
    } catch (err) {
      const msg = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors?.[0];
      throw new ModelSourceError(`${where}: could not bundle ${file}: ${msg ? `${msg.location ? `${msg.location.file}:${msg.location.line}: ` : ''}${msg.text}` : (err as Error).message}`);
    }
  } else if (/\.(c?js)$/.test(file)) {
    code = fs.readFileSync(file, 'utf8');
  } else {
    throw new ModelSourceError(`${where}: bundling ${path.basename(file)} needs esbuild, which was not found; install it in the project (npm install --save-dev esbuild) or use a CommonJS .js module`);
  }
  const userRequire = createRequire(file);
  const req = (id: string) => (TF_ALIASES.has(id) && !canResolve(id, dir) ? tf : userRequire(id));
  const mod = { exports: {} as Record<string, unknown> };
  try {
    // Evaluated like a CommonJS module (same scope variables as Node gives one).
    new Function('require', 'module', 'exports', '__filename', '__dirname', code)(req, mod, mod.exports, file, dir);
  } catch (err) {
    throw new ModelSourceError(`${where}: ${path.basename(file)} threw while loading: ${(err as Error).message}`);
  }
  return mod.exports;
}

/** What a factory may return, as a layer list. */
async function fromFactoryResult(value: unknown, where: string): Promise<LayerSpec[]> {
  const v = await value;
  if (Array.isArray(v)) return validateLayers(v, where);
  if (isObject(v) && Array.isArray(v.layers) && v.layers.every((l) => isObject(l) && typeof l.type === 'string')) return validateLayers(v.layers, where);
  // A tf.LayersModel (the user's own tfjs-layers): its topology is all we take.
  if (isObject(v) && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return translateTopology((v as unknown as { toJSON(u: unknown, s: boolean): unknown }).toJSON(null, false), where);
  }
  if (isObject(v)) return translateTopology(v, where);
  throw new ModelSourceError(`${where}: the factory returned ${v === null ? 'null' : typeof v}; return a layer list, a Keras/TF.js topology or a tf.LayersModel`);
}

export async function layersFromModule(file: string, exportName: string | undefined, ctx: FactoryContext, where = 'model.module'): Promise<LayerSpec[]> {
  const loaded: unknown = await loadUserModule(file, where);
  // `module.exports = factory` (CommonJS) counts as the default export.
  const exports = (typeof loaded === 'function' ? { default: loaded } : (loaded ?? {})) as Record<string, unknown>;
  const name = exportName ?? ('createModel' in exports ? 'createModel' : 'default');
  const factory = exports[name];
  if (typeof factory !== 'function') {
    const names = Object.keys(exports).filter((k) => k !== '__esModule');
    throw new ModelSourceError(`${where}: ${path.basename(file)} has no function export "${name}" (exports: ${names.join(', ') || 'none'})`);
  }
  let result: unknown;
  try {
    result = (factory as (c: FactoryContext) => unknown)(ctx);
    result = await result;
  } catch (err) {
    if (err instanceof ModelSourceError) throw err;
    throw new ModelSourceError(`${where}: the factory "${name}" threw: ${(err as Error).message}`);
  }
  return fromFactoryResult(result, where);
}

export interface ResolvedModel {
  layers: LayerSpec[];
  /** Initial weights by variable name (a saved RegLens model), else the seeded init. */
  weights?: Map<string, Float32Array>;
  weightShapes?: Map<string, number[]>;
  /** Input width the weights were saved for (checked against the dataset). */
  inputSize?: number;
}

/** experiment.model -> layers (+ weights). baseDir: the experiment file's folder. */
export async function resolveModel(spec: ModelSpec, baseDir: string, ctx: Omit<FactoryContext, 'tf'>): Promise<ResolvedModel> {
  if (spec.layers.length) return { layers: spec.layers };
  if (spec.topology !== undefined) return loadTopologyFile(path.resolve(baseDir, spec.topology));
  if (spec.module !== undefined) return { layers: await layersFromModule(path.resolve(baseDir, spec.module.path), spec.module.export, { ...ctx, tf }) };
  if (spec.pytorch !== undefined) throw new ModelSourceError(`model.pytorch (${spec.pytorch.class} in ${spec.pytorch.file}) is a torch module: only the PyTorch engine (backend "torch" or "auto") trains it`);
  throw new ModelSourceError('model: give layers, topology, module or pytorch');
}

// ---- saved models (tf.io layout: model.json + weights.bin) ----

export interface WeightEntry {
  name: string;
  shape: number[];
  values: Float32Array;
}

/**
 * Writes <dir>/model.json (our layer list, the input size, a tf.io weightsManifest) and
 * <dir>/weights.bin (float32, little-endian, in manifest order). `model.topology` can load
 * it again (weights included), and tf.io.decodeWeights reads the weights as they are.
 */
export function saveModel(dir: string, layers: LayerSpec[], inputSize: number, weights: WeightEntry[], extra: Json = {}): { modelJson: string; bytes: number } {
  fs.mkdirSync(dir, { recursive: true });
  const total = weights.reduce((n, w) => n + w.values.length, 0);
  const buf = Buffer.alloc(total * 4);
  let offset = 0;
  for (const w of weights) {
    for (let i = 0; i < w.values.length; i++) buf.writeFloatLE(w.values[i], offset + 4 * i);
    offset += 4 * w.values.length;
  }
  fs.writeFileSync(path.join(dir, 'weights.bin'), buf);
  const modelJson = path.join(dir, 'model.json');
  const json = {
    format: SAVED_FORMAT,
    generatedBy: 'RegLens',
    ...extra,
    inputSize,
    layers,
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  fs.writeFileSync(modelJson, JSON.stringify(json, null, 2) + '\n');
  return { modelJson, bytes: buf.length };
}

function readSavedModel(dir: string, json: Json, where: string): SavedModel {
  const layers = validateLayers(json.layers, where);
  const inputSize = Number(json.inputSize);
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) return { layers, inputSize };
  const weights = new Map<string, Float32Array>();
  const weightShapes = new Map<string, number[]>();
  for (const group of manifest as { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[]) {
    const bytes = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new ModelSourceError(`${where}: weight ${w.name} has dtype ${w.dtype}; only float32 is supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * n > bytes.length) throw new ModelSourceError(`${where}: the weight files are shorter than the manifest says`);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = bytes.readFloatLE(offset + 4 * i);
      offset += 4 * n;
      weights.set(w.name, values);
      weightShapes.set(w.name, w.shape);
    }
  }
  return { layers, inputSize, weights, weightShapes };
}
