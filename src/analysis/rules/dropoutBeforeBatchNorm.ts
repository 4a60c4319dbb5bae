import type { TextIndex } from '../textIndex';
import type { Finding, TextEdit } from '../textTypes';
import { type Call, callsWithin, type GraphLayer, type ModelGraph } from '../modelGraph';
import { finding, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

/** What swapLayers needs of a layer: its expression and where it is. */
interface Swappable {
  start: number;
  end: number;
  text: string;
}

export const DROPOUT_BEFORE_BATCHNORM = 'dropout-before-batchnorm';

export const DROPOUT_BEFORE_BATCHNORM_RULE: RuleInfo = {
  id: DROPOUT_BEFORE_BATCHNORM,
  title: 'Dropout directly before batch normalization',
  docsUrl: ruleDocsUrl(DROPOUT_BEFORE_BATCHNORM),
  source: 'https://arxiv.org/abs/1801.05134',
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
      findings.push(
        finding(DROPOUT_BEFORE_BATCHNORM_RULE, dropout.range, `${dropout.name} directly before ${norm.name} causes variance shift: move it after the norm`, [
          { title: `Move ${dropout.name} after ${norm.name}`, edits: swapLayers(dropout, norm, graph.index) },
        ]),
      );
    }
  }
  findings.push(...checkModuleBodies(graph));
  return findings;
}

/**
 * The same mistake inside an nn.Module's `forward` (or a Keras subclass's `call`): layers made
 * in `__init__` as attributes, applied in order in the body, either as a chain of statements
 * (`x = self.drop(x)` then `x = self.bn(x)`) or nested (`self.bn(self.drop(x))`). Only a direct
 * hand-over counts: the dropout's output is the batch norm's first argument, with nothing
 * reassigning it in between.
 */
function checkModuleBodies(graph: ModelGraph): Finding[] {
  const findings: Finding[] = [];
  for (const model of graph.models) {
    if (model.style !== 'module') continue;
    const attrs = new Map<string, GraphLayer>();
    for (const l of model.layers) if (l.call?.assignedTo?.startsWith('self.')) attrs.set(l.call.assignedTo, l);
    const kinds = new Set([...attrs.values()].map((l) => l.kind));
    if (!kinds.has('dropout') || !kinds.has('batchnorm')) continue;
    const bodyName = model.framework === 'pytorch' ? 'forward' : 'call';
    const body = callsWithin(graph.calls, model.start, model.end).filter((c) => c.scope.functionName === bodyName && c.scope.className === model.name);
    const kindOf = (c: Call) => attrs.get(c.callee)?.kind;
    for (const drop of body) {
      if (kindOf(drop) !== 'dropout') continue;
      const norm = nestedConsumer(body, drop) ?? nextConsumer(graph, body, drop);
      if (!norm || kindOf(norm) !== 'batchnorm') continue;
      const dropLayer = attrs.get(drop.callee)!;
      const normLayer = attrs.get(norm.callee)!;
      const swappable = graph.text.startsWith(drop.callee, drop.start) && graph.text.startsWith(norm.callee, norm.start);
      findings.push({
        ...finding(
          DROPOUT_BEFORE_BATCHNORM_RULE,
          drop.range,
          `${drop.callee} (${dropLayer.name}) feeds ${norm.callee} (${normLayer.name}) in ${bodyName}(): variance shift`,
        ),
        fixes: swappable
          ? [
              {
                title: `Apply ${drop.callee} after ${norm.callee}`,
                // Swapping the two attribute names swaps the order, in a chain and nested alike.
                edits: [
                  { range: graph.index.rangeAt(drop.start, drop.start + drop.callee.length), newText: norm.callee },
                  { range: graph.index.rangeAt(norm.start, norm.start + norm.callee.length), newText: drop.callee },
                ],
              },
            ]
          : [],
      });
    }
  }
  return findings;
}

/** `self.bn(self.drop(x))`: the call whose first argument is exactly the dropout call. */
function nestedConsumer(body: Call[], drop: Call): Call | undefined {
  return body.find((c) => c !== drop && c.args[0]?.name === undefined && c.args[0]?.start === drop.start && c.args[0]?.end === drop.end);
}

/** `x = self.drop(x)` ... `x = self.bn(x)`: the next call in the same function reading x first, if x is not reassigned meanwhile. */
function nextConsumer(graph: ModelGraph, body: Call[], drop: Call): Call | undefined {
  const v = drop.assignedTo;
  if (!v || !/^[A-Za-z_][\w.]*$/.test(v)) return undefined;
  const name = v.replace(/\./g, '\\.');
  const uses = new RegExp(`(^|[^\\w.])${name}(?![\\w(])`);
  const next = body.find((c) => c.start > drop.end && c.scope.functionStart === drop.scope.functionStart && c.args.some((a) => uses.test(a.text)));
  if (!next || next.args[0]?.name !== undefined || next.args[0]?.text !== v) return undefined;
  // Same block only: a use under another branch or after a reassignment is not a direct hand-over.
  if (next.indent !== drop.indent) return undefined;
  const between = graph.text.slice(drop.end, next.lineStart);
  if (new RegExp(`^\\s*${name}\\s*([-+*/@%]|//)?=(?!=)`, 'm').test(between)) return undefined;
  return next;
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
