/**
 * @file Concrete tensors from JS values: nested arrays and typed arrays (float32
 * by default; float64 is converted to float32, never widened), constants and
 * seeded random draws.
 */
import { store } from '../interpret.js';
import { normals, nextSeed, uniforms } from '../random.js';
import { Tensor, type NestedArray } from '../tensor.js';
import { type DType } from '../types.js';
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

/**
 * A tensor from nested arrays or a typed array (with `shape`).
 * @example kiln.tensor([[1, 2], [3, 4]]) // f32[2,2]
 */
export function tensor(values: NestedArray | TypedArray, shape?: readonly number[] | CreationOptions, dtype?: DType): Tensor {
  if (shape !== undefined && !Array.isArray(shape)) {
    const o = shape as CreationOptions;
    const t = tensor(values, undefined, o.dtype);
    return o.requiresGrad ? t.requiresGrad_() : t;
  }
  const isTyped = ArrayBuffer.isView(values);
  const flat: ArrayLike<number> = isTyped ? (values as TypedArray) : [];
  const inferred = isTyped ? [flat.length] : inferShape(values as NestedArray);
  if (!isTyped) flatten(values as NestedArray, inferred, flat as number[]);
  const finalShape = shape ? [...shape] : inferred;
  const size = finalShape.reduce((a, b) => a * b, 1);
  if (finalShape.some((d) => !Number.isInteger(d) || d < 0)) fail('tensor', `expected a shape of non-negative integers, got [${finalShape.join(',')}]`);
  if (size !== flat.length) fail('tensor', `expected ${size} values for shape [${finalShape.join(',')}], got ${flat.length}`);
  const dt = dtype ?? defaultDtype(values);
  if (dt === 'int32') for (let i = 0; i < flat.length; i++) if (!Number.isInteger(flat[i])) fail('tensor', `expected integers for dtype int32, got ${flat[i]} at index ${i}`);
  return Tensor.concrete({ dtype: dt, shape: finalShape, data: store(dt, flat) });
}

export function fill(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(new Float64Array(size).fill(value), shape, dtype);
}
export const zeros = (shape: readonly number[], dtype: DType = 'float32'): Tensor => fill(shape, 0, dtype);
export const ones = (shape: readonly number[], dtype: DType = 'float32'): Tensor => fill(shape, 1, dtype);

export interface RandomOptions {
  seed?: number;
  mean?: number;
  stddev?: number;
}

/** Normal draws; with a seed, the same values on every run and platform. */
export function randomNormal(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const z = normals(n, options.seed ?? nextSeed());
  const [m, s] = [options.mean ?? 0, options.stddev ?? 1];
  return tensor(z.map((v) => m + s * v), shape);
}

/** Uniform draws in [minval, maxval). */
export function randomUniform(shape: readonly number[], options: { seed?: number; minval?: number; maxval?: number } = {}): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
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
  return withGrad(tensor(values, shape, options.dtype), options);
}

/** `shape` filled with `value` (NumPy's full). */
export const full = (shape: readonly number[], value: number, options: CreationOptions = {}): Tensor => withGrad(fill(shape, value, options.dtype), options);

/**
 * start, start + step, … below stop (int32 when every argument is an integer, as NumPy and PyTorch).
 * @example kiln.arange(5) // i32[5] [0,1,2,3,4]
 */
export function arange(start: number, stop?: number, step = 1, options: CreationOptions = {}): Tensor {
  const [a, b] = stop === undefined ? [0, start] : [start, stop];
  if (!(step !== 0 && Number.isFinite(step))) fail('arange', `expected a non-zero finite step, got ${step}`);
  const n = Math.max(0, Math.ceil((b - a) / step));
  const dtype = options.dtype ?? ([a, b, step].every(Number.isInteger) ? 'int32' : 'float32');
  return withGrad(tensor(Float64Array.from({ length: n }, (_, i) => a + i * step), [n], dtype), options);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options: CreationOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) fail('linspace', `expected a non-negative integer steps, got ${steps}`);
  const values = Float64Array.from({ length: steps }, (_, i) => (steps === 1 ? start : start + ((end - start) * i) / (steps - 1)));
  return withGrad(tensor(values, [steps], options.dtype ?? 'float32'), options);
}

/** The n×m identity (m = n by default). */
export function eye(n: number, m = n, options: CreationOptions = {}): Tensor {
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return withGrad(tensor(values, [n, m], options.dtype ?? 'float32'), options);
}

/** Uniform draws in [0, 1), seeded. */
export const rand = (shape: readonly number[], options: CreationOptions & { seed?: number } = {}): Tensor => withGrad(randomUniform(shape, { seed: options.seed }), options);

/** Standard normal draws, seeded. */
export const randn = (shape: readonly number[], options: CreationOptions & { seed?: number } = {}): Tensor => withGrad(randomNormal(shape, { seed: options.seed }), options);

/** Integers uniform in [low, high), int32, seeded. */
export function randint(low: number, high: number, shape: readonly number[], options: { seed?: number } = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) fail('randint', `expected integers low < high, got ${low} and ${high}`);
  const n = shape.reduce((a, b) => a * b, 1);
  const u = uniforms(n, options.seed ?? nextSeed());
  return tensor(Int32Array.from(u, (v) => low + Math.floor(v * (high - low))), shape, 'int32');
}
