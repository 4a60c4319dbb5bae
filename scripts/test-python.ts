// npm run test:python: the Python engine's pytest suite (python/tests), in an interpreter
// that has torch (scripts/torch-python.ts). Fails, saying how to install one, when none has.
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { findTorchPython } from './torch-python';

const root = join(__dirname, '..');
let python: string;
try {
  python = findTorchPython();
} catch (err) {
  console.error(`test:python: ${(err as Error).message}`);
  process.exit(1);
}
const pytest = spawnSync(python, ['-c', 'import pytest'], { encoding: 'utf8' });
if (pytest.status !== 0) {
  console.error(`test:python: ${python} has torch but no pytest: apt-get install python3-pytest, or ${python} -m pip install pytest.`);
  process.exit(1);
}
console.log(`test:python: ${python} -m pytest python/tests`);
const r = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'python/tests', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  // The package is imported from the repository, as engine.js runs it (PYTHONPATH, no install).
  env: { ...process.env, PYTHONPATH: [join(root, 'python'), process.env.PYTHONPATH].filter(Boolean).join(delimiter), PYTHONDONTWRITEBYTECODE: '1' },
});
process.exit(r.status ?? 1);
