// Small helpers shared by the test runners.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const resultsDir = join(repoRoot, 'test-results');
export const fixtureWorkspace = join(repoRoot, 'test', 'fixtures', 'workspace');

const tempDirs = new Set(); // removed on exit (also after SIGINT) unless kept
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Copies test/fixtures/workspace into a fresh temp folder; returns { dir, remove(), keep() }.
 * The folder is removed on process exit unless keep() was called.
 */
export function copyFixtureWorkspace() {
  const parent = mkdtempSync(join(tmpdir(), 'reglens-ws-'));
  tempDirs.add(parent);
  const dir = join(parent, 'workspace');
  cpSync(fixtureWorkspace, dir, { recursive: true });
  return {
    dir,
    remove: () => {
      tempDirs.delete(parent);
      rmSync(parent, { recursive: true, force: true });
    },
    keep: () => tempDirs.delete(parent),
  };
}

/** Runs `node esbuild.mjs` (dev build: dist/ and out/test/vscode/index.js) unless --no-build. */
export function buildUnlessSkipped(argv = process.argv) {
  if (argv.includes('--no-build')) return;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`build failed: node esbuild.mjs exited with ${r.status}`);
  console.log(`[build] node esbuild.mjs: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

export function requireFile(path, hint) {
  if (!existsSync(path)) throw new Error(`${path} is missing. ${hint}`);
}

/**
 * Samples the summed RSS of all descendants of this process (code-server's group, Chromium and
 * their helpers) every `intervalMs`; stop() returns the peak in MiB. Linux /proc only; RSS of
 * multi-process Chromium double counts shared pages, so this is an upper bound.
 */
export function startMemorySampler(intervalMs = 500) {
  let peak = 0;
  const sample = () => {
    const kids = new Map();
    const rss = new Map();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ppid = Number(fields[1]);
        const rssPages = Number(fields[21]);
        const pid = Number(name);
        if (!kids.has(ppid)) kids.set(ppid, []);
        kids.get(ppid).push(pid);
        rss.set(pid, rssPages * 4096);
      } catch {
        /* process went away */
      }
    }
    let total = 0;
    const stack = [...(kids.get(process.pid) ?? [])];
    while (stack.length) {
      const pid = stack.pop();
      total += rss.get(pid) ?? 0;
      stack.push(...(kids.get(pid) ?? []));
    }
    peak = Math.max(peak, total);
  };
  const timer = setInterval(() => {
    try {
      sample();
    } catch {
      /* not Linux */
    }
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.round(peak / 1024 / 1024);
    },
  };
}

export const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

export function ensureDir(d) {
  mkdirSync(d, { recursive: true });
  return d;
}
