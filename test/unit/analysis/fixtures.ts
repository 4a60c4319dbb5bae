import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Range } from '../../../src/analysis/textTypes';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'python');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function range(startLine: number, startChar: number, endLine: number, endChar: number): Range {
  return { start: { line: startLine, character: startChar }, end: { line: endLine, character: endChar } };
}

/** Range of the first occurrence of needle on the given line, in UTF-16 units (JS indexOf). */
export function rangeOf(text: string, line: number, needle: string): Range {
  const lineText = text.split('\n')[line];
  const at = lineText.indexOf(needle);
  if (at < 0) throw new Error(`'${needle}' not on line ${line}: ${lineText}`);
  return range(line, at, line, at + needle.length);
}

const SOURCE_DIRS = ['corpus', 'precision', 'python', 'keras', 'tfjs', 'workspace', 'workspace-xfile'];

/** Every Python/TS/JS model file under test/fixtures (the analyzer suites), as `dir/.../file` paths. */
export function sourceFixtures(): string[] {
  const out: string[] = [];
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path, `${rel}/${name}`);
      else if (/\.(py|ts|js)$/.test(name)) out.push(`${rel}/${name}`);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(FIXTURES, '..', d))) visit(join(FIXTURES, '..', d), d);
  return out;
}
