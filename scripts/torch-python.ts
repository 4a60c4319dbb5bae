// Finds a Python interpreter that imports torch, for the tests that train on the real
// PyTorch engine (npm run test:python, the mocha and VS Code torch tests): REGLENS_PYTHON,
// else the first of python3 on PATH and /usr/bin/python3 (Debian's python3-torch, which
// .ci/run installs). Throws a message saying how to get one when there is none.
import { spawnSync } from 'node:child_process';

export const TORCH_INSTALL_HINT =
  'install torch >= 1.13 for a Python 3 (Debian/Ubuntu: apt-get install python3-torch libopenblas0-pthread python3-pytest; elsewhere: pip install torch numpy pytest), or point REGLENS_PYTHON at an interpreter that has it';

/** Whether `python` imports torch (and numpy); the reason when not. */
export function importsTorch(python: string): string | undefined {
  const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return (r.error as NodeJS.ErrnoException).code ?? r.error.message;
  if (r.status !== 0) return (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`).trim();
  return undefined;
}

let found: string | undefined;

export function findTorchPython(env: NodeJS.ProcessEnv = process.env): string {
  if (found) return found;
  const candidates = env.REGLENS_PYTHON ? [env.REGLENS_PYTHON] : ['python3', '/usr/bin/python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const why = importsTorch(python);
    if (why === undefined) return (found = python);
    tried.push(`${python}: ${why}`);
  }
  throw new Error(`No Python with torch for the PyTorch engine's tests (tried ${tried.join('; ')}): ${TORCH_INSTALL_HINT}.`);
}
