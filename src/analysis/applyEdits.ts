import { TextIndex } from './textIndex';
import type { TextEdit } from './textTypes';

export interface AppliedEdits {
  text: string;
  /** Where each edit's new text lies in the result, in document order: [start, end). */
  inserted: [number, number][];
  /** The original text each edit replaced, in document order. */
  replaced: string[];
}

/**
 * Applies edits the way a VS Code WorkspaceEdit does: all ranges refer to the original text,
 * edits at the same position are inserted in the given order. Overlapping edits are a bug in
 * the producer, so they throw rather than produce silently wrong code.
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  return applyEditsTracked(text, edits).text;
}

/** applyEdits, also saying where the new text went (fix-validity checks read the inserted code). */
export function applyEditsTracked(text: string, edits: readonly TextEdit[]): AppliedEdits {
  const index = new TextIndex(text);
  const resolved = edits
    .map((e, order) => ({ start: index.offsetAt(e.range.start), end: index.offsetAt(e.range.end), text: e.newText, order }))
    .sort((a, b) => a.start - b.start || a.end - b.end || a.order - b.order);
  let out = '';
  let cursor = 0;
  const inserted: [number, number][] = [];
  const replaced: string[] = [];
  for (const e of resolved) {
    if (e.end < e.start) throw new Error(`applyEdits: inverted range at offset ${e.start}`);
    if (e.start < cursor) throw new Error(`applyEdits: overlapping edits at offset ${e.start}`);
    out += text.slice(cursor, e.start);
    inserted.push([out.length, out.length + e.text.length]);
    out += e.text;
    replaced.push(text.slice(e.start, e.end));
    cursor = e.end;
  }
  return { text: out + text.slice(cursor), inserted, replaced };
}
