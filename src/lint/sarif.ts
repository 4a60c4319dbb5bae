// SARIF 2.1.0 output of `reglens lint`, the subset GitHub code scanning reads: one run whose
// tool.driver lists every rule (id, short description, help link to docs/rules.md, default
// level), one result per finding with its location relative to %SRCROOT% (the working
// directory), fixes as artifact changes, and notices as tool execution notifications (they are
// about the run, not findings in the code).
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GRAPH_RULES } from '../analysis/rules/ruleCatalog';
import type { Range } from '../analysis/textTypes';
import { type LintReport, type LintSeverity, lintSeverity } from './lintReport';

/** Rule documentation; anchors are the rule ids (docs/rules.md has a `## <id>` heading per rule). */
export const RULES_DOC_URL = 'https://github.com/reglens/reglens/blob/main/docs/rules.md';

type SarifLevel = 'error' | 'warning' | 'note' | 'none';

/** SARIF has no `hint`: it and `info` are notes, which code scanning shows as the lowest level. */
export function sarifLevel(s: LintSeverity): SarifLevel {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

/** 1-based, end column exclusive (SARIF 3.30: the column after the region), in UTF-16 code units (run.columnKind). */
function region(r: Range) {
  return { startLine: r.start.line + 1, startColumn: r.start.character + 1, endLine: r.end.line + 1, endColumn: r.end.character + 1 };
}

/**
 * `path` is as the report shows it: relative to `cwd` (then a relative URI on %SRCROOT%) or
 * absolute (a file outside the working directory: an absolute file URI).
 */
function artifactLocation(p: string) {
  if (path.isAbsolute(p)) return { uri: pathToFileURL(p).href };
  return { uri: p.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

export function formatSarif(report: LintReport, toolVersion: string, cwd: string): string {
  const ruleIndex = new Map(GRAPH_RULES.map((r, i) => [r.info.id, i]));
  const rootUri = pathToFileURL(cwd.endsWith(path.sep) ? cwd : cwd + path.sep).href;
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'RegLens',
            version: toolVersion,
            informationUri: 'https://github.com/reglens/reglens',
            rules: GRAPH_RULES.map(({ info }) => ({
              id: info.id,
              name: info.id,
              shortDescription: { text: info.title },
              helpUri: `${RULES_DOC_URL}#${info.id}`,
              help: { text: `${info.title}. See ${RULES_DOC_URL}#${info.id}` },
              defaultConfiguration: { level: sarifLevel(lintSeverity(info.defaultSeverity)) },
              properties: { tags: ['regularization', 'machine-learning'] },
            })),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: rootUri } },
        columnKind: 'utf16CodeUnits',
        results: report.findings.map((f) => {
          const location = artifactLocation(f.path);
          return {
            ruleId: f.ruleId,
            ...(ruleIndex.has(f.ruleId) ? { ruleIndex: ruleIndex.get(f.ruleId) } : {}),
            level: sarifLevel(f.severity),
            message: { text: f.message },
            locations: [{ physicalLocation: { artifactLocation: location, region: region(f.range) } }],
            ...(f.related
              ? {
                  relatedLocations: f.related.map((r, id) => ({
                    id,
                    physicalLocation: { artifactLocation: artifactLocation(r.path), region: region(r.range) },
                    message: { text: r.message },
                  })),
                }
              : {}),
            ...(f.fixes.length
              ? {
                  fixes: f.fixes
                    .filter((x) => x.edits.length)
                    .map((x) => ({
                      description: { text: x.title },
                      artifactChanges: [
                        {
                          artifactLocation: location,
                          replacements: x.edits.map((e) => ({ deletedRegion: region(e.range), insertedContent: { text: e.newText } })),
                        },
                      ],
                    })),
                }
              : {}),
          };
        }),
        invocations: [
          {
            executionSuccessful: !report.notices.some((n) => n.kind === 'unreadable'),
            toolExecutionNotifications: report.notices.map((n) => ({
              level: n.kind === 'unreadable' ? 'error' : n.kind === 'parse-errors' ? 'warning' : 'note',
              message: { text: `${n.kind}: ${n.message}` },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: artifactLocation(n.path),
                    ...(n.range ? { region: region(n.range) } : {}),
                  },
                },
              ],
            })),
          },
        ],
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
