// A real Python 3 without torch, for the "torch missing" paths: a venv of the torch
// interpreter without its site-packages (the pyenv python3 on PATH would do here, but not
// on every machine).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** Makes `<dir>/venv` from `python` and returns its interpreter. */
export function pythonWithoutTorch(python: string, dir: string): string {
  const venv = path.join(dir, 'venv');
  const r = spawnSync(python, ['-m', 'venv', '--without-pip', venv], { encoding: 'utf8' });
  assert.equal(r.status, 0, `could not make a venv without torch: ${r.stderr}`);
  return path.join(venv, 'bin', 'python');
}
