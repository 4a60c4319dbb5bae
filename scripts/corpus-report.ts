// Per-rule precision and recall of the analyzer on the real-world corpus, as a markdown table.
// `npx tsx scripts/corpus-report.ts` prints it (and every finding that has no hand verdict yet);
// `--write` also puts it into docs/rules.md ("Measured on real code"). Exit 1 while any finding
// differs from test/fixtures/corpus/real/findings.json, so a changed rule is re-judged, not ignored.
import { readFileSync, writeFileSync } from 'node:fs';
import { createAnalyzer } from '../src/analysis/analyzer';
import { disagreements, markdownReport, observe, readSources, readVerdicts, realCorpusFiles, RULES_DOC, summarise, withReport } from './realCorpus';

async function main(): Promise<void> {
  const analyzer = await createAnalyzer();
  try {
    const observations = realCorpusFiles().map((file) => observe(analyzer, file));
    const verdicts = readVerdicts();
    const report = markdownReport(summarise(observations, verdicts, readSources()), verdicts);
    process.stdout.write(`${report}\n`);
    const diff = disagreements(observations, verdicts);
    for (const d of diff) {
      for (const id of d.unjudged) process.stderr.write(`unjudged: ${d.file} ${id} (add a verdict to findings.json)\n`);
      for (const id of d.stale) process.stderr.write(`no longer found: ${d.file} ${id} (remove it from findings.json)\n`);
    }
    if (process.argv.includes('--write')) {
      writeFileSync(RULES_DOC, withReport(readFileSync(RULES_DOC, 'utf8'), report));
      process.stderr.write(`wrote ${RULES_DOC}\n`);
    }
    if (diff.length) process.exitCode = 1;
  } finally {
    analyzer.dispose();
  }
}

void main();
