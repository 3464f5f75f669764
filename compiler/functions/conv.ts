/**
 * @file Convolution and pooling functions with TensorFlow.js-style arguments
 * (strides and dilations as a number or [h, w]; padding 'same', 'valid' or
 * explicit), reduced to the NHWC primitives of `ops/conv.ts`: 'same' padding is
 * resolved here with TensorFlow's rule, and 1-D, depthwise and transposed forms
 * become reshapes around conv2d or its input gradient. The `*Raw` and gradient
 * functions are the primitives with normalised params, as VJP rules use them.
 */
import { checkOptionsObject } from '../check.js';
import type { Conv2dParams, ConvParams, Pool2dParams } from '../ops/conv.js';
import { apply, Tensor } from '../tensor.js';
import { BATCH, formatType } from '../types.js';
import { expandDims, reshapeTo, squeeze } from './movement.js';
import { checkTensor, fail } from './util.js';

type Pair = readonly [number, number];
type Pads = readonly [Pair, Pair];
/** 'same', 'valid', one amount on every side, [[top,bottom],[left,right]] or TensorFlow's NHWC form [[0,0],[t,b],[l,r],[0,0]]. */
export type Padding = 'same' | 'valid' | number | Pads | readonly [Pair, Pair, Pair, Pair];
/** 'same', 'valid', one amount on both sides, or [left, right]. */
export type Padding1d = 'same' | 'valid' | number | Pair;

export interface Conv2dOptions {
  strides?: number | Pair;
  padding?: Padding;
  dilations?: number | Pair;
  groups?: number;
}
export interface Conv1dOptions {
  stride?: number;
  padding?: Padding1d;
  dilation?: number;
  groups?: number;
}
export interface Pool2dOptions {
  /** Default 2, as Keras' pooling layers. */
  poolSize?: number | Pair;
  /** Default: the pool size. */
  strides?: number | Pair;
  padding?: Padding;
}
export interface Pool1dOptions {
  poolSize?: number;
  strides?: number;
  padding?: Padding1d;
}

// ---- the primitives, with normalised params (what VJP rules call) -------------

export const conv2dRaw = (x: Tensor, filter: Tensor, params: Conv2dParams): Tensor => apply('conv2d', [x, filter], params);
/** dx of conv2d given dy; also the transposed convolution of dy. */
export const conv2dBackpropInput = (dy: Tensor, filter: Tensor, params: ConvParams['conv2dBackpropInput']): Tensor => apply('conv2dBackpropInput', [dy, filter], params);
export const conv2dBackpropFilter = (x: Tensor, dy: Tensor, params: ConvParams['conv2dBackpropFilter']): Tensor => apply('conv2dBackpropFilter', [x, dy], params);
export const maxPool2dRaw = (x: Tensor, params: Pool2dParams): Tensor => apply('maxPool2d', [x], params);
export const maxPool2dGrad = (x: Tensor, dy: Tensor, params: Pool2dParams): Tensor => apply('maxPool2dGrad', [x, dy], params);
export const maxPool2dSelect = (x: Tensor, g: Tensor, params: Pool2dParams): Tensor => apply('maxPool2dSelect', [x, g], params);
export const avgPool2dRaw = (x: Tensor, params: Pool2dParams): Tensor => apply('avgPool2d', [x], params);
export const avgPool2dGrad = (dy: Tensor, params: ConvParams['avgPool2dGrad']): Tensor => apply('avgPool2dGrad', [dy], params);

// ---- argument normalisation ---------------------------------------------------

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));
const isNumberPair = (v: unknown): v is Pair => Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number');

function expectRank(op: string, t: unknown, rank: number, what: string, layout: string): Tensor {
  const x = checkTensor(op, t, what);
  if (x.rank !== rank) fail(op, `expected ${what} of rank ${rank} (${layout}), got ${formatType(x.type)}`);
  return x;
}

function pair(op: string, name: string, v: unknown): Pair {
  if (typeof v === 'number') return [v, v];
  if (isNumberPair(v)) return v;
  return fail(op, `expected ${name} as a number or [height, width], got ${show(v)}`);
}

/** TensorFlow's 'same': the output has ceil(in / stride) cells, the odd padding cell goes after. */
function samePadding(size: number, kernel: number, stride: number, dilation: number): Pair {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Explicit padding from any accepted form; `'same'` needs the input size, kernel, strides and dilations. */
function resolvePadding(op: string, padding: unknown, size: Pair, kernel: Pair, strides: Pair, dilations: Pair): Pads {
  if (padding === 'valid') return [[0, 0], [0, 0]];
  if (padding === 'same') return [0, 1].map((a) => samePadding(size[a]!, kernel[a]!, strides[a]!, dilations[a]!)) as unknown as Pads;
  if (typeof padding === 'number') return [[padding, padding], [padding, padding]];
  if (Array.isArray(padding) && padding.every(isNumberPair)) {
    if (padding.length === 2) return padding as unknown as Pads;
    const zero = (p: Pair) => p[0] === 0 && p[1] === 0;
    if (padding.length === 4 && zero(padding[0]) && zero(padding[3])) return [padding[1], padding[2]];
  }
  return fail(op, `expected padding 'same', 'valid', a number or [[top,bottom],[left,right]], got ${show(padding)}`);
}

/** 1-D padding as the 2-D padding of a height-1 image (whose rows never pad). */
function padding1d(op: string, padding: unknown): Padding {
  if (padding === 'same' || padding === 'valid') return padding;
  if (typeof padding === 'number') return [[0, 0], [padding, padding]];
  if (isNumberPair(padding)) return [[0, 0], padding];
  return fail(op, `expected padding 'same', 'valid', a number or [left,right], got ${show(padding)}`);
}

function single(op: string, name: string, v: unknown): number {
  if (typeof v === 'number') return v;
  return fail(op, `expected ${name} as a number, got ${show(v)}`);
}

const hw = (t: Tensor, from: number): Pair => [t.type.shape[from] as number, t.type.shape[from + 1] as number];

// ---- convolution --------------------------------------------------------------

function conv2dAs(op: string, x: Tensor, filter: Tensor, options: Conv2dOptions): Tensor {
  checkOptionsObject(op, options);
  const strides = pair(op, 'strides', options.strides ?? 1);
  const dilations = pair(op, 'dilations', options.dilations ?? 1);
  const padding = resolvePadding(op, options.padding ?? 'valid', hw(x, 1), hw(filter, 0), strides, dilations);
  return conv2dRaw(x, filter, { strides, padding, dilations, groups: options.groups ?? 1 });
}

/**
 * 2-D convolution of NHWC `x` with an HWIO filter [KH, KW, Cin / groups, Cout].
 * @example kiln.conv2d(x, w, { strides: 2, padding: 'same' })
 */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  expectRank('conv2d', x, 4, 'input', 'NHWC');
  expectRank('conv2d', filter, 4, 'filter', 'HWIO');
  return conv2dAs('conv2d', x, filter, options);
}

/** Each input channel convolved with its own `multiplier` filters: filter [KH, KW, Cin, multiplier]. */
export function depthwiseConv2d(x: Tensor, filter: Tensor, options: Omit<Conv2dOptions, 'groups'> = {}): Tensor {
  const op = 'depthwiseConv2d';
  expectRank(op, x, 4, 'input', 'NHWC');
  const [kh, kw, cin, multiplier] = expectRank(op, filter, 4, 'filter', 'HWIM').type.shape as number[];
  if (cin !== x.type.shape[3]) fail(op, `expected the filter's dim 2 to equal the input channels, got input ${formatType(x.type)} and filter ${formatType(filter.type)}`);
  // output channel c·multiplier + m reads input channel c: the group order of an HWIO filter
  return conv2dAs(op, x, reshapeTo(filter, [kh!, kw!, 1, cin! * multiplier!]), { ...options, groups: cin! });
}

/** Keras' output length of a transposed convolution when no output shape is given. */
function transposedLength(n: number, kernel: number, stride: number, dilation: number, padding: 'same' | 'valid' | Pair): number {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'same') return n * stride;
  if (padding === 'valid') return n * stride + Math.max(span - stride, 0);
  return (n - 1) * stride + span - padding[0] - padding[1];
}

function outputSize(op: string, outputShape: unknown, x: Tensor, filter: Tensor): Pair {
  const given = Array.isArray(outputShape) ? (outputShape as unknown[]) : [];
  const form = given.length === 2 || given.length === 4 ? given : fail(op, `expected outputShape [height, width] or [batch, height, width, channels], got ${show(outputShape)}`);
  const [n, h, w, c] = form.length === 2 ? [undefined, form[0], form[1], undefined] : form;
  const batch = x.type.shape[0];
  const agrees = (n === undefined || n === null || batch === BATCH || n === batch) && (c === undefined || c === filter.type.shape[2]);
  if (!agrees) fail(op, `expected outputShape to agree with input ${formatType(x.type)} and filter ${formatType(filter.type)} in batch and channels, got ${show(outputShape)}`);
  return pair(op, 'outputShape', [h, w]);
}

/**
 * Transposed convolution (the gradient of conv2d with respect to its input) of
 * NHWC `x` with filter [KH, KW, outChannels, inChannels]; `outputShape` [H, W]
 * defaults to what Keras computes for the padding.
 * @example kiln.conv2dTranspose(x, w, undefined, { strides: 2, padding: 'same' })
 */
export function conv2dTranspose(x: Tensor, filter: Tensor, outputShape?: Pair | readonly (number | null)[], options: Omit<Conv2dOptions, 'groups'> = {}): Tensor {
  const op = 'conv2dTranspose';
  expectRank(op, x, 4, 'input', 'NHWC');
  expectRank(op, filter, 4, 'filter', 'HWOI');
  const strides = pair(op, 'strides', options.strides ?? 1);
  const dilations = pair(op, 'dilations', options.dilations ?? 1);
  const padding = options.padding ?? 'valid';
  const [h, w] = hw(x, 1);
  const [kh, kw] = hw(filter, 0);
  const named = padding === 'same' || padding === 'valid' ? padding : undefined;
  const explicit = named ? undefined : resolvePadding(op, padding, [h, w], [kh, kw], strides, dilations);
  const length = (a: 0 | 1) => transposedLength([h, w][a]!, [kh, kw][a]!, strides[a], dilations[a], named ?? explicit![a]);
  const size: Pair = outputShape === undefined ? [length(0), length(1)] : outputSize(op, outputShape, x, filter);
  // the padding of the forward conv2d that maps `size` back to x's size
  const pads = explicit ?? resolvePadding(op, padding, size, [kh, kw], strides, dilations);
  const back = [0, 1].map((a) => Math.floor((size[a]! + pads[a]![0] + pads[a]![1] - ([kh, kw][a]! - 1) * dilations[a]! - 1) / strides[a]!) + 1);
  const checkable = [...strides, ...dilations, ...size].every((v) => Number.isInteger(v) && v >= 1); // if not, the rule says what is wrong
  if (checkable && (back[0] !== h || back[1] !== w)) {
    fail(op, `expected an output size from which conv2d (strides ${strides.join('x')}, padding ${show(padding)}) gives the input's ${h}x${w}, got ${size.join('x')} (which gives ${back.join('x')})`);
  }
  return conv2dBackpropInput(x, filter, { strides, padding: pads, dilations, groups: 1, inputSize: size });
}

/**
 * 1-D convolution of [N, W, Cin] with filter [K, Cin / groups, Cout], as conv2d on a
 * height-1 image (reshapes keep a dynamic batch dimension).
 * @example kiln.conv1d(x, w, { stride: 2, padding: 'same' })
 */
export function conv1d(x: Tensor, filter: Tensor, options: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  expectRank(op, x, 3, 'input', 'NWC');
  expectRank(op, filter, 3, 'filter', 'WIO');
  const groups = options.groups ?? 1;
  if (Number.isInteger(groups) && groups > 0 && (filter.type.shape[1] as number) * groups !== x.type.shape[2]) {
    fail(op, `expected the filter's input channels (dim 1) to be ${x.type.shape[2]} / groups ${groups}, got input ${formatType(x.type)} and filter ${formatType(filter.type)}`);
  }
  const strides: Pair = [1, single(op, 'stride', options.stride ?? 1)];
  const dilations: Pair = [1, single(op, 'dilation', options.dilation ?? 1)];
  const y = conv2dAs(op, expandDims(x, 1), expandDims(filter, 0), { strides, dilations, groups, padding: padding1d(op, options.padding ?? 'valid') });
  return squeeze(y, 1);
}

// ---- pooling ------------------------------------------------------------------

function pool2dParams(op: string, x: Tensor, options: Pool2dOptions): Pool2dParams {
  checkOptionsObject(op, options);
  expectRank(op, x, 4, 'input', 'NHWC');
  const poolSize = pair(op, 'poolSize', options.poolSize ?? 2);
  const strides = pair(op, 'strides', options.strides ?? poolSize);
  const padding = resolvePadding(op, options.padding ?? 'valid', hw(x, 1), poolSize, strides, [1, 1]);
  return { poolSize, strides, padding };
}

function pool1dOptions(op: string, x: Tensor, options: Pool1dOptions): Pool2dOptions {
  expectRank(op, x, 3, 'input', 'NWC');
  const poolSize = single(op, 'poolSize', options.poolSize ?? 2);
  const strides = single(op, 'strides', options.strides ?? poolSize);
  return { poolSize: [1, poolSize], strides: [1, strides], padding: padding1d(op, options.padding ?? 'valid') };
}

/**
 * Max over each window of NHWC `x`; padding cells never win.
 * @example kiln.maxPool2d(x, { poolSize: 2 }) // f32[N,H/2,W/2,C]
 */
export function maxPool2d(x: Tensor, options: Pool2dOptions = {}): Tensor {
  return maxPool2dRaw(x, pool2dParams('maxPool2d', x, options));
}

/**
 * Mean over each window's cells inside the image (padding is not counted).
 * @example kiln.avgPool2d(x, { poolSize: 3, strides: 1, padding: 'same' })
 */
export function avgPool2d(x: Tensor, options: Pool2dOptions = {}): Tensor {
  return avgPool2dRaw(x, pool2dParams('avgPool2d', x, options));
}

/** maxPool2d over the width of [N, W, C]. */
export function maxPool1d(x: Tensor, options: Pool1dOptions = {}): Tensor {
  const options2d = pool1dOptions('maxPool1d', x, options);
  const image = expandDims(x, 1);
  return squeeze(maxPool2dRaw(image, pool2dParams('maxPool1d', image, options2d)), 1);
}

/** avgPool2d over the width of [N, W, C]. */
export function avgPool1d(x: Tensor, options: Pool1dOptions = {}): Tensor {
  const options2d = pool1dOptions('avgPool1d', x, options);
  const image = expandDims(x, 1);
  return squeeze(avgPool2dRaw(image, pool2dParams('avgPool1d', image, options2d)), 1);
}
