// Python import statements as the workspace index needs them: what each local name stands for,
// with the relative level kept (the graph's bindings fold `from . import x` and `from .. import x`
// into similar strings, which cannot be resolved against a package path).

/** One local name an import binds. */
export interface ImportEntry {
  local: string;
  /** Leading dots of a relative import (0 for absolute). */
  level: number;
  /** Dotted module after the dots ('' for `from . import x`). */
  module: string;
  /**
   * `from module import name as local` ('*' for `from module import *`, whose local is '*' too): the name imported (a symbol of the module, or a
   * submodule). Absent for `import module as local`, where local is the module itself.
   */
  name?: string;
}

const IDENT = /^[A-Za-z_]\w*$/;

/** Reads one import statement's text (as written, possibly over several lines). */
export function parsePythonImport(text: string): ImportEntry[] {
  const t = text.replace(/#[^\n]*/g, ' ').replace(/\\\r?\n/g, ' ').replace(/\s+/g, ' ').trim();
  const from = /^from\s+(\.*)\s*([\w.]*)\s+import\s+(.+)$/.exec(t);
  if (from) {
    const level = from[1].length;
    const module = from[2];
    const names = from[3].replace(/^\(|\)$/g, '').trim();
    // A wildcard's names are looked up in the module when nothing else binds them.
    if (names === '*') return [{ local: '*', level, module }];
    const out: ImportEntry[] = [];
    for (const part of names.split(',')) {
      const m = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
      if (m) out.push({ local: m[2] ?? m[1], level, module, name: m[1] });
    }
    return out;
  }
  const imp = /^import\s+(.+)$/.exec(t);
  if (!imp) return [];
  const out: ImportEntry[] = [];
  for (const part of imp[1].split(',')) {
    const m = /^\s*([A-Za-z_][\w.]*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
    if (!m) continue;
    // `import a.b` binds `a` (to the package a); `import a.b as c` binds c to a.b.
    if (m[2]) out.push({ local: m[2], level: 0, module: m[1] });
    else out.push({ local: m[1].split('.')[0], level: 0, module: m[1].split('.')[0] });
  }
  return out.filter((e) => IDENT.test(e.local));
}

/**
 * The module path a `.py` file stands for: the path without `.py`, a package's `__init__.py`
 * as its folder (`/w/pkg/m.py` -> `/w/pkg/m`, `C:\\w\\pkg\\__init__.py` -> `C:/w/pkg`). Joined
 * with '/' like the folders imports are resolved from, whatever the platform's separator.
 */
export function modulePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/\.pyi?$/, '').replace(/\/__init__$/, '');
}
