// What `reglens lint` found, independent of the output format: findings with the severity the
// config gives them, notices about files it could not fully read, and the counts. Formats
// text (one line per finding, like ruff) and JSON (shape documented in README "Lint in CI").
import { GRAPH_RULES } from '../analysis/rules/ruleCatalog';
import type { AnalysisResult, Finding, Fix, Range, Severity } from '../analysis/textTypes';
import type { LintConfig } from './lintConfig';

/** Severities as the CLI prints and takes them (`information` is the extension's word for `info`). */
export type LintSeverity = 'error' | 'warning' | 'info' | 'hint';
export type FailOn = LintSeverity | 'never';
export const LINT_SEVERITIES: readonly LintSeverity[] = ['error', 'warning', 'info', 'hint'];
export const FAIL_ON_VALUES: readonly FailOn[] = [...LINT_SEVERITIES, 'never'];

export function lintSeverity(s: Severity): LintSeverity {
  return s === 'information' ? 'info' : s;
}

export interface LintFinding {
  /** As shown: relative to the working directory with `/`, or absolute outside it. */
  path: string;
  ruleId: string;
  severity: LintSeverity;
  message: string;
  /** 0-based, UTF-16 columns (as the analyzer reports them); formats convert. */
  range: Range;
  docsUrl?: string;
  fixes: Fix[];
  /** Places in other files the finding rests on (the workspace index), paths shown like `path`. */
  related?: { path: string; range: Range; message: string }[];
}

export type NoticeKind = 'parse-errors' | 'unreadable' | 'unsupported' | 'unused-suppression';

/** Something about a file that is not a finding about its model code: never changes the exit code by itself (except unreadable). */
export interface LintNotice {
  path: string;
  kind: NoticeKind;
  message: string;
  /** 0-based, when the notice is about a place. */
  range?: Range;
}

export interface LintReport {
  files: number;
  findings: LintFinding[];
  notices: LintNotice[];
  suppressed: number;
}

const RULE_DEFAULTS = new Map(GRAPH_RULES.map((r) => [r.info.id, r.info]));

/** Applies the config's severities and disabled rules to one file's analysis. */
export function fileFindings(
  displayPath: string,
  result: AnalysisResult,
  config: LintConfig,
  show: (file: string) => string = (f) => f,
): { findings: LintFinding[]; notices: LintNotice[] } {
  const findings: LintFinding[] = [];
  for (const f of result.findings) {
    const setting = config.severity[f.ruleId] ?? f.severity;
    if (setting === 'off') continue;
    findings.push(toLintFinding(displayPath, f, lintSeverity(setting), show));
  }
  const notices: LintNotice[] = [];
  if (result.parseErrors > 0) {
    notices.push({
      path: displayPath,
      kind: 'parse-errors',
      message: `${result.parseErrors} syntax error${result.parseErrors === 1 ? '' : 's'} (as tree-sitter reads the file): findings in it may be incomplete`,
    });
  }
  for (const u of result.unusedSuppressions ?? []) {
    notices.push({
      path: displayPath,
      kind: 'unused-suppression',
      message: u.rules ? `unused suppression of ${u.rules.join(', ')}: no such finding on line ${u.suppression.target + 1}` : `unused suppression: no finding on line ${u.suppression.target + 1}`,
      range: u.suppression.range,
    });
  }
  return { findings, notices };
}

function toLintFinding(displayPath: string, f: Finding, severity: LintSeverity, show: (file: string) => string): LintFinding {
  return {
    path: displayPath,
    ruleId: f.ruleId,
    severity,
    message: f.message,
    range: f.range,
    ...(f.docsUrl ? { docsUrl: f.docsUrl } : {}),
    fixes: f.fixes,
    ...(f.related?.length ? { related: f.related.map((r) => ({ path: show(r.file), range: r.range, message: r.message })) } : {}),
  };
}

export function sortFindings(findings: LintFinding[]): LintFinding[] {
  return findings.sort(
    (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || (a.ruleId < b.ruleId ? -1 : 1),
  );
}

/** Whether a finding at or above `failOn` exists. */
export function fails(report: LintReport, failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  const limit = LINT_SEVERITIES.indexOf(failOn);
  return report.findings.some((f) => LINT_SEVERITIES.indexOf(f.severity) <= limit);
}

export function countBySeverity(findings: readonly LintFinding[]): Record<LintSeverity, number> {
  const counts: Record<LintSeverity, number> = { error: 0, warning: 0, info: 0, hint: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** Messages and notices on one line each (a message with a line break would split a finding in two). */
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ');

export function formatText(report: LintReport): string {
  const out: string[] = [];
  for (const f of report.findings) {
    out.push(`${f.path}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${f.severity} ${f.ruleId} ${oneLine(f.message)}`);
  }
  for (const n of report.notices) {
    const at = n.range ? `:${n.range.start.line + 1}:${n.range.start.character + 1}` : '';
    out.push(`${n.path}${at}: notice ${n.kind}: ${oneLine(n.message)}`);
  }
  const counts = countBySeverity(report.findings);
  const parts = LINT_SEVERITIES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}${counts[s] === 1 || s === 'info' ? '' : 's'}`);
  const files = `${report.files} file${report.files === 1 ? '' : 's'}`;
  const suppressed = report.suppressed ? `; ${report.suppressed} suppressed` : '';
  const n = report.findings.length;
  out.push(n ? `Found ${n} finding${n === 1 ? '' : 's'} (${parts.join(', ')}) in ${files}${suppressed}.` : `No findings in ${files}${suppressed}.`);
  return out.join('\n') + '\n';
}

/** 1-based lines and columns (UTF-16 code units), end exclusive: the shape README "Lint in CI" documents. */
function jsonRange(r: Range) {
  return { line: r.start.line + 1, column: r.start.character + 1, endLine: r.end.line + 1, endColumn: r.end.character + 1 };
}

export function formatJson(report: LintReport, toolVersion: string, failOn: FailOn): string {
  const counts = countBySeverity(report.findings);
  const doc = {
    version: 1,
    tool: { name: 'reglens', version: toolVersion },
    findings: report.findings.map((f) => ({
      path: f.path,
      ...jsonRange(f.range),
      severity: f.severity,
      ruleId: f.ruleId,
      message: f.message,
      ...(f.docsUrl ? { docsUrl: f.docsUrl } : {}),
      fixes: f.fixes.map((x) => ({ title: x.title, edits: x.edits.map((e) => ({ ...jsonRange(e.range), newText: e.newText })) })),
      ...(f.related ? { related: f.related.map((r) => ({ path: r.path, ...jsonRange(r.range), message: r.message })) } : {}),
    })),
    notices: report.notices.map((n) => ({ path: n.path, kind: n.kind, message: n.message, ...(n.range ? jsonRange(n.range) : {}) })),
    summary: { files: report.files, findings: report.findings.length, ...counts, suppressed: report.suppressed, failOn, failed: fails(report, failOn) },
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

export function ruleTitle(id: string): string | undefined {
  return RULE_DEFAULTS.get(id)?.title;
}
