// What a language extractor hands to buildGraph.ts: calls with resolved names and scopes, plus
// the few non-call facts (classes, functions, loops over epochs, imports).
import type { Call, Span } from './modelGraph';

export interface RawCall extends Call {
  /** Elements of a list/array literal given as the layer list (Sequential([...]), {layers: [...]}), or positional args of nn.Sequential. */
  elements?: (Span & { text: string })[];
  /** Start of the top-level statement holding the call. */
  topLevelStart: number;
}

export interface RawClass {
  name: string;
  bases: string;
  start: number;
  end: number;
  topLevelStart: number;
}

/** One name an import statement binds, or a `from m import *` (wildcard). */
export type ImportBinding = { local: string; target: string } | { wildcard: string };

/** A Python `from <module> import a, b as c`: where a further name can be appended. */
export interface ImportFrom {
  module: string;
  /** Local names it binds (aliases where given). */
  localNames: string[];
  /** Offset just after the last imported name. */
  lastNameEnd: number;
}

/** A function or method definition. */
export interface FunctionFact {
  name: string;
  start: number;
  end: number;
  className?: string;
  /** Python: start of the first body statement after the docstring (where a fix may insert a statement). */
  bodyStart?: number;
  /** Python: the names its parameters bind (`self`, `x`, `*args` -> `args`). */
  params?: string[];
}

export interface RawFacts {
  calls: RawCall[];
  classes: RawClass[];
  functions: FunctionFact[];
  noGradBlocks: Span[];
  /** Literal loop counts of `for epoch in range(N)` style loops. */
  epochLoops: { count: number; span: Span }[];
  importLines: { text: string; start: number; end: number }[];
  /** Python `from X import ...` statements (PyTorch lens: add Dropout to an existing import). */
  importFroms: ImportFrom[];
  /** Import bindings in document order; `qualified` of every call was resolved through them. */
  bindings: ImportBinding[];
}

export function emptyFacts(): RawFacts {
  return { calls: [], classes: [], functions: [], noGradBlocks: [], epochLoops: [], importLines: [], importFroms: [], bindings: [] };
}
