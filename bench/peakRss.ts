// Peak resident memory of a process and its descendants while it runs, from Linux's
// /proc/<pid>/status VmHWM (the kernel's own high-water mark, so polling misses nothing
// that happened before the last read). Used for the engines' max RSS in `npm run bench`:
// wasm trains inside dist/engine.js, torch inside the Python child that engine.js starts.
import * as fs from 'node:fs';

export interface PeakRss {
  /** MiB; null where /proc could not be read (not Linux, or the process ended before a read). */
  rootMiB: number | null;
  /** Each descendant's peak, keyed by its command line (program name, then arguments), MiB. */
  descendantsMiB: Record<string, number>;
}

export interface RssWatch {
  /** Reads once more (call it while the process still runs, e.g. on its last event), then stops. */
  stop(): PeakRss;
  /** Reads now; the peaks so far. */
  sample(): PeakRss;
}

function hwmMiB(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined; // gone, or no /proc
  }
}

function children(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** "python3 -m reglens.engine --self-check ...": the program's base name and its arguments. */
function commandOf(pid: number): string | undefined {
  try {
    const [exe, ...args] = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return exe === undefined ? undefined : [exe.split('/').pop(), ...args].join(' ');
  } catch {
    return undefined;
  }
}

export function watchPeakRss(rootPid: number, everyMs = 50): RssWatch {
  let root: number | null = null;
  // Per pid: its peak and its latest command line (a child reads as its parent until it execs).
  const seen = new Map<number, { hwm: number; command: string }>();
  const read = (): PeakRss => {
    const r = hwmMiB(rootPid);
    if (r !== undefined) root = Math.max(root ?? 0, r);
    const queue = children(rootPid);
    while (queue.length) {
      const pid = queue.shift()!;
      queue.push(...children(pid));
      const hwm = hwmMiB(pid);
      if (hwm === undefined) continue;
      const command = commandOf(pid);
      seen.set(pid, { hwm: Math.max(seen.get(pid)?.hwm ?? 0, hwm), command: command ?? seen.get(pid)?.command ?? `pid ${pid}` });
    }
    const descendantsMiB: Record<string, number> = {};
    for (const { hwm, command } of seen.values()) descendantsMiB[command] = Math.max(descendantsMiB[command] ?? 0, hwm);
    return { rootMiB: root, descendantsMiB };
  };
  const timer = setInterval(read, everyMs);
  timer.unref();
  return {
    sample: read,
    stop() {
      const last = read();
      clearInterval(timer);
      return last;
    },
  };
}
