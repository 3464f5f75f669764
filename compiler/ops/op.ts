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

/**
 * How generated code computes an elementwise op inside a fused loop. `scalar`
 * gets AssemblyScript expressions of the input dtypes (bool as `bool`), the
 * first input's dtype and the result's; `simd`, when present, gets float32 operands as f32x4 v128
 * values and bool operands as i32x4 masks (no int32 in SIMD loops). The scalar and SIMD forms must agree
 * bit for bit, so a value never depends on its position in the array.
 */
export interface Emit<P> {
  readonly scalar: (operands: readonly string[], params: P, dtype: DType, result: DType) => string;
  /** undefined where no SIMD form exists for these dtypes: the loop then runs scalar. */
  readonly simd?: (operands: readonly string[], params: P, dtype: DType) => string | undefined;
}

/** `emit` for ops that fuse into elementwise loops; `lower` names the lowering (kernel call or loop nest) codegen uses. */
export type Backend<P> = { readonly emit: Emit<P> } | { readonly lower: string };

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

/** A number as an AssemblyScript literal of `dtype` (infinities and NaN included). */
export function literal(x: number, dtype: DType = 'float32'): string {
  if (dtype !== 'float32') return String(Math.trunc(x) | 0);
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  const f = Math.fround(x);
  // a whole number prints as 1e+21 from 1e21 on: that already reads as a float literal, without '.0'
  return `<f32>${Object.is(f, -0) ? '-0.0' : Number.isInteger(f) && !String(f).includes('e') ? `${f}.0` : f.toPrecision(9)}`;
}

/** A bias add and activation applied in a GEMM or convolution kernel's epilogue. */
export interface Epilogue {
  /** A third input: one value per output channel (the last dimension), added to every row. */
  readonly bias: boolean;
  readonly relu: boolean;
}

/** Reference semantics of an epilogue on the kernel's result. */
export function applyEpilogue(y: Float64Array, epilogue: Epilogue | undefined, bias: Value | undefined): Float64Array {
  if (!epilogue) return y;
  const n = bias?.data.length ?? 1;
  for (let i = 0; i < y.length; i++) {
    // round the product first, as the unfused graph stores it in float32 before adding
    const v = Math.fround(y[i]!) + (epilogue.bias ? bias!.data[i % n]! : 0);
    y[i] = epilogue.relu ? (v > 0 ? v : 0) : v;
  }
  return y;
}

/** Checks the optional bias input of an op with an epilogue; returns the inputs without it. */
export function checkEpilogue(inputs: readonly TensorType[], epilogue: Epilogue | undefined, channels: number | string, reject: (m: string) => never): readonly TensorType[] {
  const expected = epilogue?.bias ? 3 : 2;
  if (inputs.length !== expected) reject(`expected ${expected} inputs, got ${inputs.length}`);
  const bias = inputs[2];
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== channels)) reject(`expected a bias of f32[${channels}], got ${bias.dtype}[${bias.shape.join(',')}]`);
  return inputs.slice(0, 2);
}

/** VJP of an op whose epilogue was fused in after autodiff: never asked for. */
export const fusedAfterAutodiff: Vjp<unknown> = () => {
  throw new Error('internal: epilogues are fused after autodiff; differentiate the graph before optimising it');
};
