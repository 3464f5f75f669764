/**
 * @file Reduction loop nests, shared by plain reductions and by fused loops that
 * end in one: loops over the kept dimensions, an inner nest over the reduced
 * ones, float64 accumulation in row-major order (the reference interpreter's
 * exact result for float32 sums).
 */
import type { DType, Shape } from '../types.js';
import { at, dimExpr, nest, store } from './code.js';

export type ReductionOp = 'sum' | 'prod' | 'max' | 'min';

export const reductionRules: { readonly [K in ReductionOp]: { readonly init: string; readonly combine: (acc: string, x: string) => string } } = {
  sum: { init: '0', combine: (acc, x) => `${acc} += ${x};` },
  prod: { init: '1', combine: (acc, x) => `${acc} *= ${x};` },
  // NaN wins, as in the reference
  max: { init: '-Infinity', combine: (acc, x) => `{ const v = ${x}; if (v > ${acc} || isNaN(v)) ${acc} = v; }` },
  min: { init: 'Infinity', combine: (acc, x) => `{ const v = ${x}; if (v < ${acc} || isNaN(v)) ${acc} = v; }` },
};

/**
 * Reduces the values `element(index)` gives for every index of `shape` over
 * `axes` into `out`; `element` returns the statements computing the value and
 * the value's expression.
 */
export function reduceLoop(
  op: ReductionOp, shape: Shape, axes: readonly number[], out: { ptr: string; dtype: DType },
  element: (index: string[]) => { code: string; value: string },
): string {
  const rule = reductionRules[op];
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const inner = nest(axes.map((d) => dimExpr(shape[d]!)), 'r', (r) => {
    const index = shape.map((_, d) => (axes.includes(d) ? r[axes.indexOf(d)]! : `q${kept.indexOf(d)}`));
    const { code, value } = element(index);
    return `${code ? `${code}\n` : ''}${rule.combine('acc', `<f64>${value}`)}`;
  });
  const result = out.dtype === 'float32' ? '<f32>acc' : '<i32>acc';
  const body = nest(kept.map((d) => dimExpr(shape[d]!)), 'q', () => `let acc: f64 = ${rule.init};\n${inner}\n${store(out.dtype, at(out.ptr, 'k'), result)}\nk++;`);
  return `let k: i32 = 0;\n${body}`;
}
