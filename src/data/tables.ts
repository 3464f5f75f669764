/**
 * Tables as datasets of records: arrays of row objects, arquero tables and
 * Apache Arrow tables (recognised by shape, so neither library is a dependency
 * of kiln), the JS counterparts of Keras's `from_tensor_slices(dict(dataframe))`.
 */
import { checkOptions } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import { Dataset } from './dataset.js';

/** A cell as a record carries it: a number (null and undefined become NaN) or a string (null → ''). */
export type TableCell = number | string;

export interface FromTableOptions {
  /** Columns to keep (default: all). */
  columns?: readonly string[];
  /** Label column(s): elements become `{ xs, ys }` (ys the value itself for one label). */
  label?: string | readonly string[];
}

/** An arquero table, as far as kiln reads it. */
interface ArqueroLike { numRows(): number; columnNames(): string[]; get(name: string, row: number): unknown }
/** An Apache Arrow table, as far as kiln reads it. */
interface ArrowLike { numRows: number; schema: { fields: { name: string }[] }; getChild(name: string): { get(i: number): unknown } | null }

const isArquero = (t: unknown): t is ArqueroLike => t !== null && typeof t === 'object' && typeof (t as ArqueroLike).columnNames === 'function' && typeof (t as ArqueroLike).numRows === 'function';
const isArrow = (t: unknown): t is ArrowLike => t !== null && typeof t === 'object' && typeof (t as ArrowLike).getChild === 'function' && Array.isArray((t as ArrowLike).schema?.fields);

/**
 * A dataset of a table's rows as records `{ column: value }`: an array of row
 * objects, an arquero table or an Apache Arrow table. Numbers stay numbers
 * (bigints and dates become numbers; null → NaN), text stays text (null → '').
 * @example
 * const rows = kiln.data.fromTable(penguins, { label: 'Species' });   // { xs, ys } records
 */
export function fromTable(table: unknown, options: FromTableOptions = {}): Dataset<Record<string, TableCell> | { xs: Record<string, TableCell>; ys: TableCell | Record<string, TableCell> }> {
  checkOptions('kiln.data.fromTable', options, ['columns', 'label']);
  const { names, count, cell } = access(table);
  const labels = options.label === undefined ? [] : typeof options.label === 'string' ? [options.label] : [...options.label];
  const keep = options.columns ? [...options.columns] : names;
  for (const c of [...keep, ...labels]) if (!names.includes(c)) throw new KilnError(`kiln.data.fromTable: no column "${c}" (columns: ${names.join(', ')}).`);
  const features = keep.filter((c) => !labels.includes(c));
  // a column's kind from its first non-null value, so one text column stays text throughout
  const kinds = new Map([...features, ...labels].map((c) => [c, kindOf(c, count, cell)]));
  const value = (c: string, i: number): TableCell => toCell(c, i, cell(c, i), kinds.get(c)!);
  const record = (cols: readonly string[], i: number) => Object.fromEntries(cols.map((c) => [c, value(c, i)]));
  return new Dataset(function* () {
    for (let i = 0; i < count; i++) {
      if (!labels.length) yield record(features, i);
      else yield { xs: record(features, i), ys: labels.length === 1 ? value(labels[0]!, i) : record(labels, i) };
    }
  }, count);
}

function access(table: unknown): { names: string[]; count: number; cell: (column: string, row: number) => unknown } {
  if (Array.isArray(table)) {
    const names = [...new Set(table.flatMap((r) => (r !== null && typeof r === 'object' ? Object.keys(r) : [])))];
    table.forEach((r, i) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new KilnError(`kiln.data.fromTable: expected rows to be objects, got ${Array.isArray(r) ? 'a list' : r === null ? 'null' : typeof r} in row ${i}.`);
    });
    return { names, count: table.length, cell: (c, i) => (table[i] as Record<string, unknown>)[c] };
  }
  if (isArquero(table)) return { names: table.columnNames(), count: table.numRows(), cell: (c, i) => table.get(c, i) };
  if (isArrow(table)) {
    const names = table.schema.fields.map((f) => f.name);
    const vectors = new Map(names.map((n) => [n, table.getChild(n)!]));
    return { names, count: table.numRows, cell: (c, i) => vectors.get(c)!.get(i) };
  }
  throw new KilnError(`kiln.data.fromTable: expected an array of row objects, an arquero table or an Apache Arrow table, got ${table === null ? 'null' : typeof table === 'object' ? (table as object).constructor?.name ?? 'object' : typeof table}.`);
}

function kindOf(column: string, count: number, cell: (c: string, i: number) => unknown): 'number' | 'string' {
  for (let i = 0; i < count; i++) {
    const v = cell(column, i);
    if (v === null || v === undefined) continue;
    return typeof v === 'string' ? 'string' : 'number';
  }
  return 'number';
}

function toCell(column: string, row: number, v: unknown, kind: 'number' | 'string'): TableCell {
  if (v === null || v === undefined) return kind === 'string' ? '' : NaN;
  if (kind === 'string') {
    if (typeof v !== 'string') throw new KilnError(`kiln.data.fromTable: column "${column}" holds text, but row ${row} has ${typeof v} ${String(v)}.`);
    return v;
  }
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return Number(v);
  if (v instanceof Date) return v.getTime();
  throw new KilnError(`kiln.data.fromTable: column "${column}" holds numbers, but row ${row} has ${typeof v === 'string' ? JSON.stringify(v) : typeof v}.`);
}
