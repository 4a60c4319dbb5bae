// Peak memory of one engine over a whole run, as a user meets it: dist/engine.js is forked
// exactly as the CLI and the extension host fork it (src/runs/engineProcess.ts) and trains
// the experiment to its end, probes included, while bench/peakRss.ts follows engine.js and
// every process it starts (for torch: the Python engine). Any backend name works.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEngine } from '../src/runs/engineProcess';
import type { BackendName, DeviceName, Experiment } from '../src/protocol/experiment';
import { parseExperiment } from '../src/protocol/experiment';
import { watchPeakRss, type PeakRss } from './peakRss';

/** The repository root, from the bundle (dist/bench.js) or from source (bench/*.ts). */
const ROOT = path.join(__dirname, '..');

function defaultEnginePath(): string {
  for (const file of [path.join(__dirname, 'engine.js'), path.join(ROOT, 'dist', 'engine.js')]) {
    if (fs.existsSync(file)) return file;
  }
  throw new Error('dist/engine.js is missing: run `node esbuild.mjs` first');
}

export const GROK_EXAMPLE = path.join(ROOT, 'examples', 'grok-corrupted.reglens.json');

/** examples/grok-corrupted.reglens.json with its probes, cut to `epochs` epochs. */
export function grokExample(epochs: number): Experiment {
  const spec = JSON.parse(fs.readFileSync(GROK_EXAMPLE, 'utf8'));
  delete spec.$schema;
  return parseExperiment({ ...spec, training: { ...spec.training, epochs } });
}

export interface RssRunOptions {
  backend: BackendName;
  experiment: Experiment;
  python?: string;
  device?: DeviceName;
  /** Default: dist/engine.js. */
  enginePath?: string;
}

export interface RssRunResult {
  /** started.backend: what actually trained. */
  backend: string | null;
  epochs: number;
  probes: number;
  wallSeconds: number;
  /** engine.js (root) and everything it started (for torch the Python engine), VmHWM. */
  peakRss: PeakRss;
  failed?: string;
}

/** One engine process from fork to exit; never throws (a failed run says why in `failed`). */
export async function runWithPeakRss(opts: RssRunOptions): Promise<RssRunResult> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reglens-rss-'));
  let backend: string | null = null;
  let epochs = 0;
  let probes = 0;
  let failed: string | undefined;
  let rss: PeakRss | undefined;
  const t0 = performance.now();
  const handle = startEngine({
    enginePath: opts.enginePath ?? defaultEnginePath(),
    experiment: opts.experiment,
    backend: opts.backend,
    ...(opts.python ? { python: opts.python } : {}),
    ...(opts.device ? { device: opts.device } : {}),
    baseDir: ROOT,
    runDir,
    onEvent: (e) => {
      if (e.type === 'started') backend = e.backend;
      else if (e.type === 'epoch') epochs++;
      else if (e.type === 'probe') probes++;
      else if (e.type === 'failed') failed = e.message;
      // The processes still run when their last event arrives: read their peaks now.
      if (e.type === 'finished' || e.type === 'failed') rss = watch.stop();
    },
    onStderr: () => undefined,
  });
  const watch = watchPeakRss(handle.pid ?? -1);
  const done = await handle.done;
  rss ??= watch.stop();
  fs.rmSync(runDir, { recursive: true, force: true });
  if (done.outcome !== 'finished' && !failed) failed = `the engine ${done.outcome} (exit code ${done.code}, signal ${done.signal})`;
  return { backend, epochs, probes, wallSeconds: (performance.now() - t0) / 1000, peakRss: rss, ...(failed ? { failed } : {}) };
}

/** The Python engine's own process among engine.js's children, MiB (null when none was seen). */
export function pythonEnginePeak(peak: PeakRss): number | null {
  const entries = Object.entries(peak.descendantsMiB).filter(([cmd]) => /-m reglens\.engine/.test(cmd) && !/--self-check/.test(cmd));
  return entries.length ? Math.max(...entries.map(([, v]) => v)) : null;
}
