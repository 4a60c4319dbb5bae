// The user's CSV: feature columns and a label column, header detection, and errors that
// name the file and line. Quoted fields are unquoted but may not contain the delimiter.
import * as fs from 'node:fs';
import type { DatasetSpec } from '../../protocol/experiment';
import { DatasetError, RawExamples } from './dataset';

type CsvSpec = Extract<DatasetSpec, { kind: 'csv' }>;

export interface CsvExamples extends RawExamples {
  featureNames: string[];
  /** Label value of each class index (sorted numerically when all numeric, else as strings). */
  classNames: string[];
  /** 1-based line in the file of each data row (what a user fixing a label needs). */
  lines: Int32Array;
}

const unquote = (s: string) => {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
};
const isNumber = (s: string) => s !== '' && Number.isFinite(Number(s));

export function parseCsv(text: string, spec: Pick<CsvSpec, 'labelColumn' | 'featureColumns' | 'header' | 'delimiter'>, fileName = 'data.csv'): CsvExamples {
  const lines = text.split(/\r?\n/);
  const rows: { line: number; cells: string[] }[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '') rows.push({ line: i + 1, cells: l.split(spec.delimiter).map(unquote) });
  });
  if (!rows.length) throw new DatasetError(`${fileName}: the file is empty`);
  const width = rows[0].cells.length;
  if (width < 2) throw new DatasetError(`${fileName}:${rows[0].line}: need at least two columns (features and a label), found ${width}; is the delimiter "${spec.delimiter}" right?`);

  const first = rows[0].cells;
  let header: string[] | undefined;
  const hasNames = [spec.labelColumn, ...(spec.featureColumns ?? [])].some((c) => typeof c === 'string');
  let headerLine = 0;
  if (spec.header === 'yes' || (spec.header === 'auto' && (hasNames || first.some((c, j) => j !== width - 1 && !isNumber(c))))) {
    header = first;
    headerLine = rows[0].line;
    rows.shift();
  }
  const names = header ?? first.map((_, j) => `column ${j}`);
  const headerAt = header ? `${fileName}:${headerLine}` : fileName;
  const columnOf = (c: string | number, what: 'labelColumn' | 'featureColumns'): number => {
    if (typeof c === 'number') {
      if (c >= width) throw new DatasetError(`${fileName}: ${what} ${c} is out of range (the file has ${width} columns)`, `dataset.${what}`);
      return c;
    }
    const j = header ? header.indexOf(c) : -1;
    if (j < 0) throw new DatasetError(`${headerAt}: ${what} "${c}" is not in the header (${header ? header.join(', ') : 'the file has no header row'})`, `dataset.${what}`);
    return j;
  };
  const labelCol = spec.labelColumn === undefined ? width - 1 : columnOf(spec.labelColumn, 'labelColumn');
  const featureCols = spec.featureColumns
    ? spec.featureColumns.map((c) => columnOf(c, 'featureColumns'))
    : names.map((_, j) => j).filter((j) => j !== labelCol);
  if (featureCols.includes(labelCol)) throw new DatasetError(`${fileName}: the label column "${names[labelCol]}" is also listed as a feature`, 'dataset.featureColumns');
  if (!rows.length) throw new DatasetError(`${fileName}: no data rows after the header`);

  const n = rows.length;
  const d = featureCols.length;
  const x = new Float32Array(n * d);
  const rawLabels: string[] = [];
  rows.forEach(({ line, cells }, i) => {
    if (cells.length !== width) throw new DatasetError(`${fileName}:${line}: expected ${width} columns, found ${cells.length}`);
    featureCols.forEach((j, k) => {
      const v = cells[j];
      if (!isNumber(v)) throw new DatasetError(`${fileName}:${line}: column "${names[j]}" is "${v}", not a number`);
      x[i * d + k] = Number(v);
    });
    if (cells[labelCol] === '') throw new DatasetError(`${fileName}:${line}: the label ("${names[labelCol]}") is empty`);
    rawLabels.push(cells[labelCol]);
  });
  const distinct = [...new Set(rawLabels)];
  const numeric = distinct.every(isNumber);
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  if (distinct.length < 2) throw new DatasetError(`${fileName}: the label column "${names[labelCol]}" has a single value; nothing to classify`);
  const index = new Map(distinct.map((v, k) => [v, k]));
  const labels = Int32Array.from(rawLabels, (v) => index.get(v)!);
  return { n, inputSize: d, classes: distinct.length, x, labels, featureNames: featureCols.map((j) => names[j]), classNames: distinct, lines: Int32Array.from(rows, (r) => r.line) };
}

export function loadCsv(file: string, spec: CsvSpec): CsvExamples {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(code === 'ENOENT' ? `CSV file not found: ${file}` : `cannot read the CSV file ${file}: ${code ?? (err as Error).message}`, 'dataset.path');
  }
  return parseCsv(text, spec, file);
}
