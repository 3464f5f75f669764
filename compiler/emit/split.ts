/**
 * @file Split lowerings: the ops whose work the threads of a run share
 * (runtime-as/threads.ts). Each thread takes a range of the OUTPUT — GEMM
 * columns or rows, convolution and pooling images, filter-gradient output
 * channels, elementwise rows or columns, reductions' output columns or rows — and
 * runs the same kernel on it, so every
 * value is computed by the same instructions in the same order at any thread
 * count. Ranges are aligned to the kernels' tiles (8 columns, 4 rows, 4 lanes),
 * which keeps every value in the same kind of tile as a whole call would.
 * An op below a work threshold (at the compiled maximum batch) is not split; at
 * run time `share_*`'s grain keeps small calls (a batch of one) on thread 0.
 */
import type { OpParams } from '../ops/index.js';
import { BATCH, type Dim, type Shape } from '../types.js';
import { sizeExpr } from './code.js';
import { emitFused, type Operand } from './fused.js';
import { columnSumColumns, columnSumLoop, trailingRowsLoop, type ReductionOp } from './reduce.js';
import { nonFiniteScan, prepacked, type LowerContext } from './lower.js';

/** Ops that a thread can do part of. */
export type SplitOp = 'matmul' | 'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter' | 'maxPool2d' | 'maxPool2dGrad' | 'maxPool2dSelect' | 'avgPool2d' | 'avgPool2dGrad' | 'fused' | 'nonFinite' | ReductionOp;

/** Multiply-adds (or elements) below which an op stays on one thread: a barrier costs about a microsecond. */
export const SPLIT_WORK = 1 << 16;
/** Elements below which an elementwise loop stays on one thread. */
export const SPLIT_ELEMENTS = 1 << 14;

const fixed = (shape: readonly Dim[], maxBatch: number) => shape.reduce<number>((a, d) => a * (d === BATCH ? maxBatch : d), 1);
const b = (x: boolean) => (x ? 'true' : 'false');
const range = (total: string, align: number, grain: string) =>
  `const lo: i32 = share_lo(${total}, ${align}, ${grain});\nconst hi: i32 = share_hi(${total}, ${align}, ${grain});\nif (lo < hi) {\n`;

/** C = op(A)·op(B) without batch dimensions (or A's folded into M): columns or rows shared. */
function matmul(ctx: LowerContext<'matmul'>, maxBatch: number): string | undefined {
  const { params: { transposeA, transposeB, epilogue }, inputs: [a, bm, bias], out, packed } = ctx;
  const batchA = a!.shape.slice(0, -2);
  if (bm!.shape.length > 2 || (batchA.length > 0 && transposeA)) return undefined; // batched products stay whole
  const dims = (s: Shape) => s.slice(-2).map((d) => (d === BATCH ? 'batch' : String(d))) as [string, string];
  const [ar, ac] = dims(a!.shape);
  const [br, bc] = dims(bm!.shape);
  const [m0, k] = transposeA ? [ac, ar] : [ar, ac];
  const n = transposeB ? br : bc;
  const m = batchA.length ? `(${sizeExpr(batchA)} * ${m0})` : m0;
  const rows = fixed([...batchA, ...(transposeA ? a!.shape.slice(-1) : a!.shape.slice(-2, -1))], maxBatch);
  const cols = fixed(transposeB ? bm!.shape.slice(-2, -1) : bm!.shape.slice(-1), maxBatch);
  const depth = fixed(transposeA ? a!.shape.slice(-2, -1) : a!.shape.slice(-1), maxBatch);
  if (rows * cols * depth < SPLIT_WORK) return undefined;
  const tail = (biasPtr: string) => `${bias ? biasPtr : 0}, ${epilogue?.relu ? 1 : 0}`;
  // a prepacked B: a column share reads the panels from its first column on
  const call = (rowsExpr: string, colsExpr: string, pa: string, pb: string, pc: string, pbias: string, firstColumn = '0') => {
    const one = `f32_gemm__simd128(${rowsExpr}, ${colsExpr}, ${k}, ${pa}, ${ac}, ${b(transposeA)}, ${pb}, ${bc}, ${b(transposeB)}, ${pc}, ${n}, false, ${tail(pbias)});`;
    return packed ? prepacked(one, packed, n, firstColumn) : one;
  };
  const work = `max(1, ${m} * ${k})`;
  // rows when there are more of them (and the kernel's few-rows path is not in play: shares of at least 8 rows)
  if (rows >= cols && rows >= 16) {
    const pa = transposeA ? `${a!.ptr} + (<usize>lo << 2)` : `${a!.ptr} + ((<usize>lo * ${ac}) << 2)`;
    return `${range(m, 4, `max(8, ${SPLIT_WORK} / max(1, ${n} * ${k}))`)}  ${call('hi - lo', n, pa, bm!.ptr, `${out.ptr} + ((<usize>lo * ${n}) << 2)`, bias?.ptr ?? '0')}\n}`;
  }
  const pb = transposeB ? `${bm!.ptr} + ((<usize>lo * ${bc}) << 2)` : `${bm!.ptr} + (<usize>lo << 2)`;
  return `${range(n, 8, `max(8, ${SPLIT_WORK} / ${work})`)}  ${call(m, 'hi - lo', a!.ptr, pb, `${out.ptr} + (<usize>lo << 2)`, bias ? `${bias.ptr} + (<usize>lo << 2)` : '0', 'lo')}\n}`;
}

const image = (shape: Shape) => sizeExpr(shape.slice(1)); // elements of one image (NHWC)
const at = (ptr: string, shape: Shape) => `${ptr} + ((<usize>lo * ${image(shape)}) << 2)`;

/** Convolutions and pooling over images [lo, hi) of the batch. */
function byImage(x: Operand, work: number, maxBatch: number, call: (count: string) => string): string | undefined {
  if (work < SPLIT_WORK) return undefined;
  const perImage = Math.max(1, work / fixed(x.shape.slice(0, 1), maxBatch));
  const n = x.shape[0] === BATCH ? 'batch' : String(x.shape[0]);
  return `${range(n, 1, String(Math.max(1, Math.ceil(SPLIT_WORK / perImage))))}  ${call('hi - lo')}\n}`;
}

const convGeometry = (x: Shape, y: Shape, filter: Shape) => [x[1], x[2], x[3], y[1], y[2], y[3], filter[0], filter[1]].join(', ');
const convParams = (p: OpParams['conv2d']) => [p.strides[0], p.strides[1], p.dilations[0], p.dilations[1], p.padding[0][0], p.padding[1][0], p.groups].join(', ');
const convWork = (y: Shape, filter: Shape, maxBatch: number) => fixed(y, maxBatch) * fixed(filter.slice(0, 3), maxBatch);
const poolGeometry = (x: Shape, y: Shape, p: OpParams['maxPool2d']) =>
  [x[1], x[2], x[3], y[1], y[2], p.poolSize[0], p.poolSize[1], p.strides[0], p.strides[1], p.padding[0][0], p.padding[1][0]].join(', ');
const poolWork = (x: Shape, p: OpParams['maxPool2d'], maxBatch: number) => fixed(x, maxBatch) * Math.max(1, (p.poolSize[0] * p.poolSize[1]) / (p.strides[0] * p.strides[1]));

/**
 * A reduction's output shared: the columns of a sum over leading axes (16 at a
 * time, `columnSumLoop`), or the rows of a reduction over trailing axes; other
 * axis patterns stay whole. Each output value is reduced in the same order as
 * on one thread.
 */
function reduction(op: ReductionOp, ctx: LowerContext<ReductionOp>, maxBatch: number): string | undefined {
  const { params: { axes }, inputs: [x], out } = ctx;
  if (fixed(x!.shape, maxBatch) < SPLIT_WORK) return undefined;
  const cols = op === 'sum' && x!.dtype === 'float32' && out.dtype === 'float32' ? columnSumColumns(x!.shape, axes) : undefined;
  if (cols !== undefined) {
    if (cols < 32) return undefined; // fewer than two shares of 16 columns
    const perColumn = Math.max(1, fixed(x!.shape, maxBatch) / cols);
    return `${range(String(cols), 16, String(Math.max(16, Math.ceil(SPLIT_WORK / perColumn))))}${columnSumLoop(x!.shape, axes, x!.ptr, out.ptr, { lo: 'lo', hi: 'hi' })}\n}`;
  }
  const rank = x!.shape.length;
  if (axes.length === 0 || axes.some((a, i) => a !== rank - axes.length + i)) return undefined; // not trailing axes
  const kept = x!.shape.slice(0, rank - axes.length);
  const perRow = Math.max(1, fixed(x!.shape, maxBatch) / fixed(kept, maxBatch));
  return `${range(sizeExpr(kept), 1, String(Math.max(1, Math.ceil(SPLIT_WORK / perRow))))}${trailingRowsLoop(op, x!.shape, axes, x!, out, 'lo', 'hi')}\n}`;
}

/**
 * A shared op whose result is one yes or no (nonFinite): each thread scans its
 * range and sets its flag (runtime-as/threads.ts), then, after a barrier, thread 0
 * ORs the flags into the result — the same answer at any thread count.
 */
export interface FlagSplit {
  readonly shared: string;
  /** Thread 0's code after the barrier. */
  readonly serial: string;
}

/** The shared form of an op, or undefined when it stays whole (too little work, or a shape that does not split). */
export function splitLowering(ctx: LowerContext<SplitOp>, maxBatch: number): string | FlagSplit | undefined {
  const { node, inputs, out } = ctx;
  switch (node.op) {
    case 'matmul':
      return matmul(ctx as LowerContext<'matmul'>, maxBatch);
    case 'conv2d': {
      const [x, f, bias] = inputs;
      const p = ctx.params as OpParams['conv2d'];
      return byImage(x!, convWork(out.shape, f!.shape, maxBatch), maxBatch, (count) =>
        `f32_conv2d_nhwc__simd128(${count}, ${convGeometry(x!.shape, out.shape, f!.shape)}, ${convParams(p)}, ${at(x!.ptr, x!.shape)}, ${f!.ptr}, ${at(out.ptr, out.shape)}, ${bias ? bias.ptr : 0}, ${p.epilogue?.relu ? 1 : 0});`);
    }
    case 'conv2dBackpropInput': {
      const [dy, f] = inputs;
      const p = ctx.params as OpParams['conv2d'];
      return byImage(out, convWork(dy!.shape, f!.shape, maxBatch), maxBatch, (count) =>
        `f32_conv2d_nhwc_backprop_input__simd128(${count}, ${convGeometry(out.shape, dy!.shape, f!.shape)}, ${convParams(p)}, ${at(dy!.ptr, dy!.shape)}, ${f!.ptr}, ${at(out.ptr, out.shape)});`);
    }
    case 'conv2dBackpropFilter': {
      const [x, dy] = inputs;
      const p = ctx.params as OpParams['conv2d'];
      const cout = out.shape[3] as number;
      if (p.groups !== 1 || cout < 16 || convWork(dy!.shape, out.shape, maxBatch) < SPLIT_WORK) return undefined;
      const n = x!.shape[0] === BATCH ? 'batch' : String(x!.shape[0]);
      return `${range(String(cout), 8, '8')}  f32_conv2d_nhwc_backprop_filter_cols__simd128(${n}, ${convGeometry(x!.shape, dy!.shape, out.shape)}, ${convParams(p)}, ${x!.ptr}, ${dy!.ptr}, ${out.ptr}, lo, hi);\n}`;
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const [x] = inputs;
      const p = ctx.params as OpParams['maxPool2d'];
      const kernel = node.op === 'maxPool2d' ? 'f32_maxpool2d_nhwc__simd128' : 'f32_avgpool2d_nhwc__simd128';
      return byImage(x!, poolWork(x!.shape, p, maxBatch), maxBatch, (count) => `${kernel}(${count}, ${poolGeometry(x!.shape, out.shape, p)}, ${at(x!.ptr, x!.shape)}, ${at(out.ptr, out.shape)});`);
    }
    case 'maxPool2dGrad': {
      const [x, dy] = inputs;
      const p = ctx.params as OpParams['maxPool2d'];
      return byImage(x!, poolWork(x!.shape, p, maxBatch), maxBatch, (count) =>
        `f32_maxpool2d_nhwc_grad__simd128(${count}, ${poolGeometry(x!.shape, dy!.shape, p)}, ${at(x!.ptr, x!.shape)}, ${at(dy!.ptr, dy!.shape)}, ${at(out.ptr, out.shape)});`);
    }
    case 'maxPool2dSelect': {
      const [x, g] = inputs;
      const p = ctx.params as OpParams['maxPool2d'];
      return byImage(x!, poolWork(x!.shape, p, maxBatch), maxBatch, (count) =>
        `f32_maxpool2d_nhwc_select__simd128(${count}, ${poolGeometry(x!.shape, out.shape, p)}, ${at(x!.ptr, x!.shape)}, ${at(g!.ptr, g!.shape)}, ${at(out.ptr, out.shape)});`);
    }
    case 'avgPool2dGrad': {
      const [dy] = inputs;
      const p = ctx.params as OpParams['maxPool2d'];
      return byImage(out, poolWork(out.shape, p, maxBatch), maxBatch, (count) =>
        `f32_avgpool2d_nhwc_grad__simd128(${count}, ${poolGeometry(out.shape, dy!.shape, p)}, ${at(dy!.ptr, dy!.shape)}, ${at(out.ptr, out.shape)});`);
    }
    case 'sum':
    case 'prod':
    case 'max':
    case 'min':
      return reduction(node.op, ctx as LowerContext<ReductionOp>, maxBatch);
    case 'nonFinite': {
      const [x] = inputs;
      if (fixed(x!.shape, maxBatch) < SPLIT_ELEMENTS) return undefined;
      const n = sizeExpr(x!.shape);
      return {
        shared: `const lo: i32 = share_lo(${n}, 8, ${SPLIT_ELEMENTS});\nconst hi: i32 = share_hi(${n}, 8, ${SPLIT_ELEMENTS});\n${nonFiniteScan((ctx.params as OpParams['nonFinite']).limit, x!.ptr, 'lo', 'hi')}\nthread_flag(flagged);`,
        serial: `store<f32>(${out.ptr}, thread_flags_any() ? <f32>NaN : <f32>0);`,
      };
    }
    case 'fused': {
      if (fixed(out.shape, maxBatch) < SPLIT_ELEMENTS) return undefined;
      return emitFused((ctx.params as OpParams['fused']).body, inputs, out, { share: true });
    }
  }
}

export const splitOps: ReadonlySet<string> = new Set<SplitOp>(['matmul', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'maxPool2d', 'maxPool2dGrad', 'maxPool2dSelect', 'avgPool2d', 'avgPool2dGrad', 'fused', 'nonFinite', 'sum', 'prod', 'max', 'min']);
