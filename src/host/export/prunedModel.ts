// Where a run's pruned model is and where its copy goes (pure, no vscode import, so it is
// unit-tested in mocha). The engine saves it into <run folder>/pruned-model/ and names it
// in the pruning probe's `savedModel`, relative to the run folder.
import * as path from 'node:path';
import type { EngineEvent } from '../../protocol/engineMessages';

/** The `savedModel` of the run's last pruning probe, if it reported one. */
export function savedModelOf(events: readonly EngineEvent[]): string | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'probe' && e.probe.kind === 'pruning') return e.probe.savedModel || undefined;
  }
  return undefined;
}

/**
 * Absolute path of the saved model. `savedModel` is relative to the run folder (an absolute
 * path is accepted too); it comes from a file on disk, so anything resolving outside the run
 * folder is refused rather than copied.
 */
export function resolveSavedModel(runDir: string, savedModel: string): string {
  const root = path.resolve(runDir);
  const file = path.resolve(root, savedModel);
  if (file === root || !file.startsWith(root + path.sep)) throw new Error(`savedModel '${savedModel}' points outside the run folder`);
  return file;
}

/**
 * What to copy: the engine names the model's model.json (`pruned-model/model.json`), whose
 * weights sit next to it, so a file inside a sub-folder of the run copies that whole folder;
 * a folder is copied as is; a file lying directly in the run folder is copied alone.
 */
export function copySource(runDir: string, savedPath: string, isFile: boolean): string {
  if (!isFile) return savedPath;
  const parent = path.dirname(savedPath);
  return path.resolve(parent) === path.resolve(runDir) ? savedPath : parent;
}

/**
 * Where the copy goes inside the chosen folder: the model folder's own name, or that name
 * with the run id appended when the folder already has one (never merge into an old copy).
 */
export function copyDestination(targetDir: string, source: string, runId: string, exists: (p: string) => boolean): string {
  const base = path.basename(source);
  const plain = path.join(targetDir, base);
  if (!exists(plain)) return plain;
  const withRun = path.join(targetDir, `${base}-${runId}`);
  if (!exists(withRun)) return withRun;
  for (let i = 2; ; i++) {
    const p = path.join(targetDir, `${base}-${runId}-${i}`);
    if (!exists(p)) return p;
  }
}
