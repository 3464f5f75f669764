/**
 * @file Argument handling shared by the op functions: JS numbers to scalar
 * tensors, axis normalisation, and user errors that point at the caller's line.
 */
import { describe } from '../check.js';
import { userError } from '../errors.js';
import { captureOrigin } from '../source.js';
import { Tensor } from '../tensor.js';
import { formatType, type DType } from '../types.js';

export type TensorLike = Tensor | number;

export function fail(subject: string, message: string): never {
  throw userError(subject, message, captureOrigin());
}

/** A scalar tensor of `dtype` holding `value`. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  const data = dtype === 'float32' ? new Float32Array([value]) : dtype === 'int32' ? new Int32Array([value]) : new Uint8Array([value ? 1 : 0]);
  return Tensor.concrete({ dtype, shape: [], data });
}

const isSymbolic = (x: unknown): boolean => typeof x === 'object' && x !== null && x.constructor?.name === 'SymbolicTensor';

/** What a non-tensor operand was, for errors; a functional-API SymbolicTensor gets a hint. */
function notATensor(op: string, x: unknown, expected: string): never {
  if (isSymbolic(x)) {
    fail(op, `expected ${expected}, got ${String(x)}; a raw op cannot take a functional-API tensor (from kiln.input or layer.apply): put it in a layer (kiln.layers.activation, kiln.layers.add, …) or write a subclassed kiln.Model whose call uses the op`);
  }
  return fail(op, `expected ${expected}, got ${x === null ? 'null' : describe(x)}`);
}

/** Turns JS numbers into scalars of the dtype of the tensor they meet; anything else but a Tensor is refused. */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  for (const [x, which] of [[a, 'first'], [b, 'second']] as const) if (!(x instanceof Tensor) && typeof x !== 'number') notATensor(op, x, `a Tensor or a number as the ${which} operand`);
  for (const x of [a, b]) if (typeof x === 'number' && Number.isNaN(x)) fail(op, 'expected a number literal, got NaN');
  if (a instanceof Tensor && b instanceof Tensor) return [a, b];
  if (a instanceof Tensor) return [a, scalar(b as number, a.dtype)];
  if (b instanceof Tensor) return [scalar(a as number, b.dtype), b];
  return [scalar(a), scalar(b)];
}

export function checkTensor(op: string, x: unknown, what = 'input'): Tensor {
  if (x instanceof Tensor) return x;
  return notATensor(op, x, `a Tensor as ${what}`);
}

/** `axis` in [-rank, rank) as a non-negative axis. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) fail(op, `expected an axis in [${-rank}, ${rank}), got ${axis}`);
  return axis < 0 ? axis + rank : axis;
}

/** Axes for a reduction: all when undefined, else normalised and sorted. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, x: Tensor): number[] {
  const rank = x.rank;
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const axes = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) fail(op, `expected distinct axes for ${formatType(x.type)}, got [${axes.join(',')}]`);
  return axes.sort((p, q) => p - q);
}
