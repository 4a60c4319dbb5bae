import type { ModelGraph } from '../modelGraph';
import type { Finding, TextEdit } from '../textTypes';
import { ensureImport, finding, replace, type RuleInfo } from './ruleKit';

export const ADAM_WEIGHT_DECAY: RuleInfo = {
  id: 'adam-weight-decay',
  title: 'torch.optim.Adam with weight_decay is L2, not decoupled weight decay',
  docsUrl: 'https://arxiv.org/abs/1711.05101',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.adamWeightDecay.severity',
};

/**
 * Adam's weight_decay adds an L2 term to the gradient, which the adaptive step then rescales,
 * so heavily-updated weights are barely decayed; AdamW decouples it (Loshchilov & Hutter 2019).
 */
export function checkAdamWeightDecay(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const opt of graph.optimizers) {
    if (opt.framework !== 'pytorch' || opt.name !== 'Adam' || !opt.weightDecayArg) continue;
    if (opt.weightDecay === 0) continue;
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
    out.push(
      finding(
        ADAM_WEIGHT_DECAY,
        call.range,
        `torch.optim.Adam(weight_decay=${opt.weightDecayArg.text}) is L2 regularization folded into the adaptive gradient, not decoupled weight decay: ` +
          'weights with large gradients are barely decayed. Use torch.optim.AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019); ' +
          'decoupled values are typically larger (1e-2 rather than 1e-4).',
        [{ title: 'Use torch.optim.AdamW', edits }],
      ),
    );
  }
  return out;
}
