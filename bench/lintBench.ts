// Benchmark of `reglens lint` on 1,000 files: copies of the real-world corpus
// (test/fixtures/corpus) under varied names in nested folders of a temp folder, linted by the
// bundled CLI (dist/cli.js) in a fresh process each run, as CI runs it. Wall time from spawn
// to exit (node start, grammar loading, walking, reading, analysis, JSON written) and the
// child's peak RSS (process.resourceUsage().maxRSS). Part of `npm run bench`; alone:
// `node esbuild.mjs && npx tsx bench/lintBench.ts [--files N] [--runs N] [--out bench-results/lint.json]`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

export interface LintBenchResult {
  name: 'lint';
  files: number;
  lines: number;
  runs: number;
  findings: number;
  wallMedianSeconds: number;
  wallSeconds: number[];
  /** User + system CPU of the child: what the work costs, less sensitive to a busy machine than wall time. */
  cpuMedianSeconds: number;
  loadAverage: number;
  filesPerSecond: number;
  peakRssMiB: number;
  command: string;
}

/** dist/cli.js from the bench bundle (dist/bench.js) or from source (bench/). */
function cliPath(): string {
  for (const p of [path.join(__dirname, 'cli.js'), path.join(__dirname, '..', 'dist', 'cli.js')]) if (fs.existsSync(p)) return p;
  throw new Error('dist/cli.js not found: build first (node esbuild.mjs)');
}

/** `count` corpus copies in folders of 50, names varied so no two share a path. Returns the line total. */
export function writeLintTree(dir: string, count: number): number {
  const corpus = path.join(__dirname, '..', 'test', 'fixtures', 'corpus');
  const sources = fs
    .readdirSync(corpus)
    .filter((f) => /\.(py|js|ts)$/.test(f))
    .sort()
    .map((f) => ({ name: f, text: fs.readFileSync(path.join(corpus, f), 'utf8') }));
  if (!sources.length) throw new Error(`no corpus files in ${corpus}`);
  let lines = 0;
  for (let i = 0; i < count; i++) {
    const src = sources[i % sources.length];
    const ext = path.extname(src.name);
    const folder = path.join(dir, `pkg${Math.floor(i / 50)}`, i % 2 ? 'models' : 'train');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, `${path.basename(src.name, ext)}_${i}${ext}`), src.text);
    lines += src.text.split('\n').length;
  }
  return lines;
}

export function runLintBench(files = 1000, runs = 3): LintBenchResult {
  const cli = cliPath();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-lint-bench-'));
  try {
    const lines = writeLintTree(path.join(dir, 'repo'), files);
    const out = path.join(dir, 'report.json');
    // main() of the bundle in a child that reports its own peak RSS once the report is written.
    const script = `const {main}=require(${JSON.stringify(cli)});main(['lint','repo','--format','json','--output',${JSON.stringify(out)},'--fail-on','never']).then(c=>{const u=process.resourceUsage();process.stdout.write(JSON.stringify({code:c,maxRss:u.maxRSS,cpuUs:u.userCPUTime+u.systemCPUTime}))})`;
    const wall: number[] = [];
    const cpu: number[] = [];
    let peak = 0;
    let findings = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      const child = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
      wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
      if (child.status !== 0) throw new Error(`reglens lint failed (${child.status}): ${child.stderr}`);
      const { code, maxRss, cpuUs } = JSON.parse(child.stdout) as { code: number; maxRss: number; cpuUs: number };
      cpu.push(cpuUs / 1e6);
      if (code !== 0) throw new Error(`reglens lint exited ${code}: ${child.stderr}`);
      peak = Math.max(peak, maxRss / 1024);
      const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { summary: { files: number; findings: number } };
      if (report.summary.files !== files) throw new Error(`linted ${report.summary.files} files, expected ${files}`);
      findings = report.summary.findings;
    }
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const median = mid(wall);
    return {
      name: 'lint',
      files,
      lines,
      runs,
      findings,
      wallMedianSeconds: Number(median.toFixed(2)),
      wallSeconds: wall.map((w) => Number(w.toFixed(2))),
      cpuMedianSeconds: Number(mid(cpu).toFixed(2)),
      loadAverage: os.loadavg()[0],
      filesPerSecond: Math.round(files / median),
      peakRssMiB: Math.round(peak),
      command: `node dist/cli.js lint <${files} corpus copies> --format json --output report.json --fail-on never`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatLintBench(r: LintBenchResult): string {
  return `lint, ${r.files} files (${r.lines} lines): ${r.wallMedianSeconds} s wall median of ${r.runs} (${r.filesPerSecond} files/s; CPU ${r.cpuMedianSeconds} s; load ${r.loadAverage.toFixed(1)}), peak RSS ${r.peakRssMiB} MiB, ${r.findings} findings`;
}

// Alone only: in the dist/bench.js bundle require.main === module holds for every module (see bench/analysis.ts).
if (require.main === module && /lintBench\.ts$/.test(__filename)) {
  const { values } = parseArgs({ options: { files: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' }, out: { type: 'string' } } });
  const r = runLintBench(Number(values.files), Number(values.runs));
  const doc = { time: new Date().toISOString(), node: process.version, cpus: os.cpus().length, ...r };
  if (values.out) fs.writeFileSync(values.out, JSON.stringify(doc, null, 2) + '\n');
  console.log(JSON.stringify(doc, null, 2));
  console.log(formatLintBench(r));
}
