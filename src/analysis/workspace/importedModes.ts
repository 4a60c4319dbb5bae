// Modes set by functions imported from other workspace files: a helper that switches dropout
// back on (`enable_dropout`), an evaluation function that calls model.eval() itself.
import type { Call, ModelGraph } from '../modelGraph';

/** True when `name` (a callee or an argument such as `model.apply(enable_dropout)`) is an imported function that calls train(). */
export function isImportedDropoutHelper(graph: ModelGraph, name: string): boolean {
  const fn = graph.definedNames.has(name) ? undefined : graph.workspace?.resolve(name)?.fn;
  return !!fn && (fn.trains || fn.modes.some((m) => m.mode === 'train'));
}

/** The first call of an imported function that puts one of its parameters in eval() mode (`evaluate(model, loader)`). */
export function importedEvalCall(graph: ModelGraph): Call | undefined {
  const ws = graph.workspace;
  if (!ws) return undefined;
  const memo = new Map<string, boolean>();
  for (const c of graph.calls) {
    if (!/^[A-Za-z_][\w.]*$/.test(c.callee) || graph.definedNames.has(c.callee)) continue;
    let evals = memo.get(c.callee);
    if (evals === undefined) {
      evals = !!ws.resolve(c.callee)?.fn?.modes.some((m) => m.mode === 'eval');
      memo.set(c.callee, evals);
    }
    if (evals) return c;
  }
  return undefined;
}
