// Layers a file gets from classes imported from other workspace files: the model it builds is
// `Net()` from models.py, whose BatchNorm sits in a backbone defined in a third file.
import type { ModelGraph } from '../modelGraph';
import type { FoundLayer } from './workspaceContext';

/**
 * The first layer of a kind built by a class this file instantiates or subclasses and imports
 * from another workspace file (through its sub-modules and bases); undefined without an index.
 */
export function importedLayer(graph: ModelGraph, kind: 'dropout' | 'batchnorm'): FoundLayer | undefined {
  const ws = graph.workspace;
  if (!ws) return undefined;
  const seen = new Set<string>();
  const names = [...graph.classes.flatMap((c) => c.bases.replace(/^\(|\)$/g, '').split(',').map((b) => b.trim())), ...graph.calls.map((c) => c.callee)];
  for (const name of names) {
    if (seen.has(name) || graph.definedNames.has(name) || !/^[A-Za-z_][\w.]*$/.test(name)) continue;
    seen.add(name);
    const hit = ws.layerIn(name, kind);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * True when the file uses a dropout subclass imported from another workspace file
 * (`from .layers import MCDropout`): like one defined in the file, it is taken to stay on.
 */
export function importsDropoutSubclass(graph: ModelGraph): boolean {
  const ws = graph.workspace;
  if (!ws) return false;
  const seen = new Set<string>();
  for (const c of graph.calls) {
    if (!/Dropout/.test(c.callee) || seen.has(c.callee) || graph.definedNames.has(c.callee)) continue;
    seen.add(c.callee);
    const sym = ws.resolve(c.callee);
    if (sym?.cls && /Dropout/.test(sym.cls.name) && /Dropout/.test(ws.layerBase(c.callee) ?? '')) return true;
  }
  return false;
}
