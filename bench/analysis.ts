// Benchmark of the model-code analyzer: warm analyze() of a generated 5,000-line PyTorch file,
// full (fresh parse, nothing cached) and incremental (a one-character edit: previous tree and
// per-statement facts reused), plus parse alone. Medians in ms. Part of `npm run bench`
// (bench/bench.ts); alone: `npx tsx bench/analysis.ts`.
import { Parser } from 'web-tree-sitter';
import { createAnalyzer } from '../src/analysis/analyzer';
import { loadRuntime } from '../src/analysis/treeSitterRuntime';

/** A 5,000-line file of nn.Module blocks, each with an nn.Sequential, an optimizer and a training loop. */
export function generatedModelFile(blocks = 200): string {
  const block = (i: number): string =>
    [
      `class Block${i}(nn.Module):`,
      '    def __init__(self):',
      '        super().__init__()',
      '        self.net = nn.Sequential(',
      `            nn.Linear(${i + 1}, 64),`,
      '            nn.ReLU(),',
      '            nn.Dropout(0.1),',
      '            nn.BatchNorm1d(64),',
      '            nn.Linear(64, 10),',
      '        )',
      '',
      '    def forward(self, x):',
      '        x = F.dropout(x, 0.2, training=self.training)',
      '        return self.net(x)',
      '',
      '',
      `def train_block${i}(loader):`,
      `    model = Block${i}()`,
      '    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)',
      '    model.train()',
      '    for x, y in loader:',
      '        opt.zero_grad()',
      '        F.cross_entropy(model(x), y).backward()',
      '        opt.step()',
      '',
    ].join('\n');
  return `import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n${Array.from({ length: blocks }, (_, i) => block(i)).join('\n')}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export interface AnalysisBenchResult {
  name: 'analysis';
  lines: number;
  runs: number;
  findings: number;
  parseOnlyMedianMs: number;
  analyzeFullMedianMs: number;
  analyzeIncrementalMedianMs: number;
  analyzeIncrementalP90Ms: number;
  analyzeIncrementalNoRangesMedianMs: number;
  budgetMs: number;
}

export async function runAnalysisBench(runs = 31): Promise<AnalysisBenchResult> {
  const text = generatedModelFile();
  const lines = text.split('\n').length;
  const analyzer = await createAnalyzer();
  const { languages } = await loadRuntime();
  const parser = new Parser();
  parser.setLanguage(languages.python);
  try {
    for (let i = 0; i < 3; i++) analyzer.analyze(text, 'python'); // warm-up (JIT, wasm memory)
    const parseMs: number[] = [];
    const fullMs: number[] = [];
    let findings = 0;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      parser.parse(text)?.delete();
      parseMs.push(performance.now() - t);
      t = performance.now();
      findings = analyzer.analyze(text, 'python').result.findings.length;
      fullMs.push(performance.now() - t);
    }
    // One-character edits in the middle of the file (type a character, delete it again), reusing
    // the previous tree and statement facts of the same key: with the change as VS Code reports
    // it (what the extension passes), and without it (the analyzer diffs the texts).
    const incremental = (withChanges: boolean): number[] => {
      const key = `bench-${withChanges}`;
      const ms: number[] = [];
      let current = text;
      analyzer.analyze(current, 'python', undefined, key);
      for (let i = 0; i < 5; i++) oneCharEdits(i);
      ms.length = 0;
      for (let i = 0; i < runs; i++) oneCharEdits(i);
      return ms;

      function oneCharEdits(i: number): void {
        const at = current.indexOf('nn.Linear(64, 10)', (current.length * (0.3 + (0.4 * i) / runs)) | 0) + 'nn.Linear(64, 1'.length;
        for (const change of [
          { offset: at, length: 0, text: '1' },
          { offset: at, length: 1, text: '' },
        ]) {
          const next = current.slice(0, change.offset) + change.text + current.slice(change.offset + change.length);
          const t = performance.now();
          const r = analyzer.analyze(next, 'python', undefined, key, withChanges ? [change] : undefined);
          ms.push(performance.now() - t);
          if (r.result.parseErrors !== 0) throw new Error('edit broke the parse');
          current = next;
        }
      }
    };
    const incrementalMs = incremental(true);
    const incrementalDiffMs = incremental(false);
    return {
      name: 'analysis',
      lines,
      runs,
      findings,
      parseOnlyMedianMs: +median(parseMs).toFixed(2),
      analyzeFullMedianMs: +median(fullMs).toFixed(2),
      analyzeIncrementalMedianMs: +median(incrementalMs).toFixed(2),
      analyzeIncrementalP90Ms: +quantile(incrementalMs, 0.9).toFixed(2),
      analyzeIncrementalNoRangesMedianMs: +median(incrementalDiffMs).toFixed(2),
      budgetMs: 30,
    };
  } finally {
    parser.delete();
    analyzer.dispose();
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

// Alone (npx tsx bench/analysis.ts) only. In the dist/bench.js bundle every module shares the
// bundle's `module`, so require.main === module holds there too: without the file-name check
// this benchmark ran on import, on the main thread and again on every evaluation thread
// (which loads the same bundle), and its seconds were counted as the first epoch's.
if (require.main === module && /analysis\.ts$/.test(__filename)) void runAnalysisBench().then((r) => console.log(JSON.stringify(r, null, 2)));
