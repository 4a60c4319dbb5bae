// The workspace index on multi-file fixture folders (test/fixtures/workspace-xfile/<case>/):
// findings in one file that rest on another, with related information pointing there, and
// how they follow edits of the other file; import resolution on in-memory files.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import type { Finding } from '../../../src/analysis/textTypes';
import { indexFiles } from '../../../src/analysis/workspace/indexFiles';
import { WorkspaceIndex } from '../../../src/analysis/workspace/workspaceIndex';

const ROOT = join(__dirname, '..', '..', 'fixtures', 'workspace-xfile');

function pyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? pyFiles(p) : name.endsWith('.py') ? [p] : [];
  });
}

describe('workspace index: findings across files', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  /** An index over a fixture folder, keyed by absolute path, and the texts it was built from. */
  const folder = (name: string) => {
    const index = new WorkspaceIndex((text, language) => analyzer.graph(text, language));
    const texts = new Map<string, string>();
    for (const file of pyFiles(join(ROOT, name))) {
      const text = readFileSync(file, 'utf8');
      texts.set(file, text);
      index.update(file, text);
    }
    const analyze = (rel: string, withIndex = true): Finding[] => {
      const file = join(ROOT, name, rel);
      return analyzer.analyze(texts.get(file)!, 'python', undefined, undefined, undefined, withIndex ? { source: index, file } : undefined).result.findings;
    };
    const edit = (rel: string, from: string, to: string) => {
      const file = join(ROOT, name, rel);
      const text = texts.get(file)!.replace(from, to);
      assert.notEqual(text, texts.get(file), `${from} is in ${rel}`);
      texts.set(file, text);
      return index.update(file, text);
    };
    return { index, analyze, edit, path: (rel: string) => join(ROOT, name, rel) };
  };
  const line = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

  it('STAR layout: a wildcard-imported scoring function averaging passes, called after model.eval() -> mc-loop-no-variance with related information', () => {
    const ws = folder('star');
    const before = ws.analyze('finetune.py', false).filter((f) => f.ruleId === 'mc-loop-no-variance');
    assert.deepEqual(before, [], 'one file alone cannot see it');
    const found = ws.analyze('finetune.py').filter((f) => f.ruleId === 'mc-loop-no-variance');
    assert.equal(found.length, 1, JSON.stringify(found));
    const text = readFileSync(ws.path('finetune.py'), 'utf8');
    assert.equal(found[0].range.start.line, line(text, 'dynamic_perplexity_score('));
    assert.match(found[0].message, /dynamic_perplexity_score \(scoring\.py\).*model is in eval\(\) mode here \(model\.eval\(\) on line 19\)/);
    const scoring = readFileSync(ws.path('scoring.py'), 'utf8');
    assert.deepEqual(
      found[0].related?.map((r) => [r.file, r.range.start.line]),
      [[ws.path('scoring.py'), line(scoring, 'def dynamic_perplexity_score')]],
    );
    // The single-pass score (no repeat loop) is not an MC function.
    assert.ok(!found.some((f) => /perplexity_score \(/.test(f.message) && !/dynamic/.test(f.message)));
  });

  it('incremental: the scoring function switching dropout on itself clears the finding; switching it back restores it', () => {
    const ws = folder('star');
    const rule = () => ws.analyze('finetune.py').filter((f) => f.ruleId === 'mc-loop-no-variance').length;
    assert.equal(rule(), 1);
    assert.deepEqual(ws.index.dependents(ws.path('scoring.py')), [ws.path('finetune.py')]);
    const generation = ws.index.generation;
    assert.equal(ws.edit('scoring.py', '    total = 0.0\n', '    total = 0.0\n    model.train()\n'), true);
    assert.equal(rule(), 0);
    assert.equal(ws.edit('scoring.py', '    model.train()\n', ''), true);
    assert.equal(rule(), 1);
    // Re-summarising an unchanged text changes nothing (dependents need no re-check).
    assert.equal(ws.index.update(ws.path('scoring.py'), readFileSync(ws.path('scoring.py'), 'utf8')), false);
    assert.ok(ws.index.generation > generation);
  });

  it('the caller switching dropout on (train()) before the call: no finding', () => {
    const ws = folder('star');
    const text = readFileSync(ws.path('finetune.py'), 'utf8').replace('    scores = []\n', '    scores = []\n    model.train()\n');
    const file = ws.path('finetune.py');
    const found = analyzer.analyze(text, 'python', undefined, undefined, undefined, { source: ws.index, file }).result.findings;
    assert.deepEqual(found.filter((f) => f.ruleId === 'mc-loop-no-variance'), []);
  });

  it('MC function calling model.train() on a model whose BatchNorm is in a backbone two files away -> mc-dropout-flips-batchnorm naming it', () => {
    const ws = folder('bn_backbone');
    assert.deepEqual(ws.analyze('uncertainty.py', false).filter((f) => f.ruleId === 'mc-dropout-flips-batchnorm'), []);
    const found = ws.analyze('uncertainty.py').filter((f) => f.ruleId === 'mc-dropout-flips-batchnorm');
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0].message, /BatchNorm2d in Backbone, backbone\.py/);
    const backbone = readFileSync(ws.path('backbone.py'), 'utf8');
    assert.deepEqual(found[0].related?.map((r) => [r.file, r.range.start.line]), [[ws.path('backbone.py'), line(backbone, 'nn.BatchNorm2d')]]);
    // The finding rests on three files: each one's dependents include uncertainty.py (through net.py and the __init__ re-export).
    assert.deepEqual(ws.index.dependents(ws.path('backbone.py')).sort(), [ws.path('models/__init__.py'), ws.path('models/net.py'), ws.path('uncertainty.py')].sort());
    assert.deepEqual(ws.index.dependents(ws.path('uncertainty.py')), []);
  });

  it('incremental: BatchNorm replaced by GroupNorm in the backbone clears the finding; a deleted backbone file too', () => {
    const ws = folder('bn_backbone');
    const rule = () => ws.analyze('uncertainty.py').filter((f) => f.ruleId === 'mc-dropout-flips-batchnorm').length;
    assert.equal(rule(), 1);
    ws.edit('backbone.py', 'nn.BatchNorm2d(width)', 'nn.GroupNorm(8, width)');
    assert.equal(rule(), 0);
    ws.edit('backbone.py', 'nn.GroupNorm(8, width)', 'nn.BatchNorm2d(width)');
    assert.equal(rule(), 1);
    assert.equal(ws.index.remove(ws.path('backbone.py')), true);
    assert.equal(rule(), 0);
  });

  it('an MC utility module calling model.train(), whose model (with BatchNorm) comes from the file calling it -> mc-dropout-flips-batchnorm', () => {
    const ws = folder('caller_bn');
    const rule = () => ws.analyze('mc_tools.py').filter((f) => f.ruleId === 'mc-dropout-flips-batchnorm');
    assert.deepEqual(ws.analyze('mc_tools.py', false).filter((f) => f.ruleId === 'mc-dropout-flips-batchnorm'), []);
    const found = rule();
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0].message, /BatchNorm2d in SmallResNet, models\.py/);
    const models = readFileSync(ws.path('models.py'), 'utf8');
    assert.deepEqual(found[0].related?.map((r) => [r.file, r.range.start.line]), [[ws.path('models.py'), line(models, 'nn.BatchNorm2d')]]);
    // report.py has a BatchNorm model too but calls only predict(): it is not what mc_predict samples.
    ws.edit('main.py', 'mean, var = mc_predict(net, torch.randn(8, 3, 32, 32))\nprint(var.mean())\n', 'print(net)\n');
    assert.deepEqual(rule(), [], 'no caller of mc_predict builds a BatchNorm model');
  });

  it('a dropout subclass imported relatively (from .layers import AlwaysDropout) before BatchNorm -> dropout-before-batchnorm naming the class', () => {
    const ws = folder('subclass');
    assert.deepEqual(ws.analyze('pkg/model.py', false).filter((f) => f.ruleId === 'dropout-before-batchnorm'), []);
    const found = ws.analyze('pkg/model.py').filter((f) => f.ruleId === 'dropout-before-batchnorm');
    assert.equal(found.length, 1, JSON.stringify(found));
    const text = readFileSync(ws.path('pkg/model.py'), 'utf8');
    assert.equal(found[0].range.start.line, line(text, 'AlwaysDropout(0.2)'));
    const layers = readFileSync(ws.path('pkg/layers.py'), 'utf8');
    assert.deepEqual(found[0].related?.map((r) => [r.file, r.range.start.line, r.message]), [
      [ws.path('pkg/layers.py'), line(layers, 'class AlwaysDropout'), 'AlwaysDropout subclasses torch.nn.Dropout (layers.py)'],
    ]);
    // Its quick fix still swaps the two layers in this file.
    assert.equal(found[0].fixes.length, 1);
  });

  it('an imported always-on dropout subclass keeps MC passes varying after eval(): no mc-loop-no-variance (single-file analysis flags it)', () => {
    const ws = folder('subclass');
    assert.equal(ws.analyze('pkg/mc.py', false).filter((f) => f.ruleId === 'mc-loop-no-variance').length, 1, 'the false positive the index removes');
    assert.deepEqual(ws.analyze('pkg/mc.py').filter((f) => f.ruleId === 'mc-loop-no-variance'), []);
  });

  it('an imported enable_dropout helper re-enables dropout after eval(): no mc-loop-no-variance (single-file analysis flags it)', () => {
    const ws = folder('helper');
    assert.equal(ws.analyze('predict.py', false).filter((f) => f.ruleId === 'mc-loop-no-variance').length, 1, 'the false positive the index removes');
    assert.deepEqual(ws.analyze('predict.py').filter((f) => f.ruleId === 'mc-loop-no-variance'), []);
    // The helper losing its train() call brings the finding back.
    ws.edit('mc_utils.py', '            m.train()\n', '            pass\n');
    assert.equal(ws.analyze('predict.py').filter((f) => f.ruleId === 'mc-loop-no-variance').length, 1);
  });

  it('an imported evaluate() that calls model.eval() itself: no inference-without-eval for a later no_grad block (single-file analysis flags it)', () => {
    const ws = folder('eval_helper');
    assert.equal(ws.analyze('train.py', false).filter((f) => f.ruleId === 'inference-without-eval').length, 1, 'the false positive the index removes');
    assert.deepEqual(ws.analyze('train.py').filter((f) => f.ruleId === 'inference-without-eval'), []);
    ws.edit('engine.py', '    model.eval()\n', '');
    assert.equal(ws.analyze('train.py').filter((f) => f.ruleId === 'inference-without-eval').length, 1, 'evaluate() no longer calls eval()');
  });

  it('a wide head trained with weight decay by the file importing it: no large-dense-head-unregularized in the model file', () => {
    const ws = folder('wd_importer');
    assert.equal(ws.analyze('models.py', false).filter((f) => f.ruleId === 'large-dense-head-unregularized').length, 1, 'single-file analysis sees no weight decay');
    assert.deepEqual(ws.analyze('models.py').filter((f) => f.ruleId === 'large-dense-head-unregularized'), []);
    // The importer is what models.py rests on here: a change there re-checks models.py.
    assert.deepEqual(ws.index.dependencies(ws.path('train.py')), [ws.path('models.py')]);
    ws.edit('train.py', 'weight_decay=0.05', 'weight_decay=0.0');
    assert.equal(ws.analyze('models.py').filter((f) => f.ruleId === 'large-dense-head-unregularized').length, 1);
  });
});

describe('workspace index: import resolution', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const NET = 'import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bn = nn.BatchNorm1d(4)\n';
  const build = (files: Record<string, string>) => {
    const index = new WorkspaceIndex((text, language) => analyzer.graph(text, language));
    for (const [path, text] of Object.entries(files)) index.update(path, text);
    return index;
  };
  /** What `expr` refers to from file `at` whose imports are `imports`: 'path:Class' or undefined. */
  const resolve = (index: WorkspaceIndex, at: string, imports: string[], expr: string) => {
    const r = index.contextFor(at, imports).resolve(expr);
    return r ? `${r.file}:${r.cls?.name ?? r.fn?.name}` : undefined;
  };

  it('absolute imports: from a sibling module, a package module, `import x` with attribute access, `import a.b as c`', () => {
    const index = build({ '/w/models.py': NET, '/w/pkg/__init__.py': '', '/w/pkg/nets.py': NET.replace('Net', 'PkgNet') });
    assert.equal(resolve(index, '/w/train.py', ['from models import Net'], 'Net'), '/w/models.py:Net');
    assert.equal(resolve(index, '/w/train.py', ['import models'], 'models.Net'), '/w/models.py:Net');
    assert.equal(resolve(index, '/w/train.py', ['from pkg.nets import PkgNet as P'], 'P'), '/w/pkg/nets.py:PkgNet');
    assert.equal(resolve(index, '/w/train.py', ['import pkg.nets as pn'], 'pn.PkgNet'), '/w/pkg/nets.py:PkgNet');
    assert.equal(resolve(index, '/w/train.py', ['import pkg.nets'], 'pkg.nets.PkgNet'), '/w/pkg/nets.py:PkgNet');
    assert.equal(resolve(index, '/w/train.py', ['from pkg import nets'], 'nets.PkgNet'), '/w/pkg/nets.py:PkgNet');
    // From a subfolder, an ancestor root is searched (the project root on sys.path).
    assert.equal(resolve(index, '/w/scripts/run.py', ['from models import Net'], 'Net'), '/w/models.py:Net');
    // Names the file does not import, or that exist nowhere, resolve to nothing.
    assert.equal(resolve(index, '/w/train.py', [], 'Net'), undefined);
    assert.equal(resolve(index, '/w/train.py', ['from models import Missing'], 'Missing'), undefined);
    assert.equal(resolve(index, '/w/train.py', ['import torch.nn as nn'], 'nn.Linear'), undefined);
  });

  it('relative imports (one and two levels, `from . import x`) and __init__ re-exports', () => {
    const index = build({
      '/w/pkg/__init__.py': 'from .models import Net\nfrom .models.heads import *\n',
      '/w/pkg/models/__init__.py': 'from .nets import Net\n',
      '/w/pkg/models/nets.py': NET,
      '/w/pkg/models/heads.py': NET.replace('Net', 'Head'),
      '/w/pkg/util.py': NET.replace('Net', 'Util'),
    });
    assert.equal(resolve(index, '/w/pkg/models/train.py', ['from .nets import Net'], 'Net'), '/w/pkg/models/nets.py:Net');
    assert.equal(resolve(index, '/w/pkg/models/train.py', ['from ..util import Util'], 'Util'), '/w/pkg/util.py:Util');
    assert.equal(resolve(index, '/w/pkg/models/train.py', ['from . import nets'], 'nets.Net'), '/w/pkg/models/nets.py:Net');
    assert.equal(resolve(index, '/w/pkg/models/train.py', ['from .. import util'], 'util.Util'), '/w/pkg/util.py:Util');
    // Re-exports: pkg.models re-exports Net from .nets; pkg re-exports it again, and Head through a wildcard.
    assert.equal(resolve(index, '/w/app.py', ['from pkg.models import Net'], 'Net'), '/w/pkg/models/nets.py:Net');
    assert.equal(resolve(index, '/w/app.py', ['from pkg import Net'], 'Net'), '/w/pkg/models/nets.py:Net');
    assert.equal(resolve(index, '/w/app.py', ['import pkg'], 'pkg.Head'), '/w/pkg/models/heads.py:Head');
    assert.equal(resolve(index, '/w/app.py', ['from pkg import *'], 'Head'), '/w/pkg/models/heads.py:Head');
  });

  it('Windows paths (backslashes, a drive letter) resolve like posix ones', () => {
    const index = build({ 'C:\\w\\models.py': NET, 'C:\\w\\pkg\\__init__.py': 'from .nets import Net\n', 'C:\\w\\pkg\\nets.py': NET });
    assert.equal(resolve(index, 'C:\\w\\train.py', ['from models import Net'], 'Net'), 'C:\\w\\models.py:Net');
    assert.equal(resolve(index, 'C:\\w\\app\\run.py', ['from pkg import Net'], 'Net'), 'C:\\w\\pkg\\nets.py:Net');
  });

  it('a src layout: a package under src/ imported from tests/ (no common root on the path)', () => {
    const index = build({ '/w/src/lib/__init__.py': '', '/w/src/lib/nets.py': NET });
    assert.equal(resolve(index, '/w/tests/test_nets.py', ['from lib.nets import Net'], 'Net'), '/w/src/lib/nets.py:Net');
  });

  it('files created later resolve; a removed one no longer does', () => {
    const index = build({ '/w/train.py': 'from models import Net\nnet = Net()\n' });
    assert.equal(resolve(index, '/w/train.py', ['from models import Net'], 'Net'), undefined);
    index.update('/w/models.py', NET);
    assert.equal(resolve(index, '/w/train.py', ['from models import Net'], 'Net'), '/w/models.py:Net');
    assert.deepEqual(index.dependents('/w/models.py'), ['/w/train.py']);
    index.remove('/w/models.py');
    assert.equal(resolve(index, '/w/train.py', ['from models import Net'], 'Net'), undefined);
  });

  it('summaries are compact: no source text, only names and ranges', () => {
    const index = build({ '/w/models.py': NET + '\n' + 'x = 1\n'.repeat(300) });
    const summary = index.summary('/w/models.py')!;
    assert.ok(JSON.stringify(summary).length < 1000, JSON.stringify(summary));
    assert.equal(summary.classes[0].batchnorm?.name, 'BatchNorm1d');
  });
});

describe('workspace index: what counts as repeated MC passes', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const mcLoopOf = (fn: string) => {
    const index = new WorkspaceIndex((text, language) => analyzer.graph(text, language));
    index.update('/w/lib.py', `import torch\n\n${fn}`);
    return index.summary('/w/lib.py')!.functions[0].mcLoop;
  };

  it('a gathered repeat loop calling the model parameter is; warm-up, timing and data loops are not', () => {
    assert.deepEqual(mcLoopOf('def score(x, model):\n    out = []\n    for _ in range(5):\n        out.append(model(x))\n    return torch.stack(out).var(0)\n')?.param, 1);
    assert.equal(mcLoopOf('def warm(model, x):\n    for _ in range(10):\n        model(x)\n'), undefined, 'outputs thrown away');
    assert.equal(mcLoopOf('def time_model(model, x):\n    ts = []\n    for _ in range(10):\n        ts.append(model(x))\n    return ts\n'), undefined, 'a timing function');
    assert.equal(mcLoopOf('def run(model, xs):\n    out = []\n    for i in range(len(xs)):\n        out.append(model(xs[i]))\n    return out\n'), undefined, 'the counter indexes the data');
    assert.equal(mcLoopOf('def score(x, model):\n    out = []\n    model.train()\n    for _ in range(5):\n        out.append(model(x))\n    return out\n'), undefined, 'it sets a mode itself');
    assert.equal(mcLoopOf('def mc_predict(model, x, t=10):\n    return [model(x) for _ in range(t)]\n')?.param, 0, 'MC-named: any loop');
  });
});

describe('workspace index: indexFiles() in slices', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  it('indexes file by file with the event loop running in between, skips unreadable and oversized files, stops when cancelled', async () => {
    const files = pyFiles(ROOT);
    const index = new WorkspaceIndex();
    // A callback re-queued on every event-loop turn: its count must grow between two files.
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const seen: number[] = [];
    const stats = await indexFiles(index, analyzer, [...files, '/missing.py'], {
      read: async (f) => (f === '/missing.py' ? undefined : readFileSync(f, 'utf8')),
      onProgress: () => seen.push(turns),
    });
    running = false;
    assert.equal(stats.indexed, files.length);
    assert.equal(stats.skipped, 1);
    assert.equal(index.size, files.length);
    assert.deepEqual(stats.changed.sort(), [...files].sort());
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `the event loop ran between files ${i - 1} and ${i}`);
    assert.equal(stats.perFileMs.length, files.length);
    // Again: nothing changed. Oversized files are left out; a cancelled run stops at once.
    assert.deepEqual((await indexFiles(index, analyzer, files, { read: async (f) => readFileSync(f, 'utf8') })).changed, []);
    const small = files.filter((f) => readFileSync(f, 'utf8').length <= 10).length;
    assert.equal((await indexFiles(new WorkspaceIndex(), analyzer, files, { read: async (f) => readFileSync(f, 'utf8'), maxChars: 10 })).indexed, small, 'only the empty __init__.py');
    const cancelled = await indexFiles(new WorkspaceIndex(), analyzer, files, { read: async (f) => readFileSync(f, 'utf8'), isCancelled: () => true });
    assert.equal(cancelled.cancelled, true);
    assert.equal(cancelled.indexed, 0);
  });
});
