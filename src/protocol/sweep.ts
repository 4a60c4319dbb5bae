// Expands an experiment's `sweep` into member experiments, one per combination of values.
// Pure (no vscode, no Node I/O) so the CLI, the host and the tests share it. Each member is
// validated by the same ExperimentSchema as a file, so a swept value the schema would reject
// in a file is rejected here too, with the field it broke.
import { ExperimentError, ExperimentSchema, fieldOf } from './experiment';
import type { Experiment } from './experiment';

export interface SweepAssignment {
  /** Dotted path as written in the sweep, e.g. "training.optimizer.weightDecay". */
  path: string;
  value: unknown;
}

export interface SweepMember {
  /** 0-based position in the cartesian product (the first sweep key varies slowest). */
  index: number;
  /** The member as a plain experiment: name with its values appended, no `sweep` field. */
  experiment: Experiment;
  assignments: SweepAssignment[];
  /** "weightDecay=2, lr=0.01": what distinguishes this member (appended to the name in brackets). */
  label: string;
}

/** Whether the experiment asks for a sweep (then run expandSweep's members, never the experiment itself). */
export function isSweep(experiment: Experiment): boolean {
  return experiment.sweep !== undefined && Object.keys(experiment.sweep).length > 0;
}

/**
 * Members of a sweep in cartesian-product order. Throws ExperimentError naming the sweep key
 * and the member's invalid field when a path cannot be set or a combination fails validation.
 * An experiment without a sweep yields itself as the only member.
 */
export function expandSweep(experiment: Experiment): SweepMember[] {
  const { sweep, ...base } = experiment;
  if (!sweep || Object.keys(sweep).length === 0) return [{ index: 0, experiment: base, assignments: [], label: '' }];
  const paths = Object.keys(sweep);
  const shortNames = labelNames(paths);
  const members: SweepMember[] = [];
  for (const combo of cartesian(paths.map((p) => sweep[p]))) {
    const index = members.length;
    const assignments = paths.map((path, i) => ({ path, value: combo[i] }));
    const label = assignments.map((a, i) => `${shortNames[i]}=${formatValue(a.value)}`).join(', ');
    const candidate = structuredClone(base) as Record<string, unknown>;
    for (const a of assignments) {
      const problem = setPath(candidate, a.path, structuredClone(a.value));
      if (problem) throw new ExperimentError(`sweep[${JSON.stringify(a.path)}]: ${problem}`, `sweep[${JSON.stringify(a.path)}]`);
    }
    candidate.name = memberName(experiment.name, label);
    const result = ExperimentSchema.safeParse(candidate);
    if (!result.success) {
      const issue = result.error.issues[0];
      // A path to a field that does not exist shows up as an unknown key of its parent: name the path.
      const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      const field = fieldOf(unknown === undefined ? issue.path : [...issue.path, unknown]) ?? '(root)';
      const message = unknown === undefined ? issue.message : 'no such field in the experiment';
      // Name the sweep key(s) that touched the broken field, else all of this member's values.
      const culprits = assignments.filter((a) => field === a.path || field.startsWith(a.path + '.') || a.path.startsWith(field + '.'));
      const keys = (culprits.length ? culprits : assignments).map((a) => `sweep[${JSON.stringify(a.path)}] = ${JSON.stringify(a.value)}`);
      throw new ExperimentError(`${keys.join(', ')} makes run ${index + 1} ("${label}") invalid: ${field}: ${message}`, field);
    }
    members.push({ index, experiment: result.data, assignments, label });
  }
  return members;
}

/** Number of members without expanding them (1 when there is no sweep). */
export function sweepSize(experiment: Experiment): number {
  return Object.values(experiment.sweep ?? {}).reduce((n, values) => n * values.length, 1);
}

function* cartesian(lists: unknown[][]): Generator<unknown[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  const [first, ...rest] = lists;
  for (const v of first) for (const tail of cartesian(rest)) yield [v, ...tail];
}

/** The last path segment ("weightDecay"), unless two keys end alike: then the whole path. */
function labelNames(paths: string[]): string[] {
  const last = paths.map((p) => p.slice(p.lastIndexOf('.') + 1));
  return paths.map((p, i) => (last.filter((l) => l === last[i]).length > 1 || /^\d+$/.test(last[i]) ? p : last[i]));
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 40 ? json.slice(0, 39) + '…' : json;
}

/** "<name> [label]", shortening the base name (not the label) to the schema's 200 characters. */
function memberName(name: string, label: string): string {
  const suffix = ` [${label}]`;
  const room = 200 - suffix.length;
  return (name.length > room ? name.slice(0, Math.max(1, room - 1)) + '…' : name) + suffix;
}

/**
 * Sets `value` at the dotted path. Missing object keys are created (so an absent optional
 * section such as training.regularizers can be swept); the schema then rejects keys that do not
 * exist. Array indices must already exist. Returns why it could not, or undefined.
 */
function setPath(root: Record<string, unknown>, dotted: string, value: unknown): string | undefined {
  const segs = dotted.split('.');
  let node: unknown = root;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const here = segs.slice(0, i).join('.') || '(root)';
    const leaf = i === segs.length - 1;
    if (Array.isArray(node)) {
      const idx = Number(seg);
      if (!/^\d+$/.test(seg) || idx >= node.length) return `${here} has ${node.length} item(s); "${seg}" is not one of its indices`;
      if (leaf) node[idx] = value;
      else node = node[idx];
    } else if (node !== null && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      if (leaf) obj[seg] = value;
      else {
        if (obj[seg] === undefined) obj[seg] = /^\d+$/.test(segs[i + 1]) ? [] : {};
        node = obj[seg];
      }
    } else {
      return `${here} is ${JSON.stringify(node)}, not an object, so it has no field "${seg}"`;
    }
  }
  return undefined;
}
