/**
 * `kiln.data.csv`: CSV files and streams as datasets of records, parsed by
 * csv-parse (quoting, escapes, CRLF, BOM, comments) and typed here: column types
 * are given or inferred from the first rows, missing values take a default or
 * NaN, label columns split off as `{ xs, ys }` for `fit`. Rows stream through in
 * bounded memory; a bad row is an error naming the source, row and column, or
 * is skipped and counted with `skipErrors`. Node only (files, URLs, streams).
 */
import { parse, type CsvError } from 'csv-parse';
import { checkOptions, describe } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import { Tensor } from '../../compiler/tensor.js';
import { Dataset } from './dataset.js';

/** A column's type: numbers become float32 or int32 Tensors when batched, strings stay strings. */
export type ColumnDtype = 'float32' | 'int32' | 'string';

export interface ColumnConfig {
  /** The column's type (default: inferred from the first `inferRows` rows). */
  dtype?: ColumnDtype;
  /** A missing value is an error (default false). */
  required?: boolean;
  /** The value a missing entry takes (default NaN for numbers, '' for strings). */
  default?: number | string;
  /** The column is a label: elements become `{ xs, ys }`. */
  isLabel?: boolean;
}

export interface CsvOptions {
  /** The first row names the columns (default true). */
  hasHeader?: boolean;
  /** Column names: required without a header, else they replace the header's. */
  columnNames?: readonly string[];
  /** Per column: dtype, required, default, isLabel. */
  columnConfigs?: Readonly<Record<string, ColumnConfig>>;
  /** Keep only the columns named in columnConfigs (default false). */
  configuredColumnsOnly?: boolean;
  /** The field separator (default ','). */
  delimiter?: string;
  /** The quote character (default '"'). */
  quoteChar?: string;
  /** Lines starting with this are skipped (default none). */
  comment?: string;
  /** Entries that mean "missing" (default '', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL'). */
  naValues?: readonly string[];
  /** How many rows type inference reads (default 1000). */
  inferRows?: number;
  /** Skip rows with the wrong number of fields or an unparseable number instead of failing (default false); `onSkip` hears of each. */
  skipErrors?: boolean;
  /** Called with the reason for each skipped row. */
  onSkip?: (reason: string) => void;
}

/** Where CSV text comes from: a file path or URL, a web or Node stream, or any (async) iterable of text or bytes. */
export type CsvSource = string | URL | ReadableStream<Uint8Array | string> | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

type Cell = number | string | Tensor;
type Row = Record<string, Cell>;

const OPTION_KEYS = ['hasHeader', 'columnNames', 'columnConfigs', 'configuredColumnsOnly', 'delimiter', 'quoteChar', 'comment', 'naValues', 'inferRows', 'skipErrors', 'onSkip'];
const CONFIG_KEYS = ['dtype', 'required', 'default', 'isLabel'];
const DEFAULT_NA = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL'];

/**
 * A dataset of a CSV's rows as records `{ column: value }` (numbers, or strings
 * for text columns), or `{ xs, ys }` when columns are marked `isLabel` (`ys` is
 * the value itself when there is one label column). Each iteration reads the
 * source again, streaming: a file of any size runs in bounded memory.
 * @example
 * const rows = kiln.data.csv('penguins.csv', { columnConfigs: { species: { isLabel: true } } });
 * await model.fit(rows.map(encode).shuffle(500, { seed: 0 }).batch(32), { epochs: 20 });
 */
export function csv(source: CsvSource, options: CsvOptions = {}): Dataset<Row | { xs: Row; ys: Cell | Row }> {
  checkOptions('kiln.data.csv', options, OPTION_KEYS);
  const name = typeof source === 'string' ? `"${source}"` : source instanceof URL ? `"${source.href}"` : 'the CSV stream';
  checkSource(source);
  if (isOneShot(source)) {
    let used = false;
    return rows(name, () => {
      if (used) throw new KilnError(`kiln.data.csv: ${name} is a stream and can be read once; pass a file path or URL to iterate again (or .cache() the dataset).`);
      used = true;
      return chunksOf(source);
    }, options);
  }
  return rows(name, () => chunksOf(source), options);
}

/**
 * A dataset of the rows of CSV text held in a string (see {@link csv} for the options).
 * @example kiln.data.csvFromString('x,y\n1,2\n3,4\n').batch(2)
 */
export function csvFromString(text: string, options: CsvOptions = {}): Dataset<Row | { xs: Row; ys: Cell | Row }> {
  checkOptions('kiln.data.csvFromString', options, OPTION_KEYS);
  if (typeof text !== 'string') throw new KilnError(`kiln.data.csvFromString: expected CSV text as a string, got ${text === null ? 'null' : typeof text}.`);
  return rows('the CSV text', () => [text], options);
}

function checkSource(source: unknown): void {
  const ok = typeof source === 'string' || source instanceof URL || (source !== null && typeof source === 'object' && (Symbol.asyncIterator in source || Symbol.iterator in source || typeof (source as ReadableStream).getReader === 'function'));
  if (!ok) throw new KilnError(`kiln.data.csv: expected a file path, a URL, a stream or an iterable of text, got ${source === null ? 'null' : typeof source}.`);
}

const isOneShot = (source: CsvSource) => typeof source !== 'string' && !(source instanceof URL) && !Array.isArray(source);

/** The source's text, chunk by chunk. */
async function* chunksOf(source: CsvSource): AsyncGenerator<Uint8Array | string> {
  if (typeof source === 'string' && !/^(https?|file):\/\//.test(source)) {
    const { createReadStream } = await import('node:fs');
    const stream = createReadStream(source, { highWaterMark: 1 << 16 });
    try {
      yield* stream as AsyncIterable<Uint8Array>;
    } catch (e) {
      throw new KilnError(`kiln.data.csv: cannot read "${source}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    }
    return;
  }
  if (typeof source === 'string' || source instanceof URL) {
    const url = new URL(source);
    if (url.protocol === 'file:') return yield* chunksOf((await import('node:url')).fileURLToPath(url));
    const response = await fetch(url);
    if (!response.ok || !response.body) throw new KilnError(`kiln.data.csv: fetching "${url.href}" answered ${response.status} ${response.statusText}.`);
    return yield* chunksOf(response.body);
  }
  if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array | string>).getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
    } finally {
      reader.releaseLock();
    }
    return;
  }
  yield* source as AsyncIterable<Uint8Array | string>;
}

interface Column {
  name: string;
  index: number;
  config: ColumnConfig;
  dtype?: ColumnDtype;
}

/** The rows of the chunks as typed records, type inference over the first rows included. */
function rows(name: string, chunks: () => AsyncIterable<Uint8Array | string> | Iterable<string>, options: CsvOptions): Dataset<Row | { xs: Row; ys: Cell | Row }> {
  const { hasHeader = true, columnNames, columnConfigs = {}, configuredColumnsOnly = false, delimiter = ',', quoteChar = '"', comment, naValues = DEFAULT_NA, inferRows = 1000, skipErrors = false, onSkip } = options;
  if (!hasHeader && !columnNames) throw new KilnError('kiln.data.csv: expected columnNames when hasHeader is false.');
  if (!Number.isInteger(inferRows) || inferRows < 1) throw new KilnError(`kiln.data.csv: expected inferRows to be a positive integer, got ${inferRows}.`);
  const text = (what: string, v: unknown, optional: boolean) => {
    if ((optional && v === undefined) || (typeof v === 'string' && v.length > 0)) return;
    throw new KilnError(`kiln.data.csv: expected ${what} to be a non-empty string, got ${describe(v)}.`);
  };
  text('delimiter', delimiter, false);
  text('quoteChar', quoteChar, false);
  text('comment', comment, true);
  if (!Array.isArray(naValues) || naValues.some((v) => typeof v !== 'string')) throw new KilnError(`kiln.data.csv: expected naValues to be a list of strings, got ${describe(naValues)}.`);
  if (columnNames !== undefined && (!Array.isArray(columnNames) || columnNames.some((v) => typeof v !== 'string'))) throw new KilnError(`kiln.data.csv: expected columnNames to be a list of strings, got ${describe(columnNames)}.`);
  if (columnConfigs === null || typeof columnConfigs !== 'object' || Array.isArray(columnConfigs)) throw new KilnError(`kiln.data.csv: expected columnConfigs to be an object of column settings by name, got ${describe(columnConfigs)}.`);
  for (const [col, config] of Object.entries(columnConfigs)) {
    checkOptions(`kiln.data.csv: columnConfigs.${col}`, config, CONFIG_KEYS);
    if (config.dtype !== undefined && !['float32', 'int32', 'string'].includes(config.dtype)) throw new KilnError(`kiln.data.csv: expected columnConfigs.${col}.dtype to be float32, int32 or string, got ${JSON.stringify(config.dtype)}.`);
  }
  const na = new Set(naValues);

  const labels = Object.keys(columnConfigs).filter((k) => columnConfigs[k]!.isLabel);
  /** A row's record, split into { xs, ys } when there are labels. */
  const element = (row: Row): Row | { xs: Row; ys: Cell | Row } => {
    if (!labels.length) return row;
    const xs: Row = {};
    const ys: Row = {};
    for (const k in row) (labels.includes(k) ? ys : xs)[k] = row[k]!;
    return { xs, ys: labels.length === 1 ? ys[labels[0]!]! : ys };
  };

  return new Dataset(async function* () {
    const parser = parse({ delimiter, quote: quoteChar, comment, bom: true, relax_column_count: true, skip_empty_lines: true });
    const feeding = feed(parser, chunks());
    let columns: Column[] | undefined;
    let width = 0; // fields a row must have
    let index = 0; // data rows read, the header not counted
    const pending: { fields: string[]; index: number }[] = [];
    const fail = (row: number, message: string): undefined => {
      const reason = `kiln.data.csv: ${name}, row ${row}: ${message}`;
      if (!skipErrors) throw new KilnError(`${reason}.`);
      onSkip?.(reason);
      return undefined;
    };
    try {
      for await (const fields of parser as AsyncIterable<string[]>) {
        if (!columns) {
          const header = hasHeader ? fields : undefined;
          columns = makeColumns(name, header, columnNames, columnConfigs, configuredColumnsOnly);
          width = (columnNames ?? header)!.length;
          if (header) continue;
        }
        index++;
        if (pending.length < inferRows && columns.some((c) => !c.dtype)) { // still reading rows to infer types from
          pending.push({ fields, index });
          if (pending.length < inferRows) continue;
          infer(columns, pending, na);
          for (const p of pending.splice(0)) {
            const row = toRow(columns, width, p.fields, p.index, na, fail);
            if (row) yield element(row);
          }
          continue;
        }
        const row = toRow(columns, width, fields, index, na, fail);
        if (row) yield element(row);
      }
      if (!columns) throw new KilnError(`kiln.data.csv: ${name} is empty: expected a header row${hasHeader ? '' : ' or rows'}.`);
      if (pending.length) infer(columns, pending, na);
      for (const p of pending.splice(0)) {
        const row = toRow(columns, width, p.fields, p.index, na, fail);
        if (row) yield element(row);
      }
    } catch (e) {
      if (e instanceof KilnError) throw e;
      const err = e as CsvError & { lines?: number };
      throw new KilnError(`kiln.data.csv: ${name}${err.lines ? `, line ${err.lines}` : ''}: ${err.message.replace(/\.$/, '')}.`);
    } finally {
      parser.destroy();
      await feeding.catch(() => undefined);
    }
  }, undefined);
}

/** Writes the chunks into the parser, waiting when it is full (bounded memory), then ends it. */
async function feed(parser: ReturnType<typeof parse>, chunks: AsyncIterable<Uint8Array | string> | Iterable<string>): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (parser.destroyed) return;
      if (!parser.write(chunk)) await new Promise<void>((resolve) => { parser.once('drain', resolve); parser.once('close', resolve); });
    }
    parser.end();
  } catch (e) {
    parser.destroy(e as Error);
  }
}

function makeColumns(name: string, header: string[] | undefined, names: readonly string[] | undefined, configs: Readonly<Record<string, ColumnConfig>>, configuredOnly: boolean): Column[] {
  const all = (names ?? header)!.map((n) => n.trim());
  if (names && header && names.length !== header.length) throw new KilnError(`kiln.data.csv: ${name} has ${header.length} columns in its header, but columnNames gives ${names.length}.`);
  const seen = new Set<string>();
  for (const n of all) {
    if (seen.has(n)) throw new KilnError(`kiln.data.csv: ${name} names column "${n}" twice; pass columnNames.`);
    seen.add(n);
  }
  for (const k of Object.keys(configs)) if (!seen.has(k)) throw new KilnError(`kiln.data.csv: columnConfigs names "${k}", which is not a column of ${name} (columns: ${all.join(', ')}).`);
  return all
    .map((n, index) => ({ name: n, index, config: configs[n] ?? {}, dtype: configs[n]?.dtype }))
    .filter((c) => !configuredOnly || c.name in configs);
}

const isNumber = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));

/** Column types from the rows read so far: numbers where every present value parses (int32 for integer labels), else strings. */
function infer(columns: Column[], rows: readonly { fields: string[] }[], na: ReadonlySet<string>): void {
  for (const c of columns) {
    if (c.dtype) continue;
    const present = rows.map((r) => r.fields[c.index]).filter((v): v is string => v !== undefined && !na.has(v));
    const numeric = present.every(isNumber);
    c.dtype = !numeric ? 'string' : c.config.isLabel && present.length > 0 && present.every((v) => Number.isInteger(Number(v))) ? 'int32' : 'float32';
  }
}

function toRow(columns: readonly Column[], width: number, fields: string[], line: number, na: ReadonlySet<string>, fail: (row: number, message: string) => undefined): Row | undefined {
  if (fields.length !== width) return fail(line, `expected ${width} fields, got ${fields.length}`);
  const row: Row = {};
  for (const c of columns) {
    const raw = fields[c.index]!;
    let value: Cell;
    if (na.has(raw)) {
      if (c.config.required) return fail(line, `column "${c.name}" is required but missing`);
      value = c.config.default ?? (c.dtype === 'string' ? '' : NaN);
    } else if (c.dtype === 'string') value = raw;
    else if (!isNumber(raw)) return fail(line, `column "${c.name}" (${c.dtype}) expected a number, got ${JSON.stringify(raw)}`);
    else value = Number(raw);
    if (c.dtype === 'int32' && typeof value === 'number') {
      if (!Number.isInteger(value) || Math.abs(value) > 2 ** 31 - 1) return fail(line, `column "${c.name}" (int32) expected an integer, got ${JSON.stringify(raw)}`);
      value = Tensor.concrete({ dtype: 'int32', shape: [], data: Int32Array.of(value) });
    }
    row[c.name] = value;
  }
  return row;
}
