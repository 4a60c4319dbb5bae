// What the host adds to a compare panel: the verdict of a probe's pair (did the regularizer
// help?) and a table of the hyperparameters (spec fields) whose values differ between the runs.
// Values arrive in the order of the host's message; the page may order runs differently, so
// they are matched by run id.
import type { z } from 'zod';
import type { CompareVerdictSchema, DifferingFieldSchema } from '../../src/protocol/webviewMessages';
import { el } from './dom';

export interface CompareDetails {
  /** Run ids in the order the values of `differences` are given. */
  runIds: string[];
  differences?: z.infer<typeof DifferingFieldSchema>[];
  verdict?: z.infer<typeof CompareVerdictSchema>;
}

/** Fills `box` for runs shown in `order` (ids) under `labels`; empty when there is nothing to say. */
export function renderCompareDetails(box: HTMLElement, details: CompareDetails | undefined, order: readonly string[], labels: readonly string[]): void {
  box.replaceChildren();
  if (!details) return;
  if (details.verdict) {
    box.append(el('p', { class: 'verdict', 'data-testid': 'compare-verdict', 'data-outcome': details.verdict.outcome, role: 'status' }, details.verdict.text));
  }
  const diffs = details.differences ?? [];
  if (diffs.length === 0) return;
  const column = order.map((id) => details.runIds.indexOf(id));
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Hyperparameter'), ...order.map((_, i) => el('th', { scope: 'col', class: 'run-cell', title: labels[i] ?? '' }, labels[i] ?? '')));
  const rows = diffs.map((d) =>
    el('tr', {}, el('th', { scope: 'row', title: d.path }, d.key), ...column.map((c) => el('td', { class: 'num' }, c >= 0 ? (d.values[c] ?? '') : ''))),
  );
  const table = el('table', { class: 'compare-table', 'data-testid': 'compare-hyperparameters', 'aria-label': 'Hyperparameters that differ between the compared runs' }, el('thead', {}, head), el('tbody', {}, ...rows));
  box.append(el('div', { class: 'table-scroll' }, table));
}
