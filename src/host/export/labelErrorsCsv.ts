// What the user does with a labelErrors probe: the suspects of one method, the CSV export
// (every training example, every method's score and rank), and the derived experiment of the
// cleaning loop (retrain without the top k, or with their suggested labels). Pure (no
// 'vscode'): the CLI, the extension and the unit tests share it.
import { rankByScore, type LabelErrorMethod } from '../../engine/probes/labelErrors';
import type { LabelErrorsProbe } from '../../protocol/engineMessages';
import type { ExperimentInput } from '../../protocol/experiment';

export const METHOD_NAMES: Record<LabelErrorMethod, string> = {
  aum: 'area under the margin',
  forgetting: 'forgetting events',
  smallLoss: 'small loss',
  confidentLearning: 'confident learning',
  mcDropout: 'MC-dropout disagreement',
};

/** The method to show first: the best AUROC when the truth is known, else confident learning, else the first scored. */
export function defaultMethod(p: LabelErrorsProbe): LabelErrorMethod | undefined {
  const scored = p.methods.filter((m) => m.scores);
  const withTruth = scored.filter((m) => m.metrics?.auroc != null);
  if (withTruth.length) return withTruth.reduce((a, b) => (b.metrics!.auroc! > a.metrics!.auroc! ? b : a)).method;
  return (scored.find((m) => m.method === 'confidentLearning') ?? scored[0])?.method;
}

export interface Suspect {
  rank: number;
  /** Row in the training split. */
  index: number;
  /** Index in the source (MNIST digit, modular pair, CSV data row): what excludeExamples / relabel name. */
  source: number;
  given: number;
  suggested: number;
  score: number;
  corrupted?: boolean;
}

/** The top k of one method, most suspect first. */
export function suspects(p: LabelErrorsProbe, method: LabelErrorMethod, k: number): Suspect[] {
  const m = p.methods.find((x) => x.method === method);
  if (!m?.scores) return [];
  return rankByScore(m.scores)
    .slice(0, k)
    .map((i, r) => ({
      rank: r + 1,
      index: i,
      source: p.source[i],
      given: p.given[i],
      suggested: p.suggested[i],
      score: m.scores![i],
      ...(p.corrupted ? { corrupted: p.corrupted[i] === 1 } : {}),
    }));
}

/** For a CSV dataset: the file line of each data row and the label value of each class. */
export interface CsvSource {
  lines: ArrayLike<number>;
  classNames: string[];
}

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Every training example, most suspect by `order` first: index, source, (CSV: file line and
 * label values), given and suggested label, the truth when known, then each method's score
 * and rank (1 = most suspect).
 */
export function labelErrorsCsv(p: LabelErrorsProbe, order: LabelErrorMethod, csv?: CsvSource): string {
  const scored = p.methods.filter((m) => m.scores);
  const rankOf = new Map(scored.map((m) => {
    const r = new Int32Array(p.examples);
    rankByScore(m.scores!).forEach((i, k) => (r[i] = k + 1));
    return [m.method, r] as const;
  }));
  const head = [
    'index',
    'source',
    ...(csv ? ['csv_line'] : []),
    'given_label',
    'suggested_label',
    ...(csv ? ['given_value', 'suggested_value'] : []),
    ...(p.corrupted ? ['corrupted'] : []),
    ...scored.flatMap((m) => [`${m.method}_score`, `${m.method}_rank`]),
  ];
  const first = rankOf.get(order) ? rankByScore(scored.find((m) => m.method === order)!.scores!) : Array.from({ length: p.examples }, (_, i) => i);
  const rows = first.map((i) => {
    const s = p.source[i];
    return [
      i,
      s,
      ...(csv ? [csv.lines[s]] : []),
      p.given[i],
      p.suggested[i],
      ...(csv ? [csv.classNames[p.given[i]], csv.classNames[p.suggested[i]]] : []),
      ...(p.corrupted ? [p.corrupted[i]] : []),
      ...scored.flatMap((m) => [m.scores![i], rankOf.get(m.method)![i]]),
    ]
      .map((v) => csvCell(v ?? ''))
      .join(',');
  });
  return [head.join(','), ...rows].join('\n') + '\n';
}

export type CleaningMode = 'exclude' | 'relabel';

/**
 * The cleaning loop's second run: the experiment as given, named after what changed, with
 * the top k of `method` excluded from the training split or given their suggested labels
 * (on top of any fixes the experiment already had). No sweep: one run to compare.
 */
export function derivedExperiment(experiment: ExperimentInput, p: LabelErrorsProbe, method: LabelErrorMethod, k: number, mode: CleaningMode): ExperimentInput {
  const top = suspects(p, method, k);
  if (!top.length) throw new Error(`labelErrors: no ${METHOD_NAMES[method]} scores to take suspects from`);
  const { sweep: _sweep, ...rest } = experiment as ExperimentInput & { sweep?: unknown };
  const dataset = { ...experiment.dataset } as ExperimentInput['dataset'] & { excludeExamples?: number[]; relabel?: { example: number; label: number }[] };
  if (mode === 'exclude') {
    dataset.excludeExamples = [...new Set([...(dataset.excludeExamples ?? []), ...top.map((s) => s.source)])].sort((a, b) => a - b);
  } else {
    const changed = top.filter((s) => s.suggested !== s.given);
    const keep = (dataset.relabel ?? []).filter((r) => !changed.some((s) => s.source === r.example));
    dataset.relabel = [...keep, ...changed.map((s) => ({ example: s.source, label: s.suggested }))].sort((a, b) => a.example - b.example);
  }
  const what = mode === 'exclude' ? `without the top ${top.length} suspects` : `top ${top.length} suspects relabeled`;
  return { ...rest, name: `${experiment.name} (${what}, ${METHOD_NAMES[method]})`.slice(0, 200), dataset } as ExperimentInput;
}

/** The CLI's text: each method's AUROC and precision at k when the truth is known, then the top n of the default method. */
export function labelErrorsReport(p: LabelErrorsProbe, n: number, csv?: CsvSource): string {
  const lines: string[] = [];
  const k = p.methods.find((m) => m.metrics)?.metrics?.k;
  lines.push(`suspected label errors (${p.examples} training examples; probabilities from epoch ${p.checkpointEpoch}${p.checkpoint === 'bestTestAccuracy' ? ', the best test accuracy' : ''})`);
  const w = Math.max(...p.methods.map((m) => METHOD_NAMES[m.method].length));
  if (k !== undefined) lines.push(`  ${'method'.padEnd(w)}  AUROC  precision@k (k = ${k}, the corrupted labels)`);
  for (const m of p.methods) {
    const name = METHOD_NAMES[m.method].padEnd(w);
    if (m.unavailable) lines.push(`  ${name}  unavailable: ${m.unavailable}`);
    else if (m.metrics) lines.push(`  ${name}  ${m.metrics.auroc === null ? '  n/a' : m.metrics.auroc.toFixed(3)}  ${(100 * m.metrics.precisionAtK).toFixed(1)}%${m.flagged !== undefined ? `  (flags ${m.flagged})` : ''}`);
    else if (m.flagged !== undefined) lines.push(`  ${name}  flags ${m.flagged} examples as label issues`);
  }
  const method = defaultMethod(p);
  if (method) {
    const top = suspects(p, method, n);
    const label = (c: number) => (csv ? csv.classNames[c] : String(c));
    lines.push(`  top ${top.length} by ${METHOD_NAMES[method]}:`);
    lines.push(`    ${['rank', 'index', csv ? 'csv line' : 'source', 'given', 'suggested', 'score', ...(p.corrupted ? ['truth'] : [])].join('  ')}`);
    for (const s of top) {
      const where = csv ? String(csv.lines[s.source]) : String(s.source);
      lines.push(`    ${String(s.rank).padStart(4)}  ${String(s.index).padStart(5)}  ${where.padStart(csv ? 8 : 6)}  ${label(s.given).padStart(5)}  ${label(s.suggested).padStart(9)}  ${s.score.toFixed(3).padStart(5)}${s.corrupted === undefined ? '' : `  ${s.corrupted ? 'corrupted' : 'clean'}`}`);
    }
  }
  return lines.join('\n') + '\n';
}
