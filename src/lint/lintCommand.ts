// `reglens lint [paths...]`: the analyzer over files and folders, for CI and pre-commit.
// Exit codes: 0 nothing at or above --fail-on, 1 a finding at or above it, 2 bad usage, an
// invalid config or a path that cannot be read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeFiles, type SourceFile } from '../analysis/analyzeFiles';
import { createAnalyzer } from '../analysis/analyzer';
import { parseCommandLine, UsageError } from '../cliArgs';
import { collectFiles } from './collectFiles';
import { ConfigError, ConfigResolver, type LintConfig } from './lintConfig';
import { FAIL_ON_VALUES, type FailOn, fails, fileFindings, formatJson, formatText, type LintFinding, type LintNotice, type LintReport, sortFindings } from './lintReport';
import { formatSarif } from './sarif';

export const LINT_USAGE = `Usage: reglens lint [paths...] [options]

Reports regularization mistakes in PyTorch, Keras and TF.js model code (.py, .js, .mjs,
.cjs, .jsx, .ts, .mts, .cts) in the named files and, recursively, folders (default: the
current folder). Folders skip node_modules, .git, virtual environments, __pycache__, dist,
build and what .gitignore names.

Options:
  --format text|json|sarif   output format (default text; sarif: SARIF 2.1.0 for code scanning)
  --output FILE              write the report to FILE instead of standard output
  --fail-on LEVEL            error|warning|info|hint|never: exit 1 when a finding at or above
                             LEVEL exists (default warning)
  --config FILE              use this pyproject.toml or .reglens.json for every file instead of
                             the nearest one above each file
  -h, --help                 show this help

Config: [tool.reglens] in pyproject.toml or a .reglens.json, the nearest walking up from each
file (.reglens.json first within a folder). Inline: # reglens: ignore[rule-id] on the line or
alone on the line above. See README "Lint in CI".

Exit codes: 0 no finding at or above --fail-on, 1 some, 2 bad usage, invalid config or a
path that cannot be read.`;

const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

export interface LintArgs {
  paths: string[];
  format: Format;
  output?: string;
  failOn: FailOn;
  config?: string;
}

export function parseLintArgs(argv: string[]): LintArgs | 'help' {
  const { values, positionals } = parseCommandLine(argv, {
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'fail-on': { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const format = values.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be text, json or sarif, got "${format}"`);
  const failOn = values['fail-on'] ?? 'warning';
  if (!(FAIL_ON_VALUES as readonly string[]).includes(failOn)) throw new UsageError(`--fail-on must be ${FAIL_ON_VALUES.join(', ')}, got "${failOn}"`);
  if (values.output !== undefined && !values.output.trim()) throw new UsageError('--output needs a file name');
  return {
    paths: positionals.length ? positionals : ['.'],
    format: format as Format,
    ...(values.output ? { output: values.output } : {}),
    failOn: failOn as FailOn,
    ...(values.config ? { config: values.config } : {}),
  };
}

/** Shown path: relative to the working directory with `/`, absolute when outside it. */
function displayPath(cwd: string, abs: string): string {
  const rel = path.relative(cwd, abs);
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel.split(path.sep).join('/');
}

/** Collects, analyses and reports; writes the report to --output or `out`, problems with paths or config to `err`. */
export async function runLint(args: LintArgs, cwd: string, out: (s: string) => void, err: (s: string) => void, toolVersion: string): Promise<number> {
  let configs: ConfigResolver;
  let collected: ReturnType<typeof collectFiles>;
  try {
    configs = new ConfigResolver(cwd, args.config);
    collected = collectFiles(args.paths, cwd, configs);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`reglens: invalid config: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // A path named on the command line that is not there is a usage error: say it before any work.
  const named = new Set(args.paths.map((p) => path.resolve(cwd, p)));
  const missing = collected.unreadable.filter((u) => named.has(u.path));
  if (missing.length) {
    for (const m of missing) err(`reglens: cannot read ${m.path}: ${m.reason}\n`);
    return 2;
  }

  const notices: LintNotice[] = [];
  for (const u of collected.unreadable) notices.push({ path: displayPath(cwd, u.path), kind: 'unreadable', message: `cannot read: ${u.reason}` });
  for (const u of collected.unsupported) {
    notices.push({ path: displayPath(cwd, u), kind: 'unsupported', message: 'not a file RegLens reads (by its extension): skipped' });
  }
  const sources: (SourceFile & { config: LintConfig })[] = [];
  for (const f of collected.files) {
    let text: string;
    try {
      text = fs.readFileSync(f.path, 'utf8');
    } catch (e) {
      notices.push({ path: displayPath(cwd, f.path), kind: 'unreadable', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    const config = configs.forFile(f.path);
    sources.push({ path: f.path, text, language: f.language, options: config.options, config });
  }

  const analyzer = await createAnalyzer({ reuseStatementFacts: false });
  const findings: LintFinding[] = [];
  let suppressed = 0;
  try {
    const results = analyzeFiles(analyzer, sources);
    results.forEach((result, i) => {
      const r = fileFindings(displayPath(cwd, sources[i].path), result, sources[i].config, (file) => displayPath(cwd, file));
      findings.push(...r.findings);
      notices.push(...r.notices);
      suppressed += result.suppressed?.length ?? 0;
    });
  } finally {
    analyzer.dispose();
  }
  const report: LintReport = { files: sources.length, findings: sortFindings(findings), notices, suppressed };
  const text =
    args.format === 'json' ? formatJson(report, toolVersion, args.failOn) : args.format === 'sarif' ? formatSarif(report, toolVersion, cwd) : formatText(report);
  if (args.output) {
    try {
      fs.writeFileSync(path.resolve(cwd, args.output), text);
    } catch (e) {
      err(`reglens: cannot write ${args.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 2;
    }
  } else out(text);
  if (notices.some((n) => n.kind === 'unreadable')) return 2;
  return fails(report, args.failOn) ? 1 : 0;
}
