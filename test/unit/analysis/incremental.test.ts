import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Analyzer, createAnalyzer, editsBetween, type TextChange } from '../../../src/analysis/analyzer';
import { generatedModelFile } from '../../../bench/analysis';
import type { SourceLanguage } from '../../../src/analysis/treeSitterRuntime';

const ROOT = join(__dirname, '..', '..', 'fixtures');
const FILES = ['python', 'keras', 'tfjs', 'corpus'].flatMap((dir) => readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((d) => d.isFile()).map((d) => `${dir}/${d.name}`));

function languageOf(file: string): SourceLanguage {
  return file.endsWith('.py') ? 'python' : file.endsWith('.ts') ? 'typescript' : 'javascript';
}

function apply(text: string, c: TextChange): string {
  return text.slice(0, c.offset) + c.text + text.slice(c.offset + c.length);
}

describe('incremental analysis (reused tree and statement facts)', () => {
  let analyzer: Analyzer;
  let uncached: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
    uncached = await createAnalyzer({ reuseStatementFacts: false });
  });
  after(() => {
    analyzer.dispose();
    uncached.dispose();
  });

  // Serialized at once: reused facts are shifted in place by the next analysis of the same key.
  const fresh = (text: string, file: string) => JSON.stringify(analyzer.analyze(text, languageOf(file)).result);
  const keyed = (text: string, file: string, changes?: TextChange[]) => JSON.stringify(analyzer.analyze(text, languageOf(file), undefined, file, changes).result);

  // Two claims: reused statement facts give exactly what reading every statement of the same
  // (incrementally parsed) tree gives; and the result equals a fresh analysis whenever the file
  // parses cleanly. With syntax errors tree-sitter's error recovery may legitimately differ
  // between an incremental and a fresh parse, so there only the first claim is checked.
  it('gives the same results as reading every statement again, and as a fresh analysis of clean files, after random edit sequences', () => {
    const insert = fc.constantFrom('x', '\n', '\n\n', '    ', '# c\n', 'nn.Dropout(0.1), ', '(', ')', ',', 'é😀', 'import torch.nn as nn\n', 'model.eval()\n', '');
    const change = fc.tuple(fc.nat(), fc.nat({ max: 30 }), insert);
    fc.assert(
      fc.property(fc.constantFrom(...FILES), fc.array(fc.tuple(change, fc.boolean()), { minLength: 1, maxLength: 6 }), (file, steps) => {
        let text = readFileSync(join(ROOT, file), 'utf8');
        analyzer.forget(file);
        uncached.forget(file);
        keyed(text, file);
        for (const [[a, len, ins], withRanges] of steps) {
          const offset = a % (text.length + 1);
          const c: TextChange = { offset, length: Math.min(len, text.length - offset), text: ins };
          text = apply(text, c);
          const changes = withRanges ? [c] : undefined;
          const reused = keyed(text, file, changes);
          const reread = JSON.stringify(uncached.analyze(text, languageOf(file), undefined, file, changes).result);
          assert.equal(reused, reread, `${file} after ${JSON.stringify(c)}: reused facts differ`);
          const clean = fresh(text, file);
          if (JSON.parse(clean).parseErrors === 0) assert.equal(reused, clean, `${file} after ${JSON.stringify(c)}: differs from a fresh analysis`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('handles a file with repeated identical statements and moves between them', () => {
    const block = 'm = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(4))\n';
    let text = `import torch.nn as nn\n${block}${block}${block}`;
    const file = 'dup.py';
    keyed(text, file);
    for (const c of [
      { offset: 22, length: 0, text: '\n' },
      { offset: 0, length: 0, text: block },
      { offset: 30, length: 5, text: '' },
    ]) {
      text = apply(text, c);
      assert.equal(keyed(text, file, [c]), fresh(text, file));
    }
  });

  it('analyzeAsync yields between slices, stops when cancelled, and the next analysis is still right', async () => {
    let text = generatedModelFile(60);
    const file = 'async.py';
    keyed(text, file);
    const c1 = { offset: text.indexOf('nn.ReLU()'), length: 0, text: 'x' };
    text = apply(text, c1);
    let slices = 0;
    const cancelled = await analyzer.analyzeAsync(text, 'python', { key: file, changes: [c1] }, () => ++slices >= 1, 0);
    assert.equal(cancelled, undefined, 'superseded analyses resolve to undefined');
    const c2 = { offset: text.length, length: 0, text: '\nm = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))\n' };
    text = apply(text, c2);
    const done = await analyzer.analyzeAsync(text, 'python', { key: file, changes: [c2] }, () => false, 0);
    assert.equal(JSON.stringify(done?.result), fresh(text, file));
  });

  it('keeps a tree that an async analysis still reads when its document is closed or evicted meanwhile', async () => {
    const text = generatedModelFile(60);
    let interleaved = false;
    const done = await analyzer.analyzeAsync(
      text,
      'python',
      { key: 'evicted.py' },
      () => {
        if (!interleaved) {
          interleaved = true;
          analyzer.forget('evicted.py');
          for (let i = 0; i < 20; i++) analyzer.analyze(`import torch.nn as nn\nm${i} = nn.Sequential(nn.ReLU())\n`, 'python', undefined, `other${i}.py`);
        }
        return false;
      },
      0,
    );
    assert.ok(interleaved);
    assert.equal(JSON.stringify(done?.result), fresh(text, 'evicted.py'));
  });

  it('turns VS Code change lists into tree edits, and falls back to a diff when they do not add up', () => {
    const before = 'ab\ncd\n';
    const changes: TextChange[] = [
      { offset: 4, length: 1, text: 'X\nY' },
      { offset: 1, length: 0, text: '12' },
    ];
    const after = changes.reduce(apply, before);
    const edits = editsBetween(before, after, changes);
    assert.equal(edits.length, 2);
    assert.deepEqual(edits[0].startPosition, { row: 1, column: 1 });
    assert.deepEqual(edits[0].newEndPosition, { row: 2, column: 1 });
    const wrong = editsBetween(before, `${after}!`, changes);
    assert.equal(wrong.length, 1, 'diff fallback');
  });

  it('re-analyses a one-character edit of a 5,000-line file fast (timing budget checked in bench/analysis.ts)', () => {
    let text = generatedModelFile();
    keyed(text, 'big.py');
    const at = text.indexOf('nn.Linear(64, 10)', text.length >> 1) + 14;
    const c = { offset: at, length: 0, text: '1' };
    text = apply(text, c);
    assert.equal(keyed(text, 'big.py', [c]), fresh(text, 'big.py'));
  });
});
