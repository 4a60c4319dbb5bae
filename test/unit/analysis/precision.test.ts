// False-positive classes found on real code (issue 14), each pinned by a fixture: findings must
// rest on evidence that a model is actually run, and fixes must name things that exist.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Analyzer, createAnalyzer } from '../../../src/analysis/analyzer';
import { applyEdits } from '../../../src/analysis/applyEdits';

const DIR = join(__dirname, '..', '..', 'fixtures', 'precision');
const read = (name: string) => readFileSync(join(DIR, name), 'utf8');

describe('analyzer precision', () => {
  let analyzer: Analyzer;
  before(async () => {
    analyzer = await createAnalyzer();
  });
  after(() => analyzer.dispose());

  const findings = (text: string, rule: string) => analyzer.analyze(text, 'python').result.findings.filter((f) => f.ruleId === rule);
  const lines = (text: string, rule: string) => findings(text, rule).map((f) => f.range.start.line + 1);

  describe('inference-without-eval', () => {
    const rule = 'inference-without-eval';

    it('does not fire for no_grad blocks that only initialise or copy weights in place', () => {
      assert.deepEqual(lines(read('init_weights_no_grad.py'), rule), []);
    });

    it('does not fire for a dummy forward pass that infers a layer size at construction', () => {
      assert.deepEqual(lines(read('dummy_forward_init.py'), rule), []);
    });

    it('fires where a model is run, with eval() on that model where it is bound', () => {
      const text = read('no_grad_inference.py');
      const found = findings(text, rule);
      assert.deepEqual(found.map((f) => f.range.start.line + 1), [15, 23, 29, 40]);
      const [method, fn, top, epochs] = found;
      // Evaluation inside the epoch loop: train() goes back on after the block, and nothing new is reported.
      assert.equal(epochs.fixes[0].title, 'Call net.eval() before inference and .train() after it');
      const fixedLoop = applyEdits(text, epochs.fixes[0].edits);
      assert.match(fixedLoop, / {8}net\.eval\(\)\n {8}with torch\.no_grad\(\):\n {12}val = sum\(net\(x\)\.sum\(\) for x, _ in val_loader\)\n {8}net\.train\(\)\n {8}print/);
      assert.deepEqual(lines(fixedLoop, rule), []);
      assert.match(method.message, /^self runs under no_grad/);
      assert.equal(method.fixes.length, 1);
      // Inside the decorated method, after its docstring: `self` exists there.
      assert.match(applyEdits(text, method.fixes[0].edits), /"""Class indices\."""\n {8}self\.eval\(\)\n {8}return self\(x\)/);
      assert.match(applyEdits(text, fn.fixes[0].edits), /correct = 0\n {4}net\.eval\(\)\n {4}with torch\.no_grad\(\):/);
      // `model` is bound only inside the block: inserting model.eval() before it would crash.
      assert.deepEqual(top.fixes, []);
    });

    it('never uses a builtin or a name bound later as the receiver of eval()', () => {
      const text = [
        'import torch', 'from torch import nn', 'net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))', 'net.train()', '',
        'def score(xs):', '    with torch.no_grad():', '        if hasattr(xs, "shape"):', '            return len(xs), net(xs)', '',
      ].join('\n');
      const [f] = findings(text, rule);
      assert.ok(f);
      assert.equal(f.fixes[0].title, 'Call net.eval() before inference');
    });
  });

  describe('evidence that a model is trained or run (real-corpus false positives, batch 2)', () => {
    it('inference-without-eval: not for BatchNorm recalibration, a block that sets the mode, a mode-free model or a helper method', () => {
      // update_bn (SWA), train() inside the block, a Conv2d-only model, self.run_model_test(...): silent; predict() is the mistake.
      const found = findings(read('inference_mode_evidence.py'), 'inference-without-eval');
      assert.deepEqual(found.map((f) => f.range.start.line + 1), [68]);
      assert.match(found[0].message, /^net runs under no_grad/);
    });

    it('inference-without-eval: eval() in a loop that steps a sparsifier trains nothing; after an optimizer step it is reported', () => {
      assert.deepEqual(lines(read('eval_in_config_sweep.py'), 'inference-without-eval'), [18]);
    });

    it('adam-weight-decay: not for a table of optimizer constructors over a placeholder; still for one returned or given a model', () => {
      assert.deepEqual(lines(read('adam_optimizer_table.py'), 'adam-weight-decay'), [14, 18]);
    });

    it('large-dense-head-unregularized: a test model that is only drawn or run once is a fixture; one the test trains is reported', () => {
      assert.deepEqual(lines(read('test_dense_head_fixtures.py'), 'large-dense-head-unregularized'), [27]);
    });

    it('functional-dropout-training: not on tensors the function makes up; still on the input of forward()', () => {
      assert.deepEqual(lines(read('dropout_on_made_up_tensors.py'), 'functional-dropout-training'), [19]);
    });
  });

  describe('known misses on real code, found since', () => {
    it('weight-decay-bias-norm: reads lists, filters and parameter groups over .parameters(); not splits by kind or groups with their own decay', () => {
      const text = read('weight_decay_param_lists.py');
      const found = findings(text, 'weight-decay-bias-norm');
      assert.deepEqual(found.map((f) => f.range.start.line + 1), [9, 17, 21]);
      // A list can be iterated twice, so the parameter groups fix applies; groups and a filter get none.
      assert.deepEqual(found.map((f) => f.fixes.length), [1, 0, 0]);
      const fixed = applyEdits(text, found[0].fixes[0].edits);
      assert.match(fixed, /SGD\(\[\{"params": \[p for p in parameters if p\.ndim >= 2\]\}, \{"params": \[p for p in parameters if p\.ndim < 2\], "weight_decay": 0\.0\}\]/);
      assert.deepEqual(lines(fixed, 'weight-decay-bias-norm'), [17, 21]);
    });

    it('reads a module whose Keras comes from get_submodules_from_kwargs (keras-applications) as Keras', () => {
      const { result, graph } = analyzer.analyze(read('keras_from_kwargs.py'), 'python');
      assert.deepEqual(graph!.models.map((m) => [m.framework, m.style, m.name]), [['keras', 'functional', undefined]]);
      assert.deepEqual(result.findings.map((f) => `${f.ruleId}@${f.range.start.line + 1}`), ['large-dense-head-unregularized@11']);
    });
  });

  describe('cutmix-lambda', () => {
    const rule = 'cutmix-lambda';
    const text = read('cutmix_helpers.py');

    it('leaves a helper that returns both label sets and lambda to its caller', () => {
      assert.ok(!findings(text, rule).some((f) => f.message.includes('cutmix_data')), JSON.stringify(findings(text, rule)));
    });

    it('catches a helper that returns only the mixed images', () => {
      const found = findings(text, rule);
      assert.deepEqual(found.map((f) => f.range.start.line + 1), [29]);
      assert.equal(found[0].message, 'CutMix in cutmix_images: returns the images without lam and the shuffled labels');
    });
  });

  describe('test code and rates that follow training (real-corpus false positives)', () => {
    const text = read('dropout_tests_and_gated_rates.py');

    it('dropout-rate-range: not inside assertRaises / pytest.raises, still on a real invalid rate', () => {
      assert.deepEqual(lines(text, 'dropout-rate-range'), [53]);
    });

    it('functional-dropout-training: not in tests or with a rate the module zeroes outside training, still in forward()', () => {
      assert.deepEqual(lines(text, 'functional-dropout-training'), [57]);
    });
  });
});
