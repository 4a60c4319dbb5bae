// Finds where a value sits in JSON text, so validation errors can name the line
// ("grok.reglens.json:23:17: training.epochs: ..."), not just the field path.
// A minimal scanner for valid JSON: the text has already passed JSON.parse.

export interface JsonPosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

type Key = string | number;

/**
 * Position of the value at `path` (of a key when `key` is given, e.g. for
 * unknown properties). Missing paths resolve to their deepest existing ancestor.
 */
export function locateJsonPath(text: string, path: readonly Key[], key?: string): JsonPosition | undefined {
  let i = 0;
  let best: number | undefined;
  const target = key === undefined ? path : [...path, key];

  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const matches = (at: Key[]) => at.length <= target.length && at.every((k, n) => String(k) === String(target[n]));

  // Walks one value; `at` is its path. Records the start of the deepest match.
  const value = (at: Key[]): void => {
    ws();
    const onPath = matches(at);
    if (onPath) best = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const keyStart = i;
        const k = str();
        // For key lookups (unknown property) point at the key itself.
        if (onPath && key !== undefined && at.length === path.length && k === key) best = keyStart;
        ws();
        i++; // colon
        value([...at, k]);
        if (onPath && key !== undefined && at.length === path.length && k === key) best = keyStart;
        ws();
        if (text[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value([...at, n]);
        ws();
        if (text[i++] === ']') return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && /[^\s,\]}]/.test(text[i])) i++;
    }
  };

  try {
    value([]);
  } catch {
    return undefined;
  }
  if (best === undefined) return undefined;
  const before = text.slice(0, best).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/**
 * 1-based position of a JSON.parse error in `text`: from the offset its message names, else
 * (V8 names none for an unexpected token) the end of the shortest prefix that already fails
 * other than by ending early. Small texts only: the scan parses every prefix.
 */
export function jsonErrorPosition(text: string, err: Error): JsonPosition | undefined {
  const named = /position (\d+)/.exec(err.message);
  let offset = named ? Number(named[1]) : undefined;
  if (offset === undefined && text.length <= 20_000) {
    for (let i = 1; i <= text.length && offset === undefined; i++) {
      try {
        JSON.parse(text.slice(0, i));
      } catch (e) {
        const m = (e as Error).message;
        const at = /position (\d+)/.exec(m);
        const early = /end of JSON input|Unterminated string/.test(m) || (at !== null && Number(at[1]) >= i);
        if (!early) offset = at ? Number(at[1]) : i - 1;
      }
    }
  }
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
