/**
 * @file TextVectorization, as Keras's: raw strings → standardized (Unicode-aware
 * lowercasing, punctuation stripping) → split (whitespace or characters) →
 * n-grams → indices from a vocabulary adapted by frequency ('int': one index per
 * token, padded or cut to outputSequenceLength) or one vector per text
 * ('multi_hot', 'count', 'tf_idf'). It runs on the host — strings never enter
 * wasm — in an input pipeline (`dataset.map`) or before `predict`. The
 * vocabulary is the lookup's: in 'int' mode index 0 is the padding ('') and 1
 * the out-of-vocabulary token '[UNK]'; in the vector modes index 0 is '[UNK]'.
 */
import { checkOptions } from '../../../compiler/check.js';
import { KilnError } from '../../../compiler/errors.js';
import { Tensor } from '../../../compiler/tensor.js';
import { Dataset } from '../../data/dataset.js';
import { uniqueLayerName } from '../layer.js';
import { ngramTokens, splitText, standardizeText, writeTextRow, type LookupTable, type TextFeature } from '../../runtime/rows.js';
import { StringLookup } from './lookup.js';

export type OutputMode = 'int' | 'multi_hot' | 'count' | 'tf_idf';

export interface TextVectorizationArgs {
  name?: string;
  /** The most indices, the padding and OOV token included (adapt keeps the most frequent tokens). */
  maxTokens?: number;
  /** 'lower_and_strip_punctuation' (default), 'lower', 'strip_punctuation', null (none), or a function of one text. */
  standardize?: 'lower_and_strip_punctuation' | 'lower' | 'strip_punctuation' | null | ((text: string) => string);
  /** 'whitespace' (default), 'character', null (the whole text is one token), or a function of one text. */
  split?: 'whitespace' | 'character' | null | ((text: string) => string[]);
  /** n-grams of the tokens: up to n (an integer), or the sizes listed; joined by a space. */
  ngrams?: number | readonly number[] | null;
  outputMode?: OutputMode;
  /** 'int' mode: every row padded (with 0) or cut at its end to this length; default the longest text's. */
  outputSequenceLength?: number;
  /** Vector modes: vectors of maxTokens entries even when the vocabulary is smaller. */
  padToMaxTokens?: boolean;
  /** The vocabulary (tokens without the padding and OOV token, most useful first), instead of adapt. */
  vocabulary?: readonly string[];
  /** 'tf_idf' with a given vocabulary: each token's inverse document frequency. */
  idfWeights?: readonly number[];
}

const KEYS = ['name', 'maxTokens', 'standardize', 'split', 'ngrams', 'outputMode', 'outputSequenceLength', 'padToMaxTokens', 'vocabulary', 'idfWeights'];

/**
 * Raw strings → token indices or per-text vectors, as Keras's TextVectorization.
 * @example
 * const vectorize = kiln.layers.textVectorization({ maxTokens: 20000, outputSequenceLength: 200 });
 * await vectorize.adapt(texts);
 * const x = vectorize.call(['the movie was great']);   // int32 [1, 200]
 */
export class TextVectorization {
  readonly className = 'TextVectorization';
  readonly name: string;
  readonly maxTokens?: number;
  readonly outputMode: OutputMode;
  readonly outputSequenceLength?: number;
  readonly padToMaxTokens: boolean;
  private readonly standardizeFn: (text: string) => string;
  private readonly splitFn: (text: string) => string[];
  private readonly ngramSizes: number[];
  private readonly config: { standardize: unknown; split: unknown; ngrams: unknown };
  private readonly lookup: StringLookup;
  private idf?: Float64Array;

  constructor(args: TextVectorizationArgs = {}) {
    checkOptions('textVectorization', args, KEYS);
    this.name = args.name ?? uniqueLayerName('TextVectorization');
    const { maxTokens, standardize = 'lower_and_strip_punctuation', split = 'whitespace', ngrams = null, outputMode = 'int', outputSequenceLength, padToMaxTokens = false } = args;
    if (!['int', 'multi_hot', 'count', 'tf_idf'].includes(outputMode)) this.fail(`expected outputMode 'int', 'multi_hot', 'count' or 'tf_idf', got ${JSON.stringify(outputMode)}`);
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 2)) this.fail(`expected maxTokens to be an integer >= 2 (the padding or OOV token and one more), got ${JSON.stringify(maxTokens)}`);
    if (outputSequenceLength !== undefined && (outputMode !== 'int' || !Number.isInteger(outputSequenceLength) || outputSequenceLength < 1)) {
      this.fail(outputMode !== 'int' ? `outputSequenceLength works with outputMode 'int' only, got ${JSON.stringify(outputMode)}` : `expected outputSequenceLength to be a positive integer, got ${JSON.stringify(outputSequenceLength)}`);
    }
    if (padToMaxTokens && (outputMode === 'int' || maxTokens === undefined)) this.fail(`padToMaxTokens needs a vector outputMode and maxTokens`);
    this.maxTokens = maxTokens;
    this.outputMode = outputMode;
    this.outputSequenceLength = outputSequenceLength;
    this.padToMaxTokens = padToMaxTokens;
    this.standardizeFn = standardizer(this.subject, standardize);
    this.splitFn = splitter(this.subject, split);
    this.ngramSizes = ngramSizes(this.subject, ngrams);
    this.config = { standardize: typeof standardize === 'function' ? 'custom' : standardize, split: typeof split === 'function' ? 'custom' : split, ngrams };
    // the vocabulary's reserved indices are Keras's: '' (padding) then '[UNK]' in 'int' mode, '[UNK]' alone otherwise
    this.lookup = new StringLookup({ name: `${this.name}/lookup`, maxTokens, numOovIndices: 1, ...(outputMode === 'int' ? { maskToken: '' } : {}), outputMode: outputMode === 'tf_idf' ? 'count' : outputMode });
    if (args.vocabulary) this.setVocabulary(args.vocabulary, args.idfWeights);
    else if (args.idfWeights) this.fail('idfWeights go with a vocabulary');
  }

  private get subject(): string {
    return `TextVectorization "${this.name}"`;
  }

  private fail(message: string): never {
    throw new KilnError(`${this.subject}: ${message}.`);
  }

  /** One text's tokens: standardized, split, then its n-grams (all 1-grams, then all 2-grams, …). */
  tokens(text: string): string[] {
    return ngramTokens(this.splitFn(this.standardizeFn(text)), this.ngramSizes);
  }

  /** Whether it has a vocabulary (adapted or given). */
  hasVocabulary(): boolean {
    return this.lookup.hasVocabulary();
  }

  /** The vocabulary as indices (what the row encoder and the runtime use). */
  table(): LookupTable {
    return this.lookup.table();
  }

  /**
   * This vectorizer as a row encoder's text feature: what travels in saved
   * models and artifacts. Custom standardize or split functions cannot travel,
   * and an 'int' output needs outputSequenceLength (a fixed width).
   */
  textFeature(name: string, column: string, fill?: string): TextFeature {
    const { standardize, split } = this.config;
    if (standardize === 'custom' || split === 'custom') this.fail(`a row encoder's text feature uses the built-in standardize and split (functions cannot travel in a saved model or an artifact), got a custom ${standardize === 'custom' ? 'standardize' : 'split'}`);
    if (this.outputMode === 'int' && this.outputSequenceLength === undefined) this.fail(`a row encoder's 'int' text feature needs outputSequenceLength (each row has a fixed width)`);
    return {
      kind: 'text', name, column, standardize: standardize as TextFeature['standardize'], split: split as TextFeature['split'], ngrams: [...this.ngramSizes],
      vocabulary: this.hasVocabulary() ? this.getVocabulary().slice(this.outputMode === 'int' ? 2 : 1) : [], outputMode: this.outputMode,
      width: this.outputMode === 'int' ? this.outputSequenceLength! : this.padToMaxTokens ? this.maxTokens! : this.hasVocabulary() ? this.vocabularySize() : 1,
      ...(this.idf ? { idf: Array.from(this.idf) } : {}), ...(fill !== undefined ? { fill } : {}),
    };
  }

  /** Every index's token: the padding and OOV token, then the vocabulary (Keras's get_vocabulary). */
  getVocabulary(): string[] {
    return this.lookup.getVocabulary();
  }

  vocabularySize(): number {
    return this.lookup.vocabularySize();
  }

  /** 'tf_idf': each index's inverse document frequency (the OOV token's is their mean). */
  getIdfWeights(): number[] | undefined {
    return this.idf && Array.from(this.idf);
  }

  /** Replaces the vocabulary (tokens without the padding and OOV token), with their idf weights in 'tf_idf' mode. */
  setVocabulary(vocabulary: readonly string[], idfWeights?: readonly number[]): void {
    if (this.outputMode === 'tf_idf') {
      if (!Array.isArray(idfWeights) || idfWeights.length !== vocabulary.length || !idfWeights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
        this.fail(`outputMode 'tf_idf' needs idfWeights: one finite number per vocabulary token (${vocabulary.length}), got ${Array.isArray(idfWeights) ? `${idfWeights.length} values` : String(idfWeights)}`);
      }
    } else if (idfWeights !== undefined) this.fail(`idfWeights go with outputMode 'tf_idf', not ${JSON.stringify(this.outputMode)}`);
    this.lookup.setVocabulary(vocabulary);
    if (idfWeights) {
      const mean = idfWeights.length ? idfWeights.reduce((a, b) => a + b, 0) / idfWeights.length : 0;
      this.idf = Float64Array.from([mean, ...idfWeights]);
    }
  }

  /**
   * Learns the vocabulary from texts (a list, or a Dataset of texts or lists of
   * texts): tokens by descending count (ties in ascending order), at most
   * maxTokens indices in all; in 'tf_idf' mode also each token's idf,
   * log(1 + documents / (1 + documents holding it)).
   */
  async adapt(data: string | readonly string[] | Dataset<string | readonly string[]>): Promise<void> {
    const counts = new Map<string, number>();
    const documents = new Map<string, number>();
    let total = 0;
    const add = (x: unknown, where: string): void => {
      if (Array.isArray(x)) return x.forEach((e, i) => add(e, `${where}[${i}]`));
      if (typeof x !== 'string') this.fail(`adapt expected texts (strings), got ${x === null ? 'null' : typeof x} at ${where}`);
      total++;
      const tokens = this.tokens(x);
      for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const t of new Set(tokens)) documents.set(t, (documents.get(t) ?? 0) + 1);
    };
    if (data instanceof Dataset) {
      let i = 0;
      for await (const e of data) add(e, `element ${i++}`);
    } else add(data, 'data');
    counts.delete(''); // the padding token is never a vocabulary entry
    const reserved = this.outputMode === 'int' ? 2 : 1;
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([t]) => t);
    const vocabulary = this.maxTokens === undefined ? sorted : sorted.slice(0, this.maxTokens - reserved);
    const idf = this.outputMode === 'tf_idf' ? vocabulary.map((t) => Math.log(1 + total / (1 + documents.get(t)!))) : undefined;
    this.setVocabulary(vocabulary, idf);
  }

  /**
   * Texts → int32 [texts, length] indices ('int'; a single text gives [length]),
   * or float32 [texts, size] vectors.
   * @example vectorize.call(['a good film', 'a bad one'])
   */
  call(texts: string | readonly string[]): Tensor {
    const single = typeof texts === 'string';
    const list = single ? [texts] : texts;
    if (!Array.isArray(list)) this.fail(`expected a text or a list of texts, got ${texts === null ? 'null' : typeof texts}`);
    list.forEach((t, i) => { if (typeof t !== 'string') this.fail(`expected texts (strings), got ${t === null ? 'null' : typeof t} at ${i}`); });
    const tokenized = list.map((t) => this.tokens(t));
    const table = this.table();
    if (this.outputMode === 'int') {
      const length = this.outputSequenceLength ?? Math.max(0, ...tokenized.map((t) => t.length));
      const out = new Int32Array(list.length * length);
      tokenized.forEach((tokens, i) => writeTextRow(tokens, table, 'int', length, undefined, out, i * length));
      return Tensor.concrete({ dtype: 'int32', shape: single ? [length] : [list.length, length], data: out });
    }
    const size = this.padToMaxTokens ? this.maxTokens! : this.vocabularySize();
    const out = new Float32Array(list.length * size);
    tokenized.forEach((tokens, i) => { if (tokens.length) writeTextRow(tokens, table, this.outputMode, size, this.idf, out, i * size); });
    return Tensor.concrete({ dtype: 'float32', shape: single ? [size] : [list.length, size], data: out });
  }

  getConfig(): object {
    return { name: this.name, maxTokens: this.maxTokens, ...this.config, outputMode: this.outputMode, outputSequenceLength: this.outputSequenceLength, padToMaxTokens: this.padToMaxTokens, vocabulary: this.getVocabulary().slice(this.outputMode === 'int' ? 2 : 1), idfWeights: this.idf ? Array.from(this.idf.subarray(1)) : undefined };
  }
}

function standardizer(subject: string, s: TextVectorizationArgs['standardize']): (text: string) => string {
  if (typeof s === 'function') return (t) => {
    const out = s(t);
    if (typeof out !== 'string') throw new KilnError(`${subject}: the standardize function returned ${typeof out}, expected a string.`);
    return out;
  };
  if (s === null || s === 'lower' || s === 'strip_punctuation' || s === 'lower_and_strip_punctuation') return (t) => standardizeText(t, s);
  throw new KilnError(`${subject}: expected standardize 'lower_and_strip_punctuation', 'lower', 'strip_punctuation', null or a function, got ${JSON.stringify(s)}.`);
}

function splitter(subject: string, s: TextVectorizationArgs['split']): (text: string) => string[] {
  if (typeof s === 'function') return (t) => {
    const out = s(t);
    if (!Array.isArray(out) || !out.every((w) => typeof w === 'string')) throw new KilnError(`${subject}: the split function must return a list of strings.`);
    return out;
  };
  if (s === null || s === 'whitespace' || s === 'character') return (t) => splitText(t, s); // characters: code points, as Keras's unicode split
  throw new KilnError(`${subject}: expected split 'whitespace', 'character', null or a function, got ${JSON.stringify(s)}.`);
}

function ngramSizes(subject: string, n: TextVectorizationArgs['ngrams']): number[] {
  if (n === null || n === undefined) return [];
  const sizes = typeof n === 'number' ? Array.from({ length: n }, (_, i) => i + 1) : Array.isArray(n) ? [...n] : undefined;
  if (!sizes || sizes.length === 0 || !sizes.every((k) => Number.isInteger(k) && k >= 1)) throw new KilnError(`${subject}: expected ngrams to be a positive integer or a list of them, got ${JSON.stringify(n)}.`);
  return sizes;
}

/** @example kiln.layers.textVectorization({ maxTokens: 10000, outputMode: 'tf_idf', ngrams: 2 }) */
export const textVectorization = (args?: TextVectorizationArgs): TextVectorization => new TextVectorization(args);
