/**
 * @file Small builders for generated AssemblyScript: dimension and size
 * expressions (the batch dimension is the runtime `batch`), element pointers,
 * loads and stores by dtype, and loop nests.
 */
import { BATCH, type DType, type Shape } from '../types.js';

/** A dimension as an AssemblyScript i32 expression. */
export const dimExpr = (d: number | typeof BATCH): string => (d === BATCH ? 'batch' : String(d));

/** Product of dimensions, folded where static. */
export function sizeExpr(shape: Shape): string {
  const dynamic = shape.filter((d) => d === BATCH).length;
  const fixed = shape.reduce<number>((a, d) => (d === BATCH ? a : a * d), 1);
  if (dynamic === 0) return String(fixed);
  return fixed === 1 ? 'batch' : `(batch * ${fixed})`;
}

/** Row-major strides as expressions. */
export function strideExprs(shape: Shape): string[] {
  const out = new Array<string>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) out[i] = sizeExpr(shape.slice(i + 1));
  return out;
}

/** Byte address of element `index` (an i32 expression) of the buffer at `ptr`. */
export const at = (ptr: string, index: string): string => (index === '0' ? ptr : `${ptr} + ((<usize>(${index})) << 2)`);

export const asType = (dtype: DType): string => (dtype === 'float32' ? 'f32' : dtype === 'int32' ? 'i32' : 'bool');

export function load(dtype: DType, address: string): string {
  if (dtype === 'float32') return `load<f32>(${address})`;
  if (dtype === 'int32') return `load<i32>(${address})`;
  return `(load<i32>(${address}) != 0)`;
}

export function store(dtype: DType, address: string, value: string): string {
  if (dtype === 'float32') return `store<f32>(${address}, ${value});`;
  if (dtype === 'int32') return `store<i32>(${address}, ${value});`;
  return `store<i32>(${address}, <i32>(${value}));`;
}

/** Nested loops over `dims` with index variables `${prefix}0…`; `body` gets them. */
export function nest(dims: readonly string[], prefix: string, body: (indices: string[]) => string): string {
  const indices = dims.map((_, i) => `${prefix}${i}`);
  let code = body(indices);
  for (let i = dims.length - 1; i >= 0; i--) code = `for (let ${indices[i]}: i32 = 0; ${indices[i]} < ${dims[i]}; ${indices[i]}++) {\n${indent(code)}\n}`;
  return code;
}

/** Σ index·stride, skipping zero strides. */
export function linear(indices: readonly string[], strides: readonly string[]): string {
  const terms = indices.flatMap((i, d) => (strides[d] === '0' ? [] : strides[d] === '1' ? [i] : [`${i} * ${strides[d]}`]));
  return terms.length ? terms.join(' + ') : '0';
}

export const indent = (code: string, by = '  '): string => code.split('\n').map((l) => (l ? by + l : l)).join('\n');
