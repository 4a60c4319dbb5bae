// Inline suppressions: `# reglens: ignore[rule-id]` (Python) or `// reglens: ignore[a, b]`
// (TS/JS), on the flagged line or alone on the line above it; `ignore` without a list
// silences every rule there. Parsed here once, so the CLI and the extension agree on what a
// comment silences; the analyzer applies them to every result.
import { TextIndex } from './textIndex';
import type { Finding, Range, TextEdit } from './textTypes';
import type { SourceLanguage } from './treeSitterRuntime';

export interface Suppression {
  /** 0-based line holding the comment. */
  line: number;
  /** The line whose findings it silences: its own, or the next one when the comment stands alone. */
  target: number;
  /** Rule ids listed; undefined: every rule (a bare `ignore` or an empty list). */
  rules?: string[];
  /** The `reglens: ignore[...]` text, for reporting it. */
  range: Range;
}

export interface UnusedSuppression {
  suppression: Suppression;
  /** The listed ids that silenced nothing; undefined when a bare `ignore` silenced nothing. */
  rules?: string[];
}

export interface SuppressedFinding {
  finding: Finding;
  /** Line of the comment that silenced it. */
  by: number;
}

/** The marker; the id list stops at the first `]` so a trailing note after it is allowed. */
const MARKER = /reglens:\s*ignore(?![\w-])(?:\[([^\]\n]*)\])?/g;

/** Cheap pre-check: most files have no suppression, and then no tree lookup happens. */
export function mayHaveSuppressions(text: string): boolean {
  return text.includes('reglens:');
}

/**
 * Every suppression in the text. `isComment(offset)` says whether a marker found at that
 * offset lies inside a comment (the analyzer asks the parse tree), so a marker inside a string
 * literal silences nothing.
 */
export function findSuppressions(text: string, isComment: (offset: number) => boolean, index = new TextIndex(text)): Suppression[] {
  if (!mayHaveSuppressions(text)) return [];
  const out: Suppression[] = [];
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(text); m; m = MARKER.exec(text)) {
    if (!isComment(m.index)) continue;
    const start = index.positionAt(m.index);
    const before = text.slice(index.lineStart(start.line), m.index);
    // Alone on its line: only the comment token (and a `/*`) before the marker.
    const alone = /^\s*(#|\/\/|\/\*)\s*$/.test(before);
    const rules = m[1]
      ?.split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    out.push({
      line: start.line,
      target: alone ? start.line + 1 : start.line,
      ...(rules?.length ? { rules } : {}),
      range: index.rangeAt(m.index, m.index + m[0].length),
    });
  }
  return out;
}

/** Splits findings into those kept and those a suppression silences, and reports suppressions (or listed ids) that silenced nothing. */
export function applySuppressions(
  findings: readonly Finding[],
  suppressions: readonly Suppression[],
): { kept: Finding[]; suppressed: SuppressedFinding[]; unused: UnusedSuppression[] } {
  if (suppressions.length === 0) return { kept: [...findings], suppressed: [], unused: [] };
  const byTarget = new Map<number, Suppression[]>();
  for (const s of suppressions) byTarget.set(s.target, [...(byTarget.get(s.target) ?? []), s]);
  const used = new Map<Suppression, Set<string>>();
  const kept: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const f of findings) {
    const by = byTarget.get(f.range.start.line)?.find((s) => !s.rules || s.rules.includes(f.ruleId));
    if (!by) {
      kept.push(f);
      continue;
    }
    suppressed.push({ finding: f, by: by.line });
    used.set(by, (used.get(by) ?? new Set()).add(f.ruleId));
  }
  const unused: UnusedSuppression[] = [];
  for (const s of suppressions) {
    const hit = used.get(s);
    if (!s.rules) {
      if (!hit) unused.push({ suppression: s });
      continue;
    }
    const idle = s.rules.filter((r) => !hit?.has(r));
    if (idle.length) unused.push({ suppression: s, rules: idle });
  }
  return { kept, suppressed, unused };
}

export function commentToken(language: SourceLanguage): string {
  return language === 'python' ? '#' : '//';
}

/**
 * The edit that silences `ruleId` on `line`: adds the id to a suppression already on that line
 * or alone on the line above, else inserts `<indent># reglens: ignore[id]` above the line with
 * the line's indentation. After a Python line continued with a backslash, a line in between
 * would break the statement, so the comment goes at the end of the flagged line instead.
 */
export function suppressionEdit(text: string, language: SourceLanguage, line: number, ruleId: string): TextEdit {
  const index = new TextIndex(text);
  const token = commentToken(language);
  const lineText = index.lineText(line);
  const addTo = (l: number): TextEdit | undefined => {
    const t = index.lineText(l);
    const m = /reglens:\s*ignore(?![\w-])(\[([^\]\n]*)\])?/.exec(t);
    if (!m) return undefined;
    const ids = (m[2] ?? '').split(',').map((r) => r.trim()).filter(Boolean);
    // A bare `ignore` already silences the rule: nothing to add (the finding is not shown then).
    if (!m[1] || ids.length === 0) return undefined;
    if (ids.includes(ruleId)) return undefined;
    const at = index.lineStart(l) + m.index + m[0].length - 1;
    return { range: index.rangeAt(at, at), newText: `, ${ruleId}` };
  };
  const trailing = /\S/.test(lineText.split(token)[0] ?? '') ? addTo(line) : undefined;
  if (trailing) return trailing;
  if (line > 0 && new RegExp(`^\\s*${token === '#' ? '#' : '//'}\\s*reglens:`).test(index.lineText(line - 1))) {
    const above = addTo(line - 1);
    if (above) return above;
  }
  const marker = `${token} reglens: ignore[${ruleId}]`;
  const previous = line > 0 ? index.lineText(line - 1) : '';
  if (language === 'python' && /\\\s*$/.test(previous) && !/\\\s*$/.test(lineText)) {
    const end = index.lineContentEnd(line);
    return { range: index.rangeAt(end, end), newText: `  ${marker}` };
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^[ \t]*/.exec(lineText)![0];
  const start = index.lineStart(line);
  return { range: index.rangeAt(start, start), newText: `${indent}${marker}${eol}` };
}
