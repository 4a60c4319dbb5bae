// Whether a name is bound at a point of a Python file, so that a quick fix inserting code there
// refers only to names that exist (a fix that inserted `hasattr.eval()` at module level crashed
// the file on import). Read from the graph's text and function facts: parameters, assignments,
// loop and `as` targets before the point in each enclosing function, then the module level.
// Conservative where it can be (names assigned only later in a function do not count); the
// property test in test/unit/analysis/fixValidity.test.ts checks fixes against a tree-sitter
// scope walk of the result.
import type { ModelGraph } from '../modelGraph';
import type { FunctionFact } from '../rawFacts';

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when a statement in `text` binds `name` (assignment target, for / as / walrus target). */
function bindsIn(text: string, name: string): boolean {
  const n = escape(name);
  const assign = new RegExp(`^[ \\t]*(?:[\\w.\\[\\]\\s,*]*[\\s,\\[*])?${n}\\s*(?:[,\\]][\\w.\\[\\]\\s,*]*)?(?::[^=\\n]*)?=(?!=)(.*)$`, 'gm');
  for (let m = assign.exec(text); m; m = assign.exec(text)) {
    // `    model=model,` inside a multi-line call is a keyword argument, not an assignment.
    if (!/,\s*(#.*)?$/.test(m[1])) return true;
  }
  return (
    new RegExp(`\\bfor\\s+[^:\\n]*?(?<![\\w.])${n}\\b[^:\\n]*?\\s+in\\s`).test(text) ||
    new RegExp(`\\bas\\s+${n}\\b`).test(text) ||
    new RegExp(`(?<![\\w.])${n}\\s*:=`).test(text)
  );
}

/** Start of the line holding a function's first body statement. */
function bodyLineStart(graph: ModelGraph, fn: FunctionFact): number | undefined {
  return fn.bodyStart === undefined ? undefined : graph.index.lineStart(graph.index.positionAt(fn.bodyStart).line);
}

/** The functions whose body holds `offset`, outermost first. */
export function enclosingFunctions(graph: ModelGraph, offset: number): FunctionFact[] {
  return graph.functions.filter((f) => {
    const body = bodyLineStart(graph, f);
    return body !== undefined && body <= offset && offset < f.end;
  });
}

/** The module-level text of [0, end): every function's body blanked out. */
function moduleText(graph: ModelGraph, end: number): string {
  let out = '';
  let cursor = 0;
  for (const f of graph.functions) {
    if (f.start < cursor || f.start >= end) continue;
    out += graph.text.slice(cursor, f.start);
    cursor = Math.min(end, f.end);
  }
  return out + graph.text.slice(cursor, end);
}

/** True when `name` (a plain identifier) is bound where code inserted at `offset` runs. */
export function isBoundAt(graph: ModelGraph, name: string, offset: number): boolean {
  if (!/^[A-Za-z_]\w*$/.test(name)) return false;
  const functions = enclosingFunctions(graph, offset);
  for (let i = functions.length - 1; i >= 0; i--) {
    const f = functions[i];
    if (f.params?.includes(name)) return true;
    // Only this function's own text before the point; nested functions' bodies do not bind here.
    const nested = graph.functions.filter((g) => g !== f && g.start > f.start && g.end <= offset);
    let own = '';
    let cursor = bodyLineStart(graph, f)!;
    for (const g of nested) {
      if (g.start < cursor) continue;
      own += graph.text.slice(cursor, g.start);
      cursor = g.end;
    }
    own += graph.text.slice(cursor, offset);
    if (bindsIn(own, name)) return true;
  }
  if (graph.bindings.some((b) => 'local' in b && b.local === name)) return true;
  if (graph.definedNames.has(name)) return true;
  // Inside a function, module-level names bound anywhere exist by the time it runs.
  return bindsIn(moduleText(graph, functions.length ? graph.text.length : offset), name);
}

/** True when the head of a dotted receiver (`self` of `self.model`) is bound at `offset`. */
export function receiverBoundAt(graph: ModelGraph, receiver: string, offset: number): boolean {
  if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(receiver)) return false;
  return isBoundAt(graph, receiver.split('.')[0], offset);
}
