import type { Node, Point } from 'web-tree-sitter';
import { TextIndex, utf8ColumnToUtf16 } from '../textIndex';
import type { Range } from '../textTypes';

/** How the parser reports columns: probed once per runtime in treeSitterRuntime.ts. */
export type ColumnUnit = 'utf16' | 'utf8';

/**
 * Maps tree-sitter nodes to UTF-16 offsets and ranges of the analysed text. Every position the
 * analysis reports goes through here, so the byte-vs-code-unit question is answered once.
 */
export class NodeText {
  readonly index: TextIndex;

  constructor(
    readonly text: string,
    private readonly unit: ColumnUnit,
  ) {
    this.index = new TextIndex(text);
  }

  offsetOf(point: Point): number {
    const lineStart = this.index.lineStart(point.row);
    const character = this.unit === 'utf16' ? point.column : utf8ColumnToUtf16(this.index.lineText(point.row), point.column);
    return lineStart + character;
  }

  // With UTF-16 columns the parser's indices are UTF-16 offsets too: startIndex is a plain field
  // of the node and endIndex one wasm call, cheaper than a point plus a line lookup.
  start(node: Node): number {
    return this.unit === 'utf16' ? node.startIndex : this.offsetOf(node.startPosition);
  }

  end(node: Node): number {
    return this.unit === 'utf16' ? node.endIndex : this.offsetOf(node.endPosition);
  }

  range(node: Node): Range {
    return this.index.rangeAt(this.start(node), this.end(node));
  }

  /** The node's source text, sliced from the analysed string (no wasm round trip). */
  of(node: Node): string {
    return this.text.slice(this.start(node), this.end(node));
  }
}
