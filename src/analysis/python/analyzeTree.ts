import type { Node } from 'web-tree-sitter';
import { insertDropoutLenses } from '../lenses/insertDropout';
import { checkDropoutBeforeBatchNorm } from '../rules/dropoutBeforeBatchNorm';
import type { AnalysisResult } from '../textTypes';
import { type ColumnUnit, NodeText } from './nodeText';
import { readPytorchModel } from './pytorch';

/** Runs every Python rule and lens over one parse tree. */
export function analyzeTree(root: Node, text: string, unit: ColumnUnit): AnalysisResult {
  const nt = new NodeText(text, unit);
  const model = readPytorchModel(root, nt);
  return {
    findings: checkDropoutBeforeBatchNorm(model.sequentials, nt.index),
    lenses: insertDropoutLenses(model, nt.index),
    parseErrors: root.hasError ? countErrors(root) : 0,
  };
}

/** ERROR and MISSING nodes; an ERROR's contents are not counted again. */
function countErrors(root: Node): number {
  let count = 0;
  const cursor = root.walk();
  try {
    for (;;) {
      const isError = cursor.nodeType === 'ERROR';
      if (isError || cursor.nodeIsMissing) count++;
      if (!isError && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return Math.max(count, 1);
      }
    }
  } finally {
    cursor.delete();
  }
}
