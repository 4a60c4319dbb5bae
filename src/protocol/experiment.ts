// The experiment file (*.reglens.json): the single source for validation, for the
// TypeScript types, and (via scripts/write-schema.ts) for contributes.jsonValidation.
import { z } from 'zod';
import { locateJsonPath } from './jsonLocate';

export const LabelNoiseSchema = z
  .object({
    kind: z.enum(['symmetric', 'pairflip']).default('symmetric').describe(
      'symmetric: a corrupted label is replaced by a uniformly random *wrong* class; pairflip: class c becomes (c + 1) mod K.',
    ),
    rate: z.number().min(0).max(1).describe('Fraction xi of the training labels to corrupt.'),
  })
  .strict();

export const ModularDatasetSchema = z
  .object({
    kind: z.literal('modular'),
    p: z.number().int().min(2).max(257).default(97).describe('Modulus p; inputs are one-hot(m) ++ one-hot(n).'),
    operation: z.enum(['add', 'sub', 'mul']).default('add'),
    trainFraction: z.number().gt(0).lt(1).default(0.5).describe('Fraction alpha of all p^2 pairs used for training.'),
    labelNoise: LabelNoiseSchema.optional(),
  })
  .strict();

export const DatasetSchema = z.discriminatedUnion('kind', [ModularDatasetSchema]);

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
]);

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

export const TrainingSchema = z
  .object({
    epochs: z.number().int().positive().max(100000).default(300),
    batchSize: z.number().int().positive().default(512),
    optimizer: OptimizerSchema.default({ kind: 'adam', lr: 5e-3, beta1: 0.9, beta2: 0.98, weightDecay: 0 }),
  })
  .strict();

export const BackendNameSchema = z.enum(['auto', 'wasm', 'cpu']);

export const ExperimentSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).max(200).describe('Shown in the runs view and the dashboard.'),
    description: z.string().optional(),
    seed: z.number().int().min(0).default(0).describe('Seeds the split, the label noise, the init and the batches.'),
    backend: BackendNameSchema.optional().describe('Overrides the reglens.training.backend setting.'),
    dataset: DatasetSchema,
    model: z.object({ layers: z.array(LayerSchema).min(1) }).strict(),
    training: TrainingSchema,
  })
  .strict();

export type Experiment = z.infer<typeof ExperimentSchema>;
export type ExperimentInput = z.input<typeof ExperimentSchema>;
export type LayerSpec = z.infer<typeof LayerSchema>;
export type BackendName = z.infer<typeof BackendNameSchema>;

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
  const field = issue.path.length ? issue.path.join('.') : undefined;
  throw new ExperimentError(`${field ?? '(root)'}: ${issue.message}`, field);
}

/** Parses experiment file text; JSON syntax errors name the line and column. */
export function parseExperimentText(text: string, fileName = 'experiment'): Experiment {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    if (pos) {
      const offset = Number(pos[1]);
      const before = text.slice(0, offset).split('\n');
      const line = before.length;
      const column = before[before.length - 1].length + 1;
      throw new ExperimentError(`${fileName}:${line}:${column}: invalid JSON (${msg})`, undefined, line, column);
    }
    throw new ExperimentError(`${fileName}: invalid JSON (${msg})`, undefined);
  }
  const result = ExperimentSchema.safeParse(value);
  if (result.success) return result.data;
  // Same message as parseExperiment, prefixed with where the bad value is.
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : undefined;
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const pos = locateJsonPath(text, issue.path as (string | number)[], unknownKey);
  const where = pos ? `${fileName}:${pos.line}:${pos.column}` : fileName;
  throw new ExperimentError(`${where}: ${field ?? '(root)'}: ${issue.message}`, field, pos?.line, pos?.column);
}

export function experimentJsonSchema(): unknown {
  return z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
}
