// What engine.js and the PyTorch engine (python/reglens) exchange besides the engine
// protocol (engineMessages.ts): the self-check (a line of --self-check, the engine's hello)
// and the dataset hand-over's meta.json
// (docs/torch-engine.md). Both cross a process boundary, so both are validated here and
// their JSON Schemas are generated for the Python side (npm run schema).
import { z } from 'zod';

export const TorchDeviceSchema = z.enum(['cuda', 'mps', 'cpu']);

/** The one JSON line `python -m reglens.engine --self-check` prints (exit 0: ok, 3: not usable). */
export const TorchSelfCheckSchema = z
  .object({
    ok: z.boolean(),
    /** sys.executable and version, for the log. */
    python: z.string(),
    /** torch.__version__, null when torch does not import. */
    torch: z.string().nullable(),
    /** The device a run would train on, null when not usable. */
    device: TorchDeviceSchema.nullable(),
    deviceName: z.string().nullable(),
    /** Why not usable, and how to fix it; null when ok. */
    reason: z.string().nullable(),
  })
  .strict();

/**
 * The engine process's first message on its channel, before any EngineEvent: its own
 * self-check, run right after it imported torch (docs/torch-engine.md "Self-check"). Tagged
 * with a type no EngineEvent has; ok: it waits for start, else it exits 3.
 */
export const TorchEngineHelloSchema = z
  .object({
    type: z.literal('hello'),
    selfCheck: TorchSelfCheckSchema,
  })
  .strict();

/** The one JSON line `python -m reglens.engine --inspect-model FILE CLASS` prints (exit 0: ok, 3: not). */
export const ModelSignatureSchema = z
  .object({
    ok: z.boolean(),
    file: z.string(),
    class: z.string(),
    /** The constructor's parameters after self (not *args / **kwargs), in order. */
    parameters: z.array(
      z
        .object({
          name: z.string(),
          required: z.boolean(),
          /** repr() of the default; null when required. */
          default: z.string().nullable(),
          /** What the engine fills it with when model.pytorch.args leaves it out. */
          fill: z.enum(['inputSize', 'channels', 'classes']).nullable(),
          positionalOnly: z.boolean(),
        })
        .strict(),
    ),
    /** Why the class cannot be inspected (no torch, import error, no such class); null when ok. */
    reason: z.string().nullable(),
  })
  .strict();

const count = z.number().int().nonnegative();

/** <dataDir>/meta.json, beside the .npy arrays. */
export const DatasetMetaSchema = z
  .object({
    format: z.literal(1),
    kind: z.enum(['modular', 'mnist', 'moons', 'spirals', 'csv']),
    inputSize: z.number().int().positive(),
    classes: z.number().int().positive(),
    noiseRate: z.number().min(0).max(1),
    corruptedCount: count,
    train: count,
    test: count,
    image: z.object({ height: z.number().int().positive(), width: z.number().int().positive(), channels: z.number().int().positive() }).strict().nullable(),
    featureNames: z.array(z.string()).nullable(),
    /** training.regularizers.featureGroupDropout.groups, CSV column names resolved to feature indices. */
    featureGroups: z.array(z.object({ name: z.string(), columns: z.array(count) }).strict()).nullable(),
    modular: z.object({ p: z.number().int().positive() }).strict().nullable(),
    /** Names (dense_0/kernel, ...) of the initial weights under initial/<name>.npy, TF layout: a saved RegLens model given as model.topology. */
    initialWeights: z.array(z.string()).nullable(),
  })
  .strict();

export type TorchSelfCheck = z.infer<typeof TorchSelfCheckSchema>;
export type TorchEngineHello = z.infer<typeof TorchEngineHelloSchema>;
export type DatasetMeta = z.infer<typeof DatasetMetaSchema>;
export type ModelSignature = z.infer<typeof ModelSignatureSchema>;

export function modelSignatureJsonSchema(): unknown {
  return z.toJSONSchema(ModelSignatureSchema, { io: 'input', unrepresentable: 'any', reused: 'ref' });
}

export function torchSelfCheckJsonSchema(): unknown {
  return z.toJSONSchema(TorchSelfCheckSchema, { io: 'input', unrepresentable: 'any', reused: 'ref' });
}

export function torchEngineHelloJsonSchema(): unknown {
  return z.toJSONSchema(TorchEngineHelloSchema, { io: 'input', unrepresentable: 'any', reused: 'ref' });
}

export function datasetMetaJsonSchema(): unknown {
  return z.toJSONSchema(DatasetMetaSchema, { io: 'input', unrepresentable: 'any', reused: 'ref' });
}
