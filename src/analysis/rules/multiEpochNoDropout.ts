import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { finding, replace, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const MULTI_EPOCH_NO_DROPOUT: RuleInfo = {
  id: 'multi-epoch-no-dropout',
  title: 'Multi-epoch training with all dropout at 0',
  docsUrl: ruleDocsUrl('multi-epoch-no-dropout'),
  source: 'https://arxiv.org/abs/2305.13230',
  defaultSeverity: 'information',
  settingKey: 'diagnostics.multiEpochNoDropout.severity',
};

/**
 * Repeating data for many epochs degrades models, and dropout is the regularizer that most
 * reliably counters it (Xue et al., "To Repeat or Not To Repeat", NeurIPS 2023). Dropout layers
 * that are all set to 0 look like a disabled regularizer.
 */
export function checkMultiEpochNoDropout(graph: ModelGraph): Finding[] {
  const epochs = graph.training.epochs ?? 0;
  if (epochs < 2) return [];
  const dropouts = graph.models.filter((m) => !m.insideModule).flatMap((m) => m.layers.filter((l) => l.kind === 'dropout'));
  const lora = graph.loraConfigs.filter((l) => l.dropoutArg);
  const rates = [...dropouts.map((d) => ({ rate: d.rate, arg: d.rateArg })), ...lora.map((l) => ({ rate: l.dropout, arg: l.dropoutArg }))];
  if (!rates.length || !rates.every((r) => r.rate === 0 && r.arg)) return [];
  const first = rates[0].arg!;
  const edits = rates.map((r) => replace(graph, r.arg!, '0.1'));
  return [
    finding(
      MULTI_EPOCH_NO_DROPOUT,
      first.range,
      `${epochs} epochs on repeated data with every dropout rate in this file at 0`,
      [{ title: 'Set every dropout rate to 0.1', edits }],
    ),
  ];
}
