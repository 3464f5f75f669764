/**
 * @file Argument checks at the public API's edge, shared by every front end:
 * option keys (unknown ones refused, as Keras refuses unknown kwargs), shapes
 * (non-negative integers within the engine's size limit), dtypes, positive
 * integers and integer ranges. Each throws a KilnError naming the function,
 * the argument, what it got and what was expected.
 */
import { userError } from './errors.js';
import { captureOrigin } from './source.js';
import { dtypes, type DType } from './types.js';

/**
 * The accepted keys of an options type, one `true` a key: the object literal
 * must list every key of `T` and nothing else, so tsc keeps the list and the
 * type in step.
 */
export type OptionKeys<T> = { readonly [K in keyof T]-?: true };

/** The key list of an options type, checked against the type by tsc (see {@link OptionKeys}). */
export const optionKeys = <T>(keys: OptionKeys<T>): readonly string[] => Object.freeze(Object.keys(keys));

/** The largest tensor the engine holds, in bytes: half the 4 GiB a wasm32 memory can address. */
export const MAX_TENSOR_BYTES = 2 ** 31;

const bytesPer: Record<DType, number> = { float32: 4, int32: 4, bool: 1 };

function fail(subject: string, message: string): never {
  throw userError(subject, message, captureOrigin());
}

/** A value as error messages show it: JSON where it has one, else its kind. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) return `a ${v.constructor?.name ?? 'object'}`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof v;
  }
}

/**
 * Refuses keys of `options` not in `accepted` (and an options argument that is
 * not a plain object): `dense: unknown option 'unit'; expected one of units, activation, …`.
 */
export function checkOptions(subject: string, options: unknown, accepted: readonly string[]): void {
  checkOptionsObject(subject, options);
  if (options === undefined) return;
  const unknown = Object.keys(options as object).filter((k) => !accepted.includes(k));
  if (unknown.length === 0) return;
  const which = unknown.map((k) => `'${k}'`).join(', ');
  const list = accepted.length ? `expected one of ${accepted.join(', ')}` : 'it takes no options';
  fail(subject, `unknown option${unknown.length > 1 ? 's' : ''} ${which}; ${list}`);
}

/** Refuses an options argument that is given but is not a plain object (null, a number, a list…): the check for functions whose options have no fixed key list here. */
export function checkOptionsObject(subject: string, options: unknown): void {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) fail(subject, `expected an options object, got ${options === null ? 'null' : describe(options)}`);
}

/** `checkOptions` for an options argument that must be given (it has required keys): undefined is refused too. */
export function checkRequiredOptions(subject: string, options: unknown, accepted: readonly string[]): void {
  if (options === undefined) fail(subject, `expected an options object, got undefined`);
  checkOptions(subject, options, accepted);
}

/** One of the three dtypes; 'float64' means float32 (converted, as PyTorch and Keras do), undefined means `fallback`. */
export function checkDtype(subject: string, dtype: unknown, fallback: DType = 'float32', what = 'dtype'): DType {
  if (dtype === undefined) return fallback;
  if (dtype === 'float64') return 'float32';
  if (typeof dtype !== 'string' || !(dtypes as readonly string[]).includes(dtype)) fail(subject, `expected ${what} to be one of ${dtypes.join(', ')} (float64 converts to float32), got ${describe(dtype)}`);
  return dtype as DType;
}

/** `v` as a file or folder path: a non-empty string. */
export function checkPath(subject: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) fail(subject, `expected a file path (a non-empty string), got ${describe(v)}`);
  return v as string;
}

/** `v` as a positive integer (units, filters, kernel sizes …). */
export function checkPositiveInt(subject: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(subject, `expected ${what} to be a positive integer, got ${describe(v)}`);
  return v as number;
}

/** `v` as an integer in [min, max]. */
export function checkIntRange(subject: string, what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(subject, `expected ${what} to be an integer in [${min}, ${max}], got ${describe(v)}`);
  return v as number;
}

/** Refuses a tensor of `elements` × dtype bytes above {@link MAX_TENSOR_BYTES}, before anything is allocated. */
export function checkSize(subject: string, what: string, shape: readonly number[], dtype: DType = 'float32'): number {
  const elements = shape.reduce((a, b) => a * b, 1);
  const bytes = elements * bytesPer[dtype];
  if (bytes > MAX_TENSOR_BYTES) fail(subject, `expected ${what} of at most ${MAX_TENSOR_BYTES} bytes (2 GiB, the engine's limit for one tensor), got [${shape.join(',')}] = ${bytes} bytes`);
  return elements;
}

/** A shape of non-negative integers (a JS array) whose tensor fits the engine; returns a copy. */
export function checkShape(subject: string, shape: unknown, dtype: DType = 'float32', what = 'shape'): number[] {
  const ok = Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0);
  if (!ok) fail(subject, `expected ${what} to be an array of non-negative integers, got ${describe(shape)}`);
  const copy = [...(shape as number[])];
  checkSize(subject, `a ${what}`, copy, dtype);
  return copy;
}

const int32Range: Record<DType, [number, number] | undefined> = { int32: [-(2 ** 31), 2 ** 31 - 1], bool: undefined, float32: undefined };

/** Refuses values that `dtype` cannot hold exactly (non-integers and out-of-range values for int32); NaN for int32 too. */
export function checkValues(subject: string, values: ArrayLike<number>, dtype: DType): void {
  const range = int32Range[dtype];
  if (!range) return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) fail(subject, `expected integers for dtype int32, got ${v} at index ${i}`);
    if (v < range[0] || v > range[1]) fail(subject, `expected int32 values in [${range[0]}, ${range[1]}], got ${v} at index ${i}`);
  }
}
