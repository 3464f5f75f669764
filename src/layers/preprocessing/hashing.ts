/**
 * @file Host-side hashing layers, as Keras's Hashing and HashedCrossing: values
 * (strings or numbers) → bins by a hash, with no vocabulary to learn. They run in
 * JavaScript like the lookups; the hash is kiln/runtime's (src/runtime/rows.ts:
 * FNV-1a finished with MurmurHash3's fmix32, salt XORed in), so a row encoder
 * in an exported artifact bins exactly as these layers do. Keras hashes with
 * FarmHash64 (SipHash when salted): the same options, different bins.
 */
import { checkRequiredOptions } from '../../../compiler/check.js';
import { KilnError } from '../../../compiler/errors.js';
import { Tensor } from '../../../compiler/tensor.js';
import { crossBin, hashBin, indicesToVectors, type OutputMode, type Token } from '../../runtime/rows.js';
import { uniqueLayerName } from '../layer.js';

export interface HashingArgs {
  name?: string;
  /** How many bins, the mask's bin included. */
  numBins: number;
  /** A value that means "masked": it takes bin 0, and the others bins 1 … numBins-1. */
  maskValue?: Token;
  /** An unsigned 32-bit integer mixed into the hash: another salt, other bins. */
  salt?: number;
  /** 'int' (default): a bin per value; 'one_hot', 'multi_hot', 'count': a vector of numBins per row. */
  outputMode?: OutputMode;
}

const isValue = (v: unknown): v is Token => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function checkBins(subject: string, numBins: unknown, min: number): void {
  if (!Number.isInteger(numBins) || (numBins as number) < min) throw new KilnError(`${subject}: expected numBins to be an integer >= ${min}, got ${JSON.stringify(numBins)}.`);
}

/** Values as a flat list with the shape they came in: a value, a list, or a list of equal-length lists. */
function flatten(subject: string, input: unknown): { flat: Token[]; shape: number[] } {
  const nested = Array.isArray(input) ? input : [input];
  const rank2 = nested.length > 0 && nested.every(Array.isArray);
  if (rank2 && new Set((nested as unknown[][]).map((r) => r.length)).size > 1) throw new KilnError(`${subject}: expected rows of one length; pad them (kiln.utils.padSequences).`);
  const flat = (rank2 ? (nested as unknown[][]).flat() : nested) as unknown[];
  flat.forEach((v, i) => {
    if (!isValue(v)) throw new KilnError(`${subject}: expected strings or finite numbers, got ${v === null ? 'null' : typeof v === 'number' ? v : typeof v} at ${i}.`);
  });
  const shape = rank2 ? [nested.length, (nested[0] as unknown[]).length] : Array.isArray(input) ? [flat.length] : [];
  return { flat: flat as Token[], shape };
}

/**
 * Values → bins by a hash (Keras's Hashing), run on the host: a value, a list, or
 * a list of rows; int32 bins of the same shape, or with outputMode one_hot /
 * multi_hot / count a float32 vector of numBins per row.
 * @example kiln.layers.hashing({ numBins: 8 }).call(['Biscoe', 'Dream'])   // int32 [2], each in 0…7
 */
export class Hashing {
  readonly className = 'Hashing';
  readonly name: string;
  readonly numBins: number;
  readonly maskValue?: Token;
  readonly salt: number;
  readonly outputMode: OutputMode;

  constructor(args: HashingArgs) {
    checkRequiredOptions('hashing', args, ['name', 'numBins', 'maskValue', 'salt', 'outputMode']);
    this.name = args.name ?? uniqueLayerName('Hashing');
    const subject = `Hashing "${this.name}"`;
    checkBins(subject, args.numBins, args.maskValue === undefined ? 1 : 2);
    if (args.maskValue !== undefined && !isValue(args.maskValue)) throw new KilnError(`${subject}: expected maskValue to be a string or a finite number, got ${typeof args.maskValue}.`);
    const salt = args.salt ?? 0;
    if (!Number.isInteger(salt) || salt < 0 || salt > 0xffffffff) throw new KilnError(`${subject}: expected salt to be an unsigned 32-bit integer, got ${JSON.stringify(args.salt)}.`);
    const outputMode = args.outputMode ?? 'int';
    if (!['int', 'one_hot', 'multi_hot', 'count'].includes(outputMode)) throw new KilnError(`${subject}: expected outputMode to be int, one_hot, multi_hot or count, got ${JSON.stringify(outputMode)}.`);
    this.numBins = args.numBins;
    this.maskValue = args.maskValue;
    this.salt = salt;
    this.outputMode = outputMode;
  }

  /** One value's bin. */
  bin(value: Token): number {
    return hashBin(value, this.numBins, this.maskValue, this.salt);
  }

  /**
   * @example
   * kiln.layers.hashing({ numBins: 4, maskValue: '' }).call([['a', ''], ['b', 'c']])   // int32 [2,2]: '' → 0, others 1…3
   */
  call(values: Token | readonly Token[] | readonly (readonly Token[])[]): Tensor {
    const subject = `Hashing "${this.name}"`;
    const { flat, shape } = flatten(subject, values);
    const ids = Int32Array.from(flat, (v) => this.bin(v));
    if (this.outputMode === 'int') return Tensor.concrete({ dtype: 'int32', shape, data: ids });
    const perRow = shape.length === 2 ? shape[1]! : 1;
    if (this.outputMode === 'one_hot' && perRow !== 1) throw new KilnError(`${subject}: outputMode 'one_hot' takes one value per row, got rows of ${perRow}.`);
    const rows = shape.length === 0 ? 1 : shape[0]!;
    return Tensor.concrete({ dtype: 'float32', shape: [rows, this.numBins], data: indicesToVectors(ids, perRow, this.numBins, this.outputMode, new Float32Array(rows * this.numBins)) });
  }

  getConfig(): object {
    return { name: this.name, numBins: this.numBins, maskValue: this.maskValue, salt: this.salt, outputMode: this.outputMode };
  }
}

export interface HashedCrossingArgs {
  name?: string;
  /** How many bins the crossed values fall into. */
  numBins: number;
  /** 'int' (default): a bin per row; 'one_hot': a vector of numBins per row. */
  outputMode?: 'int' | 'one_hot';
}

/**
 * Crosses two or more categorical features by hashing their values together
 * (Keras's HashedCrossing), run on the host: `call([a, b, …])` with one value or
 * one list per feature (lists of one length) → int32 bins, or one_hot vectors.
 * The order of the features matters, as in Keras.
 * @example kiln.layers.hashedCrossing({ numBins: 16 }).call([['Biscoe', 'Dream'], ['MALE', 'FEMALE']])   // int32 [2]
 */
export class HashedCrossing {
  readonly className = 'HashedCrossing';
  readonly name: string;
  readonly numBins: number;
  readonly outputMode: 'int' | 'one_hot';

  constructor(args: HashedCrossingArgs) {
    checkRequiredOptions('hashedCrossing', args, ['name', 'numBins', 'outputMode']);
    this.name = args.name ?? uniqueLayerName('HashedCrossing');
    checkBins(`HashedCrossing "${this.name}"`, args.numBins, 1);
    const outputMode = args.outputMode ?? 'int';
    if (outputMode !== 'int' && outputMode !== 'one_hot') throw new KilnError(`HashedCrossing "${this.name}": expected outputMode to be int or one_hot, got ${JSON.stringify(outputMode)}.`);
    this.numBins = args.numBins;
    this.outputMode = outputMode;
  }

  /** The bin of one combination of values, in feature order. */
  bin(values: readonly Token[]): number {
    return crossBin(values, this.numBins);
  }

  call(features: readonly (Token | readonly Token[])[]): Tensor {
    const subject = `HashedCrossing "${this.name}"`;
    if (!Array.isArray(features) || features.length < 2) throw new KilnError(`${subject}: expected a list of two or more features to cross, got ${Array.isArray(features) ? `a list of ${features.length}` : typeof features}.`);
    const columns = features.map((f, i) => {
      const { flat, shape } = flatten(`${subject}: feature ${i}`, f);
      if (shape.length > 1) throw new KilnError(`${subject}: feature ${i} has shape [${shape.join(',')}]; expected one value or a list of values (one per row).`);
      return { flat, scalar: shape.length === 0 };
    });
    const n = columns[0]!.flat.length;
    columns.forEach((c, i) => {
      if (c.flat.length !== n || c.scalar !== columns[0]!.scalar) throw new KilnError(`${subject}: feature ${i} has ${c.scalar ? 'one value' : `${c.flat.length} values`}, feature 0 has ${columns[0]!.scalar ? 'one value' : `${n} values`}; expected the same.`);
    });
    const ids = Int32Array.from({ length: n }, (_, r) => this.bin(columns.map((c) => c.flat[r]!)));
    const scalar = columns[0]!.scalar;
    if (this.outputMode === 'int') return Tensor.concrete({ dtype: 'int32', shape: scalar ? [] : [n], data: ids });
    return Tensor.concrete({ dtype: 'float32', shape: scalar ? [this.numBins] : [n, this.numBins], data: indicesToVectors(ids, 1, this.numBins, 'one_hot') });
  }

  getConfig(): object {
    return { name: this.name, numBins: this.numBins, outputMode: this.outputMode };
  }
}

/** @example kiln.layers.hashing({ numBins: 64, salt: 7 }) */
export const hashing = (args: HashingArgs): Hashing => new Hashing(args);
/** @example kiln.layers.hashedCrossing({ numBins: 32, outputMode: 'one_hot' }) */
export const hashedCrossing = (args: HashedCrossingArgs): HashedCrossing => new HashedCrossing(args);
