import type { DetectedModel, GraphLayer, ModelGraph } from '../modelGraph';
import type { TextIndex } from '../textIndex';
import type { ModelLens, TextEdit } from '../textTypes';

export const INSERT_DROPOUT_TITLE = 'Insert Dropout';
const DROPOUT_ARGS = '(p=0.1)';

/**
 * Offers to insert Dropout after the last hidden activation of each nn.Sequential - the usual
 * place for it in an MLP head - unless a Dropout already follows that activation. Reads the
 * model graph (no second pass over the tree).
 */
export function insertDropoutLenses(graph: ModelGraph): ModelLens[] {
  const lenses: ModelLens[] = [];
  for (const model of graph.models) {
    // OrderedDict layers are ("name", layer) pairs: a bare Dropout would not fit in the list.
    if (model.framework !== 'pytorch' || model.style !== 'sequential' || !model.call || model.namedLayers) continue;
    const edits = insertDropoutEdits(graph, model, model.call.callee);
    if (!edits) continue;
    const line = model.range.start.line;
    const range = graph.index.rangeAt(model.start, Math.min(model.end, graph.index.lineContentEnd(line)));
    lenses.push({ range, kind: 'insertDropout', title: INSERT_DROPOUT_TITLE, edits });
  }
  return lenses;
}

function insertDropoutEdits(graph: ModelGraph, model: DetectedModel, sequentialCallee: string): TextEdit[] | undefined {
  const { layers } = model;
  const index = graph.index;
  let k = -1;
  // A hidden activation is one that is not the final element.
  for (let i = 0; i + 1 < layers.length; i++) if (layers[i].kind === 'activation') k = i;
  if (k < 0 || layers[k + 1].kind === 'dropout') return undefined;

  const activation = layers[k];
  const next = layers[k + 1];
  const { name, importEdit } = dropoutName(graph, sequentialCallee);
  const call = `${name}${DROPOUT_ARGS}`;
  const edits: TextEdit[] = [];

  const commaLine = index.positionAt(endWithComma(activation, graph.text)).line;
  const nextLine = index.positionAt(next.start).line;
  if (commaLine < nextLine) {
    // One per line: a new line after the activation's (its comma and any trailing comment),
    // indented like the following argument.
    const at = index.lineContentEnd(commaLine);
    const eol = index.text[at] === '\r' ? '\r\n' : '\n';
    edits.push({ range: index.rangeAt(at, at), newText: `${eol}${indentOf(next.start, index)}${call},` });
  } else {
    edits.push({ range: index.rangeAt(activation.end, activation.end), newText: `, ${call}` });
  }
  if (importEdit) edits.push(importEdit);
  return edits;
}

/** End of the layer's trailing comma (past spaces, line breaks and comments), or of the layer. */
function endWithComma(layer: GraphLayer, text: string): number {
  const m = /^(?:\s|#[^\n]*)*,/.exec(text.slice(layer.end, layer.end + 400));
  return m ? layer.end + m[0].length : layer.end;
}

function indentOf(offset: number, index: TextIndex): string {
  const line = index.positionAt(offset).line;
  const before = index.text.slice(index.lineStart(line), offset);
  return /^[ \t]*$/.test(before) ? before : (/^[ \t]*/.exec(before)?.[0] ?? '');
}

/**
 * Writes Dropout the way the file writes Sequential: `nn.`/`torch.nn.` qualified, or bare when
 * imported from torch.nn - reusing an existing (possibly aliased) import or adding one.
 */
function dropoutName(graph: ModelGraph, sequentialCallee: string): { name: string; importEdit?: TextEdit } {
  const dot = sequentialCallee.lastIndexOf('.');
  if (dot >= 0) return { name: `${sequentialCallee.slice(0, dot + 1)}Dropout` };
  let local: string | undefined;
  let wildcard = false;
  for (const b of graph.bindings) {
    if ('wildcard' in b) wildcard ||= b.wildcard === 'torch.nn';
    else if (b.target === 'torch.nn.Dropout') local = b.local;
  }
  if (local) return { name: local };
  if (wildcard) return { name: 'Dropout' };
  const froms = graph.importFroms.filter((f) => f.module === 'torch.nn');
  const from = froms.find((f) => f.localNames.includes(sequentialCallee)) ?? froms[0];
  if (!from) return { name: 'Dropout' };
  return { name: 'Dropout', importEdit: { range: graph.index.rangeAt(from.lastNameEnd, from.lastNameEnd), newText: ', Dropout' } };
}
