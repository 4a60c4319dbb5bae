// Diagnostics read like Ruff's and Pylance's: one line, no citation, and a link to the rule's
// section of docs/rules.md at the installed version, which carries the explanation and source.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { version } from '../../../package.json';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { repositoryUrl, ruleDocsUrl } from '../../../src/analysis/rules/ruleDocs';
import { GRAPH_RULES } from '../../../src/analysis/rules/ruleCatalog';
import { sourceFixtures } from './fixtures';
import { languageOf } from './graphRules.test';

const ROOT = join(__dirname, '..', '..', '..');
const RULES_MD = readFileSync(join(ROOT, 'docs', 'rules.md'), 'utf8');
const CITATION = /et al\.|arxiv|ICLR|CVPR|NeurIPS|ICML|JMLR|\(\w+,? \d{4}\)/i;

/** The text of a `## <id>` section of docs/rules.md. */
function section(id: string): string | undefined {
  const m = new RegExp(`^## ${id}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(RULES_MD);
  return m?.[1];
}

describe('diagnostic messages and rule documentation', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  it('builds the docs link from package.json repository and version', () => {
    assert.equal(repositoryUrl({ url: 'git+https://github.com/o/r.git' }), 'https://github.com/o/r');
    assert.equal(ruleDocsUrl('cutmix-lambda', 'https://github.com/o/r', '1.2.3'), 'https://github.com/o/r/blob/v1.2.3/docs/rules.md#cutmix-lambda');
    assert.equal(ruleDocsUrl('cutmix-lambda'), `https://github.com/reglens/reglens/blob/v${version}/docs/rules.md#cutmix-lambda`);
  });

  it('every finding on every fixture: one line of at most 100 characters, no citation, linked to its rule section', () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const file of sourceFixtures()) {
      const text = readFileSync(join(ROOT, 'test', 'fixtures', file), 'utf8');
      for (const f of analyzer.analyze(text, languageOf(file)).result.findings) {
        seen.add(f.ruleId);
        const where = `${file}:${f.range.start.line + 1} ${f.ruleId}`;
        if (f.message.includes('\n') || f.message.length > 100) problems.push(`${where}: ${f.message.length} chars: ${f.message}`);
        if (CITATION.test(f.message)) problems.push(`${where}: cites in the message: ${f.message}`);
        if (f.docsUrl !== ruleDocsUrl(f.ruleId)) problems.push(`${where}: docsUrl ${f.docsUrl}`);
      }
    }
    assert.deepEqual(problems, []);
    // The fixtures exercise every rule, so the check above covers every rule's messages.
    assert.deepEqual([...seen].sort(), GRAPH_RULES.map((r) => r.info.id).sort());
  });

  for (const { info } of GRAPH_RULES) {
    it(`docs/rules.md has a section for ${info.id} with its setting, explanation and source`, () => {
      const body = section(info.id);
      assert.ok(body, `## ${info.id} heading (the link anchor)`);
      assert.ok(body.includes(info.settingKey.replace(/^diagnostics\./, 'diagnostics.')), `names the setting ${info.settingKey}`);
      assert.ok(body.includes(info.source), `cites ${info.source}`);
      assert.ok(/\*\*Fix\*\*|\*\*No fix\*\*/.test(body), 'says what the quick fix does, or why there is none');
    });
  }
});
