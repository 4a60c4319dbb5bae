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

export interface RawFacts {
  calls: RawCall[];
  classes: RawClass[];
  functions: { name: string; start: number; end: number; className?: string }[];
  noGradBlocks: Span[];
  /** Literal loop counts of `for epoch in range(N)` style loops. */
  epochLoops: { count: number; span: Span }[];
  importLines: { text: string; start: number; end: number }[];
}
