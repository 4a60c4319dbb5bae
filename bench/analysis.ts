// Benchmark of the model-code analyzer: warm analyze() of a generated 5,000-line PyTorch file,
// full (fresh parse) and incremental (one-token edit, previous tree reused), plus parse alone.
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

export async function runAnalysisBench(runs = 15): Promise<object> {
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
    const incrementalMs: number[] = [];
    let findings = 0;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      parser.parse(text)?.delete();
      parseMs.push(performance.now() - t);
      t = performance.now();
      findings = analyzer.analyze(text, 'python').result.findings.length;
      fullMs.push(performance.now() - t);
    }
    // One-token edits in the middle of the file, reusing the previous tree of the same key.
    let current = text;
    analyzer.analyze(current, 'python', undefined, 'bench');
    for (let i = 0; i < runs; i++) {
      const at = current.indexOf('nn.Linear(64, 10)', current.length >> 1);
      current = `${current.slice(0, at)}nn.Linear(64, ${11 + i})${current.slice(at + 'nn.Linear(64, 10)'.length)}`;
      const t = performance.now();
      analyzer.analyze(current, 'python', undefined, 'bench');
      incrementalMs.push(performance.now() - t);
    }
    return {
      name: 'analysis',
      lines,
      runs,
      findings,
      parseOnlyMedianMs: +median(parseMs).toFixed(2),
      analyzeFullMedianMs: +median(fullMs).toFixed(2),
      analyzeIncrementalMedianMs: +median(incrementalMs).toFixed(2),
      budgetMs: 30,
    };
  } finally {
    parser.delete();
    analyzer.dispose();
  }
}

if (require.main === module) void runAnalysisBench().then((r) => console.log(JSON.stringify(r, null, 2)));
