// Benchmark of the model-code analyzer: warm analyze() of a generated 5,000-line PyTorch file,
// full (fresh parse, nothing cached) and incremental (a one-character edit: previous tree and
// per-statement facts reused), plus parse alone. Medians in ms. Part of `npm run bench`
// (bench/bench.ts); alone: `npx tsx bench/analysis.ts`.
import { Parser } from 'web-tree-sitter';
import { createAnalyzer } from '../src/analysis/analyzer';
import { loadRuntime } from '../src/analysis/treeSitterRuntime';
import { summarizeGraph } from '../src/analysis/workspace/fileSummary';
import { WorkspaceIndex } from '../src/analysis/workspace/workspaceIndex';

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
  /**
   * The same one-character edits with the workspace index on: rules see the other files (the
   * file imports a backbone from one of 200 indexed files).
   */
  analyzeIncrementalWithIndexMedianMs: number;
  analyzeIncrementalWithIndexP90Ms: number;
  /** Storing the edited file's summary in the index and looking up its dependents, which the extension does once typing pauses (not per keystroke). */
  summaryUpdateMedianMs: number;
  indexedFiles: number;
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
    // it (what the extension passes), without it (the analyzer diffs the texts), and with the
    // change and the workspace index on. The three take turns edit by edit, so a change in the
    // machine's load hits all three alike.
    // The index: 200 small model files, one of them the backbone the edited file imports.
    const index = new WorkspaceIndex((t, language) => analyzer.graph(t, language));
    index.update('/bench/backbone.py', 'import torch.nn as nn\n\nclass Backbone(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bn = nn.BatchNorm1d(64)\n');
    for (let i = 0; i < 199; i++) index.update(`/bench/pkg/m${i}.py`, `from backbone import Backbone\nimport torch.nn as nn\n\n${generatedModelFile(1).split('\n').slice(4).join('\n').replace('Block0', `Block${i}`)}`);
    const summaryMs: number[] = [];
    const withImport = `from backbone import Backbone\n${text}\nshared = Backbone()\n`;
    const session = (withChanges: boolean, withIndex: boolean) => {
      const key = `bench-${withChanges}-${withIndex}`;
      const file = '/bench/edited.py';
      const workspace = withIndex ? { source: index, file } : undefined;
      const ms: number[] = [];
      let current = withIndex ? withImport : text;
      analyzer.analyze(current, 'python', undefined, key, undefined, workspace);
      const oneCharEdits = (i: number): void => {
        const at = current.indexOf('nn.Linear(64, 10)', (current.length * (0.3 + (0.4 * i) / runs)) | 0) + 'nn.Linear(64, 1'.length;
        for (const change of [
          { offset: at, length: 0, text: '1' },
          { offset: at, length: 1, text: '' },
        ]) {
          const next = current.slice(0, change.offset) + change.text + current.slice(change.offset + change.length);
          const t = performance.now();
          const r = analyzer.analyze(next, 'python', undefined, key, withChanges ? [change] : undefined, workspace);
          ms.push(performance.now() - t);
          // What the extension does once typing pauses (off the keystroke path): the file's summary to the index, its dependents looked up.
          if (withIndex && r.graph) {
            const s = performance.now();
            if (index.setSummary(file, summarizeGraph(r.graph))) index.dependents(file);
            summaryMs.push(performance.now() - s);
          }
          if (r.result.parseErrors !== 0) throw new Error('edit broke the parse');
          current = next;
        }
      };
      return { ms, oneCharEdits };
    };
    const sessions = [session(true, false), session(false, false), session(true, true)];
    for (let i = 0; i < 5; i++) for (const s of sessions) s.oneCharEdits(i);
    for (const s of sessions) s.ms.length = 0;
    summaryMs.length = 0;
    for (let i = 0; i < runs; i++) for (const s of sessions) s.oneCharEdits(i);
    const [incrementalMs, incrementalDiffMs, incrementalIndexMs] = sessions.map((s) => s.ms);
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
      analyzeIncrementalWithIndexMedianMs: +median(incrementalIndexMs).toFixed(2),
      analyzeIncrementalWithIndexP90Ms: +quantile(incrementalIndexMs, 0.9).toFixed(2),
      summaryUpdateMedianMs: +median(summaryMs).toFixed(2),
      indexedFiles: index.size,
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
