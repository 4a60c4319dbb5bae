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

export interface SectionAction {
  /** Codicon name (https://microsoft.github.io/vscode-codicons/), e.g. "screen-full". */
  icon: string;
  label: string;
  run(button: HTMLElement): void;
  /** Extra attributes of the button (aria-expanded / aria-controls of a disclosure). */
  attrs?: Record<string, string>;
}

export interface Section {
  key: string;
  title: string;
  root: HTMLElement;
  /** Shown once the section has data. */
  body: HTMLElement;
  /** The empty state: says which experiment-file field produces the data. */
  empty: HTMLElement;
  hasData: boolean;
  setHasData(has: boolean, emptyText?: string): void;
  setCollapsed(collapsed: boolean): void;
  readonly collapsed: boolean;
}

/** Per-panel UI state the page keeps across reloads (vscode.setState, via the host page). */
export interface SectionState {
  isCollapsed(key: string): boolean;
  setCollapsed(key: string, collapsed: boolean): void;
  /** Called when a section is expanded or collapsed (charts inside need a resize). */
  onToggle?(key: string): void;
}

/** A toolbar button showing a codicon, labelled for screen readers and with a tooltip. */
export function iconButton(icon: string, label: string, onClick: (b: HTMLElement) => void, attrs: Record<string, string> = {}): HTMLElement {
  const b = el('button', { type: 'button', class: `icon-button codicon codicon-${icon}`, 'aria-label': label, title: label, ...attrs });
  b.addEventListener('click', () => onClick(b));
  return b;
}

/**
 * A dashboard section like a VS Code view pane: a title bar (chevron + title that collapse
 * it, then icon actions), one line on what it shows and how to read it, the empty state and
 * the body. Generic: any section (the label-error one included) passes its own actions.
 */
export function section(key: string, title: string, explain: string, emptyText: string, state?: SectionState, actions: SectionAction[] = []): Section {
  const headingId = `h-${key}`;
  const bodyId = `body-${key}`;
  const root = el('section', { id: `sec-${key}`, class: 'chart-section', 'data-testid': `section-${key}`, 'aria-labelledby': headingId });
  const empty = el('p', { class: 'empty', 'data-testid': `empty-${key}` }, emptyText);
  const body = el('div', { class: 'section-body', hidden: '' });
  const explainEl = el('p', { class: 'explain' }, explain);
  const content = el('div', { class: 'section-content', id: bodyId }, explainEl, empty, body);
  const toggle = el(
    'button',
    { type: 'button', class: 'section-toggle', 'aria-expanded': 'true', 'aria-controls': bodyId, 'data-testid': `toggle-${key}` },
    el('span', { class: 'codicon codicon-chevron-down', 'aria-hidden': 'true' }),
    el('span', { class: 'section-title' }, title),
  );
  const toolbar = el('div', { class: 'section-actions', role: 'toolbar', 'aria-label': `${title} actions` });
  for (const a of actions) toolbar.append(iconButton(a.icon, a.label, a.run, a.attrs));
  root.append(el('div', { class: 'section-header' }, el('h2', { id: headingId }, toggle), toolbar), content);
  const sec: Section = {
    key,
    title,
    root,
    body,
    empty,
    hasData: false,
    get collapsed() {
      return root.classList.contains('collapsed');
    },
    setHasData(has, text) {
      if (body.hidden === has) body.hidden = !has;
      if (empty.hidden !== has) empty.hidden = has;
      if (text !== undefined && empty.textContent !== text) empty.textContent = text;
      root.classList.toggle('has-data', has);
      sec.hasData = has;
    },
    setCollapsed(collapsed) {
      root.classList.toggle('collapsed', collapsed);
      content.hidden = collapsed;
      toggle.setAttribute('aria-expanded', String(!collapsed));
      const chevron = toggle.firstElementChild!;
      chevron.className = `codicon codicon-${collapsed ? 'chevron-right' : 'chevron-down'}`;
    },
  };
  toggle.addEventListener('click', () => {
    sec.setCollapsed(!sec.collapsed);
    state?.setCollapsed(key, sec.collapsed);
    state?.onToggle?.(key);
  });
  if (state?.isCollapsed(key)) sec.setCollapsed(true);
  return sec;
}

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(digits)}%`;
}

export function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

/** An MNIST-style digit: grayscale pixels in [0,1], drawn dark-on-light like ink. */
export function digitCanvas(img: { width: number; height: number; pixels: number[] }): HTMLCanvasElement {
  const c = el('canvas', { class: 'digit', width: String(img.width), height: String(img.height), 'aria-hidden': 'true' }) as HTMLCanvasElement;
  const ctx = c.getContext('2d')!;
  const data = ctx.createImageData(img.width, img.height);
  img.pixels.forEach((v, i) => {
    const g = 255 - Math.round(Math.min(1, Math.max(0, v)) * 255);
    data.data[i * 4] = g;
    data.data[i * 4 + 1] = g;
    data.data[i * 4 + 2] = g;
    data.data[i * 4 + 3] = 255;
  });
  ctx.putImageData(data, 0, 0);
  return c;
}

