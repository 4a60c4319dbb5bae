// The files `reglens lint` reads: the named files, and the model-code files under the named
// folders (recursively, skipping virtual environments, dependencies, build output and what a
// .gitignore or the config's `exclude` names). Symlinked folders are not followed (loops).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceLanguage } from '../analysis/treeSitterRuntime';
import { globMatcher } from './globMatch';
import { type ConfigResolver, isExcluded } from './lintConfig';

/** By extension. .tsx is left out: the analyzer has no TSX grammar (JSX in .jsx parses as JavaScript). */
const LANGUAGE_BY_EXTENSION: Record<string, SourceLanguage> = {
  '.py': 'python',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
};

const SKIPPED_FOLDERS = new Set([
  'node_modules', '.git', '.hg', '.svn', '.venv', 'venv', '__pycache__', 'dist', 'build',
  '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.reglens',
]);

export function languageOf(file: string): SourceLanguage | undefined {
  return LANGUAGE_BY_EXTENSION[path.extname(file).toLowerCase()];
}

export interface CollectedFile {
  /** Absolute. */
  path: string;
  language: SourceLanguage;
}

export interface Collected {
  files: CollectedFile[];
  /** Named files that are not model code RegLens reads (linted nothing, said so). */
  unsupported: string[];
  /** Paths that do not exist or cannot be listed, with the reason. */
  unreadable: { path: string; reason: string }[];
}

/** Walks `paths` (relative to `cwd`); files come out sorted and once each. */
export function collectFiles(paths: readonly string[], cwd: string, configs: ConfigResolver): Collected {
  const found = new Map<string, CollectedFile>();
  const unsupported: string[] = [];
  const unreadable: Collected['unreadable'] = [];
  const add = (file: string) => {
    const language = languageOf(file);
    if (language && !isExcluded(configs.forFile(file), file)) found.set(file, { path: file, language });
  };

  const walk = (dir: string, ignores: ((abs: string, isDir: boolean) => boolean)[]) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      unreadable.push({ path: dir, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      return;
    }
    const here = entries.some((e) => e.name === '.gitignore') ? [...ignores, gitignoreOf(dir)] : ignores;
    const config = configs.forFolder(dir);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const abs = path.join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          isFile = fs.statSync(abs).isFile();
        } catch {
          isFile = false;
        }
        isDir = false;
      }
      if (isDir) {
        if (SKIPPED_FOLDERS.has(e.name) || here.some((m) => m(abs, true)) || isExcluded(config, abs)) continue;
        walk(abs, here);
      } else if (isFile && languageOf(abs) && !here.some((m) => m(abs, false))) add(abs);
    }
  };

  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      unreadable.push({ path: abs, reason: code === 'ENOENT' ? 'no such file or folder' : (code ?? (err as Error).message) });
      continue;
    }
    if (stat.isDirectory()) walk(abs, []);
    else if (languageOf(abs)) add(abs);
    else unsupported.push(abs);
  }
  return { files: [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), unsupported, unreadable };
}

/**
 * A folder's .gitignore as a matcher of absolute paths. Plain patterns only: a negation (`!x`)
 * is skipped, so at worst a file is skipped that git would keep (never the other way round
 * for the patterns read).
 */
function gitignoreOf(dir: string): (abs: string, isDir: boolean) => boolean {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split(/\r?\n/);
  } catch {
    return () => false;
  }
  const rules = lines
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'))
    .map((l) => ({ dirOnly: l.endsWith('/'), match: globMatcher(l) }));
  return (abs, isDir) => {
    const rel = path.relative(dir, abs).split(path.sep).join('/');
    return rules.some((r) => (!r.dirOnly || isDir) && r.match(rel));
  };
}
