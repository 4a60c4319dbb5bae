import type { DetectedModel, ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { finding, inTestCode, type RuleInfo, type RuleOptions } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const LARGE_DENSE_HEAD: RuleInfo = {
  id: 'large-dense-head-unregularized',
  title: 'Large dense head with no regularization',
  docsUrl: ruleDocsUrl('large-dense-head-unregularized'),
  source: 'https://jmlr.org/papers/v15/srivastava14a.html',
  defaultSeverity: 'information',
  settingKey: 'diagnostics.largeDenseHead.severity',
};

/**
 * A model built inside a test is a fixture: it memorizes nothing unless the test trains it with
 * an optimizer (PyTorch's TensorBoard test builds an MLP only to draw it with add_graph; a DDP
 * hook test runs one backward pass). Models outside tests are definitions meant to be trained.
 */
function trainedIfTestFixture(graph: ModelGraph, model: DetectedModel): boolean {
  if (!inTestCode(graph, model)) return true;
  // The test function holding it, or else the TestCase class (a model built in setUp()).
  const holder =
    graph.functions.find((f) => f.start <= model.start && model.end <= f.end && /^test/.test(f.name)) ??
    graph.classes.find((c) => c.start <= model.start && model.end <= c.end && /TestCase\b/.test(c.bases));
  const [from, to] = holder ? [holder.start, holder.end] : [model.start, model.end];
  return graph.training.stepCalls.some((c) => c.method !== 'backward' && c.start >= from && c.end <= to);
}

/**
 * A wide fully connected layer with no dropout, no normalization and no weight decay anywhere is
 * where models memorize noisy labels first (Srivastava et al. 2014; Arpit et al. 2017).
 */
export function checkLargeDenseHead(graph: ModelGraph, options: RuleOptions): Finding[] {
  const out: Finding[] = [];
  const decay =
    graph.optimizers.some((o) => o.weightDecay !== 0 && o.weightDecayArg) ||
    /kernel_regularizer|kernelRegularizer|weight_decay\s*=|weightDecay/.test(graph.text);
  const functionalDropout = graph.calls.some((c) => /^torch\.nn\.functional\.dropout/.test(c.qualified));
  // The file that imports this model may train it with weight decay (the workspace index knows).
  if (decay || graph.workspace?.weightDecayInImporter()) return out;
  for (const model of graph.models) {
    if (model.insideModule) continue;
    const wide = model.layers.find((l) => l.kind === 'linear' && (l.features ?? 0) >= options.largeDenseHeadThreshold);
    if (!wide) continue;
    const regularized = model.layers.some((l) => (l.kind === 'dropout' && l.rate !== 0) || l.kind === 'batchnorm' || l.kind === 'norm');
    if (regularized || (model.framework === 'pytorch' && functionalDropout)) continue;
    if (!trainedIfTestFixture(graph, model)) continue;
    out.push(
      finding(
        LARGE_DENSE_HEAD,
        wide.range,
        `${wide.name} with ${wide.features} units has no dropout, normalization or weight decay`,
      ),
    );
  }
  return out;
}
