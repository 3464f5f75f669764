/**
 * @file Argument handling shared by the op functions: JS numbers to scalar
 * tensors, axis normalisation, and user errors that point at the caller's line.
 */
import { describe } from '../check.js';
import { userError } from '../errors.js';
import { captureOrigin } from '../source.js';
import { Tensor } from '../tensor.js';
import { BATCH, formatType, type DType } from '../types.js';

export type TensorLike = Tensor | number;

export function fail(subject: string, message: string): never {
  throw userError(subject, message, captureOrigin());
}

/** A scalar tensor of `dtype` holding `value`. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  const data = dtype === 'float32' ? new Float32Array([value]) : dtype === 'int32' ? new Int32Array([value]) : new Uint8Array([value ? 1 : 0]);
  return Tensor.concrete({ dtype, shape: [], data });
}

/**
 * A functional-API tensor (kiln.input / layer.apply output, defined in src/) as
 * the op functions see it: an op given one is recorded as a layer of the model
 * being built (Keras' TFOpLambda) by the hook the front end registers.
 */
export interface FunctionalTensor {
  readonly layer: object;
  readonly inputs: readonly object[];
  readonly shape: readonly number[];
}

/** What the functional API registers: which values are its tensors, and how an op on them is recorded. */
export interface FunctionalHook {
  is(x: unknown): x is FunctionalTensor;
  record(op: string, fn: (...args: never[]) => Tensor, args: readonly unknown[]): FunctionalTensor;
}

let functional: FunctionalHook | undefined;

/** Registers the functional API's hook (src/layers/opLayer.ts does, once). */
export function setFunctionalHook(hook: FunctionalHook): void {
  functional = hook;
}

/** A Tensor parameter that also takes functional-API tensors `S` (lists of tensors too). */
type Lift<T, S> = T extends Tensor ? S | Tensor : T extends readonly Tensor[] ? readonly (S | Tensor)[] : T;

/** An op as `recordable` returns it: on Tensors as before; given functional-API tensors, a functional-API tensor. */
export type Recorded<F extends (...args: never[]) => Tensor> = F & (<S extends FunctionalTensor>(...args: LiftAll<Parameters<F>, S>) => S);
/** Each parameter lifted (a homomorphic map over the tuple keeps it a tuple, optional parameters included). */
type LiftAll<P extends readonly unknown[], S> = { [K in keyof P]: Lift<P[K], S> };

/** `fn`, recorded as a layer when an argument (or an element of a list argument) is a functional-API tensor. */
export function recordable<F extends (...args: never[]) => Tensor>(op: string, fn: F): Recorded<F> {
  const wrapped = (...args: unknown[]): unknown => {
    const hook = functional;
    if (hook && args.some((a) => hook.is(a) || (Array.isArray(a) && a.some((e) => hook.is(e))))) return hook.record(op, fn, args);
    return (fn as unknown as (...a: unknown[]) => Tensor)(...args);
  };
  return wrapped as unknown as Recorded<F>;
}

const isSymbolic = (x: unknown): boolean => typeof x === 'object' && x !== null && x.constructor?.name === 'SymbolicTensor';

/** What a non-tensor operand was, for errors; a functional-API SymbolicTensor gets a hint. */
function notATensor(op: string, x: unknown, expected: string): never {
  if (isSymbolic(x)) {
    fail(op, `expected ${expected}, got ${String(x)}; ${op} is not recorded as a layer on functional-API tensors (elementwise ops, matmul, reshape, transpose, expandDims, squeeze, concat, softmax and reductions are): use a kiln.layers layer, or a subclassed kiln.Model whose call uses ${op}`);
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

/**
 * `v` as a list of numbers (a shape, a permutation, repetitions, paddings' sides…),
 * or a KilnError naming `what`; with `dims`, null and the batch dimension are dimensions too.
 */
export function checkNumberList(op: string, what: string, v: unknown, dims = false): readonly number[] {
  if (!Array.isArray(v) || v.some((d) => !(typeof d === 'number' || (dims && (d === null || d === BATCH))))) fail(op, `expected ${what} to be a list of numbers${dims ? ' (or null for the batch)' : ''}, got ${v === null ? 'null' : describe(v)}`);
  return v as readonly number[];
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
  if (typeof axis !== 'number' && !Array.isArray(axis)) fail(op, `expected an axis or a list of axes, got ${axis === null ? 'null' : describe(axis)}`);
  const axes = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) fail(op, `expected distinct axes for ${formatType(x.type)}, got [${axes.join(',')}]`);
  return axes.sort((p, q) => p - q);
}
