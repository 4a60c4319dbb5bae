import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { callsIn, finding, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const MULTI_SAMPLE_DROPOUT_LOGITS: RuleInfo = {
  id: 'multi-sample-dropout-logits',
  title: 'Multi-sample dropout averaging logits instead of losses',
  docsUrl: ruleDocsUrl('multi-sample-dropout-logits'),
  source: 'https://arxiv.org/abs/1905.09788',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.multiSampleDropoutLogits.severity',
};

const LOSS = /loss|criterion|cross_entropy|nll|crossentropy/i;

/**
 * Multi-sample dropout (Inoue 2019) averages the M *losses* of independently masked copies;
 * averaging their logits first is just one dropout pass with a smaller effective rate.
 */
export function checkMultiSampleDropoutLogits(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const fn of graph.functions) {
    if (!/^(forward|call|__call__)$/.test(fn.name)) continue;
    const calls = callsIn(graph, fn.start, fn.end);
    const dropInLoop = calls.filter((c) => c.scope.loopDepth > 0 && /drop/i.test(c.callee));
    if (!dropInLoop.length || calls.some((c) => LOSS.test(c.callee))) continue;
    const mean = calls.find(
      (c) => (c.method === 'mean' || c.qualified === 'torch.mean' || /reduce_mean$|^tf\.mean$/.test(c.qualified)) && c.scope.loopDepth === 0,
    );
    if (!mean) continue;
    out.push(
      finding(
        MULTI_SAMPLE_DROPOUT_LOGITS,
        mean.range,
        `${fn.name} averages the logits of dropout samples: average the per-sample losses instead`,
      ),
    );
  }
  return out;
}
