/**
 * @file Random ops: counter-based draws that are pure functions of (seed, step,
 * element index), so the interpreter and compiled code agree bit for bit and a
 * training step draws new values by passing a new step.
 *
 * randomUniform: input [step: f32 scalar], params { shape, seed }. Element i
 * (row-major, i = 0 … size − 1) is `uniform24At(stepStream(seed, s), i)` with
 * s = the step truncated to int32 as `cast` does (saturating, NaN → 0) and read
 * as a uint32 (compiler/random.ts). Values lie on the float32 grid k·2⁻²⁴ in
 * [0, 1); element i does not depend on the batch size, so a dynamic batch only
 * adds or drops trailing rows.
 */
import { reject } from '../errors.js';
import { stepStream, uniform24At } from '../random.js';
import { BATCH, formatShape, formatType, type Shape } from '../types.js';
import { zeroGradient, type OpDef } from './op.js';

export interface RandomParams {
  randomUniform: { readonly shape: Shape; readonly seed: number };
}

/** The step as the uint32 the kernel reads: trunc_sat to int32 (as `<i32>` of an f32), then its bits. */
export function stepCounter(step: number): number {
  const s = Number.isNaN(step) ? 0 : Math.min(2147483647, Math.max(-2147483648, Math.trunc(step)));
  return s >>> 0;
}

export const randomOps: { readonly [K in keyof RandomParams]: OpDef<RandomParams[K]> } = {
  randomUniform: {
    arity: 1,
    infer: ([step], { shape, seed }) => {
      if (step!.dtype !== 'float32' || step!.shape.length !== 0) reject(`expected a float32 scalar step, got ${formatType(step!)}`);
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) reject(`expected a seed in [0, 2^32), got ${seed}`);
      if (shape.some((d, i) => (d === BATCH ? i > 0 : !Number.isInteger(d) || d < 0))) reject(`expected a shape of non-negative integers (the batch only first), got ${formatShape(shape)}`);
      return { dtype: 'float32', shape };
    },
    ref: ([step], { seed }, out) => {
      const stream = stepStream(seed, stepCounter(step!.data[0]!));
      const n = out.shape.reduce((a, d) => a * d, 1);
      return Float64Array.from({ length: n }, (_, i) => uniform24At(stream, i));
    },
    vjp: zeroGradient,
    backend: { lower: 'random_uniform' },
  },
};
