// Starts a real VS Code (code-server) for tests, per RECIPES.md section 1.
//
//   const cs = await startCodeServer({ node24, codeServer });
//   ... cs.url, cs.port, cs.runDir, cs.logsDir ...
//   await waitForActivation(cs, 'reglens.reglens');
//   await cs.stop();          // kills the whole process group (also done on exit / SIGINT / SIGTERM)
//
// Every start gets a fresh RUN folder under os.tmpdir() (config.yaml, ud = user data, exts =
// extensions) and a free port. The server is started as its own process group (detached = setsid)
// because it leaves helper processes behind and a disconnected extension host can live for hours.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'files.hotExit': 'off',
  'window.restoreWindows': 'none',
  'security.workspace.trust.enabled': false, // RegLens' Run Experiment needs a trusted workspace
  'update.mode': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden', // no empty chat side bar in screenshots
  'workbench.enableExperiments': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
};

/** A free TCP port on 127.0.0.1 (asks the OS for one). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const live = new Map(); // process group id -> run folder, killed (and removed) on exit
let hooksInstalled = false;
function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const [pgid, runDir] of live) {
      killGroup(pgid, 'SIGKILL');
      try {
        rmSync(runDir, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      console.error(`[code-server] ${sig}: stopping ${live.size} server(s)`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: no process left in the group
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` (sync or async; returns a truthy value when done) every `intervalMs` until
 * `timeoutMs` elapses; then throws an Error built from `describe()`.
 */
export async function waitFor(check, { timeoutMs, intervalMs = 200, describe = () => 'condition' }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${describe()}`);
    await sleep(intervalMs);
  }
}

/**
 * Starts code-server. Options: node24, codeServer (entry.js path), extraArgs, settings (merged into
 * USER_SETTINGS), healthTimeoutMs, keepRunDir (default: keep when stop({ keep: true }) is used).
 */
export async function startCodeServer({ node24, codeServer, extraArgs = [], settings = {}, healthTimeoutMs = 60_000 }) {
  installExitHooks();
  const runDir = mkdtempSync(join(tmpdir(), 'reglens-vscode-'));
  const userDataDir = join(runDir, 'ud');
  const extensionsDir = join(runDir, 'exts');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(runDir, 'config.yaml'), '');
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...USER_SETTINGS, ...settings }, null, 2));
  const port = await freePort();
  const args = [
    codeServer,
    '--config', join(runDir, 'config.yaml'),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--vscode-option', 'enable-smoke-test-driver', // REQUIRED, else the URL payload is ignored
    ...extraArgs,
  ];
  const serverLog = join(runDir, 'server.log');
  const fd = openSync(serverLog, 'a');
  const t0 = Date.now();
  const child = spawn(node24, args, {
    detached: true, // setsid: own process group, killed as a whole in stop()
    stdio: ['ignore', fd, fd],
    env: { ...process.env, PATH: `${join(node24, '..')}:${process.env.PATH}` },
  });
  closeSync(fd);
  const pgid = child.pid;
  live.set(pgid, runDir);
  let exited = null;
  const exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  child.once('error', (e) => (exited = { error: e }));

  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  async function stop({ keep = false } = {}) {
    if (stopped) return;
    stopped = true;
    killGroup(pgid, 'SIGTERM');
    await Promise.race([exitPromise, sleep(5000)]);
    // Helpers (extension host, pty host, file watcher) may outlive the leader: wait, then SIGKILL.
    try {
      await waitFor(() => !groupAlive(pgid), { timeoutMs: 3000, intervalMs: 100 });
    } catch {
      killGroup(pgid, 'SIGKILL');
      await waitFor(() => !groupAlive(pgid), { timeoutMs: 5000, intervalMs: 100 }).catch(() => {});
    }
    live.delete(pgid);
    if (!keep) rmSync(runDir, { recursive: true, force: true });
  }

  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`code-server exited early (${JSON.stringify(exited)}); log:\n${tail(serverLog, 40)}`);
        try {
          const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          return r.ok;
        } catch {
          return false;
        }
      },
      { timeoutMs: healthTimeoutMs, intervalMs: 100, describe: () => `${url}/healthz; server log:\n${tail(serverLog, 40)}` },
    );
  } catch (e) {
    await stop({ keep: true });
    throw e;
  }
  const startMs = Date.now() - t0;
  const logsDir = join(userDataDir, 'logs');
  /** Copies the VS Code logs (RUN/ud/logs) and the server log into `dest` (for CI artifacts). */
  function saveLogs(dest) {
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    if (existsSync(logsDir)) cpSync(logsDir, join(dest, 'logs'), { recursive: true });
    if (existsSync(serverLog)) cpSync(serverLog, join(dest, 'server.log'));
    return dest;
  }
  return { url, port, runDir, userDataDir, logsDir, serverLog, pid: pgid, startMs, stop, saveLogs };
}

/** The workbench URL that opens `folder` with the smoke-test-driver payload (array of [key, value]). */
export function workbenchUrl(cs, { folder, payload }) {
  const q = new URLSearchParams();
  if (folder) q.set('folder', folder);
  if (payload) q.set('payload', JSON.stringify(payload));
  return `${cs.url}/?${q.toString()}`;
}

/** vscode-remote:// URI of an absolute path on the server (for the payload). */
export function remoteUri(cs, absPath) {
  return `vscode-remote://127.0.0.1:${cs.port}${absPath.split('/').map(encodeURIComponent).join('/')}`;
}

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** All extension host logs of the run: RUN/ud/logs/**\/exthost*\/remoteexthost.log, newest last. */
export function extHostLogs(cs) {
  return walk(cs.logsDir)
    .filter((p) => /\/exthost[^/]*\/remoteexthost\.log$/.test(p))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

export function readExtHostLog(cs) {
  return extHostLogs(cs)
    .map((p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return '';
      }
    })
    .join('\n');
}

/** Waits until the extension host log says `_doActivateExtension <extensionId>`. */
export async function waitForActivation(cs, extensionId = 'reglens.reglens', { timeoutMs = 120_000 } = {}) {
  const needle = `_doActivateExtension ${extensionId}`;
  const t0 = Date.now();
  await waitFor(() => readExtHostLog(cs).includes(needle), {
    timeoutMs,
    intervalMs: 250,
    describe: () =>
      `'${needle}' in ${cs.logsDir}/**/exthost*/remoteexthost.log (found logs: ${extHostLogs(cs).join(', ') || 'none'})\n` +
      `extension host log tail:\n${tailText(readExtHostLog(cs), 30)}`,
  });
  return Date.now() - t0;
}

export function tail(file, n = 60) {
  try {
    return tailText(readFileSync(file, 'utf8'), n);
  } catch {
    return `(no ${file})`;
  }
}

export function tailText(text, n = 60) {
  return text.split('\n').slice(-n).join('\n');
}
