// Host <-> dashboard webview messages. The webview sends `ready` when its script has
// loaded; the host answers with a full snapshot and then streams increments, so a
// hidden, re-shown or restored panel never loses state (retainContextWhenHidden is off).
// Both sides validate what they receive: the webview boundary is a trust boundary.
import { z } from 'zod';
import { EngineEventSchema, LabelErrorMethodSchema } from './engineMessages';

// queued, timedOut and preempted: Slurm sweep members (waiting for a node; stopped at their time limit; preempted and not requeued).
export const RunStatusSchema = z.enum(['queued', 'running', 'finished', 'failed', 'cancelled', 'died', 'timedOut', 'preempted']);
export type RunStatusName = z.infer<typeof RunStatusSchema>;

export const RunViewSchema = z
  .object({
    id: z.string().min(1),
    name: z.string(),
    status: RunStatusSchema,
    totalEpochs: z.number().int().nonnegative(),
    startedAt: z.string(),
    error: z.string().optional(),
    /** Shown when the run folder had a truncated or unreadable line (a crash mid-write). */
    notice: z.string().optional(),
    /** Probes the run's spec configures (keys of its `probes`), so a page can say a probe's data is still to come. */
    probes: z.array(z.string().min(1).max(64)).max(32).optional(),
    /** What tells the run apart from the others shown with it ("weightDecay=0"); set in compare panels. */
    label: z.string().max(300).optional(),
    events: z.array(EngineEventSchema),
  })
  .strict();
export type RunView = z.infer<typeof RunViewSchema>;

/** A spec field whose value differs between compared runs: one value per run, in the order of `runs`. */
export const DifferingFieldSchema = z
  .object({
    key: z.string().min(1).max(200),
    path: z.string().min(1).max(400),
    values: z.array(z.string().max(200)).min(1).max(8),
  })
  .strict();

/** The compare panel's verdict on two runs (Probe this Model: did the regularizer help?). */
export const CompareVerdictSchema = z
  .object({
    /** One sentence: "The regularizer helped: ...". */
    text: z.string().min(1).max(600),
    outcome: z.enum(['helped', 'hurt', 'mixed', 'no-difference', 'undecided']),
  })
  .strict();

/** At most this many runs in one compare panel (legend and dash patterns stay readable). */
export const maxCompared = 8;
/** A PNG of a chart is a few hundred KB; the cap keeps a misbehaving page from flooding the host. */
const maxPngDataUrl = 20_000_000;
/** Chart ids are element ids of the page ("acc-chart", "neuron-heatmap", ...), also used in file names. */
const chartIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/);

/** Host -> webview. */
export const HostToWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), run: RunViewSchema }).strict(),
  z.object({ type: z.literal('events'), runId: z.string(), events: z.array(EngineEventSchema) }).strict(),
  z
    .object({ type: z.literal('status'), runId: z.string(), status: RunStatusSchema, error: z.string().optional() })
    .strict(),
  z.object({ type: z.literal('missing'), runId: z.string(), message: z.string() }).strict(),
  /** Compare mode: several runs overlaid; increments then arrive as `events`/`status` per run. */
  z
    .object({
      type: z.literal('compare'),
      runs: z.array(RunViewSchema).min(1).max(maxCompared),
      /** The hyperparameters (spec fields) whose values differ between the runs, for a table. */
      differences: z.array(DifferingFieldSchema).max(200).optional(),
      verdict: CompareVerdictSchema.optional(),
    })
    .strict(),
  /** Compare mode: the differing hyperparameters and the verdict again, once a compared run has ended. */
  z
    .object({
      type: z.literal('compareDetails'),
      runIds: z.array(z.string().min(1)).min(1).max(maxCompared),
      differences: z.array(DifferingFieldSchema).max(200).optional(),
      verdict: CompareVerdictSchema.optional(),
    })
    .strict(),
  /** Asks the page for a chart as PNG (command "Export Chart as PNG"); answered by `savePng`. */
  z.object({ type: z.literal('requestPng'), requestId: z.string().min(1), chart: chartIdSchema }).strict(),
]);
export type HostToWebview = z.infer<typeof HostToWebviewSchema>;

/** Webview -> host. */
export const WebviewToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }).strict(),
  z.object({ type: z.literal('stop'), runId: z.string() }).strict(),
  z.object({ type: z.literal('revealFolder'), runId: z.string() }).strict(),
  /** A chart as PNG; requestId answers a `requestPng`, without it the host asks where to save. */
  z
    .object({
      type: z.literal('savePng'),
      chart: chartIdSchema,
      dataUrl: z.string().max(maxPngDataUrl).regex(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/),
      requestId: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ type: z.literal('savePrunedModel'), runId: z.string() }).strict(),
  z.object({ type: z.literal('exportReport'), runId: z.string() }).strict(),
  z.object({ type: z.literal('openRun'), runId: z.string() }).strict(),
  /** "Export suspected labels (CSV)", rows in the rank order of `method`. */
  z.object({ type: z.literal('exportLabelErrors'), runId: z.string(), method: LabelErrorMethodSchema }).strict(),
  /** The cleaning loop: a second run without (exclude) or relabeling (relabel) the top k of `method`, opened in Compare. */
  z
    .object({ type: z.literal('retrainLabelErrors'), runId: z.string(), method: LabelErrorMethodSchema, k: z.number().int().positive().max(1_000_000), mode: z.enum(['exclude', 'relabel']) })
    .strict(),
]);
export type WebviewToHost = z.infer<typeof WebviewToHostSchema>;

/** State the webview persists with vscode.setState so the serializer can restore it. */
/** Keys of the sections the user collapsed in this panel (remembered across reloads). */
const collapsedSchema = z.array(z.string().max(64)).max(64).optional();
export const DashboardStateSchema = z.object({ runId: z.string().min(1), collapsed: collapsedSchema }).strict();
export type DashboardState = z.infer<typeof DashboardStateSchema>;

/** State of a compare panel, for its serializer. */
export const CompareStateSchema = z.object({ runIds: z.array(z.string().min(1)).min(1).max(maxCompared), collapsed: collapsedSchema }).strict();
export type CompareState = z.infer<typeof CompareStateSchema>;

export function parseHostToWebview(value: unknown): HostToWebview | undefined {
  const r = HostToWebviewSchema.safeParse(value);
  return r.success ? r.data : undefined;
}

export function parseWebviewToHost(value: unknown): WebviewToHost | undefined {
  const r = WebviewToHostSchema.safeParse(value);
  return r.success ? r.data : undefined;
}
