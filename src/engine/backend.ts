// Backend selection for the engine process. wasm (XNNPACK, SIMD) is ~40x faster
// than the pure-JS cpu backend here (RECIPES §2), so 'auto' tries it first and
// falls back to cpu with a note the user gets to see, instead of failing the run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// A named, used import: the package's "sideEffects" list omits its node entry, so
// esbuild would drop a bare import and the cpu backend would never register.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type BackendChoice = 'auto' | 'wasm' | 'cpu';

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

/** Selects and initialises a backend; never throws for wasm problems when cpu works. */
export async function selectBackend(choice: BackendChoice): Promise<BackendInfo> {
  tf.enableProdMode(); // also silences the cpu backend's "install tfjs-node" banner
  let note: string | undefined;
  if (choice !== 'cpu') {
    const failure = await tryWasm();
    if (!failure) return { name: 'wasm' };
    note = `Using the cpu backend (much slower): ${failure}.`;
  }
  if (!(await tf.setBackend('cpu'))) throw new Error(`the cpu backend (${version_cpu}) failed to initialise`);
  return { name: 'cpu', note };
}
