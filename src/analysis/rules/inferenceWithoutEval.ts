import type { Call, ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { finding, firstLine, insertAt, MC_FUNCTION, type RuleInfo } from './ruleKit';

export const INFERENCE_WITHOUT_EVAL: RuleInfo = {
  id: 'inference-without-eval',
  title: 'Inference without model.eval(), or eval() left on in a training loop',
  docsUrl: 'https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.inferenceWithoutEval.severity',
};

const BUILTINS = new Set(['len', 'range', 'print', 'zip', 'enumerate', 'list', 'dict', 'tuple', 'float', 'int', 'str', 'sum', 'max', 'min', 'iter', 'next']);

/** Calls that walk over parameters or tensors without running a model. */
const PARAMETER_WALK = new Set([
  'parameters', 'named_parameters', 'buffers', 'named_buffers', 'state_dict', 'values', 'items', 'keys', 'zip', 'enumerate', 'range', 'len',
  'detach', 'data', 'lerp', 'mul', 'add', 'copy', 'clone', 'isinstance', 'hasattr', 'getattr', 'no_grad', 'inference_mode',
]);

/**
 * torch.no_grad() only stops gradient tracking; dropout and BatchNorm stay in training mode
 * until model.eval(). Conversely an eval() inside the epoch loop with no train() after it
 * leaves every later epoch training with dropout off.
 */
export function checkInferenceWithoutEval(graph: ModelGraph): Finding[] {
  if (graph.language !== 'python') return [];
  const out: Finding[] = [];
  const { trainCalls, evalCalls, stepCalls, noGradBlocks } = graph.training;
  const torchModels = graph.models.filter((m) => m.framework === 'pytorch');
  const modal = torchModels.some((m) => m.layers.some((l) => l.kind === 'dropout' || l.kind === 'batchnorm'));
  if (evalCalls.length === 0 && (modal || trainCalls.length > 0)) {
    for (const block of noGradBlocks) {
      const inside = graph.calls.filter((c) => c.start > block.start && c.end <= block.end);
      if (inside.some((c) => MC_FUNCTION.test(c.scope.functionName ?? ''))) continue;
      // A block that only updates tensors in place (EMA weights, clamping, re-initialising) runs no model.
      if (inside.every((c) => c.method.endsWith('_') || PARAMETER_WALK.has(c.method))) continue;
      const target = trainCalls[0]?.receiver ?? inside.find((c) => /^[A-Za-z_]\w*$/.test(c.callee) && !BUILTINS.has(c.callee) && c.callee !== 'torch')?.callee;
      const fixes = [];
      const line = block.range.start.line;
      const lineStart = graph.index.lineStart(line);
      const indent = /^[ \t]*/.exec(graph.index.lineText(line))![0];
      if (target && graph.text.slice(lineStart, block.start).trim() === '') {
        fixes.push({ title: `Call ${target}.eval() before inference`, edits: [insertAt(graph, lineStart, `${indent}${target}.eval()${graph.eol}`)] });
      }
      out.push(
        finding(
          INFERENCE_WITHOUT_EVAL,
          firstLine(graph, block),
          'Inference under no_grad without model.eval(): no_grad only disables gradients, dropout still drops units and BatchNorm still uses batch statistics. Call model.eval() first.',
          fixes,
        ),
      );
    }
  }
  // eval() inside an epoch loop after the training steps, with no train() in the loop.
  for (const ev of evalCalls) {
    const { loopStart, loopEnd } = ev.scope;
    if (loopStart === undefined || loopEnd === undefined) continue;
    const within = (c: Call) => c.start > loopStart && c.end <= loopEnd;
    if (!stepCalls.some((s) => within(s) && s.start < ev.start)) continue;
    if (trainCalls.some(within)) continue;
    const headerLine = graph.index.positionAt(loopStart).line;
    const bodyLine = headerLine + 1;
    const fixes = [];
    if (bodyLine < graph.index.lineCount && ev.receiver) {
      const indent = /^[ \t]*/.exec(graph.index.lineText(bodyLine))![0];
      fixes.push({ title: `Call ${ev.receiver}.train() at the start of each epoch`, edits: [insertAt(graph, graph.index.lineStart(bodyLine), `${indent}${ev.receiver}.train()${graph.eol}`)] });
    }
    out.push(
      finding(
        INFERENCE_WITHOUT_EVAL,
        ev.range,
        `${ev.callee}() inside the training loop is never undone: from the second epoch on the model trains in eval mode (dropout off, BatchNorm frozen). Call ${ev.receiver}.train() at the start of each epoch.`,
        fixes,
      ),
    );
  }
  return out;
}
