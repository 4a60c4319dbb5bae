import type { Call, ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { addKeywordArg, expectsError, finding, inTestCode, madeUpTensor, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const FUNCTIONAL_DROPOUT_TRAINING: RuleInfo = {
  id: 'functional-dropout-training',
  title: 'F.dropout without training=self.training',
  docsUrl: ruleDocsUrl('functional-dropout-training'),
  source: 'https://pytorch.org/docs/stable/generated/torch.nn.functional.dropout.html',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.functionalDropoutTraining.severity',
};

/** True when the rate argument is a name the file ties to self.training (`p = 0.0 if not self.training else ...`). */
function rateFollowsTraining(graph: ModelGraph, call: Call): boolean {
  const rate = call.args.find((a) => a.name === 'p') ?? call.args.filter((a) => a.name === undefined)[1];
  if (!rate || !/^[A-Za-z_]\w*$/.test(rate.text)) return false;
  const r = rate.text;
  return (
    new RegExp(`^[ \\t]*${r}\\s*=[^\\n]*\\bself\\.training\\b`, 'm').test(graph.text) ||
    new RegExp(`if\\s+not\\s+self\\.training\\s*:\\s*\\n\\s*${r}\\s*=`).test(graph.text) ||
    new RegExp(`\\b${r}\\s*=\\s*[^\\n,)]*\\bif\\s+self\\.training\\s+else\\b`).test(graph.text)
  );
}

/** F.dropout defaults to training=True, so without training=self.training it stays on after model.eval(). */
export function checkFunctionalDropoutTraining(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const call of graph.calls) {
    if (!/^torch\.nn\.functional\.(dropout\d?d?|alpha_dropout|feature_alpha_dropout)$/.test(call.qualified)) continue;
    if (call.args.some((a) => a.name === 'training')) continue;
    if (call.args.filter((a) => a.name === undefined).length >= 3) continue;
    // Tests call F.dropout on bare tensors (no model is ever put in eval()); and a rate the file
    // sets to 0 outside training (`if not self.training: dropout_p = 0.0`) already follows eval().
    if (expectsError(graph, call) || inTestCode(graph, call) || rateFollowsTraining(graph, call)) continue;
    // Dropout on a tensor the function makes up (`F.dropout(torch.randn(8, 4))`, as in PyTorch's
    // mobile op-coverage modules) drops no data: no model is run through it.
    const input = call.args.find((a) => a.name === 'input') ?? call.args.find((a) => a.name === undefined);
    if (input && madeUpTensor(graph, call, input)) continue;
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
