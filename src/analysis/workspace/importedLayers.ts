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
