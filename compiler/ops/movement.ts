/**
 * @file Data movement: reshape, transpose, broadcastTo, strided slice, pad (with
 * interior padding, so it is exactly the transpose of a strided slice), concat,
 * gather and its transpose scatterAdd. expandDims, squeeze, stack, split, tile
 * and oneHot are composites in `functions/movement.ts`.
 */
import { reject } from '../errors.js';
import * as F from '../functions/index.js';
import { BATCH, formatShape, formatType, sizeOf, stridesOf, type Dim, type Shape } from '../types.js';
import { broadcastIndex, forEachIndex } from './ndarray.js';
import type { OpDef, Value } from './op.js';

export interface MovementParams {
  reshape: { readonly shape: Shape };
  transpose: { readonly perm: readonly number[] };
  broadcastTo: { readonly shape: Shape };
  /** `end` is BATCH on the batch axis, which slices whole. */
  slice: { readonly begin: readonly number[]; readonly end: readonly Dim[]; readonly strides: readonly number[] };
  pad: { readonly low: readonly number[]; readonly high: readonly number[]; readonly interior: readonly number[]; readonly value: number };
  concat: { readonly axis: number };
  gather: { readonly axis: number };
  scatterAdd: { readonly axis: number; readonly size: number };
  /** x [B, N, C], indices int32 [B, M] → [B, M, C]: row indices[b, m] of image b (each batch entry has its own indices). */
  batchGather: Record<string, never>;
  /** The transpose of batchGather: updates [B, M, C] added into rows indices[b, m] of a zero [B, size, C]. */
  batchScatterAdd: { readonly size: number };
}

const staticPart = (shape: Shape) => shape.reduce<number>((a, d) => (d === BATCH ? a : a * d), 1);
const batchCount = (shape: Shape) => shape.filter((d) => d === BATCH).length;

function gatherRef([x, idx]: readonly Value[], axis: number, out: readonly number[]): Float64Array {
  const outer = x!.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x!.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = x!.shape[axis]!;
  const result = new Float64Array(sizeOf(out));
  const m = idx!.data.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const k = idx!.data[j]!;
      if (k < 0 || k >= n) reject(`index ${k} is out of range [0, ${n}) on axis ${axis}`);
      for (let i = 0; i < inner; i++) result[(o * m + j) * inner + i] = x!.data[(o * n + k) * inner + i]!;
    }
  }
  return result;
}

export const movementOps: { readonly [K in keyof MovementParams]: OpDef<MovementParams[K]> } = {
  reshape: {
    arity: 1,
    infer: ([x], { shape }) => {
      const ok = staticPart(shape) === staticPart(x!.shape) && batchCount(shape) === batchCount(x!.shape) && shape.every((d) => d === BATCH || (Number.isInteger(d) && d >= 0));
      if (!ok) reject(`cannot reshape ${formatType(x!)} to ${formatShape(shape)}`);
      return { dtype: x!.dtype, shape };
    },
    ref: ([x]) => x!.data,
    vjp: ({ inputs: [x] }, dy) => [F.reshapeTo(dy, x!.shape)],
    backend: { lower: 'view' },
  },
  transpose: {
    arity: 1,
    infer: ([x], { perm }) => {
      const rank = x!.shape.length;
      const valid = perm.length === rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
      if (!valid) reject(`expected a permutation of [0..${rank - 1}] for ${formatType(x!)}, got [${perm.join(',')}]`);
      return { dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]!) };
    },
    ref: ([x], { perm }, out) => {
      // an odometer over the output's outer axes, the last axis as a plain strided loop
      // (eager code transposes whole inputs: a PyTorch-style batchFirst LSTM does on every step)
      const inStrides = stridesOf(x!.shape);
      const data = x!.data;
      const result = new Float64Array(data.length);
      const rank = out.shape.length;
      if (rank === 0 || data.length === 0) return (result.set(data), result);
      const src = perm.map((p) => inStrides[p]!);
      const inner = out.shape[rank - 1]!;
      const step = src[rank - 1]!;
      const idx = new Array<number>(rank).fill(0);
      let base = 0;
      for (let flat = 0; flat < result.length; flat += inner) {
        for (let j = 0, at = base; j < inner; j++, at += step) result[flat + j] = data[at]!;
        for (let d = rank - 2; d >= 0; d--) {
          base += src[d]!;
          if (++idx[d]! < out.shape[d]!) break;
          base -= src[d]! * idx[d]!;
          idx[d] = 0;
        }
      }
      return result;
    },
    vjp: ({ params: { perm } }, dy) => {
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return [F.transpose(dy, inverse)];
    },
    backend: { lower: 'transpose' },
  },
  broadcastTo: {
    arity: 1,
    infer: ([x], { shape }) => {
      const rank = shape.length;
      const ok = x!.shape.length <= rank && x!.shape.every((d, i) => d === 1 || d === shape[rank - x!.shape.length + i]) && batchCount(shape) <= 1;
      if (!ok) reject(`cannot broadcast ${formatType(x!)} to ${formatShape(shape)}`);
      return { dtype: x!.dtype, shape };
    },
    ref: ([x], _, out) => Array.from(broadcastIndex(x!.shape, out.shape), (i) => x!.data[i]!),
    vjp: ({ inputs: [x] }, dy) => [F.sumTo(dy, x!.shape)],
    // in a fused loop the input is already read at the broadcast index: the value passes through
    backend: { emit: { scalar: ([x]) => x!, simd: ([x]) => x! } },
  },
  slice: {
    arity: 1,
    infer: ([x], { begin, end, strides }) => {
      const rank = x!.shape.length;
      if (begin.length !== rank || end.length !== rank || strides.length !== rank) reject(`expected begin, end and strides of length ${rank} for ${formatType(x!)}`);
      const shape = x!.shape.map((d, i) => {
        const [b, e, s] = [begin[i]!, end[i]!, strides[i]!];
        if (d === BATCH) {
          if (b !== 0 || e !== BATCH || s !== 1) reject(`cannot slice the dynamic batch axis ${i} of ${formatType(x!)}`);
          return BATCH;
        }
        if (e === BATCH || !Number.isInteger(s) || s < 1 || b < 0 || e > d || b > e) reject(`expected 0 <= begin <= end <= ${d} and stride >= 1 on axis ${i} of ${formatType(x!)}, got ${b}:${e}:${s}`);
        return Math.ceil((e - b) / s);
      });
      return { dtype: x!.dtype, shape };
    },
    ref: ([x], { begin, strides }, out) => {
      const inStrides = stridesOf(x!.shape);
      const result = new Float64Array(sizeOf(out.shape));
      forEachIndex(out.shape, (flat, idx) => {
        let src = 0;
        for (let d = 0; d < idx.length; d++) src += (begin[d]! + idx[d]! * strides[d]!) * inStrides[d]!;
        result[flat] = x!.data[src]!;
      });
      return result;
    },
    vjp: ({ inputs: [x], output: y, params: { begin, strides } }, dy) => {
      const high = x!.shape.map((d, i) => (d === BATCH ? 0 : d - (begin[i]! + ((y.shape[i] as number) - 1) * strides[i]! + 1)));
      return [F.padWith(dy, begin, high, strides.map((s) => s - 1), 0)];
    },
    backend: { lower: 'slice' },
  },
  pad: {
    arity: 1,
    infer: ([x], { low, high, interior, value }) => {
      const rank = x!.shape.length;
      if (low.length !== rank || high.length !== rank || interior.length !== rank) reject(`expected paddings for ${rank} axes of ${formatType(x!)}`);
      if (Number.isNaN(value)) reject('expected a padding value that is a number, got NaN');
      const shape = x!.shape.map((d, i) => {
        const [l, h, n] = [low[i]!, high[i]!, interior[i]!];
        if (![l, h, n].every((p) => Number.isInteger(p) && p >= 0)) reject(`expected non-negative integer paddings on axis ${i}, got ${l},${h},${n}`);
        if (d === BATCH) {
          if (l || h || n) reject(`cannot pad the dynamic batch axis ${i} of ${formatType(x!)}`);
          return BATCH;
        }
        return l + h + (d === 0 ? 0 : d + (d - 1) * n);
      });
      return { dtype: x!.dtype, shape };
    },
    ref: ([x], { low, interior, value }, out) => {
      const result = new Float64Array(sizeOf(out.shape)).fill(value);
      const outStrides = stridesOf(out.shape);
      forEachIndex(x!.shape, (flat, idx) => {
        let dst = 0;
        for (let d = 0; d < idx.length; d++) dst += (low[d]! + idx[d]! * (interior[d]! + 1)) * outStrides[d]!;
        result[dst] = x!.data[flat]!;
      });
      return result;
    },
    vjp: ({ inputs: [x], params: { low, interior } }, dy) => {
      const end = x!.shape.map((d, i) => (d === BATCH ? BATCH : low[i]! + (d - 1) * (interior[i]! + 1) + 1));
      return [F.sliceRaw(dy, low, end, interior.map((n) => n + 1))];
    },
    backend: { lower: 'pad' },
  },
  concat: {
    arity: 'variadic',
    infer: (xs, { axis }) => {
      const first = xs[0];
      if (!first) reject('expected at least one tensor');
      if (!Number.isInteger(axis) || axis < 0 || axis >= first.shape.length) reject(`expected an axis in [0, ${first.shape.length}) for ${formatType(first)}, got ${axis}`);
      const agree = xs.every((t) => t.dtype === first.dtype && t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i]));
      if (!agree) reject(`expected tensors of one dtype whose shapes agree except on axis ${axis}, got ${xs.map(formatType).join(', ')}`);
      if (xs.some((t) => t.shape[axis] === BATCH)) reject(`cannot concatenate along the dynamic batch axis ${axis}`);
      const total = xs.reduce((a, t) => a + (t.shape[axis] as number), 0);
      return { dtype: first.dtype, shape: first.shape.map((d, i) => (i === axis ? total : d)) };
    },
    ref: (xs, { axis }, out) => {
      const outer = out.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const result = new Float64Array(sizeOf(out.shape));
      let k = 0;
      for (let o = 0; o < outer; o++) {
        for (const x of xs) {
          const chunk = x.data.length / outer;
          for (let i = 0; i < chunk; i++) result[k++] = x.data[o * chunk + i]!;
        }
      }
      return result;
    },
    vjp: ({ inputs, params: { axis } }, dy) => {
      let offset = 0;
      return inputs.map((x) => {
        const size = x.shape[axis] as number;
        const part = F.sliceAxis(dy, axis, offset, offset + size);
        offset += size;
        return part;
      });
    },
    backend: { lower: 'concat' },
  },
  gather: {
    arity: 2,
    infer: ([x, idx], { axis }) => {
      if (idx!.dtype !== 'int32') reject(`expected int32 indices, got ${formatType(idx!)}`);
      if (!Number.isInteger(axis) || axis < 0 || axis >= x!.shape.length) reject(`expected an axis in [0, ${x!.shape.length}) for ${formatType(x!)}, got ${axis}`);
      if (x!.shape[axis] === BATCH) reject(`cannot gather along the dynamic batch axis of ${formatType(x!)}`);
      const shape = [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)];
      if (batchCount(shape) > 1) reject(`cannot gather ${formatType(x!)} with ${formatType(idx!)}: both have a batch dimension`);
      return { dtype: x!.dtype, shape };
    },
    ref: (inputs, { axis }, out) => gatherRef(inputs, axis, out.shape),
    vjp: ({ inputs: [x, idx], params: { axis } }, dy) => [F.scatterAdd(dy, idx!, axis, x!.shape[axis] as number), undefined],
    backend: { lower: 'gather' },
  },
  scatterAdd: {
    arity: 2,
    infer: ([u, idx], { axis, size }) => {
      if (idx!.dtype !== 'int32') reject(`expected int32 indices, got ${formatType(idx!)}`);
      const r = idx!.shape.length;
      const matches = u!.shape.length >= axis + r && idx!.shape.every((d, i) => d === u!.shape[axis + i]);
      if (!matches || !Number.isInteger(size) || size < 0) reject(`expected updates with dims [${idx!.shape.join(',')}] at axis ${axis}, got ${formatType(u!)}`);
      return { dtype: u!.dtype, shape: [...u!.shape.slice(0, axis), size, ...u!.shape.slice(axis + r)] };
    },
    ref: ([u, idx], { axis, size }, out) => {
      const outer = out.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = out.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const m = idx!.data.length;
      const result = new Float64Array(sizeOf(out.shape));
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < m; j++) {
          const k = idx!.data[j]!;
          if (k < 0 || k >= size) reject(`index ${k} is out of range [0, ${size}) on axis ${axis}`);
          for (let i = 0; i < inner; i++) result[(o * size + k) * inner + i]! += u!.data[(o * m + j) * inner + i]!;
        }
      }
      return result;
    },
    vjp: ({ inputs: [, idx], params: { axis } }, dy) => [F.gather(dy, idx!, axis), undefined],
    backend: { lower: 'scatter_add' },
  },
  batchGather: {
    arity: 2,
    infer: ([x, idx]) => {
      if (idx!.dtype !== 'int32' || idx!.shape.length !== 2 || x!.shape.length !== 3 || idx!.shape[0] !== x!.shape[0]) {
        reject(`expected x [B, N, C] and int32 indices [B, M] with the same B, got ${formatType(x!)} and ${formatType(idx!)}`);
      }
      return { dtype: x!.dtype, shape: [x!.shape[0]!, idx!.shape[1]!, x!.shape[2]!] };
    },
    ref: ([x, idx], _p, out) => {
      const [b, m, c] = out.shape as [number, number, number];
      const n = x!.shape[1]!;
      const result = new Float64Array(b * m * c);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < m; j++) {
          const k = idx!.data[i * m + j]!;
          if (k < 0 || k >= n) reject(`index ${k} is out of range [0, ${n}) on axis 1`);
          for (let ch = 0; ch < c; ch++) result[(i * m + j) * c + ch] = x!.data[(i * n + k) * c + ch]!;
        }
      }
      return result;
    },
    vjp: ({ inputs: [x, idx] }, dy) => [F.batchScatterAdd(dy, idx!, x!.shape[1] as number), undefined],
    backend: { lower: 'batch_gather' },
  },
  batchScatterAdd: {
    arity: 2,
    infer: ([u, idx], { size }) => {
      if (idx!.dtype !== 'int32' || idx!.shape.length !== 2 || u!.shape.length !== 3 || idx!.shape[0] !== u!.shape[0] || idx!.shape[1] !== u!.shape[1] || !Number.isInteger(size) || size < 0) {
        reject(`expected updates [B, M, C] and int32 indices [B, M], got ${formatType(u!)} and ${formatType(idx!)}`);
      }
      return { dtype: u!.dtype, shape: [u!.shape[0]!, size, u!.shape[2]!] };
    },
    ref: ([u, idx], { size }, out) => {
      const [b, , c] = out.shape as [number, number, number];
      const m = idx!.shape[1]!;
      const result = new Float64Array(b * size * c);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < m; j++) {
          const k = idx!.data[i * m + j]!;
          if (k < 0 || k >= size) reject(`index ${k} is out of range [0, ${size}) on axis 1`);
          for (let ch = 0; ch < c; ch++) result[(i * size + k) * c + ch]! += u!.data[(i * m + j) * c + ch]!;
        }
      }
      return result;
    },
    vjp: ({ inputs: [, idx] }, dy) => [F.batchGather(dy, idx!), undefined],
    backend: { lower: 'batch_scatter_add' },
  },
};

