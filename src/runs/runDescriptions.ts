// Text about runs shown in the host's UI (Runs view rows, status bar, notifications,
// confirmations). Pure: no vscode, so every wording is unit-tested. Times are stored as UTC
// ISO strings; people read them relative ("3 min ago") and in their local time.
import type { Accuracy } from '../protocol/engineMessages';
import type { RunStatus } from './runFolder';

/** "just now", "42 s ago", "3 min ago", "2 h ago", "yesterday", "5 days ago", else the local date. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now.getTime() - t) / 1000);
  if (s < 0) return localTime(iso);
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.floor(h / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** Local date and time with the zone ("Dec 2, 2026, 11:42:07 PM UTC+1"), for tooltips. */
export function localTime(iso: string, timeZone?: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
    ...(timeZone ? { timeZone } : {}),
  });
}

/** A fraction as a percentage with one decimal, never rounding 0.997 up to "100%". */
export function percent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  const v = Math.round(x * 1000) / 10;
  // "100%" only when every example is right (and "0%" only when none is).
  if (v >= 100 && x < 1) return '>99.9%';
  if (v <= 0 && x > 0) return '<0.1%';
  return `${v.toFixed(1)}%`;
}

export interface RowRun {
  status: RunStatus;
  epochs: number;
  totalEpochs: number;
  startedAt: string;
  endedAt?: string;
  final?: Accuracy | null;
  /** Slurm members: why a queued task waits (Slurm's reason: Priority, Resources, ...). */
  slurm?: { reason?: string };
}

/** A status as people read it ("timed out", not "timedOut"). */
export function statusText(status: RunStatus): string {
  return status === 'timedOut' ? 'timed out' : status;
}

/** A Runs view row's description: status first, then when, then the number that matters. */
export function rowDescription(run: RowRun, now: Date = new Date()): string {
  const progress = run.totalEpochs ? `${run.epochs}/${run.totalEpochs}` : `${run.epochs}`;
  if (run.status === 'running') return `running · epoch ${progress} · started ${relativeTime(run.startedAt, now)}`;
  if (run.status === 'queued') {
    const waiting = run.slurm?.reason && run.slurm.reason !== 'None' ? ` (${run.slurm.reason})` : '';
    return `queued${waiting} · submitted ${relativeTime(run.startedAt, now)}${run.epochs ? ` · epoch ${progress}` : ''}`;
  }
  const when = relativeTime(run.endedAt ?? run.startedAt, now);
  const fitted = run.final && run.final.corruptedTrain !== null ? ` · test ${percent(run.final.test)}, noise fitted ${percent(run.final.corruptedTrain)}` : '';
  return `${statusText(run.status)} ${when} · epoch ${progress}${fitted}`;
}

export interface BarRun {
  label: string;
  epoch: number;
  totalEpochs: number;
  backend?: string;
}

/**
 * The status bar while runs train: the newest run's progress and how many run
 * ("RegLens: epoch 12/50 · 2 runs"), and a tooltip listing each. undefined: nothing runs.
 */
export function statusBarContent(running: readonly BarRun[]): { text: string; tooltip: string } | undefined {
  const newest = running[running.length - 1];
  if (!newest) return undefined;
  const count = running.length > 1 ? ` · ${running.length} runs` : '';
  const backend = running.length === 1 && newest.backend ? ` · ${newest.backend}` : '';
  const text = `RegLens: epoch ${newest.epoch}/${newest.totalEpochs}${backend}${count}`;
  const lines = running.map((r) => `${r.label}: epoch ${r.epoch} of ${r.totalEpochs}${r.backend ? ` on ${r.backend}` : ''}`);
  const tooltip = `${running.length === 1 ? 'Training' : `${running.length} runs training`}:\n${lines.join('\n')}\nClick to open the newest run's dashboard.`;
  return { text, tooltip };
}

/** The question before deleting: names the run (its label and when it started), not its id. */
export function deleteConfirmation(label: string, startedAt: string, now: Date = new Date()): string {
  return `Delete the run "${label}" (started ${relativeTime(startedAt, now)}, ${localTime(startedAt)}) and its folder from disk?`;
}

export interface EndedRun {
  label: string;
  status: RunStatus;
  epochs: number;
  totalEpochs: number;
  final?: Accuracy | null;
  error?: string;
}

/** The notification when a run ends: severity and text with the key numbers. */
export function runEndedMessage(run: EndedRun): { severity: 'info' | 'warning' | 'error'; text: string } {
  const numbers = run.final
    ? `test ${percent(run.final.test)}${run.final.corruptedTrain !== null ? `, noisy labels fitted ${percent(run.final.corruptedTrain)}` : ''}`
    : '';
  switch (run.status) {
    case 'finished':
      return { severity: 'info', text: `RegLens: "${run.label}" finished after ${run.epochs} epochs${numbers ? `: ${numbers}` : ''}.` };
    case 'cancelled':
      return {
        severity: 'warning',
        text: `RegLens: "${run.label}" was stopped at epoch ${run.epochs} of ${run.totalEpochs}${numbers ? ` (${numbers})` : ''}.`,
      };
    default:
      return { severity: 'error', text: `RegLens: "${run.label}" ${run.status} at epoch ${run.epochs} of ${run.totalEpochs}: ${run.error ?? 'no details'}` };
  }
}
