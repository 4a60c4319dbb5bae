// Backend selection for the engine process. Order for 'auto': the native TensorFlow
// bindings (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node) when the user has
// installed them, then wasm (XNNPACK, SIMD; ~40x the pure-JS cpu backend here, RECIPES
// §2), then cpu. The first that loads AND passes a tiny self-check wins; every fallback
// comes with a note the user gets to see, instead of a failed run.
//
// The native packages are NOT dependencies: their install script downloads libtensorflow,
// which is impossible on machines without internet (ours included). They are resolved at
// run time from folders the host passes in. The GPU path cannot be exercised on these
// machines; only the resolution order is tested (with fake packages).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// The self-check takes a gradient: without the registry every backend would fail it.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// A named, used import: the package's "sideEffects" list omits its node entry, so
// esbuild would drop a bare import and the cpu backend would never register.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

import { NATIVE_PACKAGES, resolveNativeBackend, type NativeCandidate, type NativePackage } from './nativeBackend';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Loads a candidate through createRequire rooted in its own folder, so its own
 * dependencies resolve from there. Its copy of tfjs-core registers the 'tensorflow'
 * backend in the engine singleton tfjs keeps on globalThis (_tfengine), which our copy
 * shares, so tf.setBackend('tensorflow') then finds it.
 */
export function loadNativeCandidate(c: NativeCandidate): void {
  createRequire(path.join(c.dir, 'package.json'))(c.dir);
}

/** A matmul and a gradient with known answers: a backend that loads but computes garbage loses. */
export function selfCheck(): boolean {
  try {
    return tf.tidy(() => {
      const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
      const y = tf.matMul(x, tf.tensor2d([1, 0, 0, 1], [2, 2]));
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(v)))(x);
      const a = y.dataSync();
      const b = g.dataSync();
      return [1, 2, 3, 4].every((v, i) => Math.abs(a[i] - v) < 1e-5 && Math.abs(b[i] - 2 * v) < 1e-4);
    });
  } catch {
    return false;
  }
}

export interface BackendInfo {
  name: string;
  /** Why the backend differs from the one asked for; undefined when it does not. */
  note?: string;
}

const WASM_FILE = 'tfjs-backend-wasm-simd.wasm';
let wasmPathsSet = false;

/** dist/ when bundled (esbuild copies the .wasm files there), else the package's dist. */
export function wasmDirectory(): string | undefined {
  if (fs.existsSync(path.join(__dirname, WASM_FILE))) return __dirname;
  try {
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    if (fs.existsSync(path.join(dir, WASM_FILE))) return dir;
  } catch {
    // Not resolvable (a packaged extension has no node_modules): reported below.
  }
  return undefined;
}

async function tryWasm(): Promise<string | undefined> {
  if (!wasmPathsSet) {
    const dir = wasmDirectory();
    if (!dir) return `${WASM_FILE} not found next to the engine or in @tensorflow/tfjs-backend-wasm`;
    // setWasmPaths throws once an init has been attempted; the prefix is fixed for the process anyway.
    setWasmPaths(dir + '/');
    wasmPathsSet = true;
  }
  try {
    // Resolves false on a failed init even though tf.getBackend() may still say 'wasm'.
    if (await tf.setBackend('wasm')) return undefined;
    return 'the wasm backend failed to initialise';
  } catch (err) {
    return `the wasm backend failed to initialise: ${(err as Error).message}`;
  }
}

export interface SelectOptions {
  /** Folders searched for the native packages (see resolveNativeBackend). */
  nativeDirs?: readonly string[];
}

/** Loads one native package and makes it the backend; undefined on success, else why not. */
export async function tryNative(pkg: NativePackage, dirs: readonly string[]): Promise<string | undefined> {
  const candidates = resolveNativeBackend(dirs, pkg);
  if (!candidates.length) return `${pkg} is not installed in ${dirs.length ? dirs.join(', ') : '(no folder configured)'}`;
  const errors: string[] = [];
  for (const c of candidates) {
    try {
      loadNativeCandidate(c);
      if (!tf.findBackend('tensorflow')) {
        errors.push(`${c.dir} loaded but registered no 'tensorflow' backend`);
        continue;
      }
      if (!(await tf.setBackend('tensorflow'))) {
        errors.push(`${c.dir}: the tensorflow backend failed to initialise`);
        continue;
      }
      if (selfCheck()) return undefined;
      errors.push(`${c.dir}: self-check failed`);
    } catch (err) {
      errors.push(`${c.dir}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return errors.join('; ');
}

/**
 * Selects and initialises a backend; never throws while cpu works. A forced choice that
 * cannot load falls back down the order with a note rather than failing the run.
 */
export async function selectBackend(choice: BackendChoice, opts: SelectOptions = {}): Promise<BackendInfo> {
  tf.enableProdMode(); // also silences the cpu backend's "install tfjs-node" banner
  const notes: string[] = [];
  const dirs = opts.nativeDirs ?? [];
  const natives: NativePackage[] =
    choice === 'auto' ? [...NATIVE_PACKAGES] : choice === 'tensorflow-gpu' ? ['@tensorflow/tfjs-node-gpu'] : choice === 'tensorflow' ? ['@tensorflow/tfjs-node'] : [];
  for (const pkg of natives) {
    const failure = await tryNative(pkg, dirs);
    if (!failure) return { name: pkg === '@tensorflow/tfjs-node-gpu' ? 'tensorflow-gpu' : 'tensorflow', ...(notes.length ? { note: notes.join(' ') } : {}) };
    // In auto mode a missing native package is the normal case: only say so when asked for.
    if (choice !== 'auto') notes.push(`${pkg} unavailable (${failure}).`);
  }
  if (choice !== 'cpu') {
    const failure = await tryWasm();
    if (!failure && selfCheck()) return { name: 'wasm', ...(notes.length ? { note: notes.join(' ') } : {}) };
    notes.push(`Using the cpu backend (much slower): ${failure ?? 'the wasm backend failed its self-check'}.`);
  }
  if (!(await tf.setBackend('cpu'))) throw new Error(`the cpu backend (${version_cpu}) failed to initialise`);
  return { name: 'cpu', ...(notes.length ? { note: notes.join(' ') } : {}) };
}
