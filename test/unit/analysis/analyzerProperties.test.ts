import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { planSnippet } from '../../../src/snippets/insertionPlanner';
import { languageOf } from './graphRules.test';

const CORPUS = join(__dirname, '..', '..', 'fixtures', 'corpus');
// The files of corpus/ itself; the real files in corpus/real are checked by realCorpus.test.ts.
const FILES = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isFile())
  .map((d) => d.name)
  .sort();

const TOKENS = [
  'tf.layers.dropout({rate: ', 'layers.Dropout(', 'nn.Dropout(', 'F.dropout(x, ', 'torch.optim.Adam(p, weight_decay=1e-4)', 'LoraConfig(',
  'model.train()', 'model.eval()', 'with torch.no_grad():\n', 'training=True', '{training: true}', 'tf.sequential({layers: [', 'keras.Sequential([',
  'def mc_predict(x):\n', 'for epoch in range(10):\n', '0', '1', '50', ')', '(', ']', '[', '}', '{', ',', '\n', '    ', '\t', '😀', '"', "'", '`', '\r\n',
];

describe('analyzer properties (fast-check)', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  it('never throws, stays within a time bound, and every fix and snippet edit applies on random and mutated sources', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...FILES), fc.nat(), fc.nat(), fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...TOKENS)))
      .map(([file, a, b, insert]) => {
        const text = readFileSync(join(CORPUS, file), 'utf8');
        const start = a % (text.length + 1);
        const end = Math.min(text.length, start + (b % 40));
        return { file, text: text.slice(0, start) + insert + text.slice(end) };
      });
    const tokens = fc
      .tuple(fc.constantFrom('a.py', 'a.ts', 'a.js'), fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }))
      .map(([file, t]) => ({ file, text: t.join('') }));
    fc.assert(
      fc.property(fc.oneof(mutated, tokens), ({ file, text }) => {
        const lang = languageOf(file);
        const t0 = performance.now();
        const { result, graph } = analyzer.analyze(text, lang, undefined, `prop:${file}`);
        assert.ok(performance.now() - t0 < 2000);
        assert.ok(Number.isInteger(result.parseErrors));
        for (const f of result.findings) {
          for (const fix of f.fixes) {
            const fixed = applyEdits(text, fix.edits);
            // A fix never adds syntax errors (a clean file stays clean).
            const after = analyzer.analyze(fixed, lang).result.parseErrors;
            if (result.parseErrors === 0) assert.equal(after, 0, `${f.ruleId}: ${fix.title}\n${fixed}`);
          }
        }
        for (const target of result.models) {
          const model = graph?.models.find((m) => m.start === target.start);
          for (const id of target.snippetIds) applyEdits(text, planSnippet(graph!, model!, id) ?? []);
        }
      }),
      { numRuns: 200 },
    );
  });
});
