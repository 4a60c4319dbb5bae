// The "Suspected label errors" section (labelErrors probe, METHODS §11): a method picker, each
// method's AUROC and precision at k when the truth is known, the precision-recall curve of
// the picked method, its ranked suspects (digits drawn as images), and the actions: export
// the CSV, retrain without the top k, retrain with their suggested labels.
import type uPlot from 'uplot';
import { rankByScore, type LabelErrorMethod } from '../../src/engine/probes/labelErrors';
import type { LabelErrorsProbe } from '../../src/protocol/engineMessages';
import type { WebviewToHost as ToHost } from '../../src/protocol/webviewMessages';
import { axis, percentFormat, percentValues, type Chart } from './charts';
import { digitCanvas, el, num, pct, type Section } from './dom';
import type { ThemeColors } from './theme';

export const METHOD_LABELS: Record<LabelErrorMethod, string> = {
  aum: 'Area under the margin',
  forgetting: 'Forgetting events',
  smallLoss: 'Small loss',
  confidentLearning: 'Confident learning',
  mcDropout: 'MC-dropout disagreement',
};

/** Suspects shown as cards (the payload carries images for the top `topK` of each method). */
const SHOWN = 24;

type MakeChart = (id: string, label: string, height: number, options: (c: ThemeColors) => Omit<uPlot.Options, 'width' | 'height'>, format?: { y?: (v: number) => string; x?: (v: number) => string }) => [HTMLElement, Chart];

/** The method shown first: best AUROC when known, else confident learning, else the first scored. */
export function initialMethod(p: LabelErrorsProbe): LabelErrorMethod | undefined {
  const scored = p.methods.filter((m) => m.scores);
  const known = scored.filter((m) => m.metrics?.auroc != null);
  if (known.length) return known.reduce((a, b) => (b.metrics!.auroc! > a.metrics!.auroc! ? b : a)).method;
  return (scored.find((m) => m.method === 'confidentLearning') ?? scored[0])?.method;
}

/** k the retrain buttons start with: confident learning's own count of issues, else the true count, else 30. */
export function defaultK(p: LabelErrorsProbe): number {
  const cl = p.methods.find((m) => m.method === 'confidentLearning')?.flagged;
  return Math.max(1, cl ?? p.methods.find((m) => m.metrics)?.metrics?.k ?? Math.min(30, p.examples));
}

export class LabelErrorsSection {
  private readonly select = el('select', { id: 'le-method', 'data-testid': 'le-method', 'aria-label': 'Label-error method shown' }) as HTMLSelectElement;
  private readonly kInput = el('input', { id: 'le-k', 'data-testid': 'le-k', type: 'number', min: '1', step: '1', 'aria-label': 'How many top suspects the retrain buttons remove or relabel' }) as HTMLInputElement;
  private readonly pr: Chart;
  private drawn: LabelErrorsProbe | undefined;
  private method: LabelErrorMethod | undefined;

  constructor(
    private readonly sec: Section,
    makeChart: MakeChart,
    private readonly post: ((msg: ToHost) => void) | undefined,
    private readonly runId: string,
  ) {
    const [prDiv, pr] = makeChart('le-pr-chart', 'Precision-recall curve of the picked label-error method', 220, (c) => ({
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
      axes: [axis(c, 'recall', { values: percentValues }), axis(c, 'precision', { values: percentValues })],
      series: [{ label: 'recall' }, { label: 'precision', stroke: c.corrupted, width: 2 }],
    }), { y: percentFormat, x: percentFormat });
    this.pr = pr;
    this.select.addEventListener('change', () => {
      this.method = this.select.value as LabelErrorMethod;
      if (this.drawn) this.draw(this.drawn);
    });
    const actions = el('div', { class: 'save-row le-actions' });
    if (post) {
      const button = (id: string, label: string, aria: string, msg: () => ToHost) => {
        const b = el('vscode-button', { id, 'data-testid': id, secondary: '', 'aria-label': aria }, label);
        b.addEventListener('click', () => post(msg()));
        return b;
      };
      const k = () => Math.max(1, Math.floor(Number(this.kInput.value) || 1));
      actions.append(
        button('le-export', 'Export suspected labels (CSV)', 'Export every training example with each method\'s score and rank as CSV', () => ({ type: 'exportLabelErrors', runId, method: this.method ?? 'aum' })),
        el('label', { for: 'le-k' }, 'top k '),
        this.kInput,
        button('le-retrain-exclude', 'Retrain without the top k', 'Start a second run without the top k suspects and compare it with this one', () => ({ type: 'retrainLabelErrors', runId, method: this.method ?? 'aum', k: k(), mode: 'exclude' })),
        button('le-retrain-relabel', 'Retrain with suggested labels', 'Start a second run with the top k suspects relabeled as suggested and compare it with this one', () => ({ type: 'retrainLabelErrors', runId, method: this.method ?? 'aum', k: k(), mode: 'relabel' })),
      );
    }
    sec.body.append(
      el('div', { class: 'le-picker' }, el('label', { for: 'le-method' }, 'Method '), this.select),
      el('p', { id: 'le-summary', 'data-testid': 'le-summary' }),
      el('table', { id: 'le-metrics', class: 'le-metrics', 'data-testid': 'le-metrics' }),
      prDiv,
      el('h3', {}, 'Most suspect training examples'),
      el('div', { id: 'le-list', class: 'uncertain-grid', 'data-testid': 'le-list' }),
      actions,
    );
  }

  update(probe: LabelErrorsProbe | undefined): void {
    this.sec.setHasData(!!probe);
    if (!probe || probe === this.drawn) return;
    this.drawn = probe;
    const keep = this.method && probe.methods.some((m) => m.method === this.method && m.scores) ? this.method : initialMethod(probe);
    this.method = keep;
    this.select.replaceChildren(
      ...probe.methods.map((m) => {
        const o = el('option', { value: m.method, ...(m.scores ? {} : { disabled: '' }) }, `${METHOD_LABELS[m.method]}${m.unavailable ? ' (unavailable)' : ''}`) as HTMLOptionElement;
        o.selected = m.method === keep;
        return o;
      }),
    );
    if (!this.kInput.value) this.kInput.value = String(defaultK(probe));
    const table = this.sec.body.querySelector('#le-metrics')!;
    const truth = probe.methods.some((m) => m.metrics);
    table.replaceChildren(
      el('tr', {}, el('th', {}, 'method'), ...(truth ? [el('th', {}, 'AUROC'), el('th', {}, 'precision@k'), el('th', {}, 'avg. precision')] : []), el('th', {}, 'note')),
      ...probe.methods.map((m) =>
        el(
          'tr',
          { 'data-method': m.method },
          el('td', {}, METHOD_LABELS[m.method]),
          ...(truth ? [el('td', {}, num(m.metrics?.auroc, 3)), el('td', {}, pct(m.metrics?.precisionAtK)), el('td', {}, num(m.metrics?.averagePrecision, 3))] : []),
          el('td', { class: 'muted' }, m.unavailable ?? (m.flagged !== undefined ? `flags ${m.flagged} as label issues` : '')),
        ),
      ),
    );
    this.draw(probe);
  }

  private draw(probe: LabelErrorsProbe): void {
    const m = probe.methods.find((x) => x.method === this.method);
    const summary = this.sec.body.querySelector('#le-summary')!;
    const where = `${probe.examples} training examples ranked; probabilities from epoch ${probe.checkpointEpoch}${probe.checkpoint === 'bestTestAccuracy' ? ' (best test accuracy)' : ''}.`;
    if (!m?.scores) {
      summary.textContent = `${where} No method produced scores.`;
      return;
    }
    summary.textContent = m.metrics
      ? `${METHOD_LABELS[m.method]}: AUROC ${num(m.metrics.auroc, 3)}, precision ${pct(m.metrics.precisionAtK)} at k = ${m.metrics.k} (the corrupted labels). ${where}`
      : `${METHOD_LABELS[m.method]}: no truth known (the run corrupted no labels itself), so the ranking is shown without a score. ${where}`;
    this.pr.container.hidden = !m.metrics;
    if (m.metrics) this.pr.setData([m.metrics.pr.recall, m.metrics.pr.precision] as uPlot.AlignedData);
    const images = new Map((probe.images ?? []).map((x) => [x.index, x.image]));
    const list = this.sec.body.querySelector('#le-list')!;
    list.replaceChildren(
      ...rankByScore(m.scores)
        .slice(0, SHOWN)
        .map((i, r) => {
          const bad = probe.corrupted ? probe.corrupted[i] === 1 : undefined;
          const truth = bad === undefined ? '' : bad ? ' · corrupted' : ' · clean';
          const fig = el('figure', { class: `uncertain${bad ? ' split-corrupted' : ''}`, tabindex: '0', 'data-index': String(i), 'aria-label': `rank ${r + 1}, example ${i}, given label ${probe.given[i]}, suggested ${probe.suggested[i]}, score ${num(m.scores![i], 3)}${truth}` });
          const img = images.get(i);
          if (img && img.pixels.length === img.width * img.height) fig.append(digitCanvas(img));
          fig.append(el('figcaption', {}, `${r + 1}. #${i} · given ${probe.given[i]} → ${probe.suggested[i]} · ${num(m.scores![i], 2)}${truth}`));
          return fig;
        }),
    );
  }
}
