// Prepares the folder that scripts/gpu-check.sh trains on a CUDA machine which has python3
// and torch but perhaps no Node (issue 12, item 8). Run here:
//   npx tsx scripts/prepare-gpu-check.ts [--out DIR] [--experiment FILE] [--epochs N] [--device cuda|cpu|auto|mps]
// It writes DIR (default gpu-check/) with everything a run needs, nothing of this machine's:
//   data/           the materialised dataset (.npy + meta.json), written by engine.js's own
//                   hand-over writer (torchBridge.prepareTorchRun), as for any torch run
//   command.json    the start command python -m reglens.engine --command reads (device cuda);
//                   gpu-check.sh points its paths at wherever DIR now lives
//   python/reglens  the engine package (as shipped in the .vsix)
//   gpu-check.sh    a copy of scripts/gpu-check.sh
// Then copy DIR to the GPU machine and run `bash DIR/gpu-check.sh DIR`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseExperimentText, type DeviceName } from '../src/protocol/experiment';
import { prepareTorchRun, pythonPackageDir, torchStartCommand } from '../src/engine/torchBridge';

const ROOT = path.join(__dirname, '..');
export const GPU_CHECK_EXPERIMENT = path.join(ROOT, 'examples', 'grok-corrupted.reglens.json');
/** The verdict of docs/results.md is for 300 epochs; the example file itself says 200. */
export const GPU_CHECK_EPOCHS = 300;

export interface PrepareOptions {
  out: string;
  experimentFile?: string;
  epochs?: number;
  device?: DeviceName;
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, filter: (src) => !src.includes('__pycache__') && !src.endsWith('.pyc') });
}

/** Writes the folder; returns the command file. Throws with the cause when it cannot. */
export async function prepareGpuCheck(opts: PrepareOptions): Promise<string> {
  const out = path.resolve(opts.out);
  if (fs.existsSync(out) && fs.readdirSync(out).length && !fs.existsSync(path.join(out, 'command.json'))) {
    throw new Error(`${out} exists and is not a gpu-check folder (no command.json): choose a new or empty folder`);
  }
  const file = opts.experimentFile ?? GPU_CHECK_EXPERIMENT;
  const experiment = parseExperimentText(fs.readFileSync(file, 'utf8'), file);
  if (experiment.sweep) throw new Error(`${file} is a sweep; prepare one of its runs (an experiment without "sweep")`);
  experiment.training.epochs = opts.epochs ?? GPU_CHECK_EPOCHS;
  const pkg = pythonPackageDir();
  if (!pkg) throw new Error('python/reglens is missing: run this from a RegLens checkout');
  for (const stale of ['data', 'python', 'command.json', 'gpu-check.sh']) fs.rmSync(path.join(out, stale), { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const dataDir = path.join(out, 'data');
  const layers = await prepareTorchRun(experiment, path.dirname(path.resolve(file)), dataDir);
  const command = torchStartCommand(layers, { device: opts.device ?? 'cuda', python: 'python3', dataDir, baseDir: out, runDir: path.join(out, 'run') });
  const commandFile = path.join(out, 'command.json');
  fs.writeFileSync(commandFile, JSON.stringify(command, null, 1) + '\n');
  copyTree(path.join(pkg, 'reglens'), path.join(out, 'python', 'reglens'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'gpu-check.sh'), path.join(out, 'gpu-check.sh'));
  return commandFile;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'gpu-check' },
      experiment: { type: 'string' },
      epochs: { type: 'string' },
      device: { type: 'string', default: 'cuda' },
    },
  });
  const device = values.device as DeviceName;
  if (!['auto', 'cuda', 'mps', 'cpu'].includes(device)) throw new Error(`--device must be auto, cuda, mps or cpu, not ${device}`);
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new Error(`--epochs must be a positive whole number, not ${values.epochs}`);
  const commandFile = await prepareGpuCheck({ out: values.out!, experimentFile: values.experiment, epochs, device });
  const dir = path.dirname(commandFile);
  console.log(`prepared ${dir} (${commandFile}); on the GPU machine: bash ${path.basename(dir)}/gpu-check.sh ${path.basename(dir)}`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`prepare-gpu-check: ${err.message}`);
    process.exitCode = 2;
  });
}
