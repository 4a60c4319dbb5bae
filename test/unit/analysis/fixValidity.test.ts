// Every quick fix (and every snippet the Add Regularizer picker offers) on every fixture file,
// applied: the result parses with no new ERROR/MISSING nodes, and every name the inserted code
// reads is bound at that point (imports the fix adds count). Python names are checked with a
// tree-sitter scope walk (pythonScopes.ts); TS/JS fixes must not introduce a name that is not in
// the code they replace (they only move expressions and change literals).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Node, Parser } from 'web-tree-sitter';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEditsTracked } from '../../../src/analysis/applyEdits';
import type { TextEdit } from '../../../src/analysis/textTypes';
import { loadRuntime, type SourceLanguage } from '../../../src/analysis/treeSitterRuntime';
import { planSnippet } from '../../../src/snippets/insertionPlanner';
import { languageOf } from './graphRules.test';
import { sourceFixtures } from './fixtures';
import { unboundNames } from './pythonScopes';

const FIXTURES = join(__dirname, '..', '..', 'fixtures');

function errorCount(root: Node): number {
  let n = 0;
  const visit = (node: Node) => {
    if (node.type === 'ERROR' || node.isMissing) n++;
    for (const c of node.children) if (c) visit(c);
  };
  visit(root);
  return n;
}

const IDENT = /[A-Za-z_$][\w$]*/g;

describe('fix validity (every fixture, every quick fix and snippet)', () => {
  let analyzer: Analyzer;
  const parsers = new Map<SourceLanguage, Parser>();
  before(async () => {
    analyzer = await createAnalyzer();
    const runtime = await loadRuntime();
    for (const lang of ['python', 'typescript', 'javascript'] as const) {
      const p = new Parser();
      p.setLanguage(runtime.languages[lang]);
      parsers.set(lang, p);
    }
  });
  after(() => {
    analyzer.dispose();
    for (const p of parsers.values()) p.delete();
  });

  /** Problems with one edit set: new syntax errors, names read but not bound. */
  const check = (text: string, lang: SourceLanguage, edits: readonly TextEdit[], snippet = false): string[] => {
    const parser = parsers.get(lang)!;
    const before = parser.parse(text)!;
    const fixed = applyEditsTracked(text, edits);
    const after = parser.parse(fixed.text)!;
    try {
      const problems: string[] = [];
      const added = errorCount(after.rootNode) - errorCount(before.rootNode);
      if (added > 0) problems.push(`${added} new syntax error node(s)`);
      if (lang === 'python') {
        for (const u of unboundNames(after.rootNode, fixed.inserted)) problems.push(`'${u.name}' is not bound at offset ${u.offset}`);
      } else if (!snippet) {
        // Snippets bring their own helper code; they are checked for syntax only in TS/JS.
        const known = new Set(fixed.replaced.join('\n').match(IDENT) ?? []);
        for (const [s, e] of fixed.inserted) for (const id of fixed.text.slice(s, e).match(IDENT) ?? []) if (!known.has(id)) problems.push(`'${id}' is new`);
      }
      return problems;
    } finally {
      before.delete();
      after.delete();
    }
  };

  it('the scope check catches an unbound receiver (the hasattr.eval() class of bug)', () => {
    const text = 'import torch\n\ndef f(net):\n    return net\n';
    const bad: TextEdit = { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, newText: 'net.eval()\n' };
    assert.deepEqual(check(text, 'python', [bad]), ["'net' is not bound at offset 13"]);
    const good: TextEdit = { range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, newText: '    net.eval()\n' };
    assert.deepEqual(check(text, 'python', [good]), []);
  });

  for (const file of sourceFixtures()) {
    it(file, () => {
      const text = readFileSync(join(FIXTURES, file), 'utf8');
      const lang = languageOf(file);
      const { result, graph } = analyzer.analyze(text, lang);
      const problems: string[] = [];
      for (const f of result.findings) {
        for (const fix of f.fixes) for (const p of check(text, lang, fix.edits)) problems.push(`${f.ruleId} line ${f.range.start.line + 1} "${fix.title}": ${p}`);
      }
      // The 155 real files (corpus/real) hold up to ~100 models each: their snippets are checked on
      // the first model only (where and which imports a snippet adds is decided per file), which
      // keeps this test near 10 s of CPU instead of a minute.
      const targets = file.startsWith('corpus/real/') ? result.models.slice(0, 1) : result.models;
      for (const target of targets) {
        const model = graph!.models.find((m) => m.start === target.start)!;
        for (const id of target.snippetIds) {
          const edits = planSnippet(graph!, model, id);
          if (edits) for (const p of check(text, lang, edits, true)) problems.push(`snippet ${id} on line ${target.range.start.line + 1}: ${p}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});
