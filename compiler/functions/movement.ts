/**
 * @file Data-movement functions: the primitives with user-friendly arguments
 * (negative axes, -1 and null in shapes, TensorFlow-style begin/size slices) and
 * the composites expandDims, squeeze, flatten, stack, split, tile, oneHot.
 */
import { apply, Tensor } from '../tensor.js';
import { BATCH, formatType, type Dim, type Shape } from '../types.js';
import { cast, eq } from './elementwise.js';
import { checkNumberList, checkTensor, fail, normalizeAxis, recordable } from './util.js';
import { describe } from '../check.js';

/** Reshape to a fully known shape (BATCH where the batch dimension goes). */
export function reshapeTo(x: Tensor, shape: Shape): Tensor {
  checkTensor('reshapeTo', x);
  if (!Array.isArray(shape)) fail('reshapeTo', `expected a shape list, got ${describe(shape)}`);
  const same = x.type.shape.length === shape.length && x.type.shape.every((d, i) => d === shape[i]);
  return same ? x : apply('reshape', [x], { shape: [...shape] });
}

/**
 * Reshape; one dimension may be -1 (inferred) and one null (the batch dimension).
 * On a tensor with a batch dimension, a lone -1 stands for it when the rest fits.
 */
function reshapeOp(x: Tensor, shape: readonly (number | null)[]): Tensor {
  checkTensor('reshape', x);
  checkNumberList('reshape', 'shape', shape, true);
  const known = shape.reduce<number>((a, d) => (d === null || d === -1 ? a : a * d), 1);
  const inferred = shape.filter((d) => d === -1).length;
  const xStatic = x.type.shape.reduce<number>((a, d) => (d === BATCH ? a : a * d), 1);
  const xBatch = x.type.shape.includes(BATCH);
  const bad = () => fail('reshape', `cannot reshape ${formatType(x.type)} to [${shape.map((d) => (d === null ? 'null' : d)).join(',')}]`);
  if (inferred > 1 || shape.filter((d) => d === null).length > 1) bad();
  if (shape.some((d) => d !== null && d !== -1 && (!Number.isInteger(d) || d < 0))) bad();
  let batchStandIn = shape.includes(null);
  if (xBatch && !batchStandIn && inferred === 1 && known === xStatic) batchStandIn = true; // [-1, 784] on [B,28,28]
  const target: Dim[] = shape.map((d) => {
    if (d === null) return BATCH;
    if (d !== -1) return d;
    if (batchStandIn && !shape.includes(null)) return BATCH;
    if (known === 0 || xStatic % known !== 0) bad();
    return xStatic / known;
  });
  if (target.includes(BATCH) !== xBatch) bad();
  return reshapeTo(x, target);
}

function transposeOp(x: Tensor, perm?: readonly number[]): Tensor {
  checkTensor('transpose', x);
  if (perm !== undefined) checkNumberList('transpose', 'perm', perm);
  if (perm !== undefined && perm.length !== x.rank) fail('transpose', `expected a permutation of ${x.rank} axes for ${formatType(x.type)}, got [${perm.join(',')}]`);
  const p = perm ? perm.map((a) => normalizeAxis('transpose', a, x.rank)) : Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i);
  return p.every((a, i) => a === i) ? x : apply('transpose', [x], { perm: p });
}

export function broadcastTo(x: Tensor, shape: readonly (Dim | null)[]): Tensor {
  checkTensor('broadcastTo', x);
  checkNumberList('broadcastTo', 'shape', shape, true);
  const target = shape.map((d) => (d === null ? BATCH : d));
  const same = x.type.shape.length === target.length && x.type.shape.every((d, i) => d === target[i]);
  return same ? x : apply('broadcastTo', [x], { shape: target });
}

function expandDimsOp(x: Tensor, axis = 0): Tensor {
  const a = normalizeAxis('expandDims', axis, checkTensor('expandDims', x).rank + 1);
  const shape = [...x.type.shape];
  shape.splice(a, 0, 1);
  return reshapeTo(x, shape);
}

/** Removes the given size-1 axes, or all of them. */
function squeezeOp(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkTensor('squeeze', x);
  if (axis !== undefined && typeof axis !== 'number') checkNumberList('squeeze', 'axis', axis);
  const axes = axis === undefined ? x.type.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : (typeof axis === 'number' ? [axis] : axis).map((a) => normalizeAxis('squeeze', a, x.rank));
  for (const a of axes) if (x.type.shape[a] !== 1) fail('squeeze', `expected axis ${a} of ${formatType(x.type)} to have size 1`);
  return reshapeTo(x, x.type.shape.filter((_, i) => !axes.includes(i)));
}

/** Keeps the first axis and flattens the rest: [N, ...] to [N, prod]. */
export function flatten(x: Tensor): Tensor {
  checkTensor('flatten', x);
  if (x.rank < 1) fail('flatten', `expected a tensor of rank >= 1, got ${formatType(x.type)}`);
  const rest = x.type.shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);
  return reshapeTo(x, [x.type.shape[0]!, rest]);
}

/** The strided-slice primitive with already-normalised arguments. */
export function sliceRaw(x: Tensor, begin: readonly number[], end: readonly Dim[], strides: readonly number[]): Tensor {
  checkTensor('sliceRaw', x);
  for (const [what, v] of [['begin', begin], ['end', end], ['strides', strides]] as const) if (!Array.isArray(v) || v.length !== x.rank) fail('sliceRaw', `expected ${what} with one entry per axis of ${formatType(x.type)}, got ${describe(v)}`);
  const whole = x.type.shape.every((d, i) => begin[i] === 0 && end[i] === d && strides[i] === 1);
  return whole ? x : apply('slice', [x], { begin: [...begin], end: [...end], strides: [...strides] });
}

/** `x[begin:end]` along one axis. */
export function sliceAxis(x: Tensor, axis: number, begin: number, end: number): Tensor {
  checkTensor('sliceAxis', x);
  normalizeAxis('sliceAxis', axis, x.rank);
  if (!Number.isInteger(begin) || !Number.isInteger(end)) fail('sliceAxis', `expected integer begin and end, got ${describe(begin)} and ${describe(end)}`);
  const b = x.type.shape.map((_, i) => (i === axis ? begin : 0));
  const e = x.type.shape.map((d, i) => (i === axis ? end : d));
  return sliceRaw(x, b, e, x.type.shape.map(() => 1));
}

/** TensorFlow's slice: `size[i] = -1` takes the rest of axis i. */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  checkTensor('slice', x);
  checkNumberList('slice', 'begin', begin);
  if (size !== undefined) checkNumberList('slice', 'size', size);
  if (begin.length > x.rank || (size && size.length > x.rank)) fail('slice', `expected at most ${x.rank} begin/size entries for ${formatType(x.type)}`);
  const b = x.type.shape.map((_, i) => begin[i] ?? 0);
  const e = x.type.shape.map((d, i) => {
    const s = size?.[i] ?? -1;
    if (d === BATCH) return BATCH;
    const end = s === -1 ? d : b[i]! + s;
    if (!Number.isInteger(b[i]) || b[i]! < 0 || (s !== -1 && s < 0) || end > d) fail('slice', `expected 0 <= begin and begin + size <= ${d} on axis ${i} of ${formatType(x.type)}, got begin ${b[i]} size ${s}`);
    return end;
  });
  return stridedSlice(x, b, e);
}

/** NumPy `x[b0:e0:s0, ...]`: negative begin/end count from the end; positive strides. */
export function stridedSlice(x: Tensor, begin: readonly number[], end: readonly Dim[], strides?: readonly number[]): Tensor {
  checkTensor('stridedSlice', x);
  checkNumberList('stridedSlice', 'begin', begin);
  checkNumberList('stridedSlice', 'end', end, true);
  if (strides !== undefined) checkNumberList('stridedSlice', 'strides', strides);
  if (strides?.some((v) => !Number.isInteger(v) || v < 1)) fail('stridedSlice', `expected positive integer strides, got [${strides.join(',')}]`);
  const norm = (v: number, d: number) => (v < 0 ? Math.max(0, v + d) : Math.min(v, d));
  const b = x.type.shape.map((d, i) => (d === BATCH ? 0 : norm(begin[i] ?? 0, d)));
  const e = x.type.shape.map((d, i) => (d === BATCH ? BATCH : norm((end[i] as number | undefined) ?? d, d)));
  const s = x.type.shape.map((_, i) => strides?.[i] ?? 1);
  return sliceRaw(x, b, e, s);
}

/** Pads with `value`: `paddings[i] = [before, after]` for each axis. */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  checkTensor('pad', x);
  if (!Array.isArray(paddings) || paddings.some((p) => checkNumberList('pad', 'each padding', p).length !== 2)) fail('pad', `expected a [before, after] pair for each axis, got ${describe(paddings)}`);
  if (paddings.length !== x.rank) fail('pad', `expected ${x.rank} [before, after] pairs for ${formatType(x.type)}, got ${paddings.length}`);
  return padWith(x, paddings.map((p) => p[0]), paddings.map((p) => p[1]), paddings.map(() => 0), value);
}

/** The pad primitive: low, high and interior padding per axis. */
export function padWith(x: Tensor, low: readonly number[], high: readonly number[], interior: readonly number[], value: number): Tensor {
  checkTensor('padWith', x);
  for (const [what, v] of [['low', low], ['high', high], ['interior', interior]] as const) if (checkNumberList('padWith', what, v).length !== x.rank) fail('padWith', `expected ${what} with one entry per axis of ${formatType(x.type)}, got [${v.join(',')}]`);
  const none = [...low, ...high, ...interior].every((p) => p === 0);
  return none ? x : apply('pad', [x], { low: [...low], high: [...high], interior: [...interior], value });
}

function concatOp(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) fail('concat', 'expected a non-empty array of tensors');
  xs.forEach((x, i) => checkTensor('concat', x, `tensor ${i}`));
  if (xs.length === 1) return xs[0]!;
  return apply('concat', xs, { axis: normalizeAxis('concat', axis, xs[0]!.rank) });
}

export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) fail('stack', 'expected a non-empty array of tensors');
  const a = normalizeAxis('stack', axis, xs[0]!.rank + 1);
  return concat(xs.map((x) => expandDims(x, a)), a);
}

/** Splits into `n` equal parts or parts of the given sizes along `axis`. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', x);
  const a = normalizeAxis('split', axis, x.rank);
  const d = x.type.shape[a]!;
  if (d === BATCH) fail('split', `cannot split the dynamic batch axis of ${formatType(x.type)}`);
  if (typeof sizes === 'number' ? !Number.isInteger(sizes) || sizes < 1 : (checkNumberList('split', 'sizes', sizes), false)) fail('split', `expected a positive number of parts or a list of sizes, got ${describe(sizes)}`);
  const parts = typeof sizes === 'number' ? (d % sizes === 0 ? new Array<number>(sizes).fill(d / sizes) : fail('split', `cannot split axis ${a} of size ${d} into ${sizes} equal parts`)) : [...sizes];
  if (parts.reduce((p, q) => p + q, 0) !== d || parts.some((p) => !Number.isInteger(p) || p < 0)) fail('split', `expected sizes that add up to ${d}, got [${parts.join(',')}]`);
  let offset = 0;
  return parts.map((p) => sliceAxis(x, a, offset, (offset += p)));
}

/** Repeats `x` reps[i] times along axis i: reshape, broadcast, reshape. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  checkTensor('tile', x);
  checkNumberList('tile', 'reps', reps);
  if (reps.length !== x.rank || reps.some((r) => !Number.isInteger(r) || r < 1)) fail('tile', `expected ${x.rank} positive repetitions for ${formatType(x.type)}, got [${reps.join(',')}]`);
  if (x.type.shape.some((d, i) => d === BATCH && reps[i] !== 1)) fail('tile', `cannot tile the dynamic batch axis of ${formatType(x.type)}`);
  const spread = x.type.shape.flatMap((d) => [1, d]);
  const target = x.type.shape.flatMap((d, i) => [reps[i]!, d]);
  const out = x.type.shape.map((d, i) => (d === BATCH ? BATCH : d * reps[i]!));
  return reshapeTo(broadcastTo(reshapeTo(x, spread), target), out);
}

/** Takes slices of `x` along `axis` at int32 `indices` (an embedding lookup on axis 0). */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  checkTensor('gather', x);
  checkTensor('gather', indices, 'indices');
  return apply('gather', [x, indices], { axis: normalizeAxis('gather', axis, x.rank) });
}

/** Adds slices of `updates` into a zero tensor with `size` entries along `axis`: the transpose of gather. */
export function scatterAdd(updates: Tensor, indices: Tensor, axis: number, size: number): Tensor {
  checkTensor('scatterAdd', updates, 'updates');
  checkTensor('scatterAdd', indices, 'indices');
  return apply('scatterAdd', [updates, indices], { axis, size });
}

/** float32 one-hot rows of length `depth` for int32 `indices`; out-of-range indices give zero rows. */
/**
 * Per-image rows: x [B, N, C] and int32 indices [B, M] → [B, M, C], row
 * indices[b, m] of x[b] (a gather with one batch dimension, as tf.gather's
 * batch_dims=1). Differentiable in x.
 * @example kiln.batchGather(pixels, sourceIndex) // [B, H·W, C] by [B, H·W]
 */
export function batchGather(x: Tensor, indices: Tensor): Tensor {
  checkTensor('batchGather', x);
  checkTensor('batchGather', indices, 'indices');
  return apply('batchGather', [x, indices], {});
}

/**
 * The transpose of batchGather: updates [B, M, C] summed into rows indices[b, m] of a zero [B, size, C].
 * @example kiln.batchScatterAdd(grads, sourceIndex, height * width)
 */
export function batchScatterAdd(updates: Tensor, indices: Tensor, size: number): Tensor {
  return apply('batchScatterAdd', [updates, indices], { size });
}

export function oneHot(indices: Tensor, depth: number): Tensor {
  checkTensor('oneHot', indices, 'indices');
  if (indices.dtype !== 'int32') fail('oneHot', `expected int32 indices, got ${formatType(indices.type)}`);
  if (!Number.isInteger(depth) || depth < 1) fail('oneHot', `expected a positive integer depth, got ${depth}`);
  const range = Tensor.concrete({ dtype: 'int32', shape: [depth], data: Int32Array.from({ length: depth }, (_, i) => i) });
  return cast(eq(expandDims(indices, -1), range), 'float32');
}

// recorded as a layer when given a functional-API tensor (see recordable)
export const reshape = recordable('reshape', reshapeOp);
export const transpose = recordable('transpose', transposeOp);
export const expandDims = recordable('expandDims', expandDimsOp);
export const squeeze = recordable('squeeze', squeezeOp);
export const concat = recordable('concat', concatOp);
