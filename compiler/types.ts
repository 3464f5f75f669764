/**
 * @file Tensor types of the IR: dtypes, shapes with an optional dynamic batch
 * dimension, and the `f32[2,3]` notation that printing and errors share.
 */

export type DType = 'float32' | 'int32' | 'bool';
export const dtypes: readonly DType[] = ['float32', 'int32', 'bool'];

/** The dynamic leading batch dimension: its size is bound when the graph runs. */
export const BATCH = 'B';
export type Dim = number | typeof BATCH;
export type Shape = readonly Dim[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** A type whose every dimension is known: what the interpreter and kernels see. */
export interface ConcreteType {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

const shortNames: Record<DType, string> = { float32: 'f32', int32: 'i32', bool: 'bool' };

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** `f32[32,10]`, as `print(g)` writes it. */
export function formatType(t: TensorType): string {
  return `${shortNames[t.dtype]}${formatShape(t.shape)}`;
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => d !== BATCH);
}

export function hasBatch(shape: Shape): boolean {
  return shape.includes(BATCH);
}

/** Number of elements, with the batch dimension bound to `batch`. */
export function sizeOf(shape: Shape, batch?: number): number {
  let n = 1;
  for (const d of shape) {
    if (d === BATCH) {
      if (batch === undefined) throw new Error('internal: size of a shape with an unbound batch dimension');
      n *= batch;
    } else n *= d;
  }
  return n;
}

export function concreteShape(shape: Shape, batch: number | undefined): number[] {
  return shape.map((d) => {
    if (d !== BATCH) return d;
    if (batch === undefined) throw new Error('internal: batch dimension is unbound');
    return batch;
  });
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

export function isFloat(t: TensorType): boolean {
  return t.dtype === 'float32';
}

/** Row-major strides of a concrete shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}
