/**
 * Raw rows → a model's inputs: the ONE definition of kiln's host-side
 * categorical encodings, shared by the front end (`kiln.layers.stringLookup`,
 * `integerLookup`, `hashing`, `hashedCrossing`, `kiln.preprocessing.rowEncoder`)
 * and the runtime (`artifact.predictRows`); TextVectorization's built-in
 * standardization, splitting and n-grams too. Browser-safe, no imports outside
 * src/runtime; `loadArtifact` loads it only when an artifact carries an encoder,
 * so the predict-only runtime does not grow.
 *
 * Hashes: a lookup's OOV bucket is FNV-1a (32-bit, over the token's UTF-16 code
 * units) modulo the bucket count. `hashing` and `hashedCrossing` finish FNV-1a
 * with MurmurHash3's fmix32 (FNV's low bits alone are weak for power-of-two bin
 * counts); the salt is XORed in before the finish. Keras uses FarmHash64 /
 * SipHash: the bins differ from Keras's, not the semantics.
 *
 * @example
 * import { encodeRows } from 'kiln/runtime/rows';
 * const inputs = encodeRows(artifact.manifest.rows!, [{ Island: 'Dream', … }]);   // one per model input
 */
import { KilnRuntimeError } from './errors.js';

export type Token = string | number;
export type OutputMode = 'int' | 'one_hot' | 'multi_hot' | 'count';
/** A raw record: column → value (string, number, null, or a list of them for multi_hot/count). */
export type Row = Readonly<Record<string, unknown>>;

/** Numeric columns gathered into one vector (float32, or int32 when the model's input is). */
export interface NumericFeature { readonly kind: 'numeric'; readonly name: string; readonly columns: readonly string[]; readonly dtype: 'float32' | 'int32'; readonly fill?: number }
/** A StringLookup / IntegerLookup over one column: mask, OOV buckets, vocabulary (Keras's index layout). */
export interface LookupFeature {
  readonly kind: 'lookup'; readonly name: string; readonly column: string; readonly tokens: 'string' | 'integer';
  readonly vocabulary: readonly Token[]; readonly maskToken?: Token; readonly numOovIndices: number; readonly outputMode: OutputMode; readonly fill?: Token;
}
/** Keras's Hashing over one column: numBins, an optional mask value (bin 0), a salt. */
export interface HashingFeature { readonly kind: 'hashing'; readonly name: string; readonly column: string; readonly numBins: number; readonly maskValue?: Token; readonly salt?: number; readonly outputMode: OutputMode; readonly fill?: Token }
/** Keras's HashedCrossing of two or more columns. */
export interface CrossingFeature { readonly kind: 'hashedCrossing'; readonly name: string; readonly columns: readonly string[]; readonly numBins: number; readonly outputMode: 'int' | 'one_hot'; readonly fill?: Token }
/** Keras's TextVectorization over one column of text (built-in standardize and split only: functions cannot travel). */
export interface TextFeature {
  readonly kind: 'text'; readonly name: string; readonly column: string;
  readonly standardize: TextStandardize; readonly split: TextSplit; readonly ngrams: readonly number[];
  /** Tokens without the reserved ones ('' and '[UNK]' in 'int' mode, '[UNK]' otherwise). */
  readonly vocabulary: readonly string[];
  readonly outputMode: 'int' | 'multi_hot' | 'count' | 'tf_idf';
  /** Values per row: the sequence length ('int'), the vector size otherwise. */
  readonly width: number;
  /** 'tf_idf': each index's idf, the OOV index's first. */
  readonly idf?: readonly number[];
  readonly fill?: string;
}
export type TextStandardize = 'lower_and_strip_punctuation' | 'lower' | 'strip_punctuation' | null;
export type TextSplit = 'whitespace' | 'character' | null;
export type FeatureSpec = NumericFeature | LookupFeature | HashingFeature | CrossingFeature | TextFeature;

/** An encoder as JSON: one feature per model input, in the model's input order. */
export interface RowsSpec { readonly format: 'kiln-rows'; readonly version: 1; readonly features: readonly FeatureSpec[] }

/** One encoded input: [rows, width]. */
export interface EncodedInput { readonly name: string; readonly dtype: 'float32' | 'int32'; readonly shape: readonly number[]; readonly data: Float32Array | Int32Array }

// ---- hashes --------------------------------------------------------------------------

/** FNV-1a, 32-bit, over the UTF-16 code units of `text`. @example fnv1a('a') // 0xe40c292c */
export function fnv1a(text: string, h = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** MurmurHash3's 32-bit finalizer: every input bit reaches every output bit. @example fmix32(fnv1a('a')) % 8 */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The OOV bucket an unknown token takes: FNV-1a of its text modulo `buckets`. @example oovBucket('Atlantis', 3) // 0 */
export const oovBucket = (token: Token, buckets: number): number => fnv1a(String(token)) % buckets;

/** Hashing's bin for a value: mask → 0; else fmix32(FNV-1a(text) ^ fmix32(salt)) into [0, numBins), or [1, numBins) with a mask. @example hashBin('Dream', 8) // 1 */
export function hashBin(value: Token, numBins: number, maskValue?: Token, salt = 0): number {
  if (maskValue !== undefined && value === maskValue) return 0;
  const h = fmix32(fnv1a(String(value)) ^ fmix32(salt >>> 0));
  return maskValue === undefined ? h % numBins : 1 + (h % (numBins - 1));
}

/** HashedCrossing's bin for values in column order: each value's FNV-1a, chained (order matters) and finished with fmix32. @example crossBin(['Biscoe', 'MALE'], 16) // 9 */
export function crossBin(values: readonly Token[], numBins: number): number {
  let h = 0x811c9dc5;
  for (const v of values) h = Math.imul(h ^ fnv1a(String(v)), 0x01000193) >>> 0;
  return fmix32(h) % numBins;
}

// ---- vocabularies --------------------------------------------------------------------

/** A lookup's vocabulary as indices: the mask at 0 (if any), the OOV buckets, then the tokens. @example new LookupTable(['Oslo', 'Rome'], '', 2).lookup('Rome') // 4 */
export class LookupTable {
  private readonly index: Map<Token, number>;
  readonly reserved: number;
  constructor(readonly vocabulary: readonly Token[], readonly maskToken: Token | undefined, readonly numOovIndices: number) {
    this.reserved = (maskToken !== undefined ? 1 : 0) + numOovIndices;
    this.index = new Map(vocabulary.map((t, i) => [t, i + this.reserved]));
  }

  /** How many indices there are (mask and OOV buckets included). */
  get size(): number {
    return this.reserved + this.vocabulary.length;
  }

  /** A token's index; -1 for an unknown token when there are no OOV buckets. */
  lookup(token: Token): number {
    if (token === this.maskToken) return 0;
    const i = this.index.get(token);
    if (i !== undefined) return i;
    return this.numOovIndices === 0 ? -1 : (this.maskToken !== undefined ? 1 : 0) + oovBucket(token, this.numOovIndices);
  }
}

/**
 * Indices → one vector of `size` per row (`perRow` indices a row): one_hot and
 * multi_hot set 1, count adds 1. What lookups, hashing and the encoder share.
 * @example indicesToVectors([1, 1, 2], 3, 4, 'count') // [0, 2, 1, 0]
 */
export function indicesToVectors(ids: ArrayLike<number>, perRow: number, size: number, mode: Exclude<OutputMode, 'int'>, out: Float32Array = new Float32Array((ids.length / perRow) * size), at = 0, stride = size): Float32Array {
  for (let i = 0; i < ids.length; i++) {
    const k = at + Math.floor(i / perRow) * stride + ids[i]!;
    out[k] = mode === 'count' ? out[k]! + 1 : 1;
  }
  return out;
}

// ---- text ----------------------------------------------------------------------------

// Keras strips ASCII punctuation and the symbols $+<=>^`|~; here every Unicode punctuation mark goes too
const PUNCTUATION = /[\p{P}$+<=>^`|~]/gu;

/** TextVectorization's built-in standardization. @example standardizeText('Hello, World!', 'lower_and_strip_punctuation') // 'hello world' */
export function standardizeText(text: string, mode: TextStandardize): string {
  if (mode === 'lower') return text.toLowerCase();
  if (mode === 'strip_punctuation') return text.replace(PUNCTUATION, '');
  if (mode === 'lower_and_strip_punctuation') return text.toLowerCase().replace(PUNCTUATION, '');
  return text;
}

/** TextVectorization's built-in splits: whitespace (empty pieces dropped), characters (code points), or none. @example splitText('a  b', 'whitespace') // ['a', 'b'] */
export function splitText(text: string, mode: TextSplit): string[] {
  if (mode === 'whitespace') return text.split(/\s+/u).filter((w) => w.length > 0);
  if (mode === 'character') return Array.from(text);
  return [text];
}

/** The n-grams of `words` for each size in turn (all 1-grams, then all 2-grams, …), joined by a space; no sizes: the words. @example ngramTokens(['a', 'b', 'c'], [1, 2]) // ['a', 'b', 'c', 'a b', 'b c'] */
export function ngramTokens(words: readonly string[], sizes: readonly number[]): string[] {
  if (sizes.length === 0) return [...words];
  return sizes.flatMap((n) => Array.from({ length: Math.max(0, words.length - n + 1) }, (_, i) => words.slice(i, i + n).join(' ')));
}

/** A text feature's vocabulary as indices: '' (padding) and '[UNK]' first in 'int' mode, '[UNK]' alone otherwise. */
export const textTable = (f: Pick<TextFeature, 'vocabulary' | 'outputMode'>): LookupTable => new LookupTable(f.vocabulary, f.outputMode === 'int' ? '' : undefined, 1);

/**
 * One text's tokens written as a row of `width`: 'int' indices cut or padded
 * (with 0) at the end; otherwise a vector of multi-hot flags, counts, or counts
 * times each index's idf ('tf_idf').
 */
export function writeTextRow(tokens: readonly string[], table: LookupTable, mode: TextFeature['outputMode'], width: number, idf: ArrayLike<number> | undefined, out: Float32Array | Int32Array, at: number): void {
  if (mode === 'int') {
    for (let i = 0; i < Math.min(width, tokens.length); i++) out[at + i] = table.lookup(tokens[i]!);
    return;
  }
  const ids = tokens.map((t) => table.lookup(t));
  indicesToVectors(ids, ids.length || 1, width, mode === 'multi_hot' ? 'multi_hot' : 'count', out as Float32Array, at);
  if (mode === 'tf_idf') for (let k = 0; k < width; k++) out[at + k]! *= idf![k] ?? 0;
}

// ---- rows → inputs -------------------------------------------------------------------

/** Throws with a message; the front end passes its own (a KilnError), the runtime throws KilnRuntimeError. */
export type Fail = (message: string) => never;
const runtimeFail: Fail = (message) => {
  throw new KilnRuntimeError(`kiln runtime: ${message}`);
};

const describe = (v: unknown): string =>
  v === null ? 'null' : typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}` : typeof v === 'number' ? `the number ${v}` : Array.isArray(v) ? `a list of ${v.length}` : typeof v;

const isMissing = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isNaN(v));

/** One feature's width (values per row) and dtype. @example featureShape({ kind: 'numeric', name: 'x', columns: ['a', 'b'], dtype: 'float32' }) // { width: 2, dtype: 'float32' } */
export function featureShape(f: FeatureSpec, vocabularySize?: number): { width: number; dtype: 'float32' | 'int32' } {
  if (f.kind === 'numeric') return { width: f.columns.length, dtype: f.dtype };
  if (f.kind === 'text') return { width: f.width, dtype: f.outputMode === 'int' ? 'int32' : 'float32' };
  if (f.outputMode === 'int') return { width: 1, dtype: 'int32' };
  const size = f.kind === 'lookup' ? vocabularySize ?? new LookupTable(f.vocabulary, f.maskToken, f.numOovIndices).size : f.numBins;
  return { width: size, dtype: 'float32' };
}

/** A feature ready to encode: its columns' reader and writer. */
interface Codec { readonly name: string; readonly dtype: 'float32' | 'int32'; readonly width: number; write(row: Row, r: number, out: Float32Array | Int32Array, at: number): void }

/** Reads one feature's cells: a missing column fails; a missing value (null, NaN) is the fill or fails; `bad` names a wrong one. */
function cellReader(f: FeatureSpec, fail: Fail) {
  const q = JSON.stringify;
  return {
    cell(row: Row, r: number, column: string, expected: string): unknown {
      const v = row[column];
      if (v === undefined) fail(`row ${r} has no column ${q(column)} (input "${f.name}" reads it); its columns are ${Object.keys(row).map((k) => q(k)).join(', ') || 'none'}.`);
      if (!isMissing(v)) return v;
      if (f.fill === undefined) fail(`row ${r}, column ${q(column)}: got ${describe(v)} (a missing value), expected ${expected}; give input "${f.name}" a fill value to accept missing values.`);
      return f.fill;
    },
    bad: (r: number, column: string, v: unknown, expected: string): never => fail(`row ${r}, column ${q(column)}: got ${describe(v)}, expected ${expected} (input "${f.name}").`),
  };
}

const isHashable = (v: unknown): v is Token => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function numericCodec(f: NumericFeature, fail: Fail): Codec {
  const { cell, bad } = cellReader(f, fail);
  const int = f.dtype === 'int32';
  const expected = int ? 'an integer' : 'a number';
  return {
    name: f.name, dtype: f.dtype, width: f.columns.length,
    write: (row, r, out, at) => f.columns.forEach((column, k) => {
      const v = cell(row, r, column, expected);
      if (typeof v !== 'number' || !Number.isFinite(v) || (int && (!Number.isInteger(v) || Math.abs(v) > 2147483647))) bad(r, column, v, expected);
      out[at + k] = v as number;
    }),
  };
}

function crossingCodec(f: CrossingFeature, fail: Fail): Codec {
  const { cell, bad } = cellReader(f, fail);
  const expected = 'a string or a number';
  return {
    name: f.name, ...featureShape(f),
    write: (row, r, out, at) => {
      const bin = crossBin(f.columns.map((column) => {
        const v = cell(row, r, column, expected);
        return isHashable(v) ? v : bad(r, column, v, expected);
      }), f.numBins);
      if (f.outputMode === 'int') out[at] = bin;
      else out[at + bin] = 1;
    },
  };
}

function textCodec(f: TextFeature, fail: Fail, given?: LookupTable): Codec {
  const { cell, bad } = cellReader(f, fail);
  const table = given ?? textTable(f);
  return {
    name: f.name, ...featureShape(f),
    write: (row, r, out, at) => {
      const v = cell(row, r, f.column, 'a string');
      if (typeof v !== 'string') bad(r, f.column, v, 'a string');
      writeTextRow(ngramTokens(splitText(standardizeText(v as string, f.standardize), f.split), f.ngrams), table, f.outputMode, f.width, f.idf, out, at);
    },
  };
}

/** A lookup or hashing over one column: each value (or each of a list's, for multi_hot / count) to an index, then an int or a vector. */
function indexCodec(f: LookupFeature | HashingFeature, fail: Fail, given?: LookupTable): Codec {
  const { cell, bad } = cellReader(f, fail);
  const { width, dtype } = featureShape(f, given?.size);
  let expected = 'a string or a number';
  let index = (v: unknown, r: number): number => (isHashable(v) ? hashBin(v, (f as HashingFeature).numBins, (f as HashingFeature).maskValue, (f as HashingFeature).salt) : bad(r, f.column, v, expected));
  if (f.kind === 'lookup') {
    const table = given ?? new LookupTable(f.vocabulary, f.maskToken, f.numOovIndices);
    const strings = f.tokens === 'string';
    expected = strings ? 'a string' : 'an integer';
    index = (v, r) => {
      if (strings ? typeof v !== 'string' : !Number.isInteger(v)) bad(r, f.column, v, expected);
      const i = table.lookup(v as Token);
      return i >= 0 ? i : fail(`row ${r}, column ${JSON.stringify(f.column)}: ${JSON.stringify(v)} is not in the vocabulary of input "${f.name}", which has no OOV index.`);
    };
  }
  const mode = f.outputMode;
  const many = mode === 'multi_hot' || mode === 'count';
  return {
    name: f.name, dtype, width,
    write: (row, r, out, at) => {
      const v = cell(row, r, f.column, many ? `${expected} or a list of them` : expected);
      if (Array.isArray(v) && !many) bad(r, f.column, v, `${expected} (a list needs outputMode multi_hot or count)`);
      const ids = (Array.isArray(v) ? v : [v]).map((x) => index(isMissing(x) && f.fill !== undefined ? f.fill : x, r));
      if (mode === 'int') out[at] = ids[0]!;
      else indicesToVectors(ids, ids.length || 1, width, mode, out as Float32Array, at);
    },
  };
}

/**
 * Encodes raw rows into a model's inputs, feature by feature. Lookup features may
 * be given the table they use (the front end passes its layers' own), else one is
 * built from the spec's vocabulary.
 * @example new RowCodec(artifact.manifest.rows!).encode([{ Island: 'Dream' }])
 */
export class RowCodec {
  private readonly codecs: Codec[];
  constructor(readonly spec: RowsSpec, private readonly fail: Fail = runtimeFail, tables: ReadonlyMap<string, LookupTable> = new Map()) {
    this.codecs = spec.features.map((f) => (f.kind === 'numeric' ? numericCodec(f, fail) : f.kind === 'hashedCrossing' ? crossingCodec(f, fail) : f.kind === 'text' ? textCodec(f, fail, tables.get(f.name)) : indexCodec(f, fail, tables.get(f.name))));
  }

  /** The inputs for `rows`, in feature order, [rows, width] each. */
  encode(rows: readonly Row[]): EncodedInput[] {
    if (!Array.isArray(rows)) this.fail(`expected a list of row objects (column → value), got ${describe(rows)}.`);
    return this.codecs.map((c) => {
      const data = c.dtype === 'int32' ? new Int32Array(rows.length * c.width) : new Float32Array(rows.length * c.width);
      rows.forEach((row, r) => {
        if (row === null || typeof row !== 'object' || Array.isArray(row)) this.fail(`row ${r} is ${describe(row)}; expected an object of column → value.`);
        c.write(row, r, data, r * c.width);
      });
      return { name: c.name, dtype: c.dtype, shape: [rows.length, c.width], data };
    });
  }
}

/** Raw rows → the inputs `spec` describes, in its feature order (KilnRuntimeError on a bad spec or row). @example encodeRows(artifact.manifest.rows!, rows) */
export function encodeRows(spec: RowsSpec, rows: readonly Row[]): EncodedInput[] {
  return new RowCodec(checkRowsSpec(spec, runtimeFail, 'encodeRows: the spec'), (m) => runtimeFail(`encodeRows: ${m}`)).encode(rows);
}

/** A spec as it came from JSON, checked enough that encoding it cannot go wrong in odd ways; `subject` names where it came from. @example checkRowsSpec(JSON.parse(text)) */
export function checkRowsSpec(spec: unknown, fail: Fail = runtimeFail, subject = 'the artifact\'s row encoder'): RowsSpec {
  const s = spec as RowsSpec;
  if (typeof s !== 'object' || s === null || s.format !== 'kiln-rows' || s.version !== 1 || !Array.isArray(s.features)) fail(`${subject} is not a kiln-rows spec of version 1.`);
  const modes = ['int', 'one_hot', 'multi_hot', 'count'];
  const count = (n: unknown, min: number) => Number.isInteger(n) && (n as number) >= min;
  s.features.forEach((f: FeatureSpec, i) => {
    const ok = typeof f === 'object' && f !== null && typeof f.name === 'string' && (
      f.kind === 'numeric' ? Array.isArray(f.columns) && f.columns.length > 0 && (f.dtype === 'float32' || f.dtype === 'int32')
        : f.kind === 'lookup' ? typeof f.column === 'string' && Array.isArray(f.vocabulary) && count(f.numOovIndices, 0) && modes.includes(f.outputMode)
          : f.kind === 'hashing' ? typeof f.column === 'string' && count(f.numBins, f.maskValue === undefined ? 1 : 2) && modes.includes(f.outputMode)
            : f.kind === 'hashedCrossing' ? Array.isArray(f.columns) && f.columns.length >= 2 && count(f.numBins, 1) && (f.outputMode === 'int' || f.outputMode === 'one_hot')
              : f.kind === 'text' ? typeof f.column === 'string' && Array.isArray(f.vocabulary) && f.vocabulary.every((t) => typeof t === 'string') && count(f.width, 1)
                && ['int', 'multi_hot', 'count', 'tf_idf'].includes(f.outputMode) && [null, 'lower', 'strip_punctuation', 'lower_and_strip_punctuation'].includes(f.standardize)
                && [null, 'whitespace', 'character'].includes(f.split) && Array.isArray(f.ngrams) && f.ngrams.every((n) => count(n, 1))
                && (f.outputMode !== 'tf_idf' || (Array.isArray(f.idf) && f.idf.every((w) => typeof w === 'number' && Number.isFinite(w))))
                : false);
    if (!ok) fail(`${subject}: feature ${i} (${JSON.stringify(f)?.slice(0, 80)}) is malformed.`);
  });
  return s;
}

/** The codec for an artifact's encoder, checked against the artifact's inputs (one feature per input, in order, of their dtype and width). @example rowCodecFor(manifest.rows, manifest.inputs, fail) */
export function rowCodecFor(spec: unknown, inputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly (number | null)[] }[], fail: Fail): RowCodec {
  const checked = checkRowsSpec(spec, fail);
  if (checked.features.length !== inputs.length) fail(`the artifact's row encoder gives ${checked.features.length} inputs; its model takes ${inputs.length}.`);
  checked.features.forEach((f, i) => {
    const { dtype, width } = featureShape(f);
    const s = inputs[i]!;
    if (s.dtype !== dtype || s.shape.length !== 2 || s.shape[1] !== width) fail(`the artifact's row encoder gives ${dtype}[n,${width}] for input "${f.name}"; input "${s.name}" takes ${s.dtype}[${s.shape.map((d) => d ?? 'n').join(',')}].`);
  });
  return new RowCodec(checked, (m) => fail(`predictRows: ${m}`));
}
