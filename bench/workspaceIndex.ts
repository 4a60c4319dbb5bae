// Benchmark of the workspace index on 1,000 Python files (copies of the corpus files in
// test/fixtures/corpus, in 20 packages, written to a temporary folder): indexing them all as the
// extension host does (indexFiles: read, parse, summarise, one file per slice, the event loop
// runs in between), with the total time, the per-file time, the longest slice the event loop
// waited for (and the event-loop delay measured beside it), peak RSS and the heap the index
// keeps; then one file re-indexed with its dependents looked up (a save). Part of `npm run
// bench` (bench/bench.ts); alone: `npx tsx bench/workspaceIndex.ts [files]`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { createAnalyzer } from '../src/analysis/analyzer';
import { indexFiles } from '../src/analysis/workspace/indexFiles';
import { WorkspaceIndex } from '../src/analysis/workspace/workspaceIndex';

export interface WorkspaceIndexBenchResult {
  name: 'workspaceIndex';
  files: number;
  lines: number;
  indexed: number;
  totalMs: number;
  perFileMedianMs: number;
  perFileP90Ms: number;
  /** The longest time one slice (one file) held the thread. */
  longestSliceMs: number;
  /** CPU time of the slice that used the most (wall time above includes time the process waited for a core). */
  longestSliceCpuMs: number;
  /** Slices longer than a 60 Hz frame (on this shared 2-core machine the longest ones are GC pauses and preemption, not one file's parse). */
  slicesOver16Ms: number;
  /** Machine load while it ran (1-minute load average; the machine has os.cpus().length cores). */
  loadAverage: number;
  /** The event loop's largest delay while indexing (perf_hooks.monitorEventLoopDelay, 10 ms resolution). */
  eventLoopMaxDelayMs: number;
  peakRssMiB: number;
  /** Heap the index keeps after a full GC (index alive minus index dropped). */
  indexHeapMiB: number;
  /** One file re-indexed after an edit, then its dependents found: median of 21. */
  reindexOneFileMedianMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Writes `count` copies of the corpus's Python files into 20 packages under a new temp folder. */
function generateWorkspace(count: number): { dir: string; files: string[]; lines: number } {
  const corpus = path.join(__dirname, '..', 'test', 'fixtures', 'corpus');
  const sources = fs
    .readdirSync(corpus)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((f) => fs.readFileSync(path.join(corpus, f), 'utf8'));
  if (!sources.length) throw new Error(`no Python files in ${corpus}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-index-bench-'));
  const files: string[] = [];
  let lines = 0;
  for (let i = 0; i < count; i++) {
    const pkg = path.join(dir, `pkg${i % 20}`);
    if (i < 20) {
      fs.mkdirSync(pkg, { recursive: true });
      fs.writeFileSync(path.join(pkg, '__init__.py'), '');
    }
    // Every file but the first of a package imports the package's previous module too, so the index has edges to follow.
    const prev = i >= 20 ? `from .m${i - 20} import *\n` : '';
    const text = prev + sources[i % sources.length];
    const file = path.join(pkg, `m${i}.py`);
    fs.writeFileSync(file, text);
    files.push(file);
    lines += text.split('\n').length;
  }
  return { dir, files, lines };
}

export async function runWorkspaceIndexBench(count = 1000): Promise<WorkspaceIndexBenchResult> {
  const { dir, files, lines } = generateWorkspace(count);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const analyzer = await createAnalyzer();
  try {
    // Warm-up (JIT, grammar wasm) on a separate index.
    await indexFiles(new WorkspaceIndex(), analyzer, files.slice(0, 40), { read: (f) => fs.promises.readFile(f, 'utf8') });
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakRss = process.memoryUsage().rss;
    const index = new WorkspaceIndex((t, language) => analyzer.graph(t, language));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const stats = await indexFiles(index, analyzer, files, {
      read: (f) => fs.promises.readFile(f, 'utf8'),
      onProgress: (done) => {
        if (done % 20 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      },
    });
    delay.disable();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    gc();
    const heapWith = process.memoryUsage().heapUsed;
    // A save: the file re-read and re-summarised (its text changed), then who rests on it.
    const target = files[25];
    const original = fs.readFileSync(target, 'utf8');
    const reindexMs: number[] = [];
    for (let i = 0; i < 21; i++) {
      const text = `${original}\n# edit ${i}\n`;
      const t = performance.now();
      index.update(target, text);
      index.dependents(target);
      reindexMs.push(performance.now() - t);
    }
    const indexed = index.size;
    return {
      name: 'workspaceIndex',
      files: files.length,
      lines,
      indexed,
      totalMs: Math.round(stats.totalMs),
      perFileMedianMs: +median(stats.perFileMs).toFixed(2),
      perFileP90Ms: +quantile(stats.perFileMs, 0.9).toFixed(2),
      longestSliceMs: +stats.longestSliceMs.toFixed(1),
      longestSliceCpuMs: +stats.longestSliceCpuMs.toFixed(1),
      slicesOver16Ms: stats.perFileMs.filter((ms) => ms > 16).length,
      eventLoopMaxDelayMs: +(delay.max / 1e6).toFixed(1),
      loadAverage: +os.loadavg()[0].toFixed(1),
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      indexHeapMiB: +((heapWith - heapBefore) / 2 ** 20).toFixed(1),
      reindexOneFileMedianMs: +median(reindexMs).toFixed(2),
    };
  } finally {
    analyzer.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Alone only (see bench/analysis.ts for why the file name is checked).
if (require.main === module && /workspaceIndex\.ts$/.test(__filename)) {
  void runWorkspaceIndexBench(Number(process.argv[2] ?? 1000)).then((r) => console.log(JSON.stringify(r, null, 2)));
}
