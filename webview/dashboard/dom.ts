// Tiny DOM helpers: the page never uses innerHTML with data it received (text only).

export function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing from the page`);
  return e as T;
}

export interface Section {
  root: HTMLElement;
  /** Shown once the section has data. */
  body: HTMLElement;
  /** The empty state: says which experiment-file field produces the data. */
  empty: HTMLElement;
  setHasData(has: boolean, emptyText?: string): void;
}

/** A dashboard section: heading, one line on what it shows and how to read it, empty state, body. */
export function section(key: string, title: string, explain: string, emptyText: string): Section {
  const headingId = `h-${key}`;
  const root = el('section', { id: `sec-${key}`, class: 'chart-section', 'data-testid': `section-${key}`, 'aria-labelledby': headingId });
  const empty = el('p', { class: 'empty', 'data-testid': `empty-${key}` }, emptyText);
  const body = el('div', { class: 'section-body', hidden: '' });
  root.append(el('h2', { id: headingId }, title), el('p', { class: 'explain' }, explain), empty, body);
  return {
    root,
    body,
    empty,
    setHasData(has, text) {
      body.hidden = !has;
      empty.hidden = has;
      if (text !== undefined) empty.textContent = text;
      root.classList.toggle('has-data', has);
    },
  };
}

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(digits)}%`;
}

export function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}
