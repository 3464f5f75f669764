/**
 * @file Lowerings: the code each non-elementwise op becomes — a runtime-as kernel
 * call (GEMM, convolution, pooling, random draws) or a generated loop nest (reductions, data
 * movement). The table is typed over every op without an `emit` rule, so an op
 * that codegen cannot lower is a type error.
 */
import type { Node } from '../ir.js';
import type { OpName, OpParams } from '../ops/index.js';
import type { UnaryParams } from '../ops/unary.js';
import type { BinaryParams } from '../ops/binary.js';
import { literal } from '../ops/op.js';
import { broadcastShapes } from '../ops/binary.js';
import { type Shape } from '../types.js';
import { internal } from '../errors.js';
import { at, dimExpr, linear, load, nest, sizeExpr, store, strideExprs } from './code.js';
import { emitFused, type Operand } from './fused.js';
import { columnSumLoop, reduceLoop, type ReductionOp } from './reduce.js';

export interface LowerContext<K extends OpName> {
  readonly node: Node<K>;
  readonly params: OpParams[K];
  readonly inputs: readonly Operand[];
  readonly out: Operand;
  /** Registers a run-time error message ({value} is replaced) and returns its code. */
  readonly error: (message: string) => number;
  /** Per input: true when it holds the same values on every run of this code (a loop's constant), so a kernel may keep work done on it. */
  readonly invariant?: readonly boolean[];
  /** A matmul's prepacked op(B) buffer (its address), which a serial block before it has filled when stale. */
  readonly packed?: string;
}

export type Lowering<K extends OpName> = (ctx: LowerContext<K>) => string;
/** Ops without an `emit` rule (elementwise ops, casts and broadcasts become fused loops). */
type Lowered = Exclude<OpName, keyof UnaryParams | keyof BinaryParams | 'cast' | 'broadcastTo'>;

const nothing = () => ''; // values that already sit in the arena, or views of another buffer
const b = (x: boolean) => (x ? 'true' : 'false');

function reduce(op: ReductionOp): Lowering<ReductionOp> {
  return ({ params: { axes }, inputs: [x], out }) => {
    const columns = op === 'sum' && x!.dtype === 'float32' && out.dtype === 'float32' ? columnSumLoop(x!.shape, axes, x!.ptr, out.ptr) : undefined;
    if (columns) return columns;
    const strides = strideExprs(x!.shape);
    return reduceLoop(op, x!.shape, axes, out, (index) => ({ code: '', value: load(x!.dtype, at(x!.ptr, linear(index, strides))) }));
  };
}

/**
 * `flagged`: whether x[lo, hi) holds a value that is not below `limit` in magnitude.
 * !(|x| < limit) is all ones for NaN, ±Infinity and values at or past the limit:
 * OR-ing the masks (a one-cycle chain, two vectors a turn) leaves zero only when
 * none is (f32x4.max, NaN-propagating, measured several times slower in V8).
 */
export function nonFiniteScan(limit: number, x: string, lo: string, hi: string): string {
  const v = (k: string) => `v128.load(${at(x, k)})`;
  const bad = (p: string) => `v128.not(f32x4.lt(f32x4.abs(${p}), l))`;
  return [
    `const l = f32x4.splat(<f32>${literal(limit)});`,
    'let a = i32x4.splat(0);',
    'let b = i32x4.splat(0);',
    `let i: i32 = ${lo};`,
    `for (; i + 8 <= ${hi}; i += 8) { a = v128.or(a, ${bad(v('i'))}); b = v128.or(b, ${bad(v('i + 4'))}); }`,
    `for (; i + 4 <= ${hi}; i += 4) a = v128.or(a, ${bad(v('i'))});`,
    'let flagged = v128.any_true(v128.or(a, b));',
    `for (; i < ${hi}; i++) { if (!(Mathf.abs(${load('float32', at(x, 'i'))}) < <f32>${literal(limit)})) flagged = true; }`,
  ].join('\n');
}

function argReduce(better: string): Lowering<'argmax' | 'argmin'> {
  return ({ params: { axis }, inputs: [x], out }) => {
    const shape = x!.shape;
    const strides = strideExprs(shape);
    const kept = shape.map((_, d) => d).filter((d) => d !== axis);
    const idx = (r: string) => shape.map((_, d) => (d === axis ? r : `q${kept.indexOf(d)}`));
    const value = (r: string) => load(x!.dtype, at(x!.ptr, linear(idx(r), strides)));
    return `let k: i32 = 0;\n${nest(kept.map((d) => dimExpr(shape[d]!)), 'q', () =>
      `let best: i32 = 0;\nlet bestValue = ${value('0')};\nfor (let r: i32 = 1; r < ${dimExpr(shape[axis]!)}; r++) {\n  const v = ${value('r')};\n  if (v ${better} bestValue) { best = r; bestValue = v; }\n}\n${store('int32', at(out.ptr, 'k'), 'best')}\nk++;`)}`;
  };
}

/** Copies `x` to `out` reading element Σ index·strides[d] for each output index. */
function gatherLoop(x: Operand, out: Operand, sourceStrides: readonly string[], offsets?: readonly string[]): string {
  const loop = nest(out.shape.map(dimExpr), 'j', (idx) => {
    const src = offsets ? idx.map((i, d) => (offsets[d] === '0' ? i : `(${offsets[d]} + ${i})`)) : idx;
    return `${store(out.dtype, at(out.ptr, 'k'), load(x.dtype, at(x.ptr, linear(src, sourceStrides))))}\nk++;`;
  });
  return `let k: i32 = 0;\n${loop}`;
}

function fill(out: Operand, value: string): string {
  // zeros (+0.0 and integer 0 are all-zero bytes): one bulk fill
  if (value === '<f32>0' || value === '0') return `memory.fill(${out.ptr}, 0, <usize>(${sizeExpr(out.shape)}) << 2);`;
  return `for (let k: i32 = 0; k < ${sizeExpr(out.shape)}; k++) ${store(out.dtype, at(out.ptr, 'k'), value)}`;
}

/** C = op(A) op(B) for every batch index, batch dimensions broadcast. */
const matmul: Lowering<'matmul'> = ({ params: { transposeA, transposeB, epilogue, contract }, inputs: [a, bm, bias], out, invariant, packed }) => {
  const tail = `${bias ? bias.ptr : 0}, ${epilogue?.relu ? 1 : 0}`;
  const [ar, ac] = a!.shape.slice(-2).map(dimExpr) as [string, string];
  const [br, bc] = bm!.shape.slice(-2).map(dimExpr) as [string, string];
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const n = transposeB ? br : bc;
  const call = (rows: string, pa: string, pb: string, pc: string, depth = k) =>
    `f32_gemm__simd128(${rows}, ${n}, ${depth}, ${pa}, ${ac}, ${b(transposeA)}, ${pb}, ${bc}, ${b(transposeB)}, ${pc}, ${n}, false, ${tail});`;
  const batchA = a!.shape.slice(0, -2);
  const batchB = bm!.shape.slice(0, -2);
  // the leading axes fold into K: A and B are [R, M] and [R, N] row-major, one GEMM over all R rows
  if (contract) return call(m, a!.ptr, bm!.ptr, out.ptr, sizeExpr(a!.shape.slice(0, -1)));
  // A's batch rows are contiguous: one GEMM with the batch folded into M (B packed once for a loop when it is the loop's constant)
  if (batchB.length === 0 && !transposeA) {
    const one = call(batchA.length ? `${sizeExpr(batchA)} * ${m}` : m, a!.ptr, bm!.ptr, out.ptr);
    if (packed) return prepacked(one, packed, n);
    return invariant?.[1] ? one.replace('f32_gemm__simd128(', 'f32_gemm_stable_b__simd128(') : one;
  }
  if (packed) throw internal(`emit: a prepacked B for a matmul that is not one GEMM (${a!.shape.length}-d A, ${bm!.shape.length}-d B)`);
  const batch = broadcastShapes(batchA, batchB)!;
  const stridesOf = (own: Shape) => {
    const st = strideExprs(own);
    const offset = batch.length - own.length;
    return batch.map((_, d) => (d < offset || own[d - offset] === 1 ? '0' : st[d - offset]!));
  };
  const [sa, sb] = [stridesOf(batchA), stridesOf(batchB)];
  return `let t: i32 = 0;\n${nest(batch.map(dimExpr), 'j', (idx) =>
    `${call(m, at(a!.ptr, `(${linear(idx, sa)}) * ${ar} * ${ac}`), at(bm!.ptr, `(${linear(idx, sb)}) * ${br} * ${bc}`), at(out.ptr, `t * ${m} * ${n}`))}\nt++;`)}`;
};

/** A `f32_gemm__simd128(...)` call as its prepacked form: B's panels from `buffer` (packed for `allColumns`), from column `firstColumn` on. */
export function prepacked(call: string, buffer: string, allColumns: string, firstColumn = '0'): string {
  if (!call.startsWith('f32_gemm__simd128(') || !call.endsWith(');')) throw internal(`emit: not a single GEMM call: ${call}`);
  return `f32_gemm_prepacked__simd128(${call.slice('f32_gemm__simd128('.length, -2)}, ${buffer}, ${allColumns}, ${firstColumn});`;
}

function convDims(x: Operand, y: Operand, filter: Shape) {
  return [dimExpr(x.shape[0]!), x.shape[1], x.shape[2], x.shape[3], y.shape[1], y.shape[2], y.shape[3], filter[0], filter[1]].join(', ');
}
const convParams = (p: OpParams['conv2d']) => [p.strides[0], p.strides[1], p.dilations[0], p.dilations[1], p.padding[0][0], p.padding[1][0], p.groups].join(', ');
const poolArgs = (x: Operand, y: Operand, p: OpParams['maxPool2d']) =>
  [dimExpr(x.shape[0]!), x.shape[1], x.shape[2], x.shape[3], y.shape[1], y.shape[2], p.poolSize[0], p.poolSize[1], p.strides[0], p.strides[1], p.padding[0][0], p.padding[1][0]].join(', ');

function indexCheck(ctx: LowerContext<'gather' | 'scatterAdd'>, k: string, size: number): string {
  const message = `${ctx.node.op}: index {value} is out of range [0, ${size}) on axis ${ctx.params.axis}${ctx.node.origin ? ` (at ${ctx.node.origin})` : ''}.`;
  return `if (<u32>${k} >= <u32>${size}) { fail(${ctx.error(message)}, ${k}); return; }`;
}

function batchIndexCheck(ctx: LowerContext<'batchGather' | 'batchScatterAdd'>, k: string, size: number): string {
  const message = `${ctx.node.op}: index {value} is out of range [0, ${size}) on axis 1${ctx.node.origin ? ` (at ${ctx.node.origin})` : ''}.`;
  return `if (<u32>${k} >= <u32>${size}) { fail(${ctx.error(message)}, ${k}); return; }`;
}

export const lowerings: { readonly [K in Lowered]: Lowering<K> } = {
  input: nothing,
  constant: nothing,
  reshape: nothing,
  stopGradient: nothing,
  customVjp: nothing,
  scanPart: nothing, // a view into its scan's packed results (plan.ts places it)
  scan: () => {
    throw new Error('internal: emit: a scan is emitted by emit/scan.ts, which needs its nested plan');
  },
  dimSize: ({ out }) => store('float32', out.ptr, '<f32>batch'),
  fused: ({ params: { body }, inputs, out }) => emitFused(body, inputs, out),
  sum: reduce('sum'),
  prod: reduce('prod'),
  max: reduce('max'),
  min: reduce('min'),
  argmax: argReduce('>'),
  argmin: argReduce('<'),
  nonFinite: ({ params: { limit }, inputs: [x], out }) => `${nonFiniteScan(limit, x!.ptr, '0', sizeExpr(x!.shape))}\n${store('float32', out.ptr, 'flagged ? <f32>NaN : <f32>0')}`,
  matmul,
  transpose: ({ params: { perm }, inputs: [x], out }) => {
    const s = strideExprs(x!.shape);
    // the last axis stays last with static rows of at least 8 values: one memory.copy per row
    // (a sequence [N, T, F] ↔ [T, N, F] around a scan) instead of an element at a time
    const last = perm.length - 1;
    const width = x!.shape[last];
    if (last >= 1 && perm[last] === last && typeof width === 'number' && width >= 8) {
      const src = perm.slice(0, last).map((p) => s[p]!);
      return `let k: i32 = 0;\n${nest(out.shape.slice(0, last).map(dimExpr), 'j', (idx) => `memory.copy(${at(out.ptr, `k * ${width}`)}, ${at(x!.ptr, linear(idx, src))}, ${width * 4});\nk++;`)}`;
    }
    return gatherLoop(x!, out, perm.map((p) => s[p]!));
  },
  slice: ({ params: { begin, strides }, inputs: [x], out }) => {
    const s = strideExprs(x!.shape).map((st, d) => (strides[d] === 1 ? st : `${st} * ${strides[d]}`));
    const base = linear(begin.map(String), strideExprs(x!.shape));
    // unit strides and a run of whole rows of at least 8 values: one memory.copy per row (a gate of an LSTM's [B, 4·units])
    const last = out.shape.length - 1;
    if (strides.every((st) => st === 1) && last >= 0 && typeof out.shape[last] === 'number' && (out.shape[last] as number) >= 8) {
      const rowBytes = (out.shape[last] as number) * 4;
      const outer = out.shape.slice(0, last);
      const src = strideExprs(x!.shape).slice(0, last);
      return `let k: i32 = 0;\n${nest(outer.map(dimExpr), 'j', (idx) => `memory.copy(${at(out.ptr, `k * ${out.shape[last]}`)}, ${at(at(x!.ptr, base), linear(idx, src))}, ${rowBytes});\nk++;`)}`;
    }
    return gatherLoop({ ...x!, ptr: at(x!.ptr, base) }, out, s);
  },
  pad: ({ params: { low, interior, value }, inputs: [x], out }) => {
    const os = strideExprs(out.shape);
    const scatter = nest(x!.shape.map(dimExpr), 'j', (idx) => {
      const dst = idx.map((i, d) => `(${low[d]} + ${i} * ${interior[d]! + 1})`);
      return `${store(out.dtype, at(out.ptr, linear(dst, os)), load(x!.dtype, at(x!.ptr, 'k')))}\nk++;`;
    });
    return `${fill(out, out.dtype === 'float32' ? literal(value) : String(value))}\nlet k: i32 = 0;\n${scatter}`;
  },
  concat: ({ params: { axis }, inputs, out }) => {
    const os = strideExprs(out.shape);
    const last = out.shape.length - 1;
    // along the last axis with static widths of at least 8: one memory.copy per row of each input
    if (axis === last && last >= 1 && inputs.every((x) => typeof x.shape[last] === 'number' && (x.shape[last] as number) >= 8)) {
      let offset = 0;
      return inputs.map((x) => {
        const width = x.shape[last] as number;
        const code = `{\nlet k: i32 = 0;\n${nest(out.shape.slice(0, last).map(dimExpr), 'j', (idx) => `memory.copy(${at(out.ptr, `${linear(idx, os.slice(0, last))} + ${offset}`)}, ${at(x.ptr, `k * ${width}`)}, ${width * 4});\nk++;`)}\n}`;
        offset += width;
        return code;
      }).join('\n');
    }
    let offset = 0;
    return inputs.map((x) => {
      const code = `{\nlet k: i32 = 0;\n${nest(x.shape.map(dimExpr), 'j', (idx) => {
        const dst = idx.map((i, d) => (d === axis && offset ? `(${offset} + ${i})` : i));
        return `${store(out.dtype, at(out.ptr, linear(dst, os)), load(x.dtype, at(x.ptr, 'k')))}\nk++;`;
      })}\n}`;
      offset += x.shape[axis] as number;
      return code;
    }).join('\n');
  },
  gather: (ctx) => {
    const { params: { axis }, inputs: [x, idx], out } = ctx;
    const outer = sizeExpr(x!.shape.slice(0, axis));
    const inner = sizeExpr(x!.shape.slice(axis + 1));
    const size = x!.shape[axis] as number;
    return `let k: i32 = 0;\nfor (let o: i32 = 0; o < ${outer}; o++) {\n  for (let j: i32 = 0; j < ${sizeExpr(idx!.shape)}; j++) {\n    const r = ${load('int32', at(idx!.ptr, 'j'))};\n    ${indexCheck(ctx, 'r', size)}\n    for (let i: i32 = 0; i < ${inner}; i++) { ${store(out.dtype, at(out.ptr, 'k'), load(x!.dtype, at(x!.ptr, `(o * ${size} + r) * ${inner} + i`)))} k++; }\n  }\n}`;
  },
  scatterAdd: (ctx) => {
    const { params: { axis, size }, inputs: [u, idx], out } = ctx;
    const outer = sizeExpr(out.shape.slice(0, axis));
    const inner = sizeExpr(out.shape.slice(axis + 1));
    const dst = at(out.ptr, `(o * ${size} + r) * ${inner} + i`);
    // float32 rows add four lanes at a time (each element still sums its updates in index order)
    const lanes = out.dtype === 'float32' && u!.dtype === 'float32' ? `for (; i + 4 <= ${inner}; i += 4, k += 4) v128.store(${dst}, f32x4.add(v128.load(${dst}), v128.load(${at(u!.ptr, 'k')})));\n    ` : '';
    return `${fill(out, out.dtype === 'float32' ? '<f32>0' : '0')}\nlet k: i32 = 0;\nfor (let o: i32 = 0; o < ${outer}; o++) {\n  for (let j: i32 = 0; j < ${sizeExpr(idx!.shape)}; j++) {\n    const r = ${load('int32', at(idx!.ptr, 'j'))};\n    ${indexCheck(ctx, 'r', size)}\n    let i: i32 = 0;\n    ${lanes}for (; i < ${inner}; i++) { ${store(out.dtype, dst, `${load(out.dtype, dst)} + ${load(u!.dtype, at(u!.ptr, 'k'))}`)} k++; }\n  }\n}`;
  },
  batchGather: (ctx) => {
    const { inputs: [x, idx], out } = ctx;
    const [n, c, m] = [x!.shape[1] as number, x!.shape[2] as number, idx!.shape[1] as number];
    return `let k: i32 = 0;\nfor (let b: i32 = 0; b < ${dimExpr(x!.shape[0]!)}; b++) {\n  for (let j: i32 = 0; j < ${m}; j++) {\n    const r = ${load('int32', at(idx!.ptr, `b * ${m} + j`))};\n    ${batchIndexCheck(ctx, 'r', n)}\n    for (let i: i32 = 0; i < ${c}; i++) { ${store(out.dtype, at(out.ptr, 'k'), load(x!.dtype, at(x!.ptr, `(b * ${n} + r) * ${c} + i`)))} k++; }\n  }\n}`;
  },
  batchScatterAdd: (ctx) => {
    const { params: { size }, inputs: [u, idx], out } = ctx;
    const [c, m] = [u!.shape[2] as number, idx!.shape[1] as number];
    const dst = at(out.ptr, `(b * ${size} + r) * ${c} + i`);
    return `${fill(out, out.dtype === 'float32' ? '<f32>0' : '0')}\nlet k: i32 = 0;\nfor (let b: i32 = 0; b < ${dimExpr(u!.shape[0]!)}; b++) {\n  for (let j: i32 = 0; j < ${m}; j++) {\n    const r = ${load('int32', at(idx!.ptr, `b * ${m} + j`))};\n    ${batchIndexCheck(ctx, 'r', size)}\n    for (let i: i32 = 0; i < ${c}; i++) { ${store(out.dtype, dst, `${load(out.dtype, dst)} + ${load(u!.dtype, at(u!.ptr, 'k'))}`)} k++; }\n  }\n}`;
  },
  conv2d: ({ params, inputs: [x, f, bias], out }) =>
    `f32_conv2d_nhwc__simd128(${convDims(x!, out, f!.shape)}, ${convParams(params)}, ${x!.ptr}, ${f!.ptr}, ${out.ptr}, ${bias ? bias.ptr : 0}, ${params.epilogue?.relu ? 1 : 0});`,
  conv2dBackpropInput: ({ params, inputs: [dy, f], out }) => `f32_conv2d_nhwc_backprop_input__simd128(${convDims(out, dy!, f!.shape)}, ${convParams(params)}, ${dy!.ptr}, ${f!.ptr}, ${out.ptr});`,
  conv2dBackpropFilter: ({ params, inputs: [x, dy], out }) => `f32_conv2d_nhwc_backprop_filter__simd128(${convDims(x!, dy!, out.shape)}, ${convParams(params)}, ${x!.ptr}, ${dy!.ptr}, ${out.ptr});`,
  maxPool2d: ({ params, inputs: [x], out }) => `f32_maxpool2d_nhwc__simd128(${poolArgs(x!, out, params)}, ${x!.ptr}, ${out.ptr});`,
  maxPool2dGrad: ({ params, inputs: [x, dy], out }) => `f32_maxpool2d_nhwc_grad__simd128(${poolArgs(x!, dy!, params)}, ${x!.ptr}, ${dy!.ptr}, ${out.ptr});`,
  maxPool2dSelect: ({ params, inputs: [x, g], out }) => `f32_maxpool2d_nhwc_select__simd128(${poolArgs(x!, out, params)}, ${x!.ptr}, ${g!.ptr}, ${out.ptr});`,
  avgPool2d: ({ params, inputs: [x], out }) => `f32_avgpool2d_nhwc__simd128(${poolArgs(x!, out, params)}, ${x!.ptr}, ${out.ptr});`,
  avgPool2dGrad: ({ params, inputs: [dy], out }) => `f32_avgpool2d_nhwc_grad__simd128(${poolArgs(out, dy!, params)}, ${dy!.ptr}, ${out.ptr});`,
  randomUniform: ({ params: { seed }, inputs: [step], out }) => `f32_random_uniform__scalar(${sizeExpr(out.shape)}, <u32>${seed}, <u32><i32>${load('float32', step!.ptr)}, ${out.ptr});`,
};

