// Names that tell runs apart. Runs of one experiment share its name (and an edited experiment
// file keeps a name such as "... weight decay 5" after the value changed), so a run is named
// by the fields of its own spec.json that differ from the other runs it is shown with:
// `weightDecay=0` vs `weightDecay=5`. Pure: specs in, labels out.
import { clipText } from '../clipText';

/** One field whose value differs between runs: its display key and each run's value (undefined: absent). */
export interface DifferingField {
  /** Shortest unambiguous path suffix: "weightDecay", or "optimizer.weightDecay" when two paths end alike. */
  key: string;
  /** Full dotted path in the spec ("training.optimizer.weightDecay", "model.layers.1.rate"). */
  path: string;
  /** Per run, the value as text ("5", "adamw", "—" when the run's spec lacks it). */
  values: string[];
}

/** Fields that describe a run rather than configure it; never shown as a difference. */
const IGNORED_PATHS = new Set(['name', 'description']);
/** Placeholder for a field one run's spec does not have. */
export const ABSENT = '—';

/** Leaf values of a JSON value by dotted path; arrays by index ("model.layers.1.rate"). */
export function flattenSpec(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, value);
    value.forEach((v, i) => flattenSpec(v, prefix ? `${prefix}.${i}` : String(i), out));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, value);
    for (const [k, v] of entries) flattenSpec(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

export function formatFieldValue(v: unknown): string {
  if (v === undefined) return ABSENT;
  if (typeof v === 'string') return v;
  const json = JSON.stringify(v) ?? String(v);
  return clipText(json, 40);
}

/** For each path, the shortest dotted suffix no other path ends with (segments that are indices keep their parent). */
function shortKeys(paths: string[]): string[] {
  return paths.map((p) => {
    const segs = p.split('.');
    for (let n = 1; n <= segs.length; n++) {
      // "1" alone (an array index) says nothing: take at least the segment before it.
      if (/^\d+$/.test(segs[segs.length - n]) && n < segs.length) continue;
      const suffix = segs.slice(-n).join('.');
      const clash = paths.some((q) => q !== p && (q === suffix || q.endsWith(`.${suffix}`)));
      if (!clash) return suffix;
    }
    return p;
  });
}

/**
 * The spec fields whose values are not the same in every run, in the specs' own field order.
 * A run without a readable spec (undefined) takes part with no fields, so it differs in
 * nothing it cannot show; with fewer than two specs nothing differs.
 */
export function differingFields(specs: readonly unknown[]): DifferingField[] {
  const known = specs.filter((s) => s !== undefined && s !== null);
  if (known.length < 2) return [];
  const flat = specs.map((s) => (s === undefined || s === null ? undefined : flattenSpec(s)));
  const order: string[] = [];
  const seen = new Set<string>();
  for (const f of flat) for (const p of f?.keys() ?? []) if (!seen.has(p)) (seen.add(p), order.push(p));
  const differing = order.filter((p) => {
    if (IGNORED_PATHS.has(p.split('.')[0])) return false;
    const texts = new Set(flat.filter((f) => f !== undefined).map((f) => JSON.stringify(f.get(p)) ?? 'undefined'));
    return texts.size > 1;
  });
  const keys = shortKeys(differing);
  return differing.map((p, i) => ({ key: keys[i], path: p, values: flat.map((f) => (f ? formatFieldValue(f.get(p)) : ABSENT)) }));
}

/** "weightDecay=0, lr=0.01" for run `index` (at most `max` fields, then "+N more"). */
export function differenceText(fields: readonly DifferingField[], index: number, max = 3): string {
  const parts = fields.slice(0, max).map((f) => `${f.key}=${f.values[index]}`);
  if (fields.length > max) parts.push(`+${fields.length - max} more`);
  return parts.join(', ');
}

export interface NamedRun {
  id: string;
  /** The experiment name recorded for the run (summary.json, i.e. its spec's name). */
  name: string;
  /** The run's spec.json, parsed; undefined when unreadable. */
  spec?: unknown;
  /** Runs with the same group are runs of one experiment (its file, else its name). */
  group?: string;
}

export interface RunLabel {
  /** What tells the run apart ("weightDecay=0"), '' when nothing does. */
  difference: string;
  /** The label to show: the difference first (so truncation keeps it), then the name. */
  label: string;
}

/**
 * Labels for runs listed together. Within each group (runs of one experiment) the fields
 * that differ name each run; a run alone in its group, or identical to the others, keeps its
 * name. Pass all runs with one group to label a compare panel.
 */
export function runLabels(runs: readonly NamedRun[]): RunLabel[] {
  const groups = new Map<string, number[]>();
  runs.forEach((r, i) => {
    const g = r.group ?? r.name;
    groups.set(g, [...(groups.get(g) ?? []), i]);
  });
  const out: RunLabel[] = runs.map((r) => ({ difference: '', label: r.name }));
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const fields = differingFields(members.map((i) => runs[i].spec));
    if (fields.length === 0) continue;
    members.forEach((runIndex, k) => {
      const difference = differenceText(fields, k);
      out[runIndex] = { difference, label: `${difference} · ${runs[runIndex].name}` };
    });
  }
  return out;
}

/**
 * Runs a compare picker starts with: the ones asked for and, when that is a single run, the
 * newest other run of the same experiment (else the newest other run). `all` is newest first.
 */
export function comparePreselection(all: readonly { id: string; name: string; experimentFile?: string }[], ids: readonly string[]): string[] {
  if (ids.length !== 1) return [...ids];
  const self = all.find((r) => r.id === ids[0]);
  if (!self) return [...ids];
  const others = all.filter((r) => r.id !== self.id);
  const sameExperiment = others.find((r) => (r.experimentFile ?? r.name) === (self.experimentFile ?? self.name));
  const other = sameExperiment ?? others[0];
  return other ? [self.id, other.id] : [self.id];
}

/**
 * The tree's top level: an experiment node for each experiment with two or more runs (in
 * the position of its newest run), the other runs on their own; the members keep their order and are marked `nested`.
 */
export function groupRuns<T extends { group: string; nested: boolean }>(runs: readonly T[], name: (first: T) => string): (T | { kind: 'experiment'; key: string; name: string; runs: T[] })[] {
  const members = new Map<string, T[]>();
  for (const r of runs) {
    const m = members.get(r.group);
    if (m) m.push(r);
    else members.set(r.group, [r]);
  }
  const out: (T | { kind: 'experiment'; key: string; name: string; runs: T[] })[] = [];
  const placed = new Set<string>();
  for (const r of runs) {
    const m = members.get(r.group)!;
    if (m.length < 2) out.push(r);
    else if (!placed.has(r.group)) {
      placed.add(r.group);
      out.push({ kind: 'experiment', key: r.group, name: name(m[0]), runs: m.map((x) => ({ ...x, nested: true })) });
    }
  }
  return out;
}
