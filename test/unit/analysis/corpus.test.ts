import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { languageOf } from './graphRules.test';

const CORPUS = join(__dirname, '..', '..', 'fixtures', 'corpus');

// Hand-checked findings per corpus file: `rule@line` (1-based). Files not listed have none.
const EXPECTED: Record<string, string[]> = {
  'keras_alias_bugs.py': ['dropout-before-batchnorm@7', 'dropout-rate-range@10'],
  'keras_bad_rate.py': ['dropout-rate-range@5'],
  'keras_cnn_cifar.py': ['dropout-before-batchnorm@8'],
  'keras_functional_dropout_bn_bug.py': ['dropout-before-batchnorm@8'],
  'keras_mc_predict_bug.py': ['mc-loop-no-variance@9'],
  'keras_mc_training_true.py': ['mc-dropout-flips-batchnorm@14'],
  'keras_subclass.py': ['multi-epoch-no-dropout@9'],
  'keras_subclass_dropout_bn.py': ['dropout-before-batchnorm@14'],
  'keras_transfer_head.py': ['large-dense-head-unregularized@8'],
  'keras_zero_dropout_epochs.py': ['multi-epoch-no-dropout@6'],
  'tfjs_bn_after_dropout.js': ['dropout-before-batchnorm@5'],
  'tfjs_functional.ts': ['large-dense-head-unregularized@6'],
  'tfjs_functional_bug.js': ['dropout-before-batchnorm@5'],
  'tfjs_mc_bn_named.ts': ['mc-dropout-flips-batchnorm@16'],
  'tfjs_mc_training.ts': ['mc-dropout-flips-batchnorm@15'],
  'tfjs_rate_percent.ts': ['dropout-rate-range@6'],
  'tfjs_rate_zero.js': ['dropout-rate-range@6', 'multi-epoch-no-dropout@6'],
  'torch_alias_bugs.py': ['dropout-before-batchnorm@16', 'adam-weight-decay@28', 'weight-decay-bias-norm@28'],
  'torch_big_head.py': ['large-dense-head-unregularized@6'],
  'torch_cutmix_buggy.py': ['cutmix-lambda@6'],
  'torch_eval_stuck.py': ['functional-dropout-training@15', 'inference-without-eval@24'],
  'torch_forward_dropout_bn.py': ['dropout-before-batchnorm@13', 'dropout-before-batchnorm@15'],
  'torch_functional_dropout.py': ['functional-dropout-training@16'],
  'torch_inference_no_eval.py': ['inference-without-eval@7'],
  'torch_lora_mc_uncertainty.py': ['lora-dropout-zero-mc@6'],
  'torch_mc_dropout_subclass.py': ['dropout-before-batchnorm@16'],
  'torch_mc_eval_bug.py': ['mc-loop-no-variance@8'],
  'torch_multisample_head.py': ['multi-sample-dropout-logits@14'],
  'torch_optim_keyword.py': ['weight-decay-bias-norm@20'],
  'torch_resnet_train.py': ['adam-weight-decay@7', 'weight-decay-bias-norm@7'],
};

describe('real-world corpus', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  // Files written for the analyzer by earlier sessions; real files by other people are in real/ (realCorpus.test.ts).
  const files = readdirSync(CORPUS, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name)
    .sort();

  it('has at least 30 model files across PyTorch, Keras and TF.js', () => {
    assert.ok(files.length >= 30, `${files.length} files`);
    for (const prefix of ['torch_', 'keras_', 'tfjs_']) assert.ok(files.filter((f) => f.startsWith(prefix)).length >= 8, prefix);
  });

  it('reads a pl.LightningModule as a PyTorch model (its own layers, not only its nn.Sequential)', () => {
    const text = readFileSync(join(CORPUS, 'torch_lightning_module.py'), 'utf8');
    const { graph } = analyzer.analyze(text, 'python');
    const lit = graph?.models.find((m) => m.style === 'module' && m.name === 'LitClassifier');
    assert.ok(lit, JSON.stringify(graph?.models.map((m) => [m.style, m.name])));
    assert.equal(lit.framework, 'pytorch');
  });

  for (const file of files) {
    it(`${file}: ${(EXPECTED[file] ?? []).join(', ') || 'no findings'}`, () => {
      const text = readFileSync(join(CORPUS, file), 'utf8');
      const { result, graph } = analyzer.analyze(text, languageOf(file));
      assert.equal(result.parseErrors, 0);
      assert.ok(graph && graph.models.length + graph.optimizers.length + graph.loraConfigs.length + graph.functions.length > 0, 'something was read');
      assert.deepEqual(result.findings.map((f) => `${f.ruleId}@${f.range.start.line + 1}`).sort(), (EXPECTED[file] ?? []).slice().sort());
      for (const f of result.findings) {
        for (const fix of f.fixes) {
          const fixed = applyEdits(text, fix.edits);
          assert.equal(analyzer.analyze(fixed, languageOf(file)).result.parseErrors, 0, `${file}: ${fix.title}`);
        }
      }
    });
  }
});
