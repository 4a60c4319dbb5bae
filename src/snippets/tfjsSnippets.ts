import type { Snippet, SnippetImport } from './snippetTypes';

const TF: SnippetImport = {
  line: "import * as tf from '@tensorflow/tfjs';",
  present: "(import\\s+\\*\\s+as\\s+tf\\s+from|const\\s+tf\\s*=\\s*require\\()\\s*\\(?['\"]@tensorflow/tfjs",
};

// Plain JavaScript (also valid TypeScript) so one snippet fits .js and .ts files.
export const TFJS_SNIPPETS: readonly Snippet[] = [
  {
    id: 'dropout',
    framework: 'tfjs',
    title: 'Dropout',
    detail: 'tf.layers.dropout({rate: 0.1}) after the last hidden layer',
    placement: 'layer',
    code: 'dropout({rate: 0.1})',
    imports: [],
    source: 'Srivastava et al., JMLR 2014',
  },
  {
    id: 'batch-norm',
    framework: 'tfjs',
    title: 'Batch norm',
    detail: 'tf.layers.batchNormalization() after the last hidden layer',
    placement: 'layer',
    code: 'batchNormalization()',
    imports: [],
    source: 'Ioffe & Szegedy, ICML 2015',
  },
  {
    id: 'nested-dropout',
    framework: 'tfjs',
    title: 'Nested dropout (bottleneck)',
    detail: 'Keeps only the first k feature units per batch; k ~ half-Gaussian',
    placement: 'definition',
    code: `// Nested dropout (Rippel et al. 2014; Chen et al. 2022): keep the first k units per batch.
class NestedDropout extends tf.layers.Layer {
  constructor(config) {
    super(config);
    this.sigma = (config && config.sigma) || 10;
  }

  call(inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs || !kwargs.training) return x;
    return tf.tidy(() => {
      const d = x.shape[x.shape.length - 1];
      const k = Math.min(d, Math.floor(Math.abs(tf.randomNormal([]).dataSync()[0]) * this.sigma) + 1);
      const mask = tf.concat([tf.ones([k]), tf.zeros([d - k])]);
      return tf.mul(x, mask);
    });
  }

  static get className() {
    return 'NestedDropout';
  }
}
tf.serialization.registerClass(NestedDropout);
`,
    imports: [TF],
    source: 'Chen et al., "Compressing Features for Learning with Noisy Labels", 2022',
  },
  {
    id: 'multi-sample-dropout',
    framework: 'tfjs',
    title: 'Multi-sample dropout loss',
    detail: 'M dropout masks through the shared head; the M losses are averaged',
    placement: 'definition',
    code: `// Multi-sample dropout (Inoue 2019): average the losses of M masked passes through one head.
function multiSampleDropoutLoss(head, features, labels, samples = 8, rate = 0.5) {
  return tf.tidy(() => {
    const losses = [];
    for (let i = 0; i < samples; i++) {
      const logits = head.apply(tf.dropout(features, rate));
      losses.push(tf.losses.softmaxCrossEntropy(labels, logits));
    }
    return tf.mean(tf.stack(losses));
  });
}
`,
    imports: [TF],
    source: 'Inoue, "Multi-Sample Dropout", 2019',
  },
  {
    id: 'cutmix',
    framework: 'tfjs',
    title: 'CutMix batch',
    detail: 'Random box from a permuted batch; lambda recomputed from the box; one-hot labels mixed',
    placement: 'definition',
    code: `// CutMix (Yun et al. 2019) on an NHWC batch with one-hot labels.
function cutmixBatch(images, labels, beta = 1) {
  return tf.tidy(() => {
    const [n, h, w] = images.shape;
    // Beta(1, 1) is uniform; for other beta use a gamma ratio.
    const g1 = tf.randomGamma([1], beta).dataSync()[0];
    const g2 = tf.randomGamma([1], beta).dataSync()[0];
    let lam = g1 / (g1 + g2);
    const index = tf.util.createShuffledIndices(n);
    const perm = tf.tensor1d(Int32Array.from(index), 'int32');
    const cutH = Math.floor(h * Math.sqrt(1 - lam));
    const cutW = Math.floor(w * Math.sqrt(1 - lam));
    const cy = Math.floor(Math.random() * h);
    const cx = Math.floor(Math.random() * w);
    const y1 = Math.max(cy - Math.floor(cutH / 2), 0);
    const y2 = Math.min(cy + Math.floor(cutH / 2), h);
    const x1 = Math.max(cx - Math.floor(cutW / 2), 0);
    const x2 = Math.min(cx + Math.floor(cutW / 2), w);
    const rows = tf.range(0, h).reshape([h, 1]);
    const cols = tf.range(0, w).reshape([1, w]);
    const inBox = tf.logicalAnd(
      tf.logicalAnd(rows.greaterEqual(y1), rows.less(y2)),
      tf.logicalAnd(cols.greaterEqual(x1), cols.less(x2)),
    ).reshape([1, h, w, 1]);
    const mixedImages = tf.where(inBox.tile([n, 1, 1, images.shape[3]]), tf.gather(images, perm), images);
    // The box was clipped: recompute lambda from the pasted area.
    lam = 1 - ((y2 - y1) * (x2 - x1)) / (h * w);
    const mixedLabels = tf.add(tf.mul(labels, lam), tf.mul(tf.gather(labels, perm), 1 - lam));
    return { images: mixedImages, labels: mixedLabels };
  });
}
`,
    imports: [TF],
    source: 'Yun et al., "CutMix", ICCV 2019',
  },
  {
    id: 'co-teaching',
    framework: 'tfjs',
    title: 'Co-teaching step',
    detail: 'Two models exchange their small-loss samples',
    placement: 'definition',
    code: `// Co-teaching (Han et al. 2018): each model trains on its peer's (1 - rate) smallest-loss samples.
function coTeachingStep(model1, model2, opt1, opt2, images, labels, rate) {
  const n = images.shape[0];
  const keep = Math.max(1, Math.floor((1 - rate) * n));
  const smallLoss = (model) =>
    tf.tidy(() => {
      const losses = tf.losses.softmaxCrossEntropy(labels, model.predict(images), undefined, tf.Reduction.NONE);
      return tf.topk(tf.neg(losses), keep).indices;
    });
  const idx1 = smallLoss(model1);
  const idx2 = smallLoss(model2);
  const update = (model, opt, idx) =>
    opt.minimize(() => tf.losses.softmaxCrossEntropy(tf.gather(labels, idx), model.apply(tf.gather(images, idx), { training: true })));
  update(model1, opt1, idx2);
  update(model2, opt2, idx1);
  tf.dispose([idx1, idx2]);
}

function forgetRate(epoch, noiseRate, rampEpochs = 10) {
  return Math.min((epoch * noiseRate) / rampEpochs, noiseRate);
}
`,
    imports: [TF],
    source: 'Han et al., "Co-teaching", NeurIPS 2018',
  },
  {
    id: 'mc-dropout-predict',
    framework: 'tfjs',
    title: 'MC-dropout predict (dropout-only)',
    detail: 'An always-on dropout layer + T predict() passes; batch norm stays in inference mode',
    placement: 'definition',
    code: `// Dropout that stays on at inference; use it instead of tf.layers.dropout for MC sampling.
class MCDropout extends tf.layers.Layer {
  constructor(config) {
    super(config);
    this.rate = config.rate;
  }

  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.dropout(x, this.rate);
  }

  static get className() {
    return 'MCDropout';
  }
}
tf.serialization.registerClass(MCDropout);

// Mean softmax over T passes; only MCDropout layers are stochastic.
function mcDropoutPredict(model, x, samples = 20) {
  return tf.tidy(() => {
    const probs = tf.stack(Array.from({ length: samples }, () => tf.softmax(model.predict(x))));
    return { mean: probs.mean(0), probs };
  });
}
`,
    imports: [TF],
    source: 'Gal & Ghahramani, ICML 2016',
  },
  {
    id: 'modality-dropout',
    framework: 'tfjs',
    title: 'Modality (feature-group) dropout',
    detail: 'Per sample, zero a whole input group with probability p',
    placement: 'definition',
    code: `// Drops a whole feature group per training sample (McKee et al. 2023).
function modalityDropout(group, rate = 0.3) {
  return tf.tidy(() => {
    const keep = tf.randomUniform([group.shape[0]]).greaterEqual(rate).cast(group.dtype);
    return tf.mul(group, keep.reshape([group.shape[0], ...group.shape.slice(1).map(() => 1)]));
  });
}
`,
    imports: [TF],
    source: 'McKee et al., CVPR 2023',
  },
  {
    id: 'candidate-dropout',
    framework: 'tfjs',
    title: 'Candidate (vocabulary) dropout',
    detail: 'Score a random half of the candidates per step; re-index the targets',
    placement: 'definition',
    code: `// Keeps a random subset of candidate columns (always the targets) and re-indexes targets (GTRS 2025).
function candidateDropout(logits, targets, keep = 0.5) {
  const n = logits.shape[logits.shape.length - 1];
  const wanted = new Set(targets);
  const kept = [];
  for (let i = 0; i < n; i++) if (wanted.has(i) || Math.random() < keep) kept.push(i);
  const remap = new Map(kept.map((c, j) => [c, j]));
  const subLogits = tf.gather(logits, tf.tensor1d(kept, 'int32'), logits.shape.length - 1);
  return { logits: subLogits, targets: targets.map((t) => remap.get(t)) };
}
`,
    imports: [TF],
    source: 'GTRS, 2025',
  },
  {
    id: 'decoupled-weight-decay',
    framework: 'tfjs',
    title: 'Decoupled weight decay (AdamW equivalent)',
    detail: 'TF.js has no AdamW: shrink kernels after each optimizer step',
    placement: 'definition',
    code: `// TF.js has no AdamW: apply decoupled weight decay (Loshchilov & Hutter 2019) after each
// optimizer step, to kernels only (not biases or batch-norm parameters).
function applyDecoupledWeightDecay(model, learningRate, weightDecay = 1e-2) {
  tf.tidy(() => {
    for (const w of model.trainableWeights) {
      if (!/kernel/.test(w.originalName)) continue;
      w.write(tf.mul(w.read(), 1 - learningRate * weightDecay));
    }
  });
}
`,
    imports: [TF],
    source: 'Loshchilov & Hutter, ICLR 2019',
  },
];
