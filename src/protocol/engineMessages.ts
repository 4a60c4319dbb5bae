// Host <-> engine messages (Node IPC between the extension host or CLI and the
// engine child process). One discriminated union per direction; every message is
// validated on arrival because it crosses a process boundary.
import { z } from 'zod';
import { BackendNameSchema, DeviceNameSchema, ExperimentSchema } from './experiment';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const fraction = z.number().min(0).max(1);

export const AccuracySchema = z
  .object({
    cleanTrain: fraction,
    /** Fraction of corrupted training examples whose *corrupted* label the model predicts. */
    corruptedTrain: fraction.nullable(),
    test: fraction,
  })
  .strict();

export const StartupSchema = z
  .object({
    /** Seconds from the start of the process running the engine to this event. */
    sinceProcessStart: z.number().nonnegative(),
    /** Seconds per phase, in the order they ran, e.g. engineLoad (process start to the
     *  engine's code loaded), command (to the start command), backend, dataset, model. */
    phases: z.record(z.string(), z.number().nonnegative()),
  })
  .strict();

export const StartedEventSchema = z
  .object({
    type: z.literal('started'),
    time: z.string(),
    backend: z.string(),
    backendNote: z.string().optional(),
    totalEpochs: z.number().int().positive(),
    dataset: z
      .object({
        train: z.number().int().nonnegative(),
        corrupted: z.number().int().nonnegative(),
        test: z.number().int().nonnegative(),
        inputSize: z.number().int().positive(),
        classes: z.number().int().positive(),
      })
      .strict(),
    parameters: z.number().int().nonnegative(),
    /** Where the time before training went, for "time to first epoch" (npm run bench). */
    startup: StartupSchema.optional(),
  })
  .strict();

export const EpochEventSchema = z
  .object({
    type: z.literal('epoch'),
    epoch: z.number().int().positive(),
    loss: finite,
    accuracy: AccuracySchema,
    /** Wall time of the epoch: training steps plus the accuracy evaluation (not the probes). */
    seconds: z.number().nonnegative(),
    /** The training steps alone (what a PyTorch loop without evaluation would time). */
    trainSeconds: z.number().nonnegative().optional(),
    /** Held-out (test) loss, for the multi-epoch degradation signal. */
    testLoss: finite.optional(),
    /** Co-teaching: fraction of the samples selected for training whose label is clean. */
    labelPrecision: fraction.optional(),
  })
  .strict();

export const LogEventSchema = z
  .object({
    type: z.literal('log'),
    level: z.enum(['info', 'warning', 'error']),
    message: z.string(),
  })
  .strict();

/** What early stopping did: read by the CLI's final table, the runs list and the dashboard. */
export const EarlyStoppingOutcomeSchema = z
  .object({
    monitor: z.enum(['testLoss', 'testAccuracy']),
    /** The epoch after which training stopped early; null when it ran all its epochs. */
    stoppedAt: z.number().int().positive().nullable(),
    /** The epoch with the best monitored value, and that value. */
    bestEpoch: z.number().int().positive(),
    best: finite,
    /** The epoch whose weights the model ended with (restoreBest); null when the last epoch's were kept. */
    restoredEpoch: z.number().int().positive().nullable(),
  })
  .strict();

type Monitor = z.infer<typeof EarlyStoppingOutcomeSchema>['monitor'];
/** How the engine's log and the CLI's final table name and print the monitored value. */
export const monitorText = (m: Monitor) => (m === 'testAccuracy' ? 'test accuracy' : 'test loss');
export const formatMonitored = (m: Monitor, v: number) => (m === 'testAccuracy' ? `${(v * 100).toFixed(1)}%` : v.toFixed(4));

export const FinishedEventSchema = z
  .object({
    type: z.literal('finished'),
    time: z.string(),
    epochs: z.number().int().nonnegative(),
    final: AccuracySchema.nullable(),
    secondsPerEpoch: z.number().nonnegative().nullable(),
    /** Present when the experiment asks for early stopping (training.regularizers.earlyStopping). */
    earlyStopping: EarlyStoppingOutcomeSchema.optional(),
  })
  .strict();

export const FailedEventSchema = z
  .object({
    type: z.literal('failed'),
    time: z.string(),
    message: z.string(),
    stack: z.string().optional(),
  })
  .strict();


// ---- Probes: measurements beyond accuracy, drawn by the dashboard sections. ----
// Arrays are per neuron / per example / per k, aligned by index. Every probe names the
// epoch it was taken at; snapshots of the same kind and layer replace or extend earlier ones.

const accuracyCurve = z
  .object({
    cleanTrain: z.array(fraction),
    corruptedTrain: z.array(fraction.nullable()),
    test: z.array(fraction),
  })
  .strict();

export const NeuronScoresProbeSchema = z
  .object({
    kind: z.literal('neuronScores'),
    /** e.g. "dense_0" (the hidden layer whose units are scored). */
    layer: z.string(),
    /** ipr: Fourier inverse participation ratio (modular arithmetic; high = periodic, generalizing);
     *  ablation: corrupted-train accuracy drop minus clean/held-out drop when the unit is zeroed (high = memorizing). */
    method: z.enum(['ipr', 'ablation']),
    /** Memorization score per unit, higher = MORE memorizing whatever the method
     *  (for IPR: 1 - IPR normalised to [0,1] over the layer; for ablation: the ablation score). */
    scores: z.array(finite),
    /** Raw method value per unit (IPR or ablation score) for hover/detail. */
    raw: z.array(finite),
    /** Optional per-unit detail for the click-through: Fourier power spectrum (modular) or clean/corrupted drops (ablation). */
    detail: z
      .object({
        spectrum: z.array(z.array(finite)).optional(),
        cleanDrop: z.array(finite).optional(),
        corruptedDrop: z.array(finite).optional(),
        /** Ablation: held-out (test) accuracy drop per unit. */
        testDrop: z.array(finite).optional(),
        /** IPR: IPR of the unit's output column W[:,k] alone (raw uses the input rows; see docs/results.md). */
        outputIpr: z.array(finite).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const PruningProbeSchema = z
  .object({
    kind: z.literal('pruning'),
    layer: z.string(),
    method: z.enum(['ipr', 'ablation']),
    /** Number of units zeroed at each point of the curves. */
    pruned: z.array(z.number().int().nonnegative()),
    units: z.number().int().positive(),
    memorizingFirst: accuracyCurve,
    generalizingFirst: accuracyCurve,
    /** Path (relative to the run folder) of the saved pruned model, when one was saved. */
    savedModel: z.string().optional(),
    /** Why no model was saved when saving was asked for. */
    saveNote: z.string().optional(),
    /** Raw score (IPR or ablation) of the last unit pruned at each point of memorizingFirst (null at 0). */
    rawAtPruned: z.array(finite.nullable()).optional(),
    /** Split between the two modes of the raw-score histogram (Otsu's threshold): units on the memorizing side. Included in `pruned`. */
    modeSplit: z.object({ pruned: z.number().int().nonnegative(), threshold: finite }).strict().optional(),
  })
  .strict();

const histogramSchema = z
  .object({ edges: z.array(finite), clean: z.array(z.number().int()), corrupted: z.array(z.number().int()), test: z.array(z.number().int()) })
  .strict();

export const McDropoutProbeSchema = z
  .object({
    kind: z.literal('mcDropout'),
    passes: z.number().int().positive(),
    examples: z.number().int().nonnegative(),
    /** Set when no result could be computed (e.g. the model has no dropout): a message, not zeros. */
    unavailable: z.string().optional(),
    summary: z
      .object({
        meanEntropy: z.object({ clean: finite, corrupted: finite.nullable(), test: finite }).strict(),
        meanMutualInformation: z.object({ clean: finite, corrupted: finite.nullable(), test: finite }).strict(),
        ece: finite,
        /** Mean over classes of Var_t(p_t,c), averaged over examples. */
        meanVariance: z.object({ clean: finite, corrupted: finite.nullable(), test: finite }).strict().optional(),
        /** 1 - f_mode / T, averaged over examples. */
        meanVariationRatio: z.object({ clean: finite, corrupted: finite.nullable(), test: finite }).strict().optional(),
        /** Which examples the ECE and reliability data cover (test: true labels of held-out examples). */
        eceOn: z.enum(['test', 'all']).optional(),
      })
      .strict()
      .optional(),
    entropyHistogram: histogramSchema.optional(),
    mutualInformationHistogram: histogramSchema.optional(),
    reliability: z
      .array(z.object({ lower: finite, upper: finite, confidence: finite, accuracy: finite, count: z.number().int() }).strict())
      .optional(),
    mostUncertain: z
      .array(
        z
          .object({
            index: z.number().int(),
            split: z.enum(['clean', 'corrupted', 'test']),
            label: z.number().int(),
            predicted: z.number().int(),
            entropy: finite,
            mutualInformation: finite,
            variance: finite.optional(),
            variationRatio: finite.optional(),
            /** Row-major grayscale pixels in [0,1] when the input is an image (e.g. 28x28 MNIST). */
            image: z.object({ width: z.number().int(), height: z.number().int(), pixels: z.array(finite) }).strict().optional(),
          })
          .strict(),
      )
      .optional(),
    /** STAR dynamic uncertainty ranking of the examples to label next, best first. */
    activeLearning: z.array(z.object({ index: z.number().int(), score: finite }).strict()).optional(),
  })
  .strict();

export const NestedOrderingProbeSchema = z
  .object({
    kind: z.literal('nestedOrdering'),
    layer: z.string(),
    /** k = 1..D and test accuracy using only the first k units. */
    k: z.array(z.number().int().positive()),
    accuracy: z.array(fraction),
    kStar: z.number().int().positive(),
    importance: z.array(finite),
    /** Spearman correlation between unit index and importance (negative = earlier units matter more). */
    rankCorrelation: finite,
  })
  .strict();

export const DynamicsProbeSchema = z
  .object({
    kind: z.literal('dynamics'),
    /** First epoch after which corrupted-train accuracy falls steadily (corrupted labels being unlearned). */
    unlearningEpoch: z.number().int().positive().nullable(),
    /** First epoch where validation loss rises while training loss falls (multi-epoch degradation). */
    degradationEpoch: z.number().int().positive().nullable(),
    /** Per-epoch series the two epochs were derived from (testLoss computed by the probe when the epoch event lacks it). */
    series: z
      .object({
        epoch: z.array(z.number().int().positive()),
        trainLoss: z.array(finite),
        testLoss: z.array(finite),
        corruptedTrain: z.array(fraction.nullable()),
      })
      .strict()
      .optional(),
  })
  .strict();

const imageSchema = z.object({ width: z.number().int(), height: z.number().int(), pixels: z.array(finite) }).strict();

/** How well one method's ranking finds the truly corrupted labels (only when the truth is known). */
export const LabelErrorMetricsSchema = z
  .object({
    auroc: fraction.nullable(),
    /** k = the true number of corrupted labels; precision and recall at k are then equal. */
    k: z.number().int().positive(),
    precisionAtK: fraction,
    recallAtK: fraction,
    averagePrecision: fraction,
    /** Precision and recall after the top k[i] of the ranking (about 100 points over 1..n). */
    pr: z.object({ k: z.array(z.number().int().positive()), precision: z.array(fraction), recall: z.array(fraction) }).strict(),
  })
  .strict();

export const LabelErrorMethodSchema = z.enum(['aum', 'forgetting', 'smallLoss', 'confidentLearning', 'mcDropout']);

export const LabelErrorsProbeSchema = z
  .object({
    kind: z.literal('labelErrors'),
    /** Training examples ranked (arrays below are per training example, in training-split order). */
    examples: z.number().int().nonnegative(),
    /** Epochs of margin / correctness bookkeeping (AUM, forgetting). */
    epochsTracked: z.number().int().nonnegative(),
    /** The epoch whose weights gave p(j|x) for small loss, confident learning, MC dropout and the suggested label. */
    checkpointEpoch: z.number().int().nonnegative(),
    /** bestTestAccuracy: the epoch of best held-out accuracy (before the noisy labels are memorized); last: the final weights. */
    checkpoint: z.enum(['bestTestAccuracy', 'last']),
    /** The label trained on, and the checkpoint's most probable class (the suggested fix). */
    given: z.array(z.number().int().nonnegative()),
    suggested: z.array(z.number().int().nonnegative()),
    /** Index of each example in its source: the MNIST digit, the modular pair, the CSV data row (0-based, header not counted). */
    source: z.array(z.number().int().nonnegative()),
    /** The truth, when the run corrupted its labels itself (dataset.labelNoise): 1 = corrupted. */
    corrupted: z.array(z.union([z.literal(0), z.literal(1)])).optional(),
    methods: z.array(
      z
        .object({
          method: LabelErrorMethodSchema,
          /** Higher = more likely mislabeled; absent with `unavailable`. */
          scores: z.array(finite).optional(),
          unavailable: z.string().optional(),
          /** Confident learning: the examples it flags as label issues (its own estimate of how many there are). */
          flagged: z.number().int().nonnegative().optional(),
          metrics: LabelErrorMetricsSchema.optional(),
        })
        .strict(),
    ),
    /** Pixels of the top-ranked examples of every method, for image datasets. */
    images: z.array(z.object({ index: z.number().int().nonnegative(), image: imageSchema }).strict()).optional(),
  })
  .strict();

export const ProbeSchema = z.discriminatedUnion('kind', [
  NeuronScoresProbeSchema,
  PruningProbeSchema,
  McDropoutProbeSchema,
  NestedOrderingProbeSchema,
  DynamicsProbeSchema,
  LabelErrorsProbeSchema,
]);

export const ProbeEventSchema = z
  .object({
    type: z.literal('probe'),
    epoch: z.number().int().nonnegative(),
    probe: ProbeSchema,
    /** Wall time the probe took (the recorder writes it, so the dashboard can show the probes' share of a run). */
    seconds: z.number().nonnegative().optional(),
  })
  .strict();

/** Engine -> host. Each of these is one line of events.jsonl. */
export const EngineEventSchema = z.discriminatedUnion('type', [
  StartedEventSchema,
  EpochEventSchema,
  ProbeEventSchema,
  LogEventSchema,
  FinishedEventSchema,
  FailedEventSchema,
]);

export const EvalThreadSchema = z.enum(['auto', 'on', 'off']);
export type EvalThreadChoice = z.infer<typeof EvalThreadSchema>;

/** Host -> engine. */
export const EngineCommandSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('start'),
      experiment: ExperimentSchema,
      backend: BackendNameSchema.default('auto'),
      /** Folders searched for @tensorflow/tfjs-node(-gpu), in order, after REGLENS_NATIVE_MODULES:
       *  the configured path, the workspace folders, the extension's global storage. */
      nativeModuleDirs: z.array(z.string()).optional(),
      /** Folder relative dataset, topology and module paths resolve against: the experiment file's folder. */
      baseDir: z.string().optional(),
      /** The run folder, for artifacts the engine writes itself (probes.pruning.save). */
      runDir: z.string().optional(),
      /** Evaluate each epoch on a second thread while the next trains (wasm): auto, on, off. */
      evalThread: EvalThreadSchema.optional(),
      /** PyTorch device (backend torch); the experiment's own `device` wins over it. */
      device: DeviceNameSchema.optional(),
      /** Python interpreter for the torch engine (setting, Python extension, --python, REGLENS_PYTHON); default python3 on PATH. */
      python: z.string().optional(),
      /** Continue from <runDir>/checkpoint/ when one is there (a requeued or resubmitted Slurm member). */
      resume: z.boolean().optional(),
      /** Set by engine.js when it hands a run to Python: absolute folder of the materialised dataset (.npy, docs/torch-engine.md). */
      dataDir: z.string().optional(),
    })
    .strict(),
  z.object({ type: z.literal('cancel') }).strict(),
]);

export type Accuracy = z.infer<typeof AccuracySchema>;
export type EngineEvent = z.infer<typeof EngineEventSchema>;
export type EpochEvent = z.infer<typeof EpochEventSchema>;
export type StartedEvent = z.infer<typeof StartedEventSchema>;
export type Startup = z.infer<typeof StartupSchema>;
export type FinishedEvent = z.infer<typeof FinishedEventSchema>;
export type EarlyStoppingOutcome = z.infer<typeof EarlyStoppingOutcomeSchema>;
export type ProbeEvent = z.infer<typeof ProbeEventSchema>;
export type Probe = z.infer<typeof ProbeSchema>;
export type LabelErrorsProbe = z.infer<typeof LabelErrorsProbeSchema>;
export type LabelErrorMetrics = z.infer<typeof LabelErrorMetricsSchema>;
export type EngineCommand = z.input<typeof EngineCommandSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function toResult<T>(r: z.ZodSafeParseResult<T>): ParseResult<T> {
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  return { ok: false, error: `${issue.path.join('.') || '(message)'}: ${issue.message}` };
}

export function parseEngineEvent(value: unknown): ParseResult<EngineEvent> {
  return toResult(EngineEventSchema.safeParse(value));
}

export function parseEngineCommand(value: unknown): ParseResult<z.infer<typeof EngineCommandSchema>> {
  return toResult(EngineCommandSchema.safeParse(value));
}

// JSON Schemas for the Python engine (python/reglens/schemas/, written by `npm run schema`).
// Self-contained (shared parts under $defs, referenced as #/$defs/...), draft 2020-12, so a
// small validator suffices. Commands in their parsed (output) form: what engine.js sends is
// fully defaulted, so Python never re-implements a default. Events in their input form: what
// parseEngineEvent accepts.
export function engineCommandJsonSchema(): unknown {
  return z.toJSONSchema(EngineCommandSchema, { io: 'output', unrepresentable: 'any', reused: 'ref' });
}

export function engineEventJsonSchema(): unknown {
  return z.toJSONSchema(EngineEventSchema, { io: 'input', unrepresentable: 'any', reused: 'ref' });
}
