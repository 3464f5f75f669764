/**
 * @file Reduction loop nests, shared by plain reductions and by fused loops that
 * end in one: loops over the kept dimensions, an inner nest over the reduced
 * ones, float64 accumulation in row-major order (the reference interpreter's
 * exact result for float32 sums).
 */
import { BATCH, type DType, type Shape } from '../types.js';
import { at, dimExpr, load, nest, sizeExpr, store } from './code.js';

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

/**
 * A float32 sum over the leading axes of `shape` (the kept ones trailing, at
 * least 4 values, static): a bias gradient, Σ over batch and time. The rows
 * stream in order, 16 (then 4) columns at a time in float64x2 accumulators, so
 * every column adds the same values in the same order as `reduceLoop` (the
 * same bits) while reading memory row by row instead of down each column.
 * Undefined when the reduction has another form. With `columns`, only columns
 * [lo, hi) (a thread's share: each column's sum is the same whoever computes it).
 */
export function columnSumLoop(shape: Shape, axes: readonly number[], x: string, out: string, columns?: { lo: string; hi: string }): string | undefined {
  const cols = columnSumColumns(shape, axes);
  if (cols === undefined) return undefined;
  const rows = sizeExpr(shape.slice(0, axes.length));
  const rowBytes = cols * 4;
  const [lo, hi] = columns ? [columns.lo, columns.hi] : ['0', String(cols)];
  const high = (v: string) => `f64x2.promote_low_f32x4(i32x4.shuffle(${v}, ${v}, 2, 3, 0, 1))`;
  const chunk = (width: 16 | 4) => {
    const vs = width / 4;
    const acc = Array.from({ length: vs * 2 }, (_, i) => `a${i}`);
    const body = Array.from({ length: vs }, (_, v) => [
      `const v${v} = v128.load(p${v ? `, ${v * 16}` : ''});`,
      `a${2 * v} = f64x2.add(a${2 * v}, f64x2.promote_low_f32x4(v${v}));`,
      `a${2 * v + 1} = f64x2.add(a${2 * v + 1}, ${high(`v${v}`)});`,
    ].join('\n')).join('\n');
    const stores = Array.from({ length: vs }, (_, v) =>
      `v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(a${2 * v}), f32x4.demote_f64x2_zero(a${2 * v + 1}), 0, 1, 4, 5)${v ? `, ${v * 16}` : ''});`).join('\n');
    return [
      `for (; q + ${width} <= ${hi}; q += ${width}) {`,
      `  ${acc.map((a) => `let ${a} = f64x2.splat(0);`).join(' ')}`,
      `  let p: usize = ${x} + (<usize>q << 2);`,
      `  for (let r: i32 = 0; r < ${rows}; r++, p += ${rowBytes}) {`,
      body.split('\n').map((l) => `    ${l}`).join('\n'),
      '  }',
      `  const o: usize = ${out} + (<usize>q << 2);`,
      stores.split('\n').map((l) => `  ${l}`).join('\n'),
      '}',
    ].join('\n');
  };
  return [
    `let q: i32 = ${lo};`,
    chunk(16),
    chunk(4),
    `for (; q < ${hi}; q++) {`,
    '  let acc: f64 = 0;',
    `  for (let r: i32 = 0; r < ${rows}; r++) acc += <f64>load<f32>(${at(x, `r * ${cols} + q`)});`,
    `  store<f32>(${at(out, 'q')}, <f32>acc);`,
    '}',
  ].join('\n');
}

/**
 * The column count of a sum that `columnSumLoop` takes (float32 over leading
 * axes, static trailing columns), else undefined.
 */
export function columnSumColumns(shape: Shape, axes: readonly number[]): number | undefined {
  if (axes.length === 0 || axes.some((a, i) => a !== i)) return undefined;
  const kept = shape.slice(axes.length);
  if (kept.length === 0 || kept.some((d) => d === BATCH)) return undefined;
  const cols = kept.reduce<number>((a, d) => a * (d as number), 1);
  return cols < 4 ? undefined : cols;
}

/**
 * A reduction over trailing axes (the kept ones leading: a softmax's sums, a
 * per-example loss) for kept rows [lo, hi) only: each row reduces its
 * contiguous values in order, as `reduceLoop` does, so the bits are the same.
 */
export function trailingRowsLoop(op: ReductionOp, shape: Shape, axes: readonly number[], x: { ptr: string; dtype: DType }, out: { ptr: string; dtype: DType }, lo: string, hi: string): string {
  const rule = reductionRules[op];
  const width = sizeExpr(shape.slice(shape.length - axes.length));
  const result = out.dtype === 'float32' ? '<f32>acc' : '<i32>acc';
  return [
    `for (let q: i32 = ${lo}; q < ${hi}; q++) {`,
    `  let acc: f64 = ${rule.init};`,
    `  const row: i32 = q * ${width};`,
    `  for (let r: i32 = 0; r < ${width}; r++) ${rule.combine('acc', `<f64>${load(x.dtype, at(x.ptr, 'row + r'))}`)}`,
    `  ${store(out.dtype, at(out.ptr, 'q'), result)}`,
    '}',
  ].join('\n');
}
