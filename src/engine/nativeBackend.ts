// Finding and installing the native TensorFlow bindings (@tensorflow/tfjs-node-gpu,
// @tensorflow/tfjs-node). File-system and npm only, no TF.js import: the extension host uses
// this for "Install Native Backend" without pulling TF.js into its bundle; the engine
// (backend.ts) loads what resolveNativeBackend finds.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
export type NativePackage = (typeof NATIVE_PACKAGES)[number];

export interface NativeCandidate {
  pkg: NativePackage;
  /** The package folder (…/node_modules/@tensorflow/tfjs-node). */
  dir: string;
  version: string;
}

/**
 * Native-backend packages found in searchDirs, best first: every tfjs-node-gpu before any
 * tfjs-node (the backend order wins over the folder order), and within one package the
 * folders in the order given. Callers pass (a) a configured folder (REGLENS_NATIVE_MODULES
 * or the start option), (b) the workspace folder, (c) the extension's global storage.
 * A search dir may be an npm prefix (holding node_modules/) or a node_modules folder.
 * Pure file-system lookup: nothing is loaded.
 */
export function resolveNativeBackend(searchDirs: readonly string[], only?: NativePackage): NativeCandidate[] {
  const found: NativeCandidate[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    if (only && pkg !== only) continue;
    for (const dir of searchDirs) {
      const roots = path.basename(dir) === 'node_modules' ? [dir] : [path.join(dir, 'node_modules')];
      for (const root of roots) {
        const pkgDir = path.join(root, pkg);
        try {
          const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { name?: string; version?: string };
          if (meta.name !== pkg) continue;
          found.push({ pkg, dir: pkgDir, version: meta.version ?? '?' });
        } catch {
          // Absent or unreadable: not a candidate.
        }
      }
    }
  }
  return found;
}

/** Default search folders: REGLENS_NATIVE_MODULES (path-list), then the given ones. */
export function nativeSearchDirs(extra: readonly string[] = []): string[] {
  const env = process.env.REGLENS_NATIVE_MODULES;
  return [...(env ? env.split(path.delimiter).filter(Boolean) : []), ...extra];
}

/**
 * `npm install --prefix dir pkg`, streaming npm's output lines to onProgress. Rejects with
 * a message that says "offline" when the registry (or the libtensorflow download of the
 * install script) cannot be reached. npmCommand is for tests.
 */
export function installNativeBackend(
  dir: string,
  pkg: NativePackage,
  onProgress: (line: string) => void,
  npmCommand: readonly string[] = defaultNpmCommand(),
  signal?: AbortSignal,
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error(`installing ${pkg} was cancelled`));
    const [cmd, ...pre] = npmCommand;
    const child = spawn(cmd, [...pre, 'install', '--prefix', dir, '--no-audit', '--no-fund', pkg], {
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    });
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      child.kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const tail: string[] = [];
    const onData = (buf: Buffer) => {
      for (const line of buf.toString().split(/\r?\n/)) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        onProgress(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new Error(`could not run npm to install ${pkg}: ${err.message}`)));
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (cancelled) return reject(new Error(`installing ${pkg} was cancelled`));
      if (code === 0) return resolve();
      const text = tail.join('\n');
      if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|ENETUNREACH|network|getaddrinfo|unable to get|fetch failed/i.test(text)) {
        reject(new Error(`offline: installing ${pkg} needs the npm registry and the libtensorflow binary host (storage.googleapis.com), and they could not be reached. Connect to the internet, or install it on a machine that can and point reglens.training.nativeModulePath (REGLENS_NATIVE_MODULES for the CLI) at that folder. Last npm output:\n${text}`));
      } else {
        reject(new Error(`npm install ${pkg} failed (exit ${code}):\n${text}`));
      }
    });
  });
}

/**
 * npm as an argv prefix: REGLENS_NPM (a path, e.g. when VS Code was started without the
 * shell's PATH, as nvm users find), else npm on PATH.
 */
export function defaultNpmCommand(): string[] {
  const configured = process.env.REGLENS_NPM?.trim();
  if (configured) return [configured];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm'];
}
