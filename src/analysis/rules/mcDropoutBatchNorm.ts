import type { Call, ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { importedLayer } from '../workspace/importedLayers';
import { dropoutOnlyTrainMode, finding, MC_FUNCTION, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const MC_DROPOUT_BATCHNORM: RuleInfo = {
  id: 'mc-dropout-flips-batchnorm',
  title: 'MC dropout via train mode also switches BatchNorm',
  docsUrl: ruleDocsUrl('mc-dropout-flips-batchnorm'),
  source: 'https://arxiv.org/abs/1506.02142',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.mcDropoutBatchNorm.severity',
};

function hasBatchNorm(graph: ModelGraph, framework: string): boolean {
  return graph.models.some((m) => m.framework === framework && m.layers.some((l) => l.kind === 'batchnorm'));
}

/** Calls that take gradients: a training=True forward next to them is a training step, not MC sampling. */
const GRADIENT_CALL = /^(GradientTape|gradient|apply_gradients|minimize|variableGrads|valueAndGrads|grads|grad|valueAndGrad)$/;

/**
 * True when `g` encloses `call` (TF.js `optimizer.minimize(() => model.apply(x, {training: true}))`)
 * or runs in the same function and innermost loop (a Keras GradientTape step).
 */
function computesGradients(g: Call, call: Call): boolean {
  if (g.start <= call.start && call.end <= g.end) return true;
  return g.scope.functionStart === call.scope.functionStart && g.scope.loopStart === call.scope.loopStart;
}

/**
 * model.train() (PyTorch) or training=True (Keras, TF.js) for MC sampling turns on every
 * training behaviour: BatchNorm uses batch statistics (and PyTorch updates its running stats),
 * so predictions depend on the batch. Only the dropout layers should be put in train mode.
 */
export function checkMcDropoutBatchNorm(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  // The model may be a class from another file (or hold a backbone from one) with the BatchNorm.
  const local = hasBatchNorm(graph, 'pytorch');
  const imported = local ? undefined : importedLayer(graph, 'batchnorm');
  if (local || imported || graph.workspace) {
    for (const call of graph.training.trainCalls) {
      const mc = call.scope.inNoGrad || MC_FUNCTION.test(call.scope.functionName ?? '');
      // The dropout-only pattern is the fix, not the bug, however the guard tests the type:
      // `if isinstance(m, nn.Dropout):`, `if type(m) == nn.Dropout:`, `if m.__class__.__name__.startswith("Dropout"):`.
      const prevLine = graph.index.lineStart(Math.max(0, call.range.start.line - 1));
      if (!mc || /\bif\b[^:\n]*Dropout/.test(graph.text.slice(prevLine, call.start))) continue;
      // Or the model comes from a file calling this MC function (a utility module): its BatchNorm.
      const fnName = call.scope.functionName;
      const elsewhere = local ? undefined : (imported ?? (fnName ? graph.workspace?.batchNormAtCallers(fnName) : undefined));
      if (!local && !elsewhere) continue;
      const edits = dropoutOnlyTrainMode(graph, call);
      const fixes = edits ? [{ title: 'Put only the dropout layers in train mode', edits }] : [];
      const f = finding(
        MC_DROPOUT_BATCHNORM,
        call.range,
        `${call.callee}() for MC dropout also puts BatchNorm in training mode`,
        fixes,
      );
      if (elsewhere) {
        const where = graph.workspace!.fileLabel(elsewhere.file);
        f.message += ` (${elsewhere.layer.name} in ${elsewhere.owner}, ${where})`;
        f.related = [{ file: elsewhere.file, range: elsewhere.layer.range, message: `${elsewhere.layer.name} in ${elsewhere.owner}` }];
      }
      out.push(f);
    }
  }
  let gradientCalls: Call[] | undefined;
  for (const fw of ['keras', 'tfjs'] as const) {
    if (!hasBatchNorm(graph, fw) || !graph.training.trainingTrueCalls.length) continue;
    gradientCalls ??= graph.calls.filter((c) => GRADIENT_CALL.test(c.method));
    for (const call of graph.training.trainingTrueCalls) {
      if (/^(fit|fitDataset|train_step|train_on_batch)$/.test(call.method) || call.scope.functionName === 'call') continue;
      // `layers.Dropout(0.5)(x, training=True)` forces only that dropout on: the recommended MC pattern.
      if (/dropout/i.test(call.callee)) continue;
      if (gradientCalls.some((g) => computesGradients(g, call))) continue;
      if (call.scope.functionName !== undefined && /train/i.test(call.scope.functionName) && !MC_FUNCTION.test(call.scope.functionName)) continue;
      out.push(
        finding(
          MC_DROPOUT_BATCHNORM,
          call.range,
          'training=True for MC sampling also puts batch normalization in training mode',
        ),
      );
    }
  }
  return out;
}
