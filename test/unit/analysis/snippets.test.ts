import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'web-tree-sitter';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { loadRuntime, type SourceLanguage } from '../../../src/analysis/treeSitterRuntime';
import { planSnippet } from '../../../src/snippets/insertionPlanner';
import { ALL_SNIPPETS } from '../../../src/snippets/snippetCatalog';
import { languageOf } from './graphRules.test';

const ROOT = join(__dirname, '..', '..', 'fixtures');

describe('snippet catalogue', () => {
  let parsers: Record<SourceLanguage, Parser>;
  before(async () => {
    const rt = await loadRuntime();
    const make = (l: SourceLanguage) => {
      const p = new Parser();
      p.setLanguage(rt.languages[l]);
      return p;
    };
    parsers = { python: make('python'), typescript: make('typescript'), javascript: make('javascript') };
  });
  after(() => Object.values(parsers).forEach((p) => p.delete()));

  const errorFree = (lang: SourceLanguage, code: string): boolean => {
    const tree = parsers[lang].parse(code)!;
    try {
      return !tree.rootNode.hasError;
    } finally {
      tree.delete();
    }
  };

  it('has the ten techniques for each of the three frameworks', () => {
    for (const fw of ['pytorch', 'keras', 'tfjs']) {
      assert.equal(ALL_SNIPPETS.filter((s) => s.framework === fw).length, 10, fw);
      assert.equal(new Set(ALL_SNIPPETS.filter((s) => s.framework === fw).map((s) => s.id)).size, 10);
    }
  });

  for (const s of ALL_SNIPPETS) {
    const langs: SourceLanguage[] = s.framework === 'tfjs' ? ['typescript', 'javascript'] : ['python'];
    it(`${s.framework}/${s.id} parses without ERROR nodes in ${langs.join(' and ')}`, () => {
      for (const lang of langs) {
        const code = s.placement === 'layer' ? `x = [${s.code.replace('{features}', '8')}]` : s.code;
        const withImports = `${s.imports.map((i) => i.line).join('\n')}\n${code}`;
        assert.ok(errorFree(lang, lang === 'python' ? withImports : withImports.replace(/^x = /, 'const x = ')), `${s.id} in ${lang}`);
        for (const imp of s.imports) assert.ok(new RegExp(imp.present, 'm').test(imp.line), `${s.id}: ${imp.line} is recognised as present`);
      }
    });
  }
});

describe('insertion planner', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const files = ['python/rules_positive.py', 'python/rules_negative.py', 'python/tabs_bare_imports.py', 'keras/rules_negative.py', 'keras/rules_positive.py', 'tfjs/rules_negative.js', 'tfjs/rules_positive.ts'];
  it('inserts every fitting snippet into every detected model; the file still parses and imports are added once', () => {
    let planned = 0;
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const lang = languageOf(file);
      const { result, graph } = analyzer.analyze(text, lang);
      assert.ok(graph && result.models.length > 0, file);
      for (const target of result.models) {
        const model = graph.models.find((m) => m.start === target.start)!;
        for (const id of target.snippetIds) {
          const edits = planSnippet(graph, model, id);
          assert.ok(edits, `${file}: ${id}`);
          const out = applyEdits(text, edits);
          const after = analyzer.analyze(out, lang);
          assert.equal(after.result.parseErrors, 0, `${file}: ${id} breaks parsing:\n${out}`);
          for (const line of out.split(/\r?\n/).filter((l) => /^(import|from) /.test(l))) {
            assert.equal(out.split(/\r?\n/).filter((l) => l === line).length, 1, `${file}: ${id} duplicates ${line}`);
          }
          // Inserting the same definition again is not offered.
          const again = after.result.models.find((m) => m.framework === target.framework && m.style === target.style);
          if (edits.length && id !== 'dropout' && id !== 'batch-norm') assert.ok(!again?.snippetIds.includes(id), `${file}: ${id} offered twice`);
          planned++;
        }
      }
    }
    assert.ok(planned > 50, `planned ${planned}`);
  });

  it('matches the file indentation (tabs) and reuses the layer prefix', () => {
    const text = 'import torch.nn as nn\n\nnet = nn.Sequential(\n\tnn.Linear(8, 16),\n\tnn.ReLU(),\n\tnn.Linear(16, 2),\n)\n\n\ndef f(x):\n\tif x:\n\t\treturn x\n';
    const { graph } = analyzer.analyze(text, 'python');
    const model = graph!.models[0];
    assert.equal(applyEdits(text, planSnippet(graph!, model, 'dropout')!), text.replace('\tnn.ReLU(),\n', '\tnn.ReLU(),\n\tnn.Dropout(p=0.1),\n'));
    assert.equal(applyEdits(text, planSnippet(graph!, model, 'batch-norm')!), text.replace('\tnn.ReLU(),\n', '\tnn.ReLU(),\n\tnn.BatchNorm1d(16),\n'));
    const def = applyEdits(text, planSnippet(graph!, model, 'modality-dropout')!);
    assert.match(def, /^import torch\.nn as nn\nimport torch\n\nclass ModalityDropout\(nn\.Module\):\n\t"""/);
    assert.match(def, /\n\tdef forward\(self, group\):\n\t\tif not self\.training/);
  });

  it('the decoupled-weight-decay snippet wires itself into the optimizer call: the findings it answers go away', () => {
    const text = readFileSync(join(ROOT, 'workspace', 'torch_rules.py'), 'utf8');
    const rules = (t: string) => analyzer.analyze(t, 'python').result.findings.map((f) => f.ruleId).filter((r) => /weight-decay/.test(r));
    assert.deepEqual(rules(text).sort(), ['adam-weight-decay', 'weight-decay-bias-norm']);
    const { graph } = analyzer.analyze(text, 'python');
    const model = graph!.models.find((m) => m.name === 'Net')!;
    const out = applyEdits(text, planSnippet(graph!, model, 'decoupled-weight-decay')!);
    // Adam's coupled 1e-4 becomes the decoupled 1e-2, as the AdamW quick fix proposes.
    assert.match(out, /\noptimizer = adamw_with_param_groups\(model, lr=1e-3, weight_decay=1e-2\)\n/);
    assert.deepEqual(rules(out), []);
    // An optimizer with settings the helper does not take is left alone rather than changed.
    const betas = text.replace('lr=1e-3,', 'lr=1e-3, betas=(0.9, 0.98),');
    const { graph: g2 } = analyzer.analyze(betas, 'python');
    assert.match(applyEdits(betas, planSnippet(g2!, g2!.models.find((m) => m.name === 'Net')!, 'decoupled-weight-decay')!), /torch\.optim\.Adam\(model\.parameters\(\), lr=1e-3, betas/);
  });

  it('the Keras decoupled-weight-decay snippet replaces the optimizer given to compile()', () => {
    for (const [optimizer, wired] of [['"adam"', 'adamw_optimizer()'], ['keras.optimizers.Adam(1e-3)', 'adamw_optimizer(learning_rate=1e-3)']]) {
      const text = `from tensorflow import keras\nfrom tensorflow.keras import layers\nmodel = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(2)])\nmodel.compile(optimizer=${optimizer}, loss="mse")\n`;
      const { graph } = analyzer.analyze(text, 'python');
      const out = applyEdits(text, planSnippet(graph!, graph!.models[0], 'decoupled-weight-decay')!);
      assert.ok(out.includes(`model.compile(optimizer=${wired}, loss="mse")`), out);
      assert.ok(out.indexOf('def adamw_optimizer') < out.indexOf('model.compile'));
    }
  });
});
