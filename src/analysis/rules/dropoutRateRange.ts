import { layerOf } from '../buildGraph';
import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { expectsError, finding, replace, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const DROPOUT_RATE_RANGE: RuleInfo = {
  id: 'dropout-rate-range',
  title: 'Dropout rate out of range or silently disabled',
  docsUrl: ruleDocsUrl('dropout-rate-range'),
  source: 'https://js.tensorflow.org/api/latest/#layers.dropout',
  defaultSeverity: 'error',
  settingKey: 'diagnostics.dropoutRateRange.severity',
};

/**
 * nn.Dropout raises on p outside [0, 1]; Keras Dropout expects rate in [0, 1); TF.js
 * tf.layers.dropout returns its input unchanged for rate <= 0 or >= 1, silently disabling it.
 * A value like 50 is almost always a percentage, so the fix divides by 100.
 */
export function checkDropoutRateRange(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const call of graph.calls) {
    const layer = layerOf(call);
    const functional = /^torch\.nn\.functional\.(dropout\d?d?|alpha_dropout|feature_alpha_dropout)$/.test(call.qualified);
    if (!functional && (!layer || !/dropout/i.test(layer.name))) continue;
    const framework = functional ? 'pytorch' : layer!.framework;
    const positional = call.args.filter((a) => a.name === undefined);
    const arg =
      framework === 'pytorch'
        ? call.args.find((a) => a.name === 'p') ?? positional[functional ? 1 : 0]
        : framework === 'keras'
          ? call.args.find((a) => a.name === 'rate') ?? positional[0]
          : call.args.find((a) => a.name === 'rate');
    if (!arg || arg.number === undefined) continue;
    const v = arg.number;
    let problem: string | undefined;
    let severity = DROPOUT_RATE_RANGE.defaultSeverity;
    if (framework === 'pytorch' && (v < 0 || v > 1)) problem = `Dropout probability ${arg.text} is outside [0, 1]: PyTorch raises ValueError`;
    if (framework === 'keras' && (v < 0 || v >= 1)) problem = `Dropout rate ${arg.text} is outside [0, 1): Keras rejects it`;
    if (framework === 'tfjs' && (v <= 0 || v >= 1)) {
      problem = `tf.layers.dropout rate ${arg.text} silently disables dropout (it acts only for 0 < rate < 1)`;
      severity = 'warning';
    }
    // `self.assertRaises(ValueError, lambda: nn.Dropout(1.1))` tests the error on purpose.
    if (!problem || expectsError(graph, call)) continue;
    const fixes = Number.isInteger(v) && v >= 2 && v < 100 ? [{ title: `Use ${v / 100} (${arg.text} looks like a percentage)`, edits: [replace(graph, arg, String(v / 100))] }] : [];
    out.push({ ...finding(DROPOUT_RATE_RANGE, arg.range, problem, fixes), severity });
  }
  return out;
}
