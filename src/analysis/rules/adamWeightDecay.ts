import type { ModelGraph, Optimizer } from '../modelGraph';
import type { Finding, TextEdit } from '../textTypes';
import { ensureImport, finding, replace, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const ADAM_WEIGHT_DECAY: RuleInfo = {
  id: 'adam-weight-decay',
  title: 'torch.optim.Adam with weight_decay is L2, not decoupled weight decay',
  docsUrl: ruleDocsUrl('adam-weight-decay'),
  source: 'https://arxiv.org/abs/1711.05101',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.adamWeightDecay.severity',
};

/** PyTorch's AdamW default, and the usual decoupled value (Loshchilov & Hutter 2019 tune around it). */
const DECOUPLED_DEFAULT = '1e-2';

/**
 * The weight_decay to use with AdamW in place of Adam's: Adam's value is an L2 coefficient,
 * typically 1e-4 to 5e-4, which as a decoupled decay (multiplied by the learning rate each step)
 * would barely regularize; values below 1e-2 become 1e-2, larger ones are kept. Undefined when
 * the value is not a literal.
 */
export function decoupledWeightDecay(coupled: number | undefined): string | undefined {
  if (coupled === undefined) return undefined;
  return coupled < 1e-2 ? DECOUPLED_DEFAULT : undefined;
}

/**
 * Evidence that the optimizer trains a model: it is given a model's parameters, or its value is
 * kept (bound to a name), returned or handed to another call (a trainer, a scheduler). An Adam
 * that is one entry of a table of optimizer constructors over a placeholder (`lambda p:
 * Adam(p, ...)` in a dict, as PyTorch's script generating optimizer baselines has) trains nothing
 * the file shows: it exists to exercise the optimizer itself.
 */
function trainsAModel(graph: ModelGraph, opt: Optimizer): boolean {
  const call = opt.call;
  if (opt.paramsText && /\.parameters\(|named_parameters\(|param_groups/.test(opt.paramsText)) return true;
  if (call.assignedTo) return true;
  if (/\b(return|yield)\s+$/.test(graph.text.slice(call.lineStart, call.start))) return true;
  return graph.calls.some((c) => c !== call && c.argList !== undefined && c.argList.start < call.start && call.end <= c.argList.end);
}

/**
 * Adam's weight_decay adds an L2 term to the gradient, which the adaptive step then rescales,
 * so heavily-updated weights are barely decayed; AdamW decouples it (Loshchilov & Hutter 2019).
 */
export function checkAdamWeightDecay(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const opt of graph.optimizers) {
    if (opt.framework !== 'pytorch' || opt.name !== 'Adam' || !opt.weightDecayArg) continue;
    if (opt.weightDecay === 0 || !trainsAModel(graph, opt)) continue;
    const call = opt.call;
    const calleeEnd = call.argList ? call.argList.start : call.end;
    const calleeText = graph.text.slice(call.start, calleeEnd).trimEnd();
    const nameStart = call.start + calleeText.length - 'Adam'.length;
    const edits: TextEdit[] = [];
    if (call.callee.includes('.')) {
      edits.push(replace(graph, { start: nameStart, end: nameStart + 4 }, 'AdamW'));
    } else {
      // A bare `Adam` came from `from torch.optim import Adam`; qualify AdamW instead of editing that import.
      edits.push(replace(graph, { start: call.start, end: nameStart + 4 }, 'torch.optim.AdamW'));
      const imp = ensureImport(graph, 'import torch', /^import\s+torch\s*$/m);
      if (imp) edits.push(imp);
    }
    const wd = opt.weightDecayArg;
    const proposed = decoupledWeightDecay(opt.weightDecay);
    if (proposed) edits.push(replace(graph, wd, proposed));
    const title =
      proposed !== undefined
        ? `Use torch.optim.AdamW (weight_decay ${wd.text} → ${proposed})`
        : opt.weightDecay !== undefined
          ? `Use torch.optim.AdamW (weight_decay ${wd.text} kept)`
          : `Use torch.optim.AdamW (check weight_decay: decoupled values are about ${DECOUPLED_DEFAULT})`;
    out.push(
      finding(
        ADAM_WEIGHT_DECAY,
        call.range,
        `Adam(weight_decay=${wd.text}) is L2 through the adaptive step, not decoupled weight decay: use AdamW`,
        [{ title, edits }],
      ),
    );
  }
  return out;
}
