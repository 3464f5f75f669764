/**
 * @file Host-side lookup layers, as Keras's StringLookup and IntegerLookup: a
 * vocabulary (given, or adapted by frequency) maps tokens to int32 indices, with
 * out-of-vocabulary buckets and an optional mask token, or back (`invert`). They
 * run in JavaScript — strings never enter wasm — in an input pipeline
 * (`dataset.map`) or before `predict`. Their index table is kiln/runtime's
 * (src/runtime/rows.ts), so a row encoder built on them
 * (`kiln.preprocessing.rowEncoder`) carries the vocabulary into saved models and
 * artifacts and encodes there exactly as here.
 */
import { checkOptions } from '../../../compiler/check.js';
import { KilnError } from '../../../compiler/errors.js';
import { Tensor } from '../../../compiler/tensor.js';
import { Dataset } from '../../data/dataset.js';
import { indicesToVectors, LookupTable } from '../../runtime/rows.js';
import { uniqueLayerName } from '../layer.js';

type Token = string | number;
/** Tokens as `call` and `adapt` take them: one, a list, a list of lists (rows), or (adapt) a Dataset of those. */
export type Tokens<T extends Token> = T | readonly T[] | readonly (readonly T[])[];

export interface LookupArgs<T extends Token> {
  name?: string;
  /** The vocabulary, most useful first (else `adapt`). */
  vocabulary?: readonly T[];
  /** The most indices, mask and OOV buckets included (adapt keeps the most frequent tokens). */
  maxTokens?: number;
  /** How many out-of-vocabulary buckets (default 1); an unknown token goes to one by a hash of it. */
  numOovIndices?: number;
  /** A token meaning "padding", at index 0 (default none). */
  maskToken?: T;
  /** The token `invert` gives for an OOV index (default '[UNK]' / -1). */
  oovToken?: T;
  /** Map indices back to tokens. */
  invert?: boolean;
  /** 'int' (default): an index per token; 'one_hot', 'multi_hot', 'count': a vector of vocabularySize() per row. */
  outputMode?: 'int' | 'one_hot' | 'multi_hot' | 'count';
}

const KEYS = ['name', 'vocabulary', 'maxTokens', 'numOovIndices', 'maskToken', 'oovToken', 'invert', 'outputMode'];

abstract class Lookup<T extends Token> {
  readonly className: string;
  readonly name: string;
  readonly maxTokens?: number;
  readonly numOovIndices: number;
  readonly maskToken?: T;
  readonly oovToken: T;
  readonly invert: boolean;
  readonly outputMode: 'int' | 'one_hot' | 'multi_hot' | 'count';
  private vocabulary?: T[];
  private lookupTable?: LookupTable;

  protected constructor(className: string, args: LookupArgs<T>, defaultOov: T, private readonly tokenKind: string) {
    checkOptions(className === 'StringLookup' ? 'stringLookup' : 'integerLookup', args, KEYS);
    this.className = className;
    this.name = args.name ?? uniqueLayerName(className);
    const subject = `${className} "${this.name}"`;
    const { maxTokens, numOovIndices = 1, invert = false, outputMode = 'int' } = args;
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw new KilnError(`${subject}: expected maxTokens to be a positive integer, got ${JSON.stringify(maxTokens)}.`);
    if (!Number.isInteger(numOovIndices) || numOovIndices < 0) throw new KilnError(`${subject}: expected numOovIndices to be an integer >= 0, got ${JSON.stringify(numOovIndices)}.`);
    if (!['int', 'one_hot', 'multi_hot', 'count'].includes(outputMode)) throw new KilnError(`${subject}: expected outputMode to be int, one_hot, multi_hot or count, got ${JSON.stringify(outputMode)}.`);
    if (invert && outputMode !== 'int') throw new KilnError(`${subject}: invert works with outputMode 'int' only, got ${JSON.stringify(outputMode)}.`);
    this.maxTokens = maxTokens;
    this.numOovIndices = numOovIndices;
    this.maskToken = args.maskToken;
    this.oovToken = args.oovToken ?? defaultOov;
    this.invert = invert;
    this.outputMode = outputMode;
    if (args.vocabulary) this.setVocabulary(args.vocabulary);
  }

  protected get subject(): string {
    return `${this.className} "${this.name}"`;
  }

  /** The check that a token has the layer's type. */
  protected abstract isToken(x: unknown): x is T;

  /** Indices before the vocabulary: the mask (if any), then the OOV buckets. */
  private get reserved(): number {
    return (this.maskToken !== undefined ? 1 : 0) + this.numOovIndices;
  }

  /** Replaces the vocabulary (tokens without the mask and OOV tokens, most useful first). */
  setVocabulary(vocabulary: readonly T[]): void {
    if (!Array.isArray(vocabulary) || !vocabulary.every((t) => this.isToken(t))) throw new KilnError(`${this.subject}: expected the vocabulary to be a list of ${this.tokenKind}s.`);
    const seen = new Set<T>();
    for (const t of vocabulary) {
      if (seen.has(t)) throw new KilnError(`${this.subject}: the vocabulary holds ${JSON.stringify(t)} twice.`);
      if (t === this.maskToken) throw new KilnError(`${this.subject}: the vocabulary holds the mask token ${JSON.stringify(t)}; leave it out (it takes index 0).`);
      seen.add(t);
    }
    if (this.maxTokens !== undefined && vocabulary.length + this.reserved > this.maxTokens) {
      throw new KilnError(`${this.subject}: expected at most maxTokens = ${this.maxTokens} indices, got a vocabulary of ${vocabulary.length} plus ${this.reserved} reserved.`);
    }
    this.vocabulary = [...vocabulary];
    this.lookupTable = new LookupTable(this.vocabulary, this.maskToken, this.numOovIndices);
  }

  /** Every index's token: the mask, the OOV token per bucket, then the vocabulary (Keras's get_vocabulary). */
  getVocabulary(): T[] {
    const head: T[] = [];
    if (this.maskToken !== undefined) head.push(this.maskToken);
    for (let i = 0; i < this.numOovIndices; i++) head.push(this.oovToken);
    return [...head, ...this.needVocabulary()];
  }

  /** How many indices there are (the mask and OOV buckets included). */
  vocabularySize(): number {
    return this.reserved + this.needVocabulary().length;
  }

  private needVocabulary(): T[] {
    if (!this.vocabulary) throw new KilnError(`${this.subject}: expected adapt(data) or a vocabulary first.`);
    return this.vocabulary;
  }

  /** Learns the vocabulary from data: tokens by descending count (ties in ascending order), at most maxTokens in all. */
  async adapt(data: Tokens<T> | Dataset<Tokens<T>>): Promise<void> {
    const counts = new Map<T, number>();
    const add = (x: unknown, where: string): void => {
      if (Array.isArray(x)) return x.forEach((e, i) => add(e, `${where}[${i}]`));
      if (!this.isToken(x)) throw new KilnError(`${this.subject}: adapt expected ${this.tokenKind}s, got ${x === null ? 'null' : typeof x} at ${where}.`);
      if (x !== this.maskToken) counts.set(x, (counts.get(x) ?? 0) + 1);
    };
    if (data instanceof Dataset) {
      let i = 0;
      for await (const e of data) add(e, `element ${i++}`);
    } else add(data, 'data');
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([t]) => t);
    this.vocabulary = undefined;
    this.setVocabulary(this.maxTokens === undefined ? sorted : sorted.slice(0, Math.max(0, this.maxTokens - this.reserved)));
  }

  /** Whether the lookup has a vocabulary (given, or from adapt). */
  hasVocabulary(): boolean {
    return this.vocabulary !== undefined;
  }

  /** The index table (kiln/runtime's, shared with row encoders and artifacts): mask, OOV buckets, vocabulary. */
  table(): LookupTable {
    this.needVocabulary();
    return this.lookupTable!;
  }

  /** One token's index. */
  private lookup(token: T): number {
    const i = this.table().lookup(token);
    if (i < 0) throw new KilnError(`${this.subject}: ${JSON.stringify(token)} is not in the vocabulary and numOovIndices is 0.`);
    return i;
  }

  /**
   * Tokens → int32 indices of the same shape (outputMode 'int'), or a vector of
   * vocabularySize() per row; with `invert`, indices (a Tensor or numbers) → tokens.
   * @example lookup.call(['Biscoe', 'Dream', 'Atlantis'])   // int32 [3]: unknown → the OOV index
   */
  call(tokens: Tokens<T>): Tensor;
  call(indices: Tensor | number[] | number[][]): T[] | T[][];
  call(input: unknown): Tensor | T[] | T[][] {
    const vocab = this.getVocabulary();
    if (this.invert) {
      const rows = input instanceof Tensor ? input.arraySync() : input;
      const back = (x: unknown): unknown => (Array.isArray(x) ? x.map(back) : Number.isInteger(x) && (x as number) >= 0 && (x as number) < vocab.length ? vocab[x as number] : this.fail(`expected indices in [0, ${vocab.length}), got ${JSON.stringify(x)}`));
      return back(rows) as T[] | T[][];
    }
    const nested = Array.isArray(input) ? input : [input];
    const rank2 = nested.length > 0 && nested.every(Array.isArray);
    if (rank2 && new Set((nested as unknown[][]).map((r) => r.length)).size > 1) this.fail('expected rows of one length; pad them (kiln.utils.padSequences) or use paddedBatch');
    const flat = (rank2 ? (nested as unknown[][]).flat() : nested) as unknown[];
    flat.forEach((t, i) => { if (!this.isToken(t)) this.fail(`expected ${this.tokenKind}s, got ${t === null ? 'null' : typeof t} at ${i}`); });
    const ids = Int32Array.from(flat as T[], (t) => this.lookup(t));
    const rows = rank2 ? nested.length : Array.isArray(input) ? ids.length : 1;
    const width = rank2 ? (nested[0] as unknown[]).length : 1;
    if (this.outputMode === 'int') return Tensor.concrete({ dtype: 'int32', shape: rank2 ? [rows, width] : Array.isArray(input) ? [ids.length] : [], data: ids });
    const size = vocab.length;
    const perRow = rank2 ? width : 1;
    if (this.outputMode === 'one_hot' && perRow !== 1) this.fail(`outputMode 'one_hot' takes one token per row, got rows of ${perRow}`);
    const out = indicesToVectors(ids, perRow, size, this.outputMode, new Float32Array(rows * size));
    return Tensor.concrete({ dtype: 'float32', shape: [rows, size], data: out });
  }

  private fail(message: string): never {
    throw new KilnError(`${this.subject}: ${message}.`);
  }

  getConfig(): object {
    return { name: this.name, vocabulary: this.vocabulary, maxTokens: this.maxTokens, numOovIndices: this.numOovIndices, maskToken: this.maskToken, oovToken: this.oovToken, invert: this.invert, outputMode: this.outputMode };
  }
}

/**
 * Strings → int32 indices (Keras's StringLookup), run on the host.
 * @example
 * const island = kiln.layers.stringLookup();
 * await island.adapt(rows.map((r) => r.xs.Island));
 * island.call(['Biscoe', 'Dream'])   // int32 [2]
 */
export class StringLookup extends Lookup<string> {
  constructor(args: LookupArgs<string> = {}) {
    super('StringLookup', args, '[UNK]', 'string');
  }
  protected isToken(x: unknown): x is string {
    return typeof x === 'string';
  }
}

/**
 * Integers → int32 indices (Keras's IntegerLookup), run on the host.
 * @example kiln.layers.integerLookup({ vocabulary: [12, 36, 1138, 42] }).call([12, 1000])   // [1, 0]
 */
export class IntegerLookup extends Lookup<number> {
  constructor(args: LookupArgs<number> = {}) {
    super('IntegerLookup', args, -1, 'integer');
  }
  protected isToken(x: unknown): x is number {
    return typeof x === 'number' && Number.isInteger(x);
  }
}

/** @example kiln.layers.stringLookup({ vocabulary: ['a', 'b'] }) */
export const stringLookup = (args?: LookupArgs<string>): StringLookup => new StringLookup(args);
/** @example kiln.layers.integerLookup({ numOovIndices: 2 }) */
export const integerLookup = (args?: LookupArgs<number>): IntegerLookup => new IntegerLookup(args);
