import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { ensureImport, finding, MC_FUNCTION, ownLine, replace, type RuleInfo } from './ruleKit';

export const MC_DROPOUT_BATCHNORM: RuleInfo = {
  id: 'mc-dropout-flips-batchnorm',
  title: 'MC dropout via train mode also switches BatchNorm',
  docsUrl: 'https://arxiv.org/abs/1506.02142',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.mcDropoutBatchNorm.severity',
};

function hasBatchNorm(graph: ModelGraph, framework: string): boolean {
  return graph.models.some((m) => m.framework === framework && m.layers.some((l) => l.kind === 'batchnorm'));
}

/**
 * model.train() (PyTorch) or training=True (Keras, TF.js) for MC sampling turns on every
 * training behaviour: BatchNorm uses batch statistics (and PyTorch updates its running stats),
 * so predictions depend on the batch. Only the dropout layers should be put in train mode.
 */
export function checkMcDropoutBatchNorm(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  if (hasBatchNorm(graph, 'pytorch')) {
    for (const call of graph.training.trainCalls) {
      const mc = call.scope.inNoGrad || MC_FUNCTION.test(call.scope.functionName ?? '');
      // The dropout-only pattern (`if isinstance(m, nn.Dropout): m.train()`) is the fix, not the bug.
      const prevLine = graph.index.lineStart(Math.max(0, call.range.start.line - 1));
      if (!mc || /isinstance\([^)]*Dropout/.test(graph.text.slice(prevLine, call.start))) continue;
      const line = ownLine(graph, call);
      const fixes = [];
      if (line) {
        const i = call.indent;
        const u = graph.indentUnit;
        const eol = graph.eol;
        const text =
          `${call.receiver}.eval()${eol}${i}for _m in ${call.receiver}.modules():${eol}` +
          `${i}${u}if isinstance(_m, torch.nn.modules.dropout._DropoutNd):${eol}${i}${u}${u}_m.train()`;
        const edits = [replace(graph, line, text)];
        const imp = ensureImport(graph, 'import torch', /^import\s+torch\s*$/m);
        if (imp) edits.push(imp);
        fixes.push({ title: 'Put only the dropout layers in train mode', edits });
      }
      out.push(
        finding(
          MC_DROPOUT_BATCHNORM,
          call.range,
          `${call.callee}() for MC-dropout sampling also puts BatchNorm in training mode: it normalizes with batch statistics and updates its running ` +
            'stats on every pass, so predictions depend on the batch and the model drifts. Call eval() and switch only the dropout modules to train().',
          fixes,
        ),
      );
    }
  }
  for (const fw of ['keras', 'tfjs'] as const) {
    if (!hasBatchNorm(graph, fw)) continue;
    for (const call of graph.training.trainingTrueCalls) {
      if (/^(fit|fitDataset|train_step|train_on_batch)$/.test(call.method) || call.scope.functionName === 'call') continue;
      if (call.scope.functionName !== undefined && /train/i.test(call.scope.functionName) && !MC_FUNCTION.test(call.scope.functionName)) continue;
      out.push(
        finding(
          MC_DROPOUT_BATCHNORM,
          call.range,
          'training=True for MC sampling also runs BatchNormalization in training mode (batch statistics instead of the moving averages), ' +
            'so predictions depend on the batch. Enable only the dropout layers (e.g. a Dropout subclass that always calls super().call(x, training=True)).',
        ),
      );
    }
  }
  return out;
}
