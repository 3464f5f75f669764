/**
 * @file Concrete tensors from JS values: nested arrays and typed arrays (float32
 * by default; float64 is converted to float32, never widened), constants and
 * seeded random draws.
 */
import { allocate, store } from '../interpret.js';
import { normals, nextSeed, uniforms } from '../random.js';
import { Tensor, type NestedArray } from '../tensor.js';
import { type DType } from '../types.js';
import { checkDtype, checkOptions, checkShape, checkSize, checkValues, describe, optionKeys } from '../check.js';
import { fail } from './util.js';

/** PyTorch-style options of the creation functions. */
export interface CreationOptions {
  dtype?: DType;
  /** A leaf that collects gradients (float32 only); ops on it are lazy. */
  requiresGrad?: boolean;
}

type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedArray;
  }
  return shape;
}

function flatten(values: NestedArray, shape: readonly number[], out: number[], depth = 0): void {
  if (depth === shape.length) {
    if (typeof values === 'number') out.push(values);
    else if (typeof values === 'boolean') out.push(values ? 1 : 0);
    else fail('tensor', `expected numbers or booleans at depth ${depth}, got ${Array.isArray(values) ? 'an array' : typeof values}`);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[depth]) {
    fail('tensor', `expected a nested array of shape [${shape.join(',')}], got a ragged array (length ${Array.isArray(values) ? values.length : 'scalar'} at depth ${depth})`);
  }
  for (const v of values) flatten(v, shape, out, depth + 1);
}

function defaultDtype(values: NestedArray | TypedArray): DType {
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof Uint8Array) return 'int32';
  if (typeof values === 'boolean') return 'bool';
  let first: unknown = values;
  while (Array.isArray(first)) first = first[0];
  return typeof first === 'boolean' ? 'bool' : 'float32';
}

/** `kiln.tensor`'s options form: `kiln.tensor(values, { shape, dtype, requiresGrad })`. */
export interface TensorOptions extends CreationOptions {
  shape?: readonly number[];
}

const tensorKeys = optionKeys<TensorOptions>({ shape: true, dtype: true, requiresGrad: true });
const creationKeys = optionKeys<CreationOptions>({ dtype: true, requiresGrad: true });

/**
 * A tensor from nested arrays or a typed array, with an optional shape and
 * dtype (TensorFlow.js' `tensor(values, shape?, dtype?)`), or an options
 * object `{ shape, dtype, requiresGrad }`. float64 converts to float32.
 * @example kiln.tensor([[1, 2], [3, 4]]) // f32[2,2]
 * @example kiln.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] }) // f32[2,3]
 */
export function tensor(values: NestedArray | TypedArray, shape?: readonly number[] | TensorOptions, dtype?: DType): Tensor {
  if (shape !== undefined && shape !== null && !Array.isArray(shape)) {
    checkOptions('tensor', shape, tensorKeys);
    if (dtype !== undefined) fail('tensor', `expected the dtype in the options object or as the third argument, not both`);
    const o = shape as TensorOptions;
    const t = tensor(values, o.shape, o.dtype);
    return o.requiresGrad ? t.requiresGrad_() : t;
  }
  const dt = dtype === undefined ? defaultDtype(values) : checkDtype('tensor', dtype);
  if (!ArrayBuffer.isView(values) && !Array.isArray(values) && typeof values !== 'number' && typeof values !== 'boolean') {
    fail('tensor', `expected values as a number, a boolean, a nested array or a typed array, got ${describe(values)}`);
  }
  const isTyped = ArrayBuffer.isView(values);
  if (isTyped && values instanceof DataView) fail('tensor', 'expected a typed array, got a DataView');
  const flat: ArrayLike<number> = isTyped ? (values as TypedArray) : [];
  const inferred = isTyped ? [flat.length] : inferShape(values as NestedArray);
  const finalShape = shape ? checkShape('tensor', shape, dt) : inferred;
  if (!isTyped) {
    checkSize('tensor', 'values', inferred, dt);
    flatten(values as NestedArray, inferred, flat as number[]);
  }
  const size = finalShape.reduce((a, b) => a * b, 1);
  if (size !== flat.length) fail('tensor', `expected ${size} values for shape [${finalShape.join(',')}], got ${flat.length}`);
  checkValues('tensor', flat, dt);
  return Tensor.concrete({ dtype: dt, shape: finalShape, data: store(dt, flat) });
}

/** `shape` filled with `value` (checked before anything is allocated). */
export function fill(shape: readonly number[], value: number, dtype: DType = 'float32', subject = 'fill'): Tensor {
  const dt = checkDtype(subject, dtype);
  const s = checkShape(subject, shape, dt);
  if (typeof value !== 'number' && typeof value !== 'boolean') fail(subject, `expected a number as the fill value, got ${describe(value)}`);
  checkValues(subject, [Number(value)], dt);
  const out = allocate(dt, s.reduce((a, b) => a * b, 1)).fill(dt === 'bool' ? (value ? 1 : 0) : Number(value));
  return Tensor.concrete({ dtype: dt, shape: s, data: out });
}
/** Zeros of `shape`. @example kiln.zeros([2, 3]) */
export const zeros = (shape: readonly number[], dtype: DType = 'float32'): Tensor => fill(shape, 0, dtype, 'zeros');
/** Ones of `shape`. @example kiln.ones([2, 3]) */
export const ones = (shape: readonly number[], dtype: DType = 'float32'): Tensor => fill(shape, 1, dtype, 'ones');

export interface RandomOptions {
  seed?: number;
  mean?: number;
  stddev?: number;
}

const randomNormalKeys = optionKeys<RandomOptions>({ seed: true, mean: true, stddev: true });

/** The options of {@link randomUniform}. */
export interface RandomUniformOptions {
  seed?: number;
  minval?: number;
  maxval?: number;
}
const randomUniformKeys = optionKeys<RandomUniformOptions>({ seed: true, minval: true, maxval: true });

/** Normal draws; with a seed, the same values on every run and platform. */
export function randomNormal(shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkOptions('randomNormal', options, randomNormalKeys);
  const n = checkSize('randomNormal', 'a shape', checkShape('randomNormal', shape), 'float32');
  const z = normals(n, options.seed ?? nextSeed());
  const [m, s] = [options.mean ?? 0, options.stddev ?? 1];
  return tensor(z.map((v) => m + s * v), shape);
}

/** Uniform draws in [minval, maxval). */
export function randomUniform(shape: readonly number[], options: RandomUniformOptions = {}): Tensor {
  checkOptions('randomUniform', options, randomUniformKeys);
  const n = checkSize('randomUniform', 'a shape', checkShape('randomUniform', shape), 'float32');
  const u = uniforms(n, options.seed ?? nextSeed());
  const [lo, hi] = [options.minval ?? 0, options.maxval ?? 1];
  return tensor(u.map((v) => lo + (hi - lo) * v), shape);
}

const withGrad = (t: Tensor, o: CreationOptions): Tensor => (o.requiresGrad ? t.requiresGrad_() : t);

/**
 * A tensor from a typed array (or nested arrays) and an optional shape;
 * float64 is converted to float32 unless a dtype is given.
 * @example kiln.fromArray(new Float64Array([1, 2, 3, 4]), [2, 2])
 */
export function fromArray(values: NestedArray | TypedArray, shape?: readonly number[], options: CreationOptions = {}): Tensor {
  checkOptions('fromArray', options, creationKeys);
  return withGrad(tensor(values, shape, options.dtype), options);
}

/** `shape` filled with `value` (NumPy's full). */
export function full(shape: readonly number[], value: number, options: CreationOptions = {}): Tensor {
  checkOptions('full', options, creationKeys);
  return withGrad(fill(shape, value, options.dtype, 'full'), options);
}

/**
 * start, start + step, … below stop (int32 when every argument is an integer, as NumPy and PyTorch).
 * @example kiln.arange(5) // i32[5] [0,1,2,3,4]
 */
export function arange(start: number, stop?: number, step = 1, options: CreationOptions = {}): Tensor {
  checkOptions('arange', options, creationKeys);
  const [a, b] = stop === undefined ? [0, start] : [start, stop];
  for (const [k, v] of [['start', a], ['stop', b]] as const) if (typeof v !== 'number' || !Number.isFinite(v)) fail('arange', `expected ${k} to be a finite number, got ${describe(v)}`);
  if (!(step !== 0 && Number.isFinite(step))) fail('arange', `expected a non-zero finite step, got ${step}`);
  const n = Math.max(0, Math.ceil((b - a) / step));
  const dtype = checkDtype('arange', options.dtype, [a, b, step].every(Number.isInteger) ? 'int32' : 'float32');
  checkSize('arange', 'a result', [n], dtype);
  return withGrad(tensor(Float64Array.from({ length: n }, (_, i) => a + i * step), [n], dtype), options);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options: CreationOptions = {}): Tensor {
  checkOptions('linspace', options, creationKeys);
  if (!Number.isInteger(steps) || steps < 0) fail('linspace', `expected a non-negative integer steps, got ${steps}`);
  checkSize('linspace', 'a result', [steps], checkDtype('linspace', options.dtype));
  const values = Float64Array.from({ length: steps }, (_, i) => (steps === 1 ? start : start + ((end - start) * i) / (steps - 1)));
  return withGrad(tensor(values, [steps], options.dtype ?? 'float32'), options);
}

/** The n×m identity (m = n by default). */
export function eye(n: number, m = n, options: CreationOptions = {}): Tensor {
  checkOptions('eye', options, creationKeys);
  checkShape('eye', [n, m], checkDtype('eye', options.dtype), 'size [n, m]');
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return withGrad(tensor(values, [n, m], options.dtype ?? 'float32'), options);
}

/** The options of rand and randn: a dtype (float32), requiresGrad and a seed. */
export interface SeededCreationOptions extends CreationOptions {
  seed?: number;
}
const seededKeys = optionKeys<SeededCreationOptions>({ dtype: true, requiresGrad: true, seed: true });

/** Uniform draws in [0, 1), seeded. */
export function rand(shape: readonly number[], options: SeededCreationOptions = {}): Tensor {
  checkOptions('rand', options, seededKeys);
  if (checkDtype('rand', options.dtype) !== 'float32') fail('rand', `expected dtype float32, got ${options.dtype}`);
  return withGrad(randomUniform(shape, { seed: options.seed }), options);
}

/** Standard normal draws, seeded. */
export function randn(shape: readonly number[], options: SeededCreationOptions = {}): Tensor {
  checkOptions('randn', options, seededKeys);
  if (checkDtype('randn', options.dtype) !== 'float32') fail('randn', `expected dtype float32, got ${options.dtype}`);
  return withGrad(randomNormal(shape, { seed: options.seed }), options);
}

/** Integers uniform in [low, high), int32, seeded. */
export function randint(low: number, high: number, shape: readonly number[], options: { seed?: number } = {}): Tensor {
  checkOptions('randint', options, ['seed']);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) fail('randint', `expected integers low < high, got ${low} and ${high}`);
  checkValues('randint', [low, high - 1], 'int32');
  const n = checkSize('randint', 'a shape', checkShape('randint', shape, 'int32'), 'int32');
  const u = uniforms(n, options.seed ?? nextSeed());
  return tensor(Int32Array.from(u, (v) => low + Math.floor(v * (high - low))), shape, 'int32');
}
