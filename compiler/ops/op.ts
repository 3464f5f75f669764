/**
 * @file The shape of one op definition, shared by every family in this folder:
 * `infer` (shape and dtype), `ref` (reference semantics), `vjp` (gradient written
 * with other ops) and `backend` (a scalar `emit` for fused loops or a `lower` to a
 * runtime-as kernel family).
 */
import type { ConcreteType, DType, TensorType } from '../types.js';
import type { Tensor } from '../tensor.js';

export type Data = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A concrete array: what the interpreter passes between nodes. */
export interface Value {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Data;
}

export interface VjpArgs<P> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly params: P;
}

/** Cotangents for each input; `undefined` means zero (or an input that takes none). */
export type Vjp<P> = (args: VjpArgs<P>, dy: Tensor) => readonly (Tensor | undefined)[];

export type Backend<P> =
  | { readonly emit: (operands: readonly string[], params: P) => string }
  | { readonly lower: string };

export interface OpDef<P> {
  /** Number of tensor inputs, or 'variadic' (concat). */
  readonly arity: number | 'variadic';
  readonly infer: (inputs: readonly TensorType[], params: P) => TensorType;
  readonly ref: (inputs: readonly Value[], params: P, out: ConcreteType) => ArrayLike<number>;
  readonly vjp: Vjp<P>;
  readonly backend: Backend<P>;
}

/** The VJP of an op whose output is piecewise constant or not a float: no gradient flows. */
export const zeroGradient: Vjp<unknown> = ({ inputs }) => inputs.map(() => undefined);
