// The value of reglens.python.interpreter as a path: `${workspaceFolder}` and a leading `~`
// expanded, a relative path resolved against the workspace folder. A bare command name
// (python3, py) stays as it is, for the engine to find on PATH.
import * as os from 'node:os';
import * as path from 'node:path';

export function interpreterFromSetting(value: string, folder: string | undefined, home = os.homedir()): string | undefined {
  let v = value.trim();
  if (!v) return undefined;
  if (folder) v = v.split('${workspaceFolder}').join(folder);
  if (v === '~' || v.startsWith('~/') || v.startsWith('~\\')) v = path.join(home, v.slice(1));
  const isBareName = !v.includes('/') && !v.includes('\\');
  if (isBareName || path.isAbsolute(v)) return v;
  return folder ? path.resolve(folder, v) : path.resolve(v);
}
