// Host <-> engine messages (Node IPC between the extension host or CLI and the
// engine child process). One discriminated union per direction; every message is
// validated on arrival because it crosses a process boundary.
import { z } from 'zod';
import { ExperimentSchema } from './experiment';

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
  })
  .strict();

export const EpochEventSchema = z
  .object({
    type: z.literal('epoch'),
    epoch: z.number().int().positive(),
    loss: finite,
    accuracy: AccuracySchema,
    seconds: z.number().nonnegative(),
  })
  .strict();

export const LogEventSchema = z
  .object({
    type: z.literal('log'),
    level: z.enum(['info', 'warning', 'error']),
    message: z.string(),
  })
  .strict();

export const FinishedEventSchema = z
  .object({
    type: z.literal('finished'),
    time: z.string(),
    epochs: z.number().int().nonnegative(),
    final: AccuracySchema.nullable(),
    secondsPerEpoch: z.number().nonnegative().nullable(),
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

/** Engine -> host. Each of these is one line of events.jsonl. */
export const EngineEventSchema = z.discriminatedUnion('type', [
  StartedEventSchema,
  EpochEventSchema,
  LogEventSchema,
  FinishedEventSchema,
  FailedEventSchema,
]);

/** Host -> engine. */
export const EngineCommandSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('start'),
      experiment: ExperimentSchema,
      backend: z.enum(['auto', 'wasm', 'cpu']).default('auto'),
    })
    .strict(),
  z.object({ type: z.literal('cancel') }).strict(),
]);

export type Accuracy = z.infer<typeof AccuracySchema>;
export type EngineEvent = z.infer<typeof EngineEventSchema>;
export type EpochEvent = z.infer<typeof EpochEventSchema>;
export type StartedEvent = z.infer<typeof StartedEventSchema>;
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
