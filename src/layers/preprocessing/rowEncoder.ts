/**
 * @file `kiln.preprocessing.rowEncoder`: raw record rows (column → string,
 * number or null) → a model's named inputs, on the host. Numeric columns are
 * gathered into one float32 vector; categorical ones go through lookups, hashing
 * or a hashed crossing. The encoding itself is kiln/runtime's (src/runtime/rows.ts),
 * so `model.setRowEncoder(encoder)` makes it travel: `model.save` keeps it,
 * `model.export` writes it into the artifact's manifest, and the runtime's
 * `artifact.predictRows(rows)` encodes raw rows exactly as training did.
 */
import { describe } from '../../../compiler/check.js';
import { KilnError } from '../../../compiler/errors.js';
import { Tensor } from '../../../compiler/tensor.js';
import { checkRowsSpec, featureShape, LookupTable, RowCodec, textTable, type FeatureSpec, type Row, type RowsSpec, type Token } from '../../runtime/rows.js';
import { HashedCrossing, Hashing } from './hashing.js';
import { IntegerLookup, StringLookup } from './lookup.js';
import { TextVectorization } from './text.js';

/** Numeric columns → one vector; `fill` replaces a missing value (null or NaN), else a missing value is an error. */
export interface NumericColumns { columns?: readonly string[]; column?: string; fill?: number; dtype?: 'float32' | 'int32' }
/** A column through a StringLookup or IntegerLookup (its vocabulary, mask, OOV buckets and outputMode); `fill` stands for a missing value. */
export interface LookupColumn { column: string; lookup: StringLookup | IntegerLookup; fill?: Token }
/** A column through Hashing. */
export interface HashingColumn { column: string; hashing: Hashing; fill?: Token }
/** Two or more columns crossed by HashedCrossing. */
export interface CrossedColumns { columns: readonly string[]; hashedCrossing: HashedCrossing; fill?: Token }
/** A column of text through a TextVectorization (built-in standardize and split; 'int' with outputSequenceLength). */
export interface TextColumn { column: string; textVectorization: TextVectorization; fill?: string }
export type RowFeature = NumericColumns | LookupColumn | HashingColumn | CrossedColumns | TextColumn;

const fail = (message: string): never => {
  throw new KilnError(`rowEncoder: ${message}`);
};

/**
 * Encodes raw rows into a model's inputs, one feature per input (by the input's
 * name). Lookups are read when encoding, so adapt them before or after building
 * the encoder.
 * @example
 * const encoder = kiln.preprocessing.rowEncoder({
 *   measures: { columns: ['Beak Length (mm)', 'Body Mass (g)'] },
 *   island: { column: 'Island', lookup: islandLookup },
 *   sex: { column: 'Sex', lookup: sexLookup, fill: '' },
 * });
 * encoder.encode(rows)   // { measures: f32[n,2], island: i32[n,1], sex: i32[n,1] }
 */
export class RowEncoder {
  private readonly features: ReadonlyMap<string, RowFeature | FeatureSpec>;
  /** The tables of lookups that came as JSON, built once. */
  private readonly tables = new Map<string, LookupTable>();

  constructor(features: Readonly<Record<string, RowFeature>> | RowsSpec) {
    if (features === null || typeof features !== 'object' || Array.isArray(features)) fail(`expected an object of features by name (or a rows spec), got ${describe(features)}`);
    const fromSpec = (features as RowsSpec).format === 'kiln-rows';
    if (fromSpec) {
      const spec = checkRowsSpec(features, fail, 'rowEncoder: the spec');
      this.features = new Map(spec.features.map((f) => [f.name, f]));
      for (const f of spec.features) if (f.kind === 'lookup') this.tables.set(f.name, new LookupTable(f.vocabulary, f.maskToken, f.numOovIndices));
      for (const f of spec.features) if (f.kind === 'text') this.tables.set(f.name, textTable(f));
    } else {
      if (typeof features !== 'object' || features === null || Array.isArray(features) || Object.keys(features).length === 0) fail(`expected an object of input name → feature, got ${features === null ? 'null' : Array.isArray(features) ? 'a list' : typeof features}.`);
      for (const [name, f] of Object.entries(features as Record<string, RowFeature>)) this.check(name, f);
      this.features = new Map(Object.entries(features as Record<string, RowFeature>));
    }
    this.spec(false); // unadapted lookups are fine here; malformed features fail now
  }

  private check(name: string, f: RowFeature): void {
    if (typeof f !== 'object' || f === null) fail(`input "${name}": expected a feature object, got ${f === null ? 'null' : typeof f}.`);
    const keys = Object.keys(f);
    const known = ['column', 'columns', 'fill', 'dtype', 'lookup', 'hashing', 'hashedCrossing', 'textVectorization'];
    const unknown = keys.find((k) => !known.includes(k));
    if (unknown) fail(`input "${name}": unknown option '${unknown}'; expected ${known.join(', ')}.`);
    const kinds = ['lookup', 'hashing', 'hashedCrossing', 'textVectorization'].filter((k) => k in f);
    if (kinds.length > 1) fail(`input "${name}": expected one of lookup, hashing, hashedCrossing or textVectorization, got ${kinds.join(' and ')}.`);
    const columns = 'columns' in f && f.columns !== undefined ? f.columns : undefined;
    const column = 'column' in f ? f.column : undefined;
    if ((columns === undefined) === (column === undefined)) fail(`input "${name}": expected either column (one) or columns (a list), got ${columns === undefined ? 'neither' : 'both'}.`);
    if (columns !== undefined && (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string'))) fail(`input "${name}": expected columns to be a non-empty list of column names.`);
    if (column !== undefined && typeof column !== 'string') fail(`input "${name}": expected column to be a column name, got ${typeof column}.`);
    const kind = kinds[0];
    if (kind === 'hashedCrossing' ? columns === undefined || columns.length < 2 : kind !== undefined && column === undefined) fail(`input "${name}": ${kind} reads ${kind === 'hashedCrossing' ? 'two or more columns (columns)' : 'one column (column)'}.`);
    if (kind === 'lookup' && !((f as LookupColumn).lookup instanceof StringLookup || (f as LookupColumn).lookup instanceof IntegerLookup)) fail(`input "${name}": expected lookup to be a kiln.layers.stringLookup or integerLookup.`);
    if (kind === 'lookup' && ((f as LookupColumn).lookup.invert || (f as LookupColumn).lookup.numOovIndices === 0)) fail(`input "${name}": a row encoder's lookup maps tokens to indices with at least one OOV index (unknown categories must not fail); got ${(f as LookupColumn).lookup.invert ? 'invert: true' : 'numOovIndices: 0'}.`);
    if (kind === 'hashing' && !((f as HashingColumn).hashing instanceof Hashing)) fail(`input "${name}": expected hashing to be a kiln.layers.hashing.`);
    if (kind === 'hashedCrossing' && !((f as CrossedColumns).hashedCrossing instanceof HashedCrossing)) fail(`input "${name}": expected hashedCrossing to be a kiln.layers.hashedCrossing.`);
    if (kind === 'textVectorization') {
      if (!((f as TextColumn).textVectorization instanceof TextVectorization)) fail(`input "${name}": expected textVectorization to be a kiln.layers.textVectorization.`);
      (f as TextColumn).textVectorization.textFeature(name, (f as TextColumn).column); // custom functions, or 'int' without a length, fail now
      if (f.fill !== undefined && typeof f.fill !== 'string') fail(`input "${name}": expected fill to be a string (a text), got ${JSON.stringify(f.fill)}.`);
    }
    const fill = f.fill;
    if (fill !== undefined && (kind === undefined ? typeof fill !== 'number' || !Number.isFinite(fill) : typeof fill !== 'string' && !(typeof fill === 'number' && Number.isFinite(fill)))) fail(`input "${name}": expected fill to be ${kind === undefined ? 'a finite number' : 'a string or a finite number'}, got ${JSON.stringify(fill)}.`);
    const dtype = (f as NumericColumns).dtype;
    if (dtype !== undefined && (kind !== undefined || (dtype !== 'float32' && dtype !== 'int32'))) fail(`input "${name}": dtype is for numeric columns, float32 or int32; got ${JSON.stringify(dtype)}${kind ? ` with ${kind}` : ''}.`);
  }

  /** The inputs' names, in the order the encoder gives them. */
  get inputNames(): string[] {
    return [...this.features.keys()];
  }

  /** Every raw column the encoder reads. */
  get columns(): string[] {
    return [...new Set(this.spec(false).features.flatMap((f) => ('columns' in f ? f.columns : [f.column])))];
  }

  /** One feature as JSON (a lookup's vocabulary included when `vocabularies`). */
  private featureSpec(name: string, f: RowFeature | FeatureSpec, vocabularies: boolean): FeatureSpec {
    if ('kind' in f) return f;
    const fill = f.fill !== undefined ? { fill: f.fill } : {};
    if ('lookup' in f) {
      const l = f.lookup;
      return { kind: 'lookup', name, column: f.column, tokens: l instanceof StringLookup ? 'string' : 'integer', vocabulary: vocabularies ? l.getVocabulary().slice(l.table().reserved) : [], ...(l.maskToken !== undefined ? { maskToken: l.maskToken } : {}), numOovIndices: l.numOovIndices, outputMode: l.outputMode, ...fill };
    }
    if ('hashing' in f) {
      const h = f.hashing;
      return { kind: 'hashing', name, column: f.column, numBins: h.numBins, ...(h.maskValue !== undefined ? { maskValue: h.maskValue } : {}), salt: h.salt, outputMode: h.outputMode, ...fill };
    }
    if ('hashedCrossing' in f) return { kind: 'hashedCrossing', name, columns: [...f.columns], numBins: f.hashedCrossing.numBins, outputMode: f.hashedCrossing.outputMode, ...fill };
    if ('textVectorization' in f) {
      const spec = f.textVectorization.textFeature(name, f.column, f.fill);
      return vocabularies ? spec : { ...spec, vocabulary: [] };
    }
    return { kind: 'numeric', name, columns: f.columns ? [...f.columns] : [f.column!], dtype: f.dtype ?? 'float32', ...(f.fill !== undefined ? { fill: f.fill as number } : {}) };
  }

  private spec(vocabularies: boolean, order?: readonly string[]): RowsSpec {
    const names = order ?? this.inputNames;
    return { format: 'kiln-rows', version: 1, features: names.map((n) => this.featureSpec(n, this.features.get(n)!, vocabularies)) };
  }

  /**
   * Adapts every lookup on its column of `rows` (Keras's FeatureSpace.adapt):
   * the values present (lists flattened), missing ones (null, NaN) left out.
   * @example await encoder.adapt(trainRows);
   */
  async adapt(rows: readonly Row[]): Promise<void> {
    if (!Array.isArray(rows)) fail(`adapt expected a list of row objects, got ${rows === null ? 'null' : typeof rows}.`);
    for (const [name, f] of this.features) {
      if ('textVectorization' in f) {
        const texts = rows.map((row, r) => {
          if (row === null || typeof row !== 'object' || !(f.column in row)) fail(`adapt: row ${r} has no column ${JSON.stringify(f.column)} (input "${name}" reads it).`);
          return row[f.column];
        }).filter((x): x is string => typeof x === 'string');
        await f.textVectorization.adapt(texts);
        continue;
      }
      if (!('lookup' in f)) continue;
      const values = rows.flatMap((row, r) => {
        if (row === null || typeof row !== 'object' || !(f.column in row)) fail(`adapt: row ${r} has no column ${JSON.stringify(f.column)} (input "${name}" reads it).`);
        const v = row[f.column];
        return (Array.isArray(v) ? v : [v]).filter((x) => x !== null && x !== undefined && !(typeof x === 'number' && Number.isNaN(x)));
      });
      await (f.lookup as StringLookup).adapt(values as string[]);
    }
  }

  /** The first input whose lookup has no vocabulary yet. */
  private unadapted(): string | undefined {
    for (const [name, f] of this.features) if (('lookup' in f && !f.lookup.hasVocabulary()) || ('textVectorization' in f && !f.textVectorization.hasVocabulary())) return name;
    return undefined;
  }

  /**
   * The encoder as JSON, lookups' vocabularies included, features in `order`
   * (input names; default the encoder's own order). What save and export write.
   */
  toJSON(order?: readonly string[]): RowsSpec {
    if (order && (order.length !== this.features.size || order.some((n) => !this.features.has(n)))) fail(`expected the inputs ${order.map((n) => `"${n}"`).join(', ')}; the encoder gives ${this.inputNames.map((n) => `"${n}"`).join(', ')}.`);
    const missing = this.unadapted();
    if (missing) fail(`input "${missing}": adapt its lookup or text vectorization (or give it a vocabulary) first.`);
    return this.spec(true, order);
  }

  /** Each input's dtype and values per row, as the model must take them. */
  shapes(): Record<string, { dtype: 'float32' | 'int32'; width: number }> {
    return Object.fromEntries(this.toJSON().features.map((f) => [f.name, featureShape(f)]));
  }

  private codec(): RowCodec {
    const missing = this.unadapted();
    if (missing) fail(`input "${missing}": adapt its lookup (or give it a vocabulary) first.`);
    const tables = new Map(this.tables);
    for (const [name, f] of this.features) if ('lookup' in f) tables.set(name, f.lookup.table());
    for (const [name, f] of this.features) if ('textVectorization' in f) tables.set(name, f.textVectorization.table());
    return new RowCodec(this.spec(false), fail, tables);
  }

  /** Rows → the model's inputs by name, [rows, width] each. */
  encode(rows: readonly Row[]): Record<string, Tensor> {
    return Object.fromEntries(this.codec().encode(rows).map((e) => [e.name, Tensor.concrete({ dtype: e.dtype, shape: [...e.shape], data: e.data })]));
  }

  /** One row → the inputs without the batch dimension ([width] each): for `dataset.map` before `batch`. */
  encodeRow(row: Row): Record<string, Tensor> {
    return Object.fromEntries(this.codec().encode([row]).map((e) => [e.name, Tensor.concrete({ dtype: e.dtype, shape: [e.shape[1]!], data: e.data })]));
  }

  /** Rows → the inputs as a list in `order` (input names). */
  encodeList(rows: readonly Row[], order: readonly string[]): Tensor[] {
    const named = this.encode(rows);
    return order.map((n) => named[n]!);
  }
}

/** @example kiln.preprocessing.rowEncoder({ x: { columns: ['a', 'b'] }, city: { column: 'city', hashing: kiln.layers.hashing({ numBins: 32 }) } }) */
export const rowEncoder = (features: Readonly<Record<string, RowFeature>>): RowEncoder => new RowEncoder(features);

/** An encoder from `encoder.toJSON()` (lookups rebuilt from their vocabularies). @example kiln.preprocessing.rowEncoderFromJSON(JSON.parse(text)) */
export const rowEncoderFromJSON = (spec: RowsSpec): RowEncoder => new RowEncoder(spec);
