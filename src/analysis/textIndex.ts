import type { Position, Range } from './textTypes';

/**
 * Line table over a text, converting between UTF-16 offsets and positions. Lines end at '\n'
 * only, which is how tree-sitter counts rows; a '\r' before it belongs to the line's text
 * (VS Code hides it, but no analysis position ever points past it).
 */
export class TextIndex {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
      this.lineStarts.push(i + 1);
    }
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  lineStart(line: number): number {
    return this.lineStarts[Math.max(0, Math.min(line, this.lineStarts.length - 1))];
  }

  /** Offset of the end of the line's content, before '\r\n' or '\n'. */
  lineContentEnd(line: number): number {
    const next = line + 1 < this.lineStarts.length ? this.lineStarts[line + 1] - 1 : this.text.length;
    return next > this.lineStart(line) && this.text[next - 1] === '\r' ? next - 1 : next;
  }

  lineText(line: number): string {
    return this.text.slice(this.lineStart(line), this.lineContentEnd(line));
  }

  offsetAt(pos: Position): number {
    if (pos.line >= this.lineStarts.length) return this.text.length;
    const start = this.lineStart(pos.line);
    const end = pos.line + 1 < this.lineStarts.length ? this.lineStarts[pos.line + 1] : this.text.length;
    return Math.min(start + Math.max(0, pos.character), end);
  }

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.lineStarts[lo] };
  }

  rangeAt(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }
}

/**
 * Converts a UTF-8 byte column within a line to UTF-16 code units. Tree-sitter's native
 * columns are bytes of the text it parsed; web-tree-sitter 0.25 feeds JS strings as UTF-16 so
 * its columns are already code units, but the parser probes which one it got (see parser.ts)
 * and uses this when columns are bytes.
 */
export function utf8ColumnToUtf16(lineText: string, byteColumn: number): number {
  let bytes = 0;
  let i = 0;
  while (i < lineText.length && bytes < byteColumn) {
    const code = lineText.codePointAt(i) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    i += code >= 0x10000 ? 2 : 1;
  }
  return i;
}
