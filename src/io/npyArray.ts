/**
 * The array that the file formats exchange: a dtype, a shape and a typed array in
 * C (row-major) order, with the byte-level helpers they share (element sizes,
 * endianness, Fortran reordering). Browser-safe: it imports no Node module and no
 * compiler code except the error class, so the runtime can use the decoders too.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';

/** The dtypes that .npy, .npz and safetensors files exchange with kiln. */
export type NpyDtype = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bool';
export const npyDtypes: readonly NpyDtype[] = ['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'];

/** Values of an array: one typed array per dtype (bool as 0/1 bytes, int64 as BigInt64Array). */
export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * An array as stored in a file, before any conversion to a kiln tensor.
 * `data` is always in C (row-major) order. `fortranOrder` records the file's layout:
 * true when read from a column-major .npy file; when writing, true asks for one.
 * @example const a: NpyArray = { dtype: 'float64', shape: [2], data: new Float64Array([1, 2]), fortranOrder: false };
 */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: NpyData;
  readonly fortranOrder: boolean;
}

/** What the writers take besides tensors: an array whose `fortranOrder` may be left out. */
export type NpyArrayLike = Omit<NpyArray, 'fortranOrder'> & { readonly fortranOrder?: boolean };

/** Bytes per element. */
export const itemSize: Record<NpyDtype, number> = { float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, bool: 1 };

const constructors = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, bool: Uint8Array,
} as const satisfies Record<NpyDtype, unknown>;

/** True on every platform kiln targets; checked rather than assumed. */
export const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws the KilnError every reader and writer uses: `subject: message.` */
export function fail(subject: string, message: string): never {
  throw new KilnError(`${subject}: ${message}.`);
}

/** `[2,3]`, as kiln prints shapes. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Number of elements, or undefined when a dimension is invalid or the product is not a safe integer. */
export function elementCount(shape: readonly unknown[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

/** Whether `x` is a kiln Tensor, told apart from an array by its `data()` method. */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && typeof (x as { data?: unknown }).data === 'function';
}

/**
 * The values of a concrete tensor as an array (float32, int32 or bool).
 * @example fromTensor(kiln.tensor([1, 2])) // { dtype: 'float32', shape: [2], data: Float32Array [1, 2], fortranOrder: false }
 */
export function fromTensor(t: Tensor, subject = 'fromTensor'): NpyArray {
  const value = t.value;
  if (!value) fail(subject, `cannot save symbolic tensor of shape [${t.shape.join(',')}] while tracing; save a concrete tensor instead`);
  const data = value.data instanceof constructors[value.dtype] ? value.data.slice() : constructors[value.dtype].from(value.data);
  return { dtype: value.dtype, shape: [...value.shape], data, fortranOrder: false };
}

/** A tensor or an array, checked: known dtype, valid shape, a typed array of the right kind and length. */
export function asNpyArray(x: Tensor | NpyArrayLike, subject: string): NpyArray {
  if (isTensor(x)) return fromTensor(x, subject);
  if (typeof x !== 'object' || x === null) fail(subject, `expected a Tensor or an array { dtype, shape, data }, got ${x === null ? 'null' : typeof x}`);
  const { dtype, shape, data } = x;
  if (!npyDtypes.includes(dtype)) fail(subject, `expected dtype ${npyDtypes.join(', ')}, got ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape)) fail(subject, `expected shape to be an array of dimension sizes, got ${typeof shape}`);
  const size = elementCount(shape);
  if (size === undefined) fail(subject, `expected shape to hold non-negative integers, got ${JSON.stringify(shape)}`);
  const want = constructors[dtype];
  if (!(data instanceof want)) fail(subject, `expected ${want.name} data for dtype ${dtype}, got ${data?.constructor?.name ?? typeof data}`);
  if (data.length !== size) fail(subject, `expected ${size} values for shape ${formatShape(shape)}, got ${data.length}`);
  return { dtype, shape: [...shape], data, fortranOrder: x.fortranOrder ?? false };
}

/** Reverses the bytes of each `size`-byte element in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** A typed array of `dtype` holding a copy of `bytes` (of the given endianness); bool bytes become 0/1. */
export function arrayFromBytes(dtype: NpyDtype, bytes: Uint8Array, littleEndian: boolean): NpyData {
  const copy = new Uint8Array(bytes); // a fresh, aligned buffer (Buffer.slice would share memory)
  if (littleEndian !== hostLittleEndian && itemSize[dtype] > 1) swapBytes(copy, itemSize[dtype]);
  if (dtype === 'bool') for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
  const Ctor = constructors[dtype];
  return new Ctor(copy.buffer, 0, copy.length / itemSize[dtype]);
}

/** A copy of the array's values as bytes of the given endianness; bool values become 0/1. */
export function bytesOfArray(array: Pick<NpyArray, 'dtype' | 'data'>, littleEndian: boolean): Uint8Array {
  const { data, dtype } = array;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (littleEndian !== hostLittleEndian && itemSize[dtype] > 1) swapBytes(bytes, itemSize[dtype]);
  if (dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i] ? 1 : 0;
  return bytes;
}

/**
 * Reorders elements of `size` bytes between Fortran (column-major) and C
 * (row-major) layouts: `toC` reads column-major bytes and writes row-major ones.
 */
export function reorderBytes(bytes: Uint8Array, shape: readonly number[], size: number, toC: boolean): Uint8Array {
  const count = bytes.length / size;
  if (shape.length < 2 || count === 0) return new Uint8Array(bytes);
  const out = new Uint8Array(bytes.length);
  const strides: number[] = []; // column-major strides, in elements
  let stride = 1;
  for (const d of shape) { strides.push(stride); stride *= d; }
  const index = new Array<number>(shape.length).fill(0);
  let offset = 0; // column-major offset of the row-major element i
  for (let i = 0; i < count; i++) {
    if (toC) out.set(bytes.subarray(offset * size, offset * size + size), i * size);
    else out.set(bytes.subarray(i * size, i * size + size), offset * size);
    for (let axis = shape.length - 1; axis >= 0; axis--) { // odometer over the row-major index
      index[axis]!++;
      offset += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      offset -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** Sets `record[key]` as an own property even for keys such as `__proto__` that files may hold. */
export function setEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
