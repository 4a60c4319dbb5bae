// The repository's lint configuration for `reglens lint`: `[tool.reglens]` in pyproject.toml
// or a `.reglens.json`, the nearest one walking up from each file's folder (in one folder
// `.reglens.json` wins over pyproject.toml; a pyproject.toml without `[tool.reglens]` is passed
// over). Keys: the extension's own settings, so one file can be copied from the other:
//   exclude = ["vendor/**"]                       globs, relative to the config's folder
//   disable = ["multi-epoch-no-dropout"]          rule ids
//   severity = { adam-weight-decay = "error" }     per rule id
//   diagnostics.adamWeightDecay.severity = "hint"  the VS Code setting name (`reglens.` optional)
//   diagnostics.largeDenseHeadThreshold = 2048
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { GRAPH_RULES } from '../analysis/rules/ruleCatalog';
import type { RuleOptions } from '../analysis/rules/ruleKit';
import type { Severity } from '../analysis/textTypes';
import { jsonErrorPosition, locateJsonPath } from '../protocol/jsonLocate';
import { globMatcher } from './globMatch';

export type SeverityValue = Severity | 'off';

export interface LintConfig {
  /** The file it was read from; undefined: the defaults (no config found). */
  file?: string;
  /** Folder the exclude globs are relative to. */
  root: string;
  /** Per rule id: its severity, or 'off' (also for `disable`d rules). Rules not listed keep their default. */
  severity: Record<string, SeverityValue>;
  exclude: string[];
  options: Partial<RuleOptions>;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    detail: string,
  ) {
    super(`${file}${line ? `:${line}${column ? `:${column}` : ''}` : ''}: ${detail}`);
  }
}

export const CONFIG_FILES = ['.reglens.json', 'pyproject.toml'] as const;

const SEVERITY_VALUES: Record<string, SeverityValue> = {
  error: 'error',
  warning: 'warning',
  information: 'information',
  info: 'information',
  hint: 'hint',
  off: 'off',
};
const RULE_IDS = new Set(GRAPH_RULES.map((r) => r.info.id));
const SETTING_TO_RULE = new Map(GRAPH_RULES.map((r) => [r.info.settingKey, r.info.id]));

export function defaultConfig(root: string): LintConfig {
  return { root, severity: {}, exclude: [], options: {} };
}

/** Whether `file` (absolute) is excluded by the config's globs. */
export function isExcluded(config: LintConfig, file: string): boolean {
  if (!config.exclude.length) return false;
  const rel = path.relative(config.root, file).split(path.sep).join('/');
  if (rel.startsWith('..')) return false;
  return config.exclude.some((g) => globMatcher(g)(rel));
}

/**
 * Reads a config file. Returns undefined for a pyproject.toml without `[tool.reglens]`.
 * Throws ConfigError naming file:line for unreadable, unparsable or invalid content.
 */
export function readConfigFile(file: string): LintConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, undefined, undefined, `cannot read the config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const toml = file.endsWith('.toml');
  let table: unknown;
  if (toml) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof TomlError) throw new ConfigError(file, err.line, err.column, `invalid TOML: ${err.message.split('\n')[0]}`);
      throw err;
    }
    const tool = doc.tool as Record<string, unknown> | undefined;
    if (!tool || !('reglens' in tool)) return undefined;
    table = tool.reglens;
  } else {
    try {
      table = JSON.parse(text);
    } catch (err) {
      const pos = jsonErrorPosition(text, err as Error);
      throw new ConfigError(file, pos?.line, pos?.column, `invalid JSON (${(err as Error).message})`);
    }
  }
  const locate = (segments: string[]) => (toml ? locateTomlKey(text, ['tool', 'reglens', ...segments]) : locateJsonPath(text, segments));
  const fail = (segments: string[], detail: string): never => {
    const pos = locate(segments);
    throw new ConfigError(file, pos?.line, pos?.column, detail);
  };
  const where = toml ? '[tool.reglens]' : 'the config';
  if (typeof table !== 'object' || table === null || Array.isArray(table)) fail([], `${where} must be a table of settings`);
  const config = defaultConfig(path.dirname(file));
  config.file = file;
  const disabled: string[] = [];
  for (const { segments, value } of flatten(table as Record<string, unknown>)) {
    const key = segments.join('.').replace(/^reglens\./, '');
    const severityOf = (ruleId: string) => {
      const s = typeof value === 'string' ? SEVERITY_VALUES[value] : undefined;
      if (!s) fail(segments, `${key} must be one of error, warning, information (or info), hint, off; got ${JSON.stringify(value)}`);
      config.severity[ruleId] = s!;
    };
    const stringList = (): string[] => {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(segments, `${key} must be a list of strings`);
      return value as string[];
    };
    if (key === '$schema') continue;
    if (key === 'exclude') config.exclude.push(...stringList());
    else if (key === 'disable') {
      for (const id of stringList()) {
        if (!RULE_IDS.has(id)) fail(segments, `unknown rule id "${id}" in disable; the rules are: ${[...RULE_IDS].join(', ')}`);
        disabled.push(id);
      }
    } else if (key.startsWith('severity.')) {
      const id = key.slice('severity.'.length);
      if (!RULE_IDS.has(id)) fail(segments, `unknown rule id "${id}"; the rules are: ${[...RULE_IDS].join(', ')}`);
      severityOf(id);
    } else if (SETTING_TO_RULE.has(key)) severityOf(SETTING_TO_RULE.get(key)!);
    else if (key === 'diagnostics.largeDenseHeadThreshold') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(segments, `${key} must be a positive integer, got ${JSON.stringify(value)}`);
      config.options.largeDenseHeadThreshold = value as number;
    } else {
      fail(
        segments,
        `unknown setting "${key}"; known: exclude, disable, severity.<rule-id>, diagnostics.largeDenseHeadThreshold and the severity settings ${[...SETTING_TO_RULE.keys()].join(', ')}`,
      );
    }
  }
  // `disable` wins over a severity given for the same rule: listing a rule there is the stronger statement.
  for (const id of disabled) config.severity[id] = 'off';
  return config;
}

/** Leaves of nested tables as dotted paths; lists and scalars are leaves. */
function flatten(obj: Record<string, unknown>, prefix: string[] = []): { segments: string[]; value: unknown }[] {
  const out: { segments: string[]; value: unknown }[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const segments = [...prefix, k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)) out.push(...flatten(v as Record<string, unknown>, segments));
    else out.push({ segments, value: v });
  }
  return out;
}

/**
 * 1-based line of the TOML key at `target` (a full dotted path from the document root): the
 * line whose table header plus key is the longest prefix of it. A light scan rather than a
 * parser with positions, which smol-toml does not report; good for pointing at a line.
 */
export function locateTomlKey(text: string, target: string[]): { line: number; column: number } | undefined {
  let table: string[] = [];
  let best: { line: number; column: number; depth: number } | undefined;
  const lines = text.split('\n');
  const consider = (full: string[], line: number, column: number) => {
    let depth = 0;
    while (depth < full.length && depth < target.length && full[depth] === target[depth]) depth++;
    // Only a line on the target's path counts (all of its own segments match).
    if (depth === full.length && (!best || depth > best.depth)) best = { line, column, depth };
  };
  lines.forEach((raw, i) => {
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?/.exec(raw);
    if (header) {
      table = splitDotted(header[1]);
      consider(table, i + 1, raw.indexOf('[') + 1);
      return;
    }
    const key = /^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/.exec(raw);
    if (key) consider([...table, ...splitDotted(key[1])], i + 1, raw.search(/\S/) + 1);
    // Keys of an inline table on this line: `severity = { adam-weight-decay = "x" }`.
    const inline = /=\s*\{(.*)\}/.exec(raw);
    if (key && inline) {
      const base = [...table, ...splitDotted(key[1])];
      for (const m of inline[1].matchAll(/([A-Za-z0-9_-]+|"[^"]*")\s*=/g)) consider([...base, ...splitDotted(m[1])], i + 1, raw.indexOf(m[0]) + 1);
    }
  });
  return best && { line: best.line, column: best.column };
}

function splitDotted(key: string): string[] {
  const out: string[] = [];
  for (const m of key.matchAll(/"([^"]*)"|'([^']*)'|([^.\s]+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * Finds the config that applies to each file: `--config` for all when given, else the nearest
 * config walking up from the file's folder, else the defaults rooted at `cwd`. Each folder is
 * looked at once.
 */
export class ConfigResolver {
  private readonly byDir = new Map<string, LintConfig | undefined>();
  private readonly fixed: LintConfig | undefined;

  constructor(
    private readonly cwd: string,
    override?: string,
  ) {
    if (override) {
      const file = path.resolve(cwd, override);
      const config = readConfigFile(file);
      if (!config) throw new ConfigError(file, undefined, undefined, 'has no [tool.reglens] table');
      this.fixed = config;
    }
  }

  forFile(file: string): LintConfig {
    return this.fixed ?? this.forDir(path.dirname(path.resolve(this.cwd, file))) ?? defaultConfig(this.cwd);
  }

  /** The config of a folder being walked (for excluding sub-folders before reading them). */
  forFolder(dir: string): LintConfig {
    return this.fixed ?? this.forDir(path.resolve(this.cwd, dir)) ?? defaultConfig(this.cwd);
  }

  private forDir(dir: string): LintConfig | undefined {
    if (this.byDir.has(dir)) return this.byDir.get(dir);
    let found: LintConfig | undefined;
    for (const name of CONFIG_FILES) {
      const candidate = path.join(dir, name);
      if (!isFile(candidate)) continue;
      found = readConfigFile(candidate);
      if (found) break;
    }
    const parent = path.dirname(dir);
    if (!found && parent !== dir) found = this.forDir(parent);
    this.byDir.set(dir, found);
    return found;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
