// The workspace index: one compact summary per Python file (fileSummary.ts), the module each
// file stands for, and resolution of imports between them (absolute, relative, `__init__.py`
// re-exports). Updating a file re-summarises that file only; answers that cross files are
// memoised until the next update. Pure: no 'vscode', no file system (callers hand in texts), so
// the extension host and the CLI share it.
import type { ModelGraph } from '../modelGraph';
import type { SourceLanguage } from '../treeSitterRuntime';
import { type ClassFacts, type FileSummary, summarizeGraph } from './fileSummary';
import { type ImportEntry, modulePath, parsePythonImport } from './pythonImports';
import type { FoundLayer, ResolvedSymbol, WorkspaceContext } from './workspaceContext';

/** Parses a file and returns its model graph (analyzer.graph); undefined when it cannot. */
export type GraphOf = (text: string, language: SourceLanguage) => ModelGraph | undefined;

interface Entry {
  key: string;
  /** The file's module path (pythonImports.ts modulePath): its path without `.py`, a package's `__init__` dropped. */
  moduleDir: string;
  /** Directory of the file (posix). */
  dir: string;
  summary: FileSummary;
  imports: Map<string, ImportEntry>;
  /** `from module import *` entries, searched for names nothing else binds. */
  wildcards: ImportEntry[];
  /** JSON of the summary: a re-summarised file whose summary did not change changes nothing. */
  signature: string;
}

/** How deep a chain of re-exports, base classes or sub-modules is followed. */
const MAX_DEPTH = 4;

export class WorkspaceIndex {
  private readonly files = new Map<string, Entry>();
  /** Module path ('/w/pkg/models') -> keys (a package and a module of one name may both exist). */
  private readonly byModulePath = new Map<string, string[]>();
  /** Last dotted part -> module paths ending in it, for imports from a root that is no ancestor of the importer. */
  private readonly byTail = new Map<string, Set<string>>();
  private memo = new Map<string, unknown>();
  /** Bumped by every change that can change an answer. */
  generation = 0;

  /**
   * @param graphOf parses a text (only update() needs it; setSummary() does not)
   * @param pathOf the absolute posix path of a key (identity by default; the extension passes uri.path)
   */
  constructor(
    private readonly graphOf?: GraphOf,
    private readonly pathOf: (key: string) => string = (k) => k,
  ) {}

  get size(): number {
    return this.files.size;
  }

  has(key: string): boolean {
    return this.files.has(key);
  }

  keys(): IterableIterator<string> {
    return this.files.keys();
  }

  /** Parses and summarises one file; true when its summary changed. A file that does not parse is kept out. */
  update(key: string, text: string, language: SourceLanguage = 'python'): boolean {
    if (language !== 'python') return false;
    const graph = this.graphOf?.(text, language);
    if (!graph) return this.remove(key);
    return this.setSummary(key, summarizeGraph(graph));
  }

  /** Stores a summary made elsewhere (from the graph of an open document's analysis); true when it changed. */
  setSummary(key: string, summary: FileSummary): boolean {
    if (summary.language !== 'python') return this.remove(key);
    const signature = JSON.stringify(summary);
    const old = this.files.get(key);
    if (old && old.signature === signature) return false;
    if (old) this.unregister(old);
    const path = this.pathOf(key).replace(/\\/g, '/');
    const dir = path.slice(0, path.lastIndexOf('/'));
    const entry: Entry = { key, moduleDir: modulePath(path), dir, summary, ...importMap(summary.imports), signature };
    this.files.set(key, entry);
    this.register(entry);
    this.changed();
    return true;
  }

  remove(key: string): boolean {
    const old = this.files.get(key);
    if (!old) return false;
    this.unregister(old);
    this.files.delete(key);
    this.changed();
    return true;
  }

  summary(key: string): FileSummary | undefined {
    return this.files.get(key)?.summary;
  }

  /**
   * Files whose imports reach `key`, directly or through files that import it (re-exports,
   * a model holding a backbone), up to MAX_DEPTH steps: what to re-check when it changes.
   */
  dependents(key: string): string[] {
    const reverse = this.reverse();
    const out = new Set<string>();
    let frontier = [key];
    for (let step = 0; step < MAX_DEPTH && frontier.length; step++) {
      const next: string[] = [];
      for (const k of frontier) {
        for (const d of reverse.get(k) ?? []) {
          if (d === key || out.has(d)) continue;
          out.add(d);
          next.push(d);
        }
      }
      frontier = next;
    }
    return [...out];
  }

  /** The indexed files `key`'s own imports reach directly (what to re-check when `key` changes: a file it imports may rest on its importers). */
  dependencies(key: string): string[] {
    const e = this.files.get(key);
    if (!e) return [];
    const out = new Set<string>();
    for (const imp of allImports(e)) for (const k of this.moduleTargets(e, imp)) if (k !== key) out.add(k);
    return [...out];
  }

  /** File -> the files importing it; built once per generation (a pass over every file's imports). */
  private reverse(): Map<string, Set<string>> {
    return this.cached('reverse', () => {
      const rev = new Map<string, Set<string>>();
      for (const e of this.files.values()) {
        for (const imp of allImports(e)) {
          for (const k of this.moduleTargets(e, imp)) {
            if (k === e.key) continue;
            let set = rev.get(k);
            if (!set) rev.set(k, (set = new Set()));
            set.add(e.key);
          }
        }
      }
      return rev;
    });
  }

  /**
   * Files an open document's imports reach, given the import lines of its current text (it may
   * not be indexed yet, or be newer than its summary).
   */
  dependenciesOf(key: string, importTexts: readonly string[]): string[] {
    const from = this.anchor(key, importMap(importTexts.flatMap(parsePythonImport)));
    const out = new Set<string>();
    for (const imp of allImports(from)) for (const k of this.moduleTargets(from, imp)) out.add(k);
    out.delete(key);
    return [...out];
  }

  /** The context a rule uses for the file `key`, whose current imports are `importTexts`. */
  contextFor(key: string, importTexts: readonly string[]): WorkspaceContext {
    const from = this.anchor(key, importMap(importTexts.flatMap(parsePythonImport)));
    const idx = this;
    // Only names the file imports (or may get from a wildcard) are looked up: its own definitions are the rules' business.
    const imported = (expr: string) => from.imports.has(head(expr)) || (from.wildcards.length > 0 && !expr.includes('.'));
    const resolve = (expr: string) => (imported(expr) ? idx.resolveIn(from, expr, 0) : undefined);
    return {
      resolve,
      layerBase: (expr) => {
        const r = resolve(expr);
        return r?.cls ? idx.classLayerBase(r.file, r.cls, 0) : undefined;
      },
      layerIn: (expr, kind) => {
        const r = resolve(expr);
        return r?.cls ? idx.classLayer(r.file, r.cls, kind, 0, new Set()) : undefined;
      },
      mcReliesOnCaller: (symbol) => idx.mcRelies(symbol),
      batchNormAtCallers: (fnName) => {
        for (const d of idx.dependents(key)) {
          const e = idx.files.get(d);
          if (!e || !e.summary.callees.some((c) => c === fnName || c.endsWith(`.${fnName}`))) continue;
          const own = e.summary.batchnorm;
          if (own) return { file: d, layer: own, owner: own.owner, caller: d };
          for (const c of e.summary.callees) {
            const r = idx.resolveIn(e, c, 0);
            const hit = r?.cls ? idx.classLayer(r.file, r.cls, 'batchnorm', 0, new Set()) : undefined;
            if (hit) return { ...hit, caller: d };
          }
        }
        return undefined;
      },
      weightDecayInImporter: () => {
        for (const d of idx.dependents(key)) {
          const range = idx.files.get(d)?.summary.weightDecay;
          if (range) return { file: d, range };
        }
        return undefined;
      },
      fileLabel: (file) => idx.label(file, key),
    };
  }

  // --- resolution ---

  /** A stand-in entry for the analysed file: its path with its current imports. */
  private anchor(key: string, imports: { imports: Map<string, ImportEntry>; wildcards: ImportEntry[] }): Entry {
    const indexed = this.files.get(key);
    if (indexed) return { ...indexed, ...imports };
    const path = this.pathOf(key).replace(/\\/g, '/');
    const summary: FileSummary = { language: 'python', imports: [...imports.imports.values(), ...imports.wildcards], classes: [], functions: [], names: [], callees: [] };
    return { key, moduleDir: modulePath(path), dir: path.slice(0, path.lastIndexOf('/')), summary, ...imports, signature: '' };
  }

  private cached<T>(id: string, compute: () => T): T {
    if (this.memo.has(id)) return this.memo.get(id) as T;
    if (this.memo.size > 20_000) this.memo.clear();
    const v = compute();
    this.memo.set(id, v);
    return v;
  }

  /** What a dotted name used in `from` refers to: a class or top-level function in an indexed file. */
  private resolveIn(from: Entry, expr: string, depth: number): ResolvedSymbol | undefined {
    if (depth > MAX_DEPTH || !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(expr)) return undefined;
    const parts = expr.split('.');
    const imp = from.imports.get(parts[0]);
    if (!imp) {
      if (parts.length !== 1) return undefined;
      const own = this.local(from, parts[0]);
      if (own) return own;
      for (const w of from.wildcards) {
        for (const k of this.modules(from, w.level, w.module)) {
          const hit = k === from.key ? undefined : this.symbolIn(k, parts[0], depth + 1);
          if (hit) return hit;
        }
      }
      return undefined;
    }
    if (imp.name !== undefined) {
      // `from M import name`: a symbol of M (maybe re-exported), or the submodule M.name.
      if (parts.length === 1) {
        for (const k of this.modules(from, imp.level, imp.module)) {
          const hit = this.symbolIn(k, imp.name, depth + 1);
          if (hit) return hit;
        }
      }
      const sub = joinModule(imp.module, imp.name);
      return this.inModule(from, imp.level, sub, parts.slice(1), depth);
    }
    return this.inModule(from, 0, imp.module, parts.slice(1), depth);
  }

  /** `rest` (one or more names) inside the module `mod`: the longest module prefix, then one symbol. */
  private inModule(from: Entry, level: number, mod: string, rest: string[], depth: number): ResolvedSymbol | undefined {
    for (let k = rest.length - 1; k >= 0; k--) {
      const m = joinModule(mod, rest.slice(0, k).join('.'));
      for (const key of this.modules(from, level, m)) {
        if (k === rest.length - 1) {
          const hit = this.symbolIn(key, rest[k], depth + 1);
          if (hit) return hit;
        }
      }
    }
    return undefined;
  }

  /** A class or function defined in the file `key`, or re-exported by it (`from .nets import Net` in `__init__.py`). */
  private symbolIn(key: string, name: string, depth: number): ResolvedSymbol | undefined {
    const e = this.files.get(key);
    if (!e || depth > MAX_DEPTH) return undefined;
    const own = this.local(e, name);
    if (own) return own;
    return e.imports.has(name) || e.wildcards.length ? this.resolveIn(e, name, depth) : undefined;
  }

  private local(e: Entry, name: string): ResolvedSymbol | undefined {
    const cls = e.summary.classes.find((c) => c.name === name);
    if (cls) return { file: e.key, cls };
    const fn = e.summary.functions.find((f) => f.name === name);
    return fn ? { file: e.key, fn } : undefined;
  }

  /** Keys of the files a module name stands for when imported from `from`. */
  private modules(from: Entry, level: number, mod: string): string[] {
    return this.cached(`m\u0000${from.dir}\u0000${level}\u0000${mod}`, () => {
      const rel = mod ? mod.split('.') : [];
      if (level > 0) {
        let base = from.dir.split('/');
        base = base.slice(0, Math.max(1, base.length - (level - 1)));
        return this.byModulePath.get([...base, ...rel].join('/')) ?? [];
      }
      if (!rel.length) return [];
      // The importer's folder and its ancestors, nearest first (sys.path holds the script's folder and the project roots).
      const dirParts = from.dir.split('/');
      for (let n = dirParts.length; n >= 1; n--) {
        const hit = this.byModulePath.get([...dirParts.slice(0, n), ...rel].join('/'));
        if (hit) return hit;
      }
      // An installed or src-layout package elsewhere in the workspace: the shortest path ending in the module.
      const tail = this.byTail.get(rel[rel.length - 1]);
      const suffix = `/${rel.join('/')}`;
      const found = [...(tail ?? [])].filter((p) => p.endsWith(suffix)).sort((a, b) => a.length - b.length);
      return found.length ? this.byModulePath.get(found[0]) ?? [] : [];
    });
  }

  /** Files an import entry can bring in (the module, and for `from M import x` also the submodule M.x). */
  private moduleTargets(from: Entry, imp: ImportEntry): string[] {
    const out = [...this.modules(from, imp.level, imp.module)];
    if (imp.name !== undefined && imp.name !== '*') out.push(...this.modules(from, imp.level, joinModule(imp.module, imp.name)));
    return out;
  }

  // --- facts across files ---

  private classLayerBase(file: string, cls: ClassFacts, depth: number): string | undefined {
    if (cls.baseLayer) return cls.baseLayer;
    if (depth > MAX_DEPTH) return undefined;
    const e = this.files.get(file);
    if (!e) return undefined;
    return this.cached(`b\u0000${file}\u0000${cls.name}`, () => {
      for (const b of cls.bases) {
        const r = this.resolveIn(e, b, 0);
        if (r?.cls && r.cls !== cls) {
          const q = this.classLayerBase(r.file, r.cls, depth + 1);
          if (q) return q;
        }
      }
      return undefined;
    });
  }

  private classLayer(file: string, cls: ClassFacts, kind: 'dropout' | 'batchnorm', depth: number, seen: Set<string>): FoundLayer | undefined {
    const own = cls[kind];
    if (own) return { file, layer: own, owner: cls.name };
    const id = `${file}\u0000${cls.name}`;
    if (depth > MAX_DEPTH || seen.has(id)) return undefined;
    seen.add(id);
    const e = this.files.get(file);
    if (!e) return undefined;
    return this.cached(`l\u0000${kind}\u0000${id}`, () => {
      for (const p of [...cls.parts, ...cls.bases]) {
        const r = this.resolveIn(e, p, 0);
        if (!r?.cls) continue;
        // A sub-module that is itself a batch-norm (or dropout) subclass.
        const base = this.classLayerBase(r.file, r.cls, depth + 1);
        if (base && (kind === 'dropout' ? /Dropout/.test(base) : /BatchNorm/.test(base))) return { file: r.file, layer: { name: r.cls.name, range: r.cls.range }, owner: cls.name };
        const hit = this.classLayer(r.file, r.cls, kind, depth + 1, seen);
        if (hit) return hit;
      }
      return undefined;
    });
  }

  private mcRelies(symbol: ResolvedSymbol): boolean {
    const mc = symbol.fn?.mcLoop;
    const e = this.files.get(symbol.file);
    if (!mc || !e) return false;
    return this.cached(`c\u0000${symbol.file}\u0000${symbol.fn!.name}`, () =>
      !mc.helpers.some((h) => {
        const r = this.resolveIn(e, h, 1);
        return !!r?.fn && (r.fn.trains || r.fn.modes.some((m) => m.mode === 'train'));
      }),
    );
  }

  /** The path of `file` relative to the folder they share with `near`, for messages. */
  private label(file: string, near: string): string {
    const a = this.pathOf(file).replace(/\\/g, '/').split('/');
    const b = this.pathOf(near).replace(/\\/g, '/').split('/');
    let i = 0;
    while (i < a.length - 1 && i < b.length - 1 && a[i] === b[i]) i++;
    return a.slice(i).join('/');
  }

  // --- bookkeeping ---

  private register(e: Entry): void {
    const list = this.byModulePath.get(e.moduleDir);
    if (list) list.push(e.key);
    else this.byModulePath.set(e.moduleDir, [e.key]);
    const tail = e.moduleDir.slice(e.moduleDir.lastIndexOf('/') + 1);
    let set = this.byTail.get(tail);
    if (!set) this.byTail.set(tail, (set = new Set()));
    set.add(e.moduleDir);
  }

  private unregister(e: Entry): void {
    const list = (this.byModulePath.get(e.moduleDir) ?? []).filter((k) => k !== e.key);
    if (list.length) this.byModulePath.set(e.moduleDir, list);
    else {
      this.byModulePath.delete(e.moduleDir);
      this.byTail.get(e.moduleDir.slice(e.moduleDir.lastIndexOf('/') + 1))?.delete(e.moduleDir);
    }
  }

  private changed(): void {
    this.generation++;
    this.memo = new Map();
  }
}

function head(expr: string): string {
  const dot = expr.indexOf('.');
  return dot < 0 ? expr : expr.slice(0, dot);
}

function joinModule(a: string, b: string): string {
  return a && b ? `${a}.${b}` : a || b;
}

function importMap(entries: readonly ImportEntry[]): { imports: Map<string, ImportEntry>; wildcards: ImportEntry[] } {
  const imports = new Map<string, ImportEntry>();
  const wildcards: ImportEntry[] = [];
  for (const e of entries) {
    if (e.local === '*') wildcards.push(e);
    else imports.set(e.local, e);
  }
  return { imports, wildcards };
}

function allImports(e: Entry): ImportEntry[] {
  return [...e.imports.values(), ...e.wildcards];
}

