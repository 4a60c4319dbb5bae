import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { addKeywordArg, finding, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const FUNCTIONAL_DROPOUT_TRAINING: RuleInfo = {
  id: 'functional-dropout-training',
  title: 'F.dropout without training=self.training',
  docsUrl: ruleDocsUrl('functional-dropout-training'),
  source: 'https://pytorch.org/docs/stable/generated/torch.nn.functional.dropout.html',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.functionalDropoutTraining.severity',
};

/** F.dropout defaults to training=True, so without training=self.training it stays on after model.eval(). */
export function checkFunctionalDropoutTraining(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const call of graph.calls) {
    if (!/^torch\.nn\.functional\.(dropout\d?d?|alpha_dropout|feature_alpha_dropout)$/.test(call.qualified)) continue;
    if (call.args.some((a) => a.name === 'training')) continue;
    if (call.args.filter((a) => a.name === undefined).length >= 3) continue;
    const inMethod = call.scope.className !== undefined && call.scope.functionName !== undefined;
    const edit = inMethod ? addKeywordArg(graph, call, 'training=self.training') : undefined;
    out.push(
      finding(
        FUNCTIONAL_DROPOUT_TRAINING,
        call.range,
        `${call.callee} without training= keeps dropping units after model.eval()`,
        edit ? [{ title: 'Pass training=self.training', edits: [edit] }] : [],
      ),
    );
  }
  return out;
}
