import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { finding, replace, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const WEIGHT_DECAY_ON_BIAS_NORM: RuleInfo = {
  id: 'weight-decay-bias-norm',
  title: 'Weight decay applied to biases and norm weights',
  docsUrl: ruleDocsUrl('weight-decay-bias-norm'),
  source: 'https://arxiv.org/abs/1812.01187',
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
    const params = opt.call.args.find((a) => a.text === opt.paramsText && (a.name === undefined || a.name === 'params'));
    const fixes = params
      ? [
          {
            title: 'Exclude biases and norm weights from weight decay (parameter groups)',
            // Matrices and kernels (ndim >= 2) keep the call's weight_decay; biases and norm gains get none.
            edits: [
              replace(
                graph,
                params,
                `[{"params": [p for p in ${opt.paramsText} if p.ndim >= 2]}, {"params": [p for p in ${opt.paramsText} if p.ndim < 2], "weight_decay": 0.0}]`,
              ),
            ],
          },
        ]
      : [];
    out.push(
      finding(
        WEIGHT_DECAY_ON_BIAS_NORM,
        opt.call.range,
        // Both interpolations are clipped so the message stays one line of at most 100 characters.
        `weight_decay=${clip(opt.weightDecayArg.text, 16)} also decays biases and norm weights in ${clip(opt.paramsText, 30)}`,
        fixes,
      ),
    );
  }
  return out;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
