/**
 * @file Convolution family, NHWC activations with HWIO filters, float32: conv2d
 * and its two gradients (input, which is also the transposed convolution, and
 * filter); max pooling, its gradient and that gradient's transpose (a gather at
 * each window's first maximum); average pooling and its gradient. conv2d is
 * bilinear, so every conv VJP is one of the three conv ops, and each pooling
 * gradient is the transpose of another op here: gradients of gradients stay in
 * this family.
 */
import { reject } from '../errors.js';
import * as F from '../functions/index.js';
import { BATCH, formatShape, formatType, sameShape, type Dim, type Shape, type TensorType } from '../types.js';
import { applyEpilogue, checkEpilogue, fusedAfterAutodiff, type Epilogue, type OpDef, type Value } from './op.js';

type Pair = readonly [number, number];

export interface Conv2dParams {
  readonly strides: Pair;
  /** [[top, bottom], [left, right]]: explicit, non-negative; 'same' is resolved by the functions. */
  readonly padding: readonly [Pair, Pair];
  readonly dilations: Pair;
  /** Input and output channels split into this many independent groups (depthwise: groups = Cin). */
  readonly groups: number;
}

export interface Pool2dParams {
  readonly poolSize: Pair;
  readonly strides: Pair;
  readonly padding: readonly [Pair, Pair];
}

export interface ConvParams {
  /** With an `epilogue` (set by fuseEpilogues), a bias input and relu are applied in the kernel. */
  conv2d: Conv2dParams & { readonly epilogue?: Epilogue };
  /** `inputSize` is x's [H, W]: with strides > 1 several input sizes give the same dy. */
  conv2dBackpropInput: Conv2dParams & { readonly inputSize: Pair };
  conv2dBackpropFilter: Conv2dParams & { readonly filterSize: Pair };
  maxPool2d: Pool2dParams;
  /** inputs [x, dy]: dy routed to each window's first maximum, summed where windows overlap. */
  maxPool2dGrad: Pool2dParams;
  /** inputs [x, g]: g read at each window's first maximum; the transpose of maxPool2dGrad in its dy. */
  maxPool2dSelect: Pool2dParams;
  avgPool2d: Pool2dParams;
  avgPool2dGrad: Pool2dParams & { readonly inputSize: Pair };
}

/** One spatial scan of a window over an image: what convolution and pooling share. */
interface Window {
  readonly size: Pair;
  readonly strides: Pair;
  readonly dilations: Pair;
  readonly padding: readonly [Pair, Pair];
}

const convWindow = (p: Conv2dParams, size: Pair): Window => ({ size, strides: p.strides, dilations: p.dilations, padding: p.padding });
const poolWindow = (p: Pool2dParams): Window => ({ size: p.poolSize, strides: p.strides, dilations: [1, 1], padding: p.padding });
const convPart = ({ strides, padding, dilations, groups }: Conv2dParams): Conv2dParams => ({ strides, padding, dilations, groups });
const poolPart = ({ poolSize, strides, padding }: Pool2dParams): Pool2dParams => ({ poolSize, strides, padding });

const show = (v: unknown) => JSON.stringify(v);
const isPair = (v: unknown, min: number): v is Pair => Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d >= min);
/** The [H, W] of an NHWC tensor or [KH, KW] of an HWIO filter, static by the time a VJP runs. */
const spatial = (t: F.Tensor, from: number): Pair => [t.type.shape[from] as number, t.type.shape[from + 1] as number];

// ---- shape rules -------------------------------------------------------------

/** Dims of a rank-4 float32 tensor; only an activation's leading N may be the batch dim. */
function dims4(name: string, layout: 'NHWC' | 'HWIO', t: TensorType): [Dim, number, number, number] {
  if (t.shape.length !== 4) reject(`expected ${name} of rank 4 (${layout}), got ${formatType(t)}`);
  if (t.dtype !== 'float32') reject(`expected float32 ${name}, got ${formatType(t)}`);
  const [n, h, w, c] = t.shape as [Dim, Dim, Dim, Dim];
  if ([h, w, c].includes(BATCH) || (layout === 'HWIO' && n === BATCH)) reject(`expected ${name} with static ${layout === 'NHWC' ? 'height, width and channels' : 'dimensions'}, got ${formatType(t)}`);
  return [n, h as number, w as number, c as number];
}

function checkWindow(w: Window): void {
  if (!isPair(w.strides, 1)) reject(`expected strides of two positive integers, got ${show(w.strides)}`);
  if (!isPair(w.dilations, 1)) reject(`expected dilations of two positive integers, got ${show(w.dilations)}`);
  const padOk = Array.isArray(w.padding) && w.padding.length === 2 && w.padding.every((p) => isPair(p, 0));
  if (!padOk) reject(`expected padding [[top,bottom],[left,right]] of non-negative integers, got ${show(w.padding)}`);
}

/** Output length along one axis: floor((in + low + high - span) / stride) + 1, span the dilated window. */
const span = (w: Window, axis: 0 | 1) => (w.size[axis] - 1) * w.dilations[axis] + 1;
const outLength = (n: number, w: Window, axis: 0 | 1) => Math.floor((n + w.padding[axis][0] + w.padding[axis][1] - span(w, axis)) / w.strides[axis]) + 1;

/** [OH, OW] of a scan over an H×W image; rejects a window that does not fit the padded image. */
function scanOutput([h, w]: Pair, win: Window): Pair {
  checkWindow(win);
  const out: Pair = [outLength(h, win, 0), outLength(w, win, 1)];
  if (out[0] < 1 || out[1] < 1) {
    const [ph, pw] = [h + win.padding[0][0] + win.padding[0][1], w + win.padding[1][0] + win.padding[1][1]];
    reject(`expected a window that fits the padded input ${ph}x${pw} (input ${h}x${w}, padding ${show(win.padding)}), got a window spanning ${span(win, 0)}x${span(win, 1)} (size ${win.size[0]}x${win.size[1]}, dilations ${win.dilations[0]}x${win.dilations[1]})`);
  }
  return out;
}

function checkGroups(groups: number, cin: number, cout: number, types: string): void {
  if (!Number.isInteger(groups) || groups < 1) reject(`expected groups to be a positive integer, got ${groups}`);
  if (cin % groups !== 0 || cout % groups !== 0) reject(`expected groups ${groups} to divide the input channels ${cin} and the output channels ${cout}, got ${types}`);
}

/** The output shape of conv2d(x, w), after checking that the two agree. */
function convShape(x: TensorType, w: TensorType, p: Conv2dParams): Dim[] {
  const [n, h, wd, cin] = dims4('input', 'NHWC', x);
  const [kh, kw, ci, co] = dims4('filter', 'HWIO', w);
  const types = `input ${formatType(x)} and filter ${formatType(w)}`;
  checkGroups(p.groups, cin, co, types);
  if (ci * p.groups !== cin) reject(`expected the filter's input channels (dim 2) to be ${cin / p.groups} (input channels ${cin} / groups ${p.groups}), got ${types}`);
  const [oh, ow] = scanOutput([h, wd], convWindow(p, [kh as number, kw]));
  return [n, oh, ow, co];
}

/** Checks that a gradient operand has exactly the forward output's shape. */
function expectShape(name: string, got: TensorType, shape: Shape, context: string): void {
  if (!sameShape(got.shape, shape)) reject(`expected ${name} of shape ${formatShape(shape)} (${context}), got ${formatType(got)}`);
}

function poolShape(x: TensorType, p: Pool2dParams): Dim[] {
  const [n, h, w, c] = dims4('input', 'NHWC', x);
  if (!isPair(p.poolSize, 1)) reject(`expected a pool size of two positive integers, got ${show(p.poolSize)}`);
  const [oh, ow] = scanOutput([h, w], poolWindow(p));
  // a window of padding alone would have no maximum and an average over no cells
  const [[t, b], [l, r]] = p.padding;
  if (Math.max(t, b) >= p.poolSize[0] || Math.max(l, r) >= p.poolSize[1]) reject(`expected padding smaller than the pool size ${p.poolSize[0]}x${p.poolSize[1]} on every side, got ${show(p.padding)}`);
  return [n, oh, ow, c];
}

function inputSizeOf(size: unknown): Pair {
  if (!isPair(size, 1)) reject(`expected inputSize of two positive integers, got ${show(size)}`);
  return size;
}

// ---- reference loops ---------------------------------------------------------

/**
 * Calls visit(xi, wi, yi) for every product x[xi]·w[wi] that conv2d adds into
 * y[yi] (flat NHWC/HWIO indices). All three conv refs are this one bilinear form.
 */
function forEachConvTap(xs: readonly number[], ws: readonly number[], ys: readonly number[], p: Conv2dParams, visit: (xi: number, wi: number, yi: number) => void): void {
  const [n, h, w, cin] = xs as [number, number, number, number];
  const [kh, kw, cig, cout] = ws as [number, number, number, number];
  const [oh, ow] = [ys[1]!, ys[2]!];
  const [[sh, sw], [dh, dw], [[pt], [pl]]] = [p.strides, p.dilations, p.padding];
  const cog = cout / p.groups;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) continue; // padding contributes zero
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const [xRow, wRow, yRow] = [((b * h + iy) * w + ix) * cin, (ky * kw + kx) * cig * cout, ((b * oh + oy) * ow + ox) * cout];
            for (let co = 0; co < cout; co++) {
              const c0 = Math.floor(co / cog) * cig; // first input channel of co's group
              for (let ci = 0; ci < cig; ci++) visit(xRow + c0 + ci, wRow + ci * cout + co, yRow + co);
            }
          }
        }
      }
    }
  }
}

/** Calls visit(yi, cells) for every pooling output, with its window's in-image x indices in row-major order. */
function forEachWindow(xs: readonly number[], ys: readonly number[], p: Pool2dParams, visit: (yi: number, cells: readonly number[]) => void): void {
  const [n, h, w, c] = xs as [number, number, number, number];
  const [oh, ow] = [ys[1]!, ys[2]!];
  const [[ph, pw], [sh, sw], [[pt], [pl]]] = [p.poolSize, p.strides, p.padding];
  const cells: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          cells.length = 0;
          for (let ky = 0; ky < ph; ky++) {
            for (let kx = 0; kx < pw; kx++) {
              const [iy, ix] = [oy * sh - pt + ky, ox * sw - pl + kx];
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) cells.push(((b * h + iy) * w + ix) * c + ch); // padding never counts
            }
          }
          visit(((b * oh + oy) * ow + ox) * c + ch, cells);
        }
      }
    }
  }
}

/** The first cell holding the window's maximum: ties go to the earliest in row-major order. */
function firstMax(data: Value['data'], cells: readonly number[]): number {
  let best = cells[0]!;
  for (const i of cells) if (data[i]! > data[best]!) best = i;
  return best;
}

const total = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// ---- the table ---------------------------------------------------------------

export const convOps: { readonly [K in keyof ConvParams]: OpDef<ConvParams[K]> } = {
  conv2d: {
    arity: 'variadic',
    infer: (inputs, p) => {
      const [x, w] = inputs;
      if (!x || !w) reject(`expected 2 inputs, got ${inputs.length}`);
      const shape = convShape(x, w, p);
      checkEpilogue(inputs, p.epilogue, shape[3]!, reject);
      return { dtype: 'float32', shape };
    },
    ref: ([x, w, bias], p, out) => {
      const y = new Float64Array(total(out.shape));
      forEachConvTap(x!.shape, w!.shape, out.shape, p, (xi, wi, yi) => (y[yi] += x!.data[xi]! * w!.data[wi]!));
      return applyEpilogue(y, p.epilogue, bias);
    },
    vjp: ({ inputs: [x, w], params }, dy) => params.epilogue ? fusedAfterAutodiff({ inputs: [], output: dy, params: undefined }, dy) : [
      F.conv2dBackpropInput(dy, w!, { ...convPart(params), inputSize: spatial(x!, 1) }),
      F.conv2dBackpropFilter(x!, dy, { ...convPart(params), filterSize: spatial(w!, 0) }),
    ],
    backend: { lower: 'f32_conv2d_nhwc' },
  },
  conv2dBackpropInput: {
    arity: 2,
    infer: ([dy, w], p) => {
      const [n, , , cout] = dims4('dy', 'NHWC', dy!);
      const [, , ci, co] = dims4('filter', 'HWIO', w!);
      const [h, wd] = inputSizeOf(p.inputSize);
      if (co !== cout) reject(`expected the filter's output channels (dim 3) to equal dy's channels, got dy ${formatType(dy!)} and filter ${formatType(w!)}`);
      if (!Number.isInteger(p.groups) || p.groups < 1) reject(`expected groups to be a positive integer, got ${p.groups}`);
      const x: TensorType = { dtype: 'float32', shape: [n, h, wd, ci * p.groups] };
      expectShape('dy', dy!, convShape(x, w!, p), `the conv2d output for input ${formatType(x)} and filter ${formatType(w!)}`);
      return x;
    },
    ref: ([dy, w], p, out) => {
      const dx = new Float64Array(total(out.shape));
      forEachConvTap(out.shape, w!.shape, dy!.shape, p, (xi, wi, yi) => (dx[xi] += dy!.data[yi]! * w!.data[wi]!));
      return dx;
    },
    vjp: ({ inputs: [dy, w], params }, g) => [
      F.conv2dRaw(g, w!, convPart(params)),
      F.conv2dBackpropFilter(g, dy!, { ...convPart(params), filterSize: spatial(w!, 0) }),
    ],
    backend: { lower: 'f32_conv2d_nhwc_backprop_input' },
  },
  conv2dBackpropFilter: {
    arity: 2,
    infer: ([x, dy], p) => {
      const [, , , cin] = dims4('input', 'NHWC', x!);
      const [, , , cout] = dims4('dy', 'NHWC', dy!);
      if (!isPair(p.filterSize, 1)) reject(`expected filterSize of two positive integers, got ${show(p.filterSize)}`);
      checkGroups(p.groups, cin, cout, `input ${formatType(x!)} and dy ${formatType(dy!)}`);
      const w: TensorType = { dtype: 'float32', shape: [...p.filterSize, cin / p.groups, cout] };
      expectShape('dy', dy!, convShape(x!, w, p), `the conv2d output for input ${formatType(x!)} and filter ${formatType(w)}`);
      return w;
    },
    ref: ([x, dy], p, out) => {
      const dw = new Float64Array(total(out.shape));
      forEachConvTap(x!.shape, out.shape, dy!.shape, p, (xi, wi, yi) => (dw[wi] += x!.data[xi]! * dy!.data[yi]!));
      return dw;
    },
    vjp: ({ inputs: [x, dy], params }, g) => [
      F.conv2dBackpropInput(dy!, g, { ...convPart(params), inputSize: spatial(x!, 1) }),
      F.conv2dRaw(x!, g, convPart(params)),
    ],
    backend: { lower: 'f32_conv2d_nhwc_backprop_filter' },
  },
  maxPool2d: {
    arity: 1,
    infer: ([x], p) => ({ dtype: 'float32', shape: poolShape(x!, p) }),
    ref: ([x], p, out) => {
      const y = new Float64Array(total(out.shape));
      forEachWindow(x!.shape, out.shape, p, (yi, cells) => (y[yi] = x!.data[firstMax(x!.data, cells)]!));
      return y;
    },
    vjp: ({ inputs: [x], params }, dy) => [F.maxPool2dGrad(x!, dy, params)],
    backend: { lower: 'f32_maxpool2d_nhwc' },
  },
  maxPool2dGrad: {
    arity: 2,
    infer: ([x, dy], p) => {
      expectShape('dy', dy!, poolShape(x!, p), `the maxPool2d output for input ${formatType(x!)}`);
      if (dy!.dtype !== 'float32') reject(`expected float32 dy, got ${formatType(dy!)}`);
      return x!;
    },
    ref: ([x, dy], p, out) => {
      const dx = new Float64Array(total(out.shape));
      forEachWindow(x!.shape, dy!.shape, p, (yi, cells) => (dx[firstMax(x!.data, cells)] += dy!.data[yi]!));
      return dx;
    },
    // piecewise constant in x; linear in dy, with maxPool2dSelect as its transpose
    vjp: ({ inputs: [x], params }, g) => [undefined, F.maxPool2dSelect(x!, g, params)],
    backend: { lower: 'f32_maxpool2d_nhwc_grad' },
  },
  maxPool2dSelect: {
    arity: 2,
    infer: ([x, g], p) => {
      const shape = poolShape(x!, p);
      expectShape('g', g!, x!.shape, `the shape of input ${formatType(x!)}`);
      if (g!.dtype !== 'float32') reject(`expected float32 g, got ${formatType(g!)}`);
      return { dtype: 'float32', shape };
    },
    ref: ([x, g], p, out) => {
      const y = new Float64Array(total(out.shape));
      forEachWindow(x!.shape, out.shape, p, (yi, cells) => (y[yi] = g!.data[firstMax(x!.data, cells)]!));
      return y;
    },
    vjp: ({ inputs: [x], params }, dy) => [undefined, F.maxPool2dGrad(x!, dy, params)],
    backend: { lower: 'f32_maxpool2d_nhwc_select' },
  },
  avgPool2d: {
    arity: 1,
    infer: ([x], p) => ({ dtype: 'float32', shape: poolShape(x!, p) }),
    ref: ([x], p, out) => {
      const y = new Float64Array(total(out.shape));
      forEachWindow(x!.shape, out.shape, p, (yi, cells) => {
        for (const i of cells) y[yi] += x!.data[i]!;
        y[yi] /= cells.length; // in-image cells only, as TensorFlow's 'same' pooling counts
      });
      return y;
    },
    vjp: ({ inputs: [x], params }, dy) => [F.avgPool2dGrad(dy, { ...params, inputSize: spatial(x!, 1) })],
    backend: { lower: 'f32_avgpool2d_nhwc' },
  },
  avgPool2dGrad: {
    arity: 1,
    infer: ([dy], p) => {
      const [n, , , c] = dims4('dy', 'NHWC', dy!);
      const x: TensorType = { dtype: 'float32', shape: [n, ...inputSizeOf(p.inputSize), c] };
      expectShape('dy', dy!, poolShape(x, p), `the avgPool2d output for input ${formatType(x)}`);
      return x;
    },
    ref: ([dy], p, out) => {
      const dx = new Float64Array(total(out.shape));
      forEachWindow(out.shape, dy!.shape, p, (yi, cells) => {
        for (const i of cells) dx[i] += dy!.data[yi]! / cells.length;
      });
      return dx;
    },
    vjp: ({ params }, g) => [F.avgPool2dRaw(g, poolPart(params))],
    backend: { lower: 'f32_avgpool2d_nhwc_grad' },
  },
};
