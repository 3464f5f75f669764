/**
 * What the summary APIs accept as data: a kiln Tensor (eager, lazy or from a
 * model), nested number arrays, or a typed array; read as flat values with a shape.
 */
import { KilnError } from '../../compiler/errors.js';
import { tensor } from '../../compiler/functions/creation.js';
import { Tensor } from '../../compiler/tensor.js';

export type TensorLike = Tensor | number | readonly unknown[] | Float32Array | Float64Array | Int32Array | Uint8Array;

export interface Values {
  data: ArrayLike<number>;
  shape: number[];
  /** float32 data (images: in [0, 1]) rather than integers (0–255). */
  float: boolean;
}

/** Flat values and shape of `x`; a KilnError naming `who` for anything else. @example readValues('addHistogram', [[1, 2], [3, 4]]).shape // [2, 2] */
export function readValues(who: string, x: TensorLike): Values {
  if (x instanceof Tensor) {
    if (x.isSymbolic) throw new KilnError(`${who}: got a symbolic tensor (inside a trace); log concrete values.`);
    return { data: x.dataSync(), shape: x.shape.map(Number), float: x.dtype === 'float32' };
  }
  if (typeof x === 'number') return { data: [x], shape: [], float: true };
  if (x instanceof Float64Array) return { data: x, shape: [x.length], float: true };
  if (x instanceof Uint8Array) return { data: x, shape: [x.length], float: false };
  if (Array.isArray(x) || ArrayBuffer.isView(x)) {
    try {
      const t = tensor(x as never);
      return { data: t.dataSync(), shape: t.shape.map(Number), float: t.dtype === 'float32' };
    } catch (e) {
      throw new KilnError(`${who}: expected a Tensor, a number or nested number arrays, got an array that is not one (${(e as Error).message}).`);
    }
  }
  throw new KilnError(`${who}: expected a Tensor, a number or nested number arrays, got ${x === null ? 'null' : typeof x}.`);
}

/** One number from a number or a one-element tensor. @example readScalar('addScalar', kiln.tensor([0.5])) // 0.5 */
export function readScalar(who: string, x: TensorLike): number {
  const v = readValues(who, x);
  if (v.data.length !== 1) throw new KilnError(`${who}: expected a number or a one-element tensor, got shape [${v.shape.join(',')}].`);
  return v.data[0]!;
}
