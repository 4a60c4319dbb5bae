import type { TextIndex } from '../textIndex';
import type { Finding, TextEdit } from '../textTypes';
import { type Call, callsWithin, type GraphLayer, type ModelGraph } from '../modelGraph';
import type { RuleInfo } from './ruleKit';

/** What swapLayers needs of a layer: its expression and where it is. */
interface Swappable {
  start: number;
  end: number;
  text: string;
}

export const DROPOUT_BEFORE_BATCHNORM = 'dropout-before-batchnorm';

export const DROPOUT_BEFORE_BATCHNORM_DOCS = 'https://arxiv.org/abs/1801.05134';

export const DROPOUT_BEFORE_BATCHNORM_RULE: RuleInfo = {
  id: DROPOUT_BEFORE_BATCHNORM,
  title: 'Dropout directly before batch normalization',
  docsUrl: DROPOUT_BEFORE_BATCHNORM_DOCS,
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.dropoutBeforeBatchNorm.severity',
};

/**
 * Dropout directly before BatchNorm in a layer list (nn.Sequential, Keras Sequential([...]) and
 * model.add chains, tf.sequential): BatchNorm's running variance is estimated on dropped-out
 * activations during training but applied to un-dropped ones at inference ("variance shift",
 * Li et al., CVPR 2019), which hurts test accuracy. Placing Dropout after BatchNorm avoids it.
 */
export function checkDropoutBeforeBatchNormGraph(graph: ModelGraph): Finding[] {
  const findings: Finding[] = [];
  for (const model of graph.models) {
    if (model.style !== 'sequential' && model.style !== 'add' && model.style !== 'functional') continue;
    for (let i = 0; i + 1 < model.layers.length; i++) {
      const dropout = model.layers[i];
      const norm = model.layers[i + 1];
      if (dropout.kind !== 'dropout' || norm.kind !== 'batchnorm') continue;
      // Functional models list layers in construction order; only a direct chain counts
      // (`x = Dropout(r)(x)` then `x = BatchNormalization()(x)`), not two branches off one tensor.
      if (model.style === 'functional' && !feeds(graph, dropout, norm)) continue;
      // PyTorch calls it the running variance, Keras and TF.js the moving variance.
      const stat = model.framework === 'pytorch' ? `${norm.name} learns its running variance` : 'batch normalization learns its moving variance';
      findings.push({
        ruleId: DROPOUT_BEFORE_BATCHNORM,
        severity: 'warning',
        range: dropout.range,
        message:
          `${dropout.name} directly before ${norm.name} causes variance shift: ${stat} from dropped-out activations in training, ` +
          `but sees un-dropped ones at inference, which degrades accuracy. Move ${dropout.name} after ` +
          `${model.framework === 'pytorch' ? 'the BatchNorm' : norm.name} (Li et al., "Understanding the Disharmony between Dropout and Batch ` +
          'Normalization by Variance Shift", CVPR 2019).',
        docsUrl: DROPOUT_BEFORE_BATCHNORM_DOCS,
        fixes: [{ title: `Move ${dropout.name} after ${norm.name}`, edits: swapLayers(dropout, norm, graph.index) }],
      });
    }
  }
  return findings;
}

/** The call applying a functional layer to a tensor: `Dropout(0.3)(x)` / `tf.layers.dropout({...}).apply(x)`. */
function application(graph: ModelGraph, layer: GraphLayer): Call | undefined {
  return callsWithin(graph.calls, layer.start, layer.end + 400).find((c) => c.start === layer.start && c.end > layer.end && c.args[0]?.name === undefined);
}

/** True when the dropout's output tensor is the batch norm's input. */
function feeds(graph: ModelGraph, dropout: GraphLayer, norm: GraphLayer): boolean {
  const out = application(graph, dropout)?.assignedTo;
  return !!out && application(graph, norm)?.args[0]?.text === out;
}

interface LineTail {
  /** Text after the layer up to and including its comma ('' when it has none). */
  comma: string;
  /** The rest of the line: spacing and an optional comment. */
  rest: string;
  /** Offset of the end of the layer's last line. */
  lineEnd: number;
}

/**
 * When a layer sits on its own line(s) - only indentation before it, only a comma and a comment
 * after it - returns what follows it on its last line; otherwise undefined.
 */
function ownLineTail(layer: Swappable, index: TextIndex): LineTail | undefined {
  const startLine = index.positionAt(layer.start).line;
  const before = index.text.slice(index.lineStart(startLine), layer.start);
  if (before.trim() !== '') return undefined;
  const lineEnd = index.lineContentEnd(index.positionAt(layer.end).line);
  const after = index.text.slice(layer.end, lineEnd);
  const match = /^(\s*,)?(\s*(#.*)?)$/.exec(after);
  if (!match) return undefined;
  return { comma: match[1] ?? '', rest: match[2], lineEnd };
}

/**
 * Swaps two layers. One-per-line layers are swapped together with their trailing comments
 * while commas stay in place (the second one may be the last argument, without a comma) and
 * indentation is untouched; otherwise only the two expressions are exchanged.
 */
export function swapLayers(first: Swappable, second: Swappable, index: TextIndex): TextEdit[] {
  const a = ownLineTail(first, index);
  const b = ownLineTail(second, index);
  const firstLine = index.positionAt(first.end).line;
  const secondLine = index.positionAt(second.start).line;
  if (a && b && firstLine < secondLine) {
    return [
      { range: index.rangeAt(first.start, a.lineEnd), newText: second.text + a.comma + b.rest },
      { range: index.rangeAt(second.start, b.lineEnd), newText: first.text + b.comma + a.rest },
    ];
  }
  return [
    { range: index.rangeAt(first.start, first.end), newText: second.text },
    { range: index.rangeAt(second.start, second.end), newText: first.text },
  ];
}
