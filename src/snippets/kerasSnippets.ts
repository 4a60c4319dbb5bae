import type { Snippet, SnippetImport } from './snippetTypes';

const TF: SnippetImport = { line: 'import tensorflow as tf', present: '^import\\s+tensorflow\\s+as\\s+tf\\s*$' };
const KERAS: SnippetImport = { line: 'from tensorflow import keras', present: '^(import\\s+keras|from\\s+tensorflow\\s+import\\s+(.*\\W)?keras(\\W.*)?|import\\s+tensorflow\\.keras\\s+as\\s+keras)\\s*$' };

export const KERAS_SNIPPETS: readonly Snippet[] = [
  {
    id: 'dropout',
    framework: 'keras',
    title: 'Dropout',
    detail: 'layers.Dropout(0.1) after the last hidden layer',
    placement: 'layer',
    code: 'Dropout(0.1)',
    imports: [],
    source: 'Srivastava et al., JMLR 2014',
  },
  {
    id: 'batch-norm',
    framework: 'keras',
    title: 'Batch norm',
    detail: 'layers.BatchNormalization() after the last hidden layer',
    placement: 'layer',
    code: 'BatchNormalization()',
    imports: [],
    source: 'Ioffe & Szegedy, ICML 2015',
  },
  {
    id: 'nested-dropout',
    framework: 'keras',
    title: 'Nested dropout (bottleneck)',
    detail: 'Keeps only the first k feature units per batch; k ~ half-Gaussian',
    placement: 'definition',
    code: `class NestedDropout(keras.layers.Layer):
    """Nested dropout (Rippel et al. 2014; Chen et al. 2022): per batch keep the first k units."""

    def __init__(self, sigma=10.0, **kwargs):
        super().__init__(**kwargs)
        self.sigma = sigma

    def call(self, inputs, training=None):
        if not training:
            return inputs
        d = tf.shape(inputs)[-1]
        k = tf.cast(tf.abs(tf.random.normal([])) * self.sigma, tf.int32) + 1
        k = tf.clip_by_value(k, 1, d)
        mask = tf.cast(tf.range(d) < k, inputs.dtype)
        return inputs * mask
`,
    imports: [TF, KERAS],
    source: 'Chen et al., "Compressing Features for Learning with Noisy Labels", 2022',
  },
  {
    id: 'multi-sample-dropout',
    framework: 'keras',
    title: 'Multi-sample dropout head',
    detail: 'M dropout masks through one shared Dense; the loss averages the M losses',
    placement: 'definition',
    code: `class MultiSampleDropoutHead(keras.layers.Layer):
    """Multi-sample dropout (Inoue 2019). Training output: (M, batch, classes); use multi_sample_loss."""

    def __init__(self, num_classes, samples=8, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.samples = samples
        self.dropout = keras.layers.Dropout(rate)
        self.fc = keras.layers.Dense(num_classes)

    def call(self, inputs, training=None):
        if not training:
            return self.fc(inputs)
        return tf.stack([self.fc(self.dropout(inputs, training=True)) for _ in range(self.samples)])


def multi_sample_loss(labels, stacked_logits):
    """Mean over the M samples of the per-sample cross-entropy."""
    losses = [keras.losses.sparse_categorical_crossentropy(labels, s, from_logits=True) for s in tf.unstack(stacked_logits)]
    return tf.reduce_mean(tf.stack(losses))
`,
    imports: [TF, KERAS],
    source: 'Inoue, "Multi-Sample Dropout", 2019',
  },
  {
    id: 'cutmix',
    framework: 'keras',
    title: 'CutMix training step',
    detail: 'Random box from a permuted batch; lambda recomputed from the box; both labels mixed',
    placement: 'definition',
    code: `def cutmix_batch(images, labels, num_classes, beta=1.0):
    """CutMix (Yun et al. 2019) on an NHWC batch; returns images and mixed one-hot labels."""
    lam = float(np.random.beta(beta, beta))
    n, h, w = images.shape[0], images.shape[1], images.shape[2]
    index = np.random.permutation(n)
    cut_h, cut_w = int(h * np.sqrt(1.0 - lam)), int(w * np.sqrt(1.0 - lam))
    cy, cx = np.random.randint(h), np.random.randint(w)
    y1, y2 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, h)
    x1, x2 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, w)
    images = np.array(images, copy=True)
    images[:, y1:y2, x1:x2, :] = images[index, y1:y2, x1:x2, :]
    # The box was clipped: recompute lambda from the pasted area.
    lam = 1.0 - (y2 - y1) * (x2 - x1) / (h * w)
    one_hot = tf.one_hot(labels, num_classes)
    mixed = lam * one_hot + (1.0 - lam) * tf.gather(one_hot, index)
    return images, mixed
`,
    imports: [TF, { line: 'import numpy as np', present: '^import\\s+numpy\\s+as\\s+np\\s*$' }],
    source: 'Yun et al., "CutMix", ICCV 2019',
  },
  {
    id: 'co-teaching',
    framework: 'keras',
    title: 'Co-teaching step',
    detail: 'Two models exchange their small-loss samples',
    placement: 'definition',
    code: `def co_teaching_step(model1, model2, opt1, opt2, images, labels, rate):
    """Co-teaching (Han et al. 2018): each model trains on its peer's (1 - rate) smallest-loss samples."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    keep = max(1, int((1.0 - rate) * int(tf.shape(labels)[0])))
    idx1 = tf.argsort(loss_fn(labels, model1(images, training=False)))[:keep]
    idx2 = tf.argsort(loss_fn(labels, model2(images, training=False)))[:keep]
    for model, opt, idx in ((model1, opt1, idx2), (model2, opt2, idx1)):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(tf.gather(labels, idx), model(tf.gather(images, idx), training=True)))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
`,
    imports: [TF, KERAS],
    source: 'Han et al., "Co-teaching", NeurIPS 2018',
  },
  {
    id: 'mc-dropout-predict',
    framework: 'keras',
    title: 'MC-dropout predict (dropout-only train mode)',
    detail: 'MCDropout layer that is always on + T passes with training=False (BatchNorm stays in inference mode)',
    placement: 'definition',
    code: `class MCDropout(keras.layers.Dropout):
    """Dropout that stays on at inference; use it instead of Dropout for MC sampling."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


def mc_dropout_predict(model, x, samples=20):
    """Mean softmax over T passes; only MCDropout layers are stochastic."""
    probs = tf.stack([tf.nn.softmax(model(x, training=False), axis=-1) for _ in range(samples)])
    return tf.reduce_mean(probs, axis=0), probs
`,
    imports: [TF, KERAS],
    source: 'Gal & Ghahramani, ICML 2016',
  },
  {
    id: 'modality-dropout',
    framework: 'keras',
    title: 'Modality (feature-group) dropout',
    detail: 'Per sample, zero a whole input group with probability p',
    placement: 'definition',
    code: `class ModalityDropout(keras.layers.Layer):
    """Drops a whole feature group per training sample (McKee et al. 2023)."""

    def __init__(self, rate=0.3, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, group, training=None):
        if not training:
            return group
        keep = tf.cast(tf.random.uniform(tf.shape(group)[:1]) >= self.rate, group.dtype)
        return group * tf.reshape(keep, [-1] + [1] * (len(group.shape) - 1))
`,
    imports: [TF, KERAS],
    source: 'McKee et al., CVPR 2023',
  },
  {
    id: 'candidate-dropout',
    framework: 'keras',
    title: 'Candidate (vocabulary) dropout',
    detail: 'Score a random half of the candidates per step; re-index the targets',
    placement: 'definition',
    code: `def candidate_dropout(logits, targets, keep=0.5):
    """Keeps a random subset of candidate columns (always the targets) and re-indexes targets (GTRS 2025)."""
    n = logits.shape[-1]
    mask = tf.random.uniform([n]) < keep
    mask = tf.tensor_scatter_nd_update(mask, tf.reshape(targets, [-1, 1]), tf.ones_like(targets, dtype=tf.bool))
    kept = tf.reshape(tf.where(mask), [-1])
    remap = tf.scatter_nd(tf.reshape(kept, [-1, 1]), tf.range(tf.size(kept)), [n])
    return tf.gather(logits, kept, axis=-1), tf.gather(remap, targets)
`,
    imports: [TF],
    source: 'GTRS, 2025',
  },
  {
    id: 'decoupled-weight-decay',
    framework: 'keras',
    title: 'Decoupled weight decay (AdamW)',
    detail: 'keras.optimizers.AdamW, biases and norm layers excluded',
    placement: 'definition',
    code: `def adamw_optimizer(learning_rate=1e-3, weight_decay=1e-2):
    """AdamW (Loshchilov & Hutter 2019) that does not decay biases or normalization weights."""
    optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer
`,
    imports: [KERAS],
    source: 'Loshchilov & Hutter, ICLR 2019',
  },
];
