// analyzeFiles (what `reglens lint` runs) parses each file once and finishes it with the index
// behind it: its results must equal analysing each file with analyze() over an index built the
// old way (every file parsed again), on every fixture and on the cross-file folders.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFiles, type SourceFile } from '../../../src/analysis/analyzeFiles';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import type { AnalysisResult } from '../../../src/analysis/textTypes';
import { WorkspaceIndex } from '../../../src/analysis/workspace/workspaceIndex';
import { sourceFixtures } from './fixtures';

const FIXTURES = join(__dirname, '..', '..', 'fixtures');

function sourceFile(rel: string): SourceFile {
  const path = join(FIXTURES, rel);
  return { path, text: readFileSync(path, 'utf8'), language: rel.endsWith('.py') ? 'python' : rel.endsWith('.ts') ? 'typescript' : 'javascript' };
}

describe('analyzeFiles: one parse per file', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  /** The reference: index every Python file by parsing it, then analyze() each with the index. */
  const twoPasses = (files: SourceFile[]): AnalysisResult[] => {
    const index = new WorkspaceIndex((text, language) => analyzer.graph(text, language));
    for (const f of files) if (f.language === 'python') index.update(f.path, f.text);
    return files.map((f) => analyzer.analyze(f.text, f.language, f.options, undefined, undefined, f.language === 'python' ? { source: index, file: f.path } : undefined).result);
  };

  it('gives what analyze() gives on every fixture file, cross-file folders included (findings, related places, fixes, lenses, suppressions)', () => {
    const files = sourceFixtures().map(sourceFile);
    assert.ok(files.length > 150, `${files.length} files`);
    const once = analyzeFiles(analyzer, files);
    const reference = twoPasses(files);
    assert.ok(reference.some((r) => r.findings.some((f) => f.related?.length)), 'the fixtures hold cross-file findings');
    files.forEach((f, i) => assert.deepEqual(once[i], reference[i], f.path));
  });

  it('reports a file that does not parse as analyze() does, and keeps it out of the index', () => {
    const files: SourceFile[] = [
      { path: '/w/broken.py', text: 'def (:\n  model = nn.Dropout(0.5\n', language: 'python' },
      { path: '/w/ok.py', text: 'import torch\nopt = torch.optim.Adam(model.parameters(), weight_decay=1e-4)\n', language: 'python' },
    ];
    assert.deepEqual(analyzeFiles(analyzer, files), twoPasses(files));
  });
});
