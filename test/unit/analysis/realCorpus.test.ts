import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  disagreements,
  languageOfFile,
  markdownReport,
  type Observation,
  observationOf,
  readSources,
  readVerdicts,
  REAL_CORPUS,
  realCorpusFiles,
  reportInDoc,
  RULES_DOC,
  summarise,
} from '../../../scripts/realCorpus';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { GRAPH_RULES } from '../../../src/analysis/rules/ruleCatalog';

const PERMISSIVE = /^(MIT|Apache-2\.0|BSD-[23]-Clause)\b/;

describe('real-world corpus (files by other people, hand-judged findings)', () => {
  let analyzer: Analyzer;
  const files = realCorpusFiles();
  const sources = readSources();
  const verdicts = readVerdicts();
  const observations: Observation[] = [];
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  it('has at least 150 files, each with a recorded source and a permissive licence', () => {
    assert.ok(files.length >= 150, `${files.length} files`);
    assert.deepEqual(Object.keys(sources).sort(), files);
    for (const [file, s] of Object.entries(sources)) {
      assert.match(s.licence, PERMISSIVE, file);
      assert.ok(s.repo && s.path && s.version && s.via, file);
      const first = readFileSync(join(REAL_CORPUS, file), 'utf8').split('\n', 1)[0];
      assert.ok(first.includes(`RegLens corpus: ${s.repo} ${s.version} ${s.path}`), `${file}: first line names the source`);
    }
    for (const repo of new Set(Object.values(sources).map((s) => s.repo))) {
      assert.ok(existsSync(join(REAL_CORPUS, 'LICENSES', `${repo.replace('/', '__')}.txt`)), `licence text of ${repo}`);
    }
  });

  it('judges only files of the corpus, with a verdict and a reason for each finding and miss', () => {
    for (const [file, v] of Object.entries(verdicts)) {
      assert.ok(files.includes(file), file);
      for (const j of v.findings ?? []) {
        assert.match(j.id, /^[a-z-]+@\d+$/, file);
        assert.ok(['tp', 'fp', 'debatable'].includes(j.verdict) && j.why.length > 10, `${file} ${j.id}`);
      }
      for (const m of v.misses ?? []) assert.ok(GRAPH_RULES.some((r) => r.info.id === m.rule) && m.line > 0 && m.why.length > 10, `${file} miss ${m.rule}`);
    }
  });

  // One test for all files keeps the report readable; the message lists every difference.
  it('finds on every file exactly the hand-judged findings, parses every file and every fix', () => {
    for (const file of files) {
      const text = readFileSync(join(REAL_CORPUS, file), 'utf8');
      const analysis = analyzer.analyze(text, languageOfFile(file));
      const o = observationOf(file, analysis);
      assert.equal(o.parseErrors, 0, file);
      assert.ok(o.facts > 0, `${file}: something was read`);
      observations.push(o);
      for (const f of analysis.result.findings) {
        for (const fix of f.fixes) {
          assert.equal(analyzer.analyze(applyEdits(text, fix.edits), languageOfFile(file)).result.parseErrors, 0, `${file}: ${fix.title}`);
        }
      }
    }
    const diff = disagreements(observations, verdicts);
    assert.deepEqual(diff, [], `re-judge with \`npx tsx scripts/corpus-report.ts\`:\n${JSON.stringify(diff, null, 1)}`);
  });

  it('docs/rules.md carries the current precision / recall table', function () {
    if (observations.length !== files.length) this.skip(); // the previous test failed first
    const expected = markdownReport(summarise(observations, verdicts, sources), verdicts);
    assert.equal(reportInDoc(readFileSync(RULES_DOC, 'utf8')), expected, 'run `npx tsx scripts/corpus-report.ts --write`');
  });
});
