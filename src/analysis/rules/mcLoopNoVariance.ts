import { callsWithin, type ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { importedLayer, importsDropoutSubclass } from '../workspace/importedLayers';
import { isImportedDropoutHelper } from '../workspace/importedModes';
import { checkImportedMcCalls } from './mcLoopCrossFile';
import { callsIn, dropoutOnlyTrainMode, finding, MC_FUNCTION, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const MC_LOOP_NO_VARIANCE: RuleInfo = {
  id: 'mc-loop-no-variance',
  title: 'MC-dropout loop that cannot vary',
  docsUrl: ruleDocsUrl('mc-loop-no-variance'),
  source: 'https://arxiv.org/abs/1506.02142',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.mcLoopNoVariance.severity',
};

/**
 * T "stochastic" passes in eval mode (PyTorch model.eval(), Keras model.predict) or through a
 * model without dropout are identical: every uncertainty score is 0. (The released STAR code
 * has exactly this bug.)
 */
export function checkMcLoopNoVariance(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  const anyDropout =
    graph.models.some((m) => m.layers.some((l) => l.kind === 'dropout' && l.rate !== 0)) ||
    graph.calls.some((c) => /dropout/i.test(c.qualified) && !/Config$/.test(c.qualified)) ||
    graph.loraConfigs.some((l) => l.dropout !== 0);
  // An always-on dropout layer (class MCDropout(Dropout), the tf.dropout op, or a Keras
  // `Dropout(0.5)(x, training=True)` in the model) makes predict() vary.
  const alwaysOn =
    /class\s+\w*Dropout\w*|tf\.dropout\(/.test(graph.text) ||
    graph.training.trainingTrueCalls.some((c) => /dropout/i.test(c.callee)) ||
    importsDropoutSubclass(graph);
  // Helpers in this file that switch modules to train() (`def enable_dropout(m): ... m.train()`),
  // called directly or passed on (`model.apply(enable_dropout)`).
  // Computed on the first MC function that needs it: most files have none.
  let helpers: Set<string> | undefined;
  const helperNames = () =>
    (helpers ??= new Set(graph.functions.filter((f) => callsWithin(graph.training.trainCalls, f.start + 1, f.end).length > 0).map((f) => f.name)));
  for (const fn of graph.functions) {
    if (!MC_FUNCTION.test(fn.name)) continue;
    const calls = callsIn(graph, fn.start, fn.end);
    const loopCalls = calls.filter((c) => c.scope.loopDepth > 0 && c.scope.functionStart === fn.start);
    if (!loopCalls.length) continue;
    const h = helperNames();
    const callsHelper =
      (h.size > 0 && calls.some((c) => h.has(c.method) || c.args.some((a) => h.has(a.text)))) ||
      (!!graph.workspace && calls.some((c) => isImportedDropoutHelper(graph, c.callee) || c.args.some((a) => isImportedDropoutHelper(graph, a.text))));
    const enables = alwaysOn || callsHelper || calls.some(
      (c) => (c.method === 'train' && c.args[0]?.text !== 'False') || c.args.some((a) => a.name === 'training' && /^(True|true)$/.test(a.text)),
    ) || /\.train\(\s*(True)?\s*\)|training\s*=\s*True|training:\s*true/.test(graph.text.slice(fn.start, fn.end));
    const evalCall = calls.find((c) => c.method === 'eval' && c.args.length === 0 && c.receiver);
    const predict = loopCalls.find((c) => c.method === 'predict' && c.receiver);
    if (!enables && evalCall) {
      // PyTorch: keep eval() for everything else and switch only the dropout modules back on.
      const edits = graph.language === 'python' ? dropoutOnlyTrainMode(graph, evalCall) : undefined;
      out.push(
        finding(
          MC_LOOP_NO_VARIANCE,
          evalCall.range,
          `${fn.name} repeats passes after ${evalCall.callee}() with dropout off: every MC uncertainty is 0`,
          edits ? [{ title: 'Switch only the dropout layers back to train mode', edits }] : [],
        ),
      );
    } else if (!enables && predict) {
      out.push(finding(MC_LOOP_NO_VARIANCE, predict.range, `${predict.callee}() runs in inference mode: the passes in ${fn.name} are identical, uncertainty 0`));
    } else if (graph.models.length > 0 && !anyDropout && !importedLayer(graph, 'dropout')) {
      const line = graph.index.positionAt(fn.start).line;
      out.push(finding(MC_LOOP_NO_VARIANCE, graph.index.rangeAt(fn.start, graph.index.lineContentEnd(line)), `${fn.name} samples MC-dropout passes but no model in this file has dropout: uncertainty is 0`));
    }
  }
  out.push(...checkImportedMcCalls(graph, MC_LOOP_NO_VARIANCE));
  return out;
}
