// Filling a workspace index from many files without holding the thread: one file per slice,
// the event loop runs between slices (setImmediate), a file too large for one short slice is
// left out. The extension host, the benchmark and the CLI use it with their own readers.
import type { Analyzer } from '../analyzer';
import { summarizeGraph } from './fileSummary';
import type { WorkspaceIndex } from './workspaceIndex';

export interface IndexFilesOptions {
  /** Reads a file's text; undefined skips it (unreadable, vanished). */
  read(key: string): Promise<string | undefined>;
  /** Files above this many characters are not indexed (default 400,000: a ~40 ms parse). */
  maxChars?: number;
  /** Stops between files when true (disposed, a newer indexing started). */
  isCancelled?(): boolean;
  /** After each file: how many are done of how many. */
  onProgress?(done: number, total: number): void;
}

export interface IndexFilesStats {
  files: number;
  indexed: number;
  skipped: number;
  changed: string[];
  totalMs: number;
  /** Time each indexed file held the thread (parse, graph, summary), in order. */
  perFileMs: number[];
  /** The longest of them: how long the event loop could not run. */
  longestSliceMs: number;
  /**
   * The CPU time (this process, all threads) of the slice that used the most: on a loaded
   * machine a slice's wall time includes time the process was not running at all.
   */
  longestSliceCpuMs: number;
  cancelled: boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function indexFiles(index: WorkspaceIndex, analyzer: Pick<Analyzer, 'graph'>, keys: readonly string[], options: IndexFilesOptions): Promise<IndexFilesStats> {
  const maxChars = options.maxChars ?? 400_000;
  const stats: IndexFilesStats = { files: keys.length, indexed: 0, skipped: 0, changed: [], totalMs: 0, perFileMs: [], longestSliceMs: 0, longestSliceCpuMs: 0, cancelled: false };
  const t0 = performance.now();
  for (let i = 0; i < keys.length; i++) {
    if (options.isCancelled?.()) {
      stats.cancelled = true;
      break;
    }
    const key = keys[i];
    const text = await options.read(key);
    if (text === undefined || text.length > maxChars) {
      stats.skipped++;
    } else {
      const start = performance.now();
      const cpu = process.cpuUsage();
      const graph = analyzer.graph(text, 'python');
      const changed = graph ? index.setSummary(key, summarizeGraph(graph)) : index.remove(key);
      const ms = performance.now() - start;
      const used = process.cpuUsage(cpu);
      stats.longestSliceCpuMs = Math.max(stats.longestSliceCpuMs, (used.user + used.system) / 1000);
      stats.perFileMs.push(ms);
      if (ms > stats.longestSliceMs) stats.longestSliceMs = ms;
      stats.indexed++;
      if (changed) stats.changed.push(key);
    }
    options.onProgress?.(i + 1, keys.length);
    await yieldToEventLoop();
  }
  stats.totalMs = performance.now() - t0;
  return stats;
}
