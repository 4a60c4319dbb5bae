// The parts of mc-loop-no-variance that rest on other files of the workspace (graph.workspace):
// an imported helper that switches dropout back on, and a call of an imported MC function made
// while the model is in eval() mode here (the released STAR code: the scoring functions live in
// one file, the eval() in the training script that calls them).
import { type Call, callsWithin, type ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { isImportedDropoutHelper } from '../workspace/importedModes';
import type { ResolvedSymbol } from '../workspace/workspaceContext';
import { finding, type RuleInfo } from './ruleKit';

type ModeAt = { mode: 'eval' | 'train'; call: Call };

/** The last eval()/train() before `at` in the same function that reaches `receiver`: its own calls, or helpers (local or imported) it is passed to. */
function modeBefore(graph: ModelGraph, at: Call, receiver: string): ModeAt | undefined {
  const fnStart = at.scope.functionStart;
  const { start, end } = fnStart === undefined ? { start: 0, end: at.start } : { start: fnStart, end: at.start };
  let last: ModeAt | undefined;
  const see = (m: ModeAt) => {
    if (!last || m.call.start > last.call.start) last = m;
  };
  for (const c of callsWithin(graph.training.evalCalls, start, end)) if (c.receiver === receiver && c.scope.functionStart === fnStart) see({ mode: 'eval', call: c });
  for (const c of callsWithin(graph.training.trainCalls, start, end)) if (c.receiver === receiver && c.scope.functionStart === fnStart) see({ mode: 'train', call: c });
  const localHelpers = new Set(graph.functions.filter((f) => callsWithin(graph.training.trainCalls, f.start + 1, f.end).length > 0).map((f) => f.name));
  for (const c of callsWithin(graph.calls, start, end)) {
    if (c.scope.functionStart !== fnStart || c.start >= at.start) continue;
    const passes = c.receiver === receiver || c.args.some((a) => a.text === receiver);
    if (!passes) continue;
    if (localHelpers.has(c.callee) || c.args.some((a) => localHelpers.has(a.text) || isImportedDropoutHelper(graph, a.text))) see({ mode: 'train', call: c });
    else if (!graph.definedNames.has(c.callee)) {
      const fn = graph.workspace?.resolve(c.callee)?.fn;
      const m = fn?.modes.filter((x) => fn.params[x.param] !== undefined && argFor(c, fn.params, x.param)?.text === receiver).pop();
      if (m) see({ mode: m.mode, call: c });
      else if (fn?.trains) see({ mode: 'train', call: c });
    }
  }
  return last;
}

function argFor(call: Call, params: string[], index: number) {
  return call.args.find((a) => a.name === params[index]) ?? call.args.filter((a) => a.name === undefined)[index];
}

/**
 * Calls of an imported function that repeats forward passes in whatever mode its caller left
 * (it enables no dropout itself), made right after the model was put in eval() here.
 */
export function checkImportedMcCalls(graph: ModelGraph, rule: RuleInfo): Finding[] {
  const ws = graph.workspace;
  if (!ws || graph.language !== 'python') return [];
  const out: Finding[] = [];
  const memo = new Map<string, ResolvedSymbol | undefined>();
  for (const call of graph.calls) {
    if (!/^[A-Za-z_][\w.]*$/.test(call.callee) || graph.definedNames.has(call.callee)) continue;
    if (!memo.has(call.callee)) memo.set(call.callee, ws.resolve(call.callee));
    const sym = memo.get(call.callee);
    const fn = sym?.fn;
    if (!sym || !fn?.mcLoop || !ws.mcReliesOnCaller(sym)) continue;
    const arg = argFor(call, fn.params, fn.mcLoop.param);
    if (!arg || !/^[A-Za-z_][\w.]*$/.test(arg.text)) continue;
    const state = modeBefore(graph, call, arg.text);
    if (state?.mode !== 'eval') continue;
    const where = ws.fileLabel(sym.file);
    out.push({
      ...finding(
        rule,
        call.range,
        `${fn.name} (${where}): ${arg.text} is in eval() mode here (${state.call.callee}() on line ${state.call.range.start.line + 1}), MC uncertainty is 0`,
      ),
      related: [{ file: sym.file, range: fn.range, message: `${fn.name} repeats forward passes without switching dropout on` }],
    });
  }
  return out;
}
