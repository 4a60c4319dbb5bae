import type { ModelGraph, Optimizer } from '../modelGraph';
import type { Finding } from '../textTypes';
import { finding, replace, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';
import { clipText } from '../../clipText';

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
    const source = allParameters(graph, opt);
    if (!source) continue;
    const params = opt.call.args.find((a) => a.text === opt.paramsText && (a.name === undefined || a.name === 'params'));
    const fixes =
      params && source.fixable
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
        `weight_decay=${clipText(opt.weightDecayArg.text, 16)} also decays biases and norm weights in ${clipText(opt.paramsText, 30)}`,
        fixes,
      ),
    );
  }
  return out;
}

/** Text that shows the parameters are split or filtered by kind (no decay for biases / norms), or groups with their own decay. */
const SELECTS_BY_KIND = /weight_decay|\bndim\b|\.dim\(|bias|norm|no_decay|named_parameters|decay/i;

/**
 * Whether the optimizer's parameters are all of a model's parameters, biases and norm gains
 * included: `model.parameters()` itself, a comprehension or filter over it that selects only by
 * requires_grad (`[p for p in model.parameters() if p.requires_grad]`), or a name bound to such
 * (also parameter groups built from `.parameters()` with no weight_decay of their own, as
 * torchvision's detection and segmentation references do). `fixable` when the parameter groups
 * fix can iterate it twice: `.parameters()` (a fresh generator each time) or a list.
 */
function allParameters(graph: ModelGraph, opt: Optimizer): { fixable: boolean } | undefined {
  const text = opt.paramsText!;
  if (/\.parameters\(\s*\)$/.test(text) && !/[[({]/.test(text.slice(0, text.lastIndexOf('.parameters(')))) return { fixable: true };
  if (text.includes('.parameters(')) return SELECTS_BY_KIND.test(text) ? undefined : { fixable: false };
  if (!/^[A-Za-z_]\w*$/.test(text)) return undefined;
  const call = opt.call;
  const from = call.scope.functionStart ?? 0;
  const values = assignedValues(graph.text.slice(from, call.start), text);
  const whole = values.filter((v) => v.includes('.parameters(') && !SELECTS_BY_KIND.test(v));
  if (!whole.length) return undefined;
  return { fixable: values.every((v) => v.startsWith('[') && !v.includes('{')) };
}

/** The values assigned to `name` in `text` (`name = <value>`, brackets balanced across lines). */
function assignedValues(text: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`^[ \\t]*${name}\\s*=(?!=)\\s*`, 'gm');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 0;
    let i = m.index + m[0].length;
    for (; i < text.length; i++) {
      const ch = text[i];
      if ('([{'.includes(ch)) depth++;
      else if (')]}'.includes(ch)) depth--;
      else if (ch === '\n' && depth <= 0) break;
    }
    out.push(text.slice(m.index + m[0].length, i).trim());
  }
  return out;
}
