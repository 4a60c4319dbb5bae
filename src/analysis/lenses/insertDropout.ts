import type { TextIndex } from '../textIndex';
import type { ModelLens, Range, TextEdit } from '../textTypes';
import type { PytorchModel, SequentialModel, TorchImports } from '../python/pytorch';

export const INSERT_DROPOUT_TITLE = 'Insert Dropout';
const DROPOUT_ARGS = '(p=0.1)';

/**
 * Offers to insert Dropout after the last hidden activation of each nn.Sequential - the usual
 * place for it in an MLP head - unless a Dropout already follows that activation.
 */
export function insertDropoutLenses(model: PytorchModel, index: TextIndex): ModelLens[] {
  const lenses: ModelLens[] = [];
  for (const seq of model.sequentials) {
    const edits = insertDropoutEdits(seq, model.imports, index);
    if (edits) lenses.push({ range: firstLineRange(seq, index), kind: 'insertDropout', title: INSERT_DROPOUT_TITLE, edits });
  }
  return lenses;
}

function firstLineRange(seq: SequentialModel, index: TextIndex): Range {
  const start = index.positionAt(seq.start);
  return index.rangeAt(seq.start, Math.min(seq.end, index.lineContentEnd(start.line)));
}

function insertDropoutEdits(seq: SequentialModel, imports: TorchImports, index: TextIndex): TextEdit[] | undefined {
  const layers = seq.layers;
  let k = -1;
  // A hidden activation is one that is not the final element.
  for (let i = 0; i + 1 < layers.length; i++) if (layers[i].kind === 'activation') k = i;
  if (k < 0 || layers[k + 1].kind === 'dropout') return undefined;

  const activation = layers[k];
  const next = layers[k + 1];
  const { name, importEdit } = dropoutName(seq, imports, index);
  const call = `${name}${DROPOUT_ARGS}`;
  const edits: TextEdit[] = [];

  const commaLine = index.positionAt(activation.endWithComma).line;
  const nextLine = index.positionAt(next.start).line;
  if (commaLine < nextLine) {
    // One per line: a new line after the activation's (its comma and any trailing comment),
    // indented like the following argument.
    const at = index.lineContentEnd(commaLine);
    const eol = index.text[index.lineContentEnd(commaLine)] === '\r' ? '\r\n' : '\n';
    edits.push({ range: index.rangeAt(at, at), newText: `${eol}${indentOf(next.start, index)}${call},` });
  } else {
    edits.push({ range: index.rangeAt(activation.end, activation.end), newText: `, ${call}` });
  }
  if (importEdit) edits.push(importEdit);
  return edits;
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
function dropoutName(seq: SequentialModel, imports: TorchImports, index: TextIndex): { name: string; importEdit?: TextEdit } {
  if (seq.modulePrefix) return { name: `${seq.modulePrefix}Dropout` };
  for (const [local, member] of imports.nnNames) if (member === 'Dropout') return { name: local };
  if (imports.nnWildcard) return { name: 'Dropout' };
  const bareSequential = seq.calleeText.trim();
  const from = imports.nnImportFroms.find((f) => f.localNames.includes(bareSequential)) ?? imports.nnImportFroms[0];
  if (!from) return { name: 'Dropout' };
  return { name: 'Dropout', importEdit: { range: index.rangeAt(from.lastNameEnd, from.lastNameEnd), newText: ', Dropout' } };
}
