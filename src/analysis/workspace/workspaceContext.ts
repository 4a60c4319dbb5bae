// What a rule may ask about the other files of the workspace while it checks one file. The
// workspace index (workspaceIndex.ts) answers it through the analysed file's imports; a rule
// without one (single-file analysis) sees `graph.workspace === undefined`.
import type { Range } from '../textTypes';
import type { ClassFacts, FunctionFacts, LayerRef } from './fileSummary';

export interface ResolvedSymbol {
  /** Key of the file defining it (an index key: a URI in the extension, a path in the CLI). */
  file: string;
  cls?: ClassFacts;
  fn?: FunctionFacts;
}

export interface FoundLayer {
  file: string;
  layer: LayerRef;
  /** The class building it. */
  owner: string;
}

export interface WorkspaceContext {
  /** The class or top-level function an imported dotted name refers to in another file. */
  resolve(expr: string): ResolvedSymbol | undefined;
  /** The framework layer an imported class subclasses, through any number of files ('torch.nn.Dropout'). */
  layerBase(expr: string): string | undefined;
  /** The first layer of a kind an imported class builds: its own, its sub-modules' (a backbone) or its bases'. */
  layerIn(expr: string, kind: 'dropout' | 'batchnorm'): FoundLayer | undefined;
  /** True when an MC function found by resolve() samples in whatever mode its caller left (it enables no dropout itself). */
  mcReliesOnCaller(symbol: ResolvedSymbol): boolean;
  /**
   * The first BatchNorm of a model in a file that imports this one and calls `fnName` (an MC
   * function here getting its model from there), with that caller file.
   */
  batchNormAtCallers(fnName: string): (FoundLayer & { caller: string }) | undefined;
  /** A file importing this one (directly or through a re-export) that trains with weight decay. */
  weightDecayInImporter(): { file: string; range: Range } | undefined;
  /** A short name of a file for messages ('models/net.py'). */
  fileLabel(file: string): string;
}
