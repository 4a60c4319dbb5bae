import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { finding, type RuleInfo } from './ruleKit';

export const WEIGHT_DECAY_ON_BIAS_NORM: RuleInfo = {
  id: 'weight-decay-bias-norm',
  title: 'Weight decay applied to biases and norm weights',
  docsUrl: 'https://arxiv.org/abs/1812.01187',
  defaultSeverity: 'information',
  settingKey: 'diagnostics.weightDecayBiasNorm.severity',
};

/**
 * Passing model.parameters() decays biases and normalization gains too; common practice (He et
 * al., "Bag of Tricks", 2019; BERT, ViT) excludes them with two parameter groups.
 */
export function checkWeightDecayOnBiasNorm(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const opt of graph.optimizers) {
    if (opt.framework !== 'pytorch' || !opt.weightDecayArg || opt.weightDecay === 0 || !opt.paramsText) continue;
    if (!/\.parameters\(\s*\)$/.test(opt.paramsText)) continue;
    out.push(
      finding(
        WEIGHT_DECAY_ON_BIAS_NORM,
        opt.call.range,
        `weight_decay=${opt.weightDecayArg.text} is applied to every parameter of ${opt.paramsText}, including biases and normalization weights, ` +
          'which shrinks them toward 0 for no regularization benefit. Use two parameter groups: decay for weight matrices (p.ndim >= 2), weight_decay=0 for the rest.',
      ),
    );
  }
  return out;
}
