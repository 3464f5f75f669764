import { describe, test, expect } from 'vitest';
import * as kiln from '../../compiler/index.js';
import type { Tensor } from '../../compiler/index.js';

type Pair = readonly [number, number];
type Pads = readonly [Pair, Pair];

const rnd = (shape: readonly number[], seed: number) => kiln.randomNormal(shape, { seed });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const flat4 = (s: readonly number[]) => (a: number, b: number, c: number, d: number) => ((a * s[1]! + b) * s[2]! + c) * s[3]! + d;
const tol = { rtol: 1e-4, atol: 1e-6 };

function dot(a: Tensor, b: Tensor): number {
  const [p, q] = [a.dataSync(), b.dataSync()];
  expect(p.length).toBe(q.length);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i]! * q[i]!;
  return s;
}

function expectClose(actual: Tensor, expected: Tensor | ArrayLike<number>, shape?: readonly number[]): void {
  const e = expected instanceof kiln.Tensor ? expected.dataSync() : expected;
  if (shape) expect(actual.shape).toEqual(shape);
  if (expected instanceof kiln.Tensor) expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - e[i]!) <= 1e-4 * (1 + Math.abs(e[i]!)))) expect.fail(`index ${i}: got ${a[i]}, expected ${e[i]}`);
  }
}

/** The error message of `f`, printed so a failing exact-message test shows what it got. */
function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    console.log((e as Error).message);
    return (e as Error).message;
  }
  return expect.fail('expected an error');
}

// ---- convolution --------------------------------------------------------------

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  strides: Pair;
  padding: Pads;
  dilations: Pair;
  groups: number;
  /** Expected output shape, computed by hand. */
  out: number[];
}

const none: Pads = [[0, 0], [0, 0]];
const convCases: ConvCase[] = [
  { name: 'sizes of 1', x: [3, 1, 1, 1], w: [1, 1, 1, 1], strides: [1, 1], padding: none, dilations: [1, 1], groups: 1, out: [3, 1, 1, 1] },
  { name: '3x3 valid', x: [1, 5, 5, 3], w: [3, 3, 3, 4], strides: [1, 1], padding: none, dilations: [1, 1], groups: 1, out: [1, 3, 3, 4] },
  { name: 'strides 2x3, asymmetric padding, groups 2', x: [2, 7, 6, 4], w: [3, 2, 2, 6], strides: [2, 3], padding: [[1, 2], [0, 1]], dilations: [1, 1], groups: 2, out: [2, 4, 2, 6] },
  { name: 'depthwise multiplier 2, dilation 2', x: [1, 6, 5, 3], w: [2, 3, 1, 6], strides: [1, 1], padding: [[1, 0], [2, 1]], dilations: [2, 2], groups: 3, out: [1, 5, 4, 6] },
  { name: 'primes, stride 3, dilation 2', x: [1, 11, 7, 5], w: [3, 3, 5, 3], strides: [3, 3], padding: [[0, 2], [1, 0]], dilations: [2, 2], groups: 1, out: [1, 3, 2, 3] },
  { name: 'stride 2, groups 2', x: [2, 4, 4, 2], w: [2, 2, 1, 4], strides: [2, 2], padding: none, dilations: [1, 1], groups: 2, out: [2, 2, 2, 4] },
  { name: 'mixed strides and dilations', x: [1, 5, 9, 2], w: [2, 3, 2, 1], strides: [2, 1], padding: [[1, 1], [0, 3]], dilations: [1, 2], groups: 1, out: [1, 3, 8, 1] },
];

const convParams = (c: ConvCase) => ({ strides: c.strides, padding: c.padding, dilations: c.dilations, groups: c.groups });
const inputSize = (c: ConvCase): Pair => [c.x[1]!, c.x[2]!];
const filterSize = (c: ConvCase): Pair => [c.w[0]!, c.w[1]!];

/** conv2d as pad, one strided slice per filter tap, concat (im2col) and one matmul per group, all with kiln's own ops. */
function convByIm2col(x: Tensor, w: Tensor, c: ConvCase): Tensor {
  const [n, , , ] = c.x as [number, number, number, number];
  const [kh, kw, cig, cout] = c.w as [number, number, number, number];
  const [oh, ow] = [c.out[1]!, c.out[2]!];
  const [[sh, sw], [dh, dw]] = [c.strides, c.dilations];
  const xp = kiln.pad(x, [[0, 0], c.padding[0], c.padding[1], [0, 0]]);
  const cog = cout / c.groups;
  const groups = range(c.groups).map((g) => {
    const taps = range(kh * kw).map((k) => {
      const [y0, x0] = [Math.floor(k / kw) * dh, (k % kw) * dw];
      return kiln.stridedSlice(xp, [0, y0, x0, g * cig], [n, y0 + (oh - 1) * sh + 1, x0 + (ow - 1) * sw + 1, (g + 1) * cig], [1, sh, sw, 1]);
    });
    const columns = kiln.reshape(kiln.concat(taps, 3), [n * oh * ow, kh * kw * cig]); // (ky, kx, ci): the row order of HWIO
    const filter = kiln.reshape(kiln.stridedSlice(w, [0, 0, 0, g * cog], [kh, kw, cig, (g + 1) * cog]), [kh * kw * cig, cog]);
    return kiln.reshape(kiln.matmul(columns, filter), [n, oh, ow, cog]);
  });
  return kiln.concat(groups, 3);
}

/** dx by gathering, for each input cell, the outputs whose window covers it: the other loop order from the op's scatter. */
function naiveBackpropInput(dy: Tensor, w: Tensor, c: ConvCase): Float64Array {
  const [n, h, wd, cin] = c.x as [number, number, number, number];
  const [kh, kw, cig, cout] = c.w as [number, number, number, number];
  const [[sh, sw], [dh, dw], [[pt], [pl]]] = [c.strides, c.dilations, c.padding];
  const [xi, wi, yi] = [flat4(c.x), flat4(c.w), flat4(c.out)];
  const [dyv, wv] = [dy.dataSync(), w.dataSync()];
  const dx = new Float64Array(n * h * wd * cin);
  const cog = cout / c.groups;
  for (let b = 0; b < n; b++) for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < wd; ix++) for (let ci = 0; ci < cin; ci++) {
    const g = Math.floor(ci / cig);
    let s = 0;
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const [ty, tx] = [iy + pt - ky * dh, ix + pl - kx * dw];
      if (ty % sh !== 0 || tx % sw !== 0) continue;
      const [oy, ox] = [ty / sh, tx / sw];
      if (oy < 0 || oy >= c.out[1]! || ox < 0 || ox >= c.out[2]!) continue;
      for (let co = g * cog; co < (g + 1) * cog; co++) s += dyv[yi(b, oy, ox, co)]! * wv[wi(ky, kx, ci - g * cig, co)]!;
    }
    dx[xi(b, iy, ix, ci)] = s;
  }
  return dx;
}

/** dw[ky,kx,ci,co] as a sum over batch and output positions. */
function naiveBackpropFilter(x: Tensor, dy: Tensor, c: ConvCase): Float64Array {
  const [n, h, wd] = c.x as [number, number, number, number];
  const [kh, kw, cig, cout] = c.w as [number, number, number, number];
  const [[sh, sw], [dh, dw], [[pt], [pl]]] = [c.strides, c.dilations, c.padding];
  const [xi, wi, yi] = [flat4(c.x), flat4(c.w), flat4(c.out)];
  const [xv, dyv] = [x.dataSync(), dy.dataSync()];
  const dw_ = new Float64Array(kh * kw * cig * cout);
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) for (let ci = 0; ci < cig; ci++) for (let co = 0; co < cout; co++) {
    const channel = Math.floor(co / (cout / c.groups)) * cig + ci;
    let s = 0;
    for (let b = 0; b < n; b++) for (let oy = 0; oy < c.out[1]!; oy++) for (let ox = 0; ox < c.out[2]!; ox++) {
      const [iy, ix] = [oy * sh - pt + ky * dh, ox * sw - pl + kx * dw];
      if (iy >= 0 && iy < h && ix >= 0 && ix < wd) s += xv[xi(b, iy, ix, channel)]! * dyv[yi(b, oy, ox, co)]!;
    }
    dw_[wi(ky, kx, ci, co)] = s;
  }
  return dw_;
}

describe('conv2d, conv2dBackpropInput, conv2dBackpropFilter', () => {
  convCases.forEach((c, k) => {
    const [x, w, dy] = [rnd(c.x, 10 * k + 1), rnd(c.w, 10 * k + 2), rnd(c.out, 10 * k + 3)];
    const p = convParams(c);
    const bpInput = { ...p, inputSize: inputSize(c) };
    const bpFilter = { ...p, filterSize: filterSize(c) };

    test(`${c.name}: conv2d agrees with im2col + matmul and has shape [${c.out}]`, () => {
      expectClose(kiln.conv2dRaw(x, w, p), convByIm2col(x, w, c), c.out);
    });

    test(`${c.name}: the gradients agree with gathered loops and are conv2d's transposes`, () => {
      const dx = kiln.conv2dBackpropInput(dy, w, bpInput);
      const dw = kiln.conv2dBackpropFilter(x, dy, bpFilter);
      expectClose(dx, naiveBackpropInput(dy, w, c), c.x);
      expectClose(dw, naiveBackpropFilter(x, dy, c), c.w);
      // <conv2d(x, w), dy> = <x, dx> = <w, dw>
      const forward = dot(kiln.conv2dRaw(x, w, p), dy);
      expect(dot(x, dx)).toBeCloseTo(forward, 3);
      expect(dot(w, dw)).toBeCloseTo(forward, 3);
    });

    test(`${c.name}: every VJP agrees with finite differences`, () => {
      kiln.checkGrads((a, b) => kiln.conv2dRaw(a, b, p), [x, w], tol);
      kiln.checkGrads((a, b) => kiln.conv2dBackpropInput(a, b, bpInput), [dy, w], tol);
      kiln.checkGrads((a, b) => kiln.conv2dBackpropFilter(a, b, bpFilter), [x, dy], tol);
    });
  });

  test.each([2, 3, 4])('second order: gradients of conv2d gradients (case %i)', (k) => {
    const c = convCases[k]!;
    const p = convParams(c);
    const [x, w] = [rnd(c.x, 50 + k), rnd(c.w, 60 + k)];
    const loss = (a: Tensor, b: Tensor) => kiln.sum(kiln.square(kiln.conv2dRaw(a, b, p)));
    kiln.checkGrads((a, b) => kiln.grad((y: Tensor) => loss(y, b))(a), [x, w], tol);
    kiln.checkGrads((a, b) => kiln.grad((v: Tensor) => loss(a, v))(b), [x, w], tol);
  });
});

// ---- pooling ------------------------------------------------------------------

interface PoolCase {
  name: string;
  x: number[];
  poolSize: Pair;
  strides: Pair;
  padding: Pads;
  out: number[];
}

const poolCases: PoolCase[] = [
  { name: '2x2 stride 2', x: [1, 4, 4, 2], poolSize: [2, 2], strides: [2, 2], padding: none, out: [1, 2, 2, 2] },
  { name: 'overlapping 3x3 stride 1, padded', x: [2, 5, 5, 1], poolSize: [3, 3], strides: [1, 1], padding: [[1, 1], [1, 1]], out: [2, 5, 5, 1] },
  { name: 'primes, stride 2x3, asymmetric padding', x: [1, 7, 5, 3], poolSize: [3, 2], strides: [2, 3], padding: [[0, 2], [1, 0]], out: [1, 4, 2, 3] },
  { name: 'sizes of 1', x: [3, 1, 1, 1], poolSize: [1, 1], strides: [1, 1], padding: none, out: [3, 1, 1, 1] },
  { name: 'stride 3x2, pool 2x3', x: [1, 6, 7, 2], poolSize: [2, 3], strides: [3, 2], padding: [[1, 0], [0, 2]], out: [1, 2, 4, 2] },
];

const poolParams = (c: PoolCase) => ({ poolSize: c.poolSize, strides: c.strides, padding: c.padding });

/** The window taps of a pool as strided slices of `x` padded with `value`. */
function poolTaps(x: Tensor, c: PoolCase, value: number): Tensor[] {
  const xp = kiln.pad(x, [[0, 0], c.padding[0], c.padding[1], [0, 0]], value);
  const [oh, ow] = [c.out[1]!, c.out[2]!];
  return range(c.poolSize[0] * c.poolSize[1]).map((k) => {
    const [y0, x0] = [Math.floor(k / c.poolSize[1]), k % c.poolSize[1]];
    return kiln.stridedSlice(xp, [0, y0, x0, 0], [c.x[0]!, y0 + (oh - 1) * c.strides[0] + 1, x0 + (ow - 1) * c.strides[1] + 1, c.x[3]!], [1, c.strides[0], c.strides[1], 1]);
  });
}

/** dx of max pooling: each window's values listed, the first maximum found with indexOf. */
function naiveMaxPoolGrad(x: Tensor, dy: Tensor, c: PoolCase): Float64Array {
  const [xv, dyv] = [x.dataSync(), dy.dataSync()];
  const [xi, yi] = [flat4(c.x), flat4(c.out)];
  const dx = new Float64Array(xv.length);
  for (let b = 0; b < c.x[0]!; b++) for (let oy = 0; oy < c.out[1]!; oy++) for (let ox = 0; ox < c.out[2]!; ox++) for (let ch = 0; ch < c.x[3]!; ch++) {
    const cells: number[] = [];
    for (let ky = 0; ky < c.poolSize[0]; ky++) for (let kx = 0; kx < c.poolSize[1]; kx++) {
      const [iy, ix] = [oy * c.strides[0] - c.padding[0][0] + ky, ox * c.strides[1] - c.padding[1][0] + kx];
      if (iy >= 0 && iy < c.x[1]! && ix >= 0 && ix < c.x[2]!) cells.push(xi(b, iy, ix, ch));
    }
    const vals = cells.map((i) => xv[i]!);
    dx[cells[vals.indexOf(Math.max(...vals))]!] += dyv[yi(b, oy, ox, ch)]!;
  }
  return dx;
}

describe('maxPool2d, maxPool2dGrad, maxPool2dSelect, avgPool2d, avgPool2dGrad', () => {
  poolCases.forEach((c, k) => {
    const p = poolParams(c);
    const [x, dy, g] = [rnd(c.x, 200 + k), rnd(c.out, 210 + k), rnd(c.x, 220 + k)];

    test(`${c.name}: maxPool2d is the max of -Infinity-padded slices, shape [${c.out}]`, () => {
      expectClose(kiln.maxPool2dRaw(x, p), poolTaps(x, c, -Infinity).reduce((a, b) => kiln.maximum(a, b)), c.out);
    });

    test(`${c.name}: avgPool2d divides by the count of in-image cells`, () => {
      const sum = (ts: Tensor[]) => ts.reduce((a, b) => kiln.add(a, b));
      const count = sum(poolTaps(kiln.onesLike(x), c, 0));
      expectClose(kiln.avgPool2dRaw(x, p), kiln.div(sum(poolTaps(x, c, 0)), count), c.out);
    });

    test(`${c.name}: the pooling gradients agree with loops and with transposition`, () => {
      const dx = kiln.maxPool2dGrad(x, dy, p);
      expectClose(dx, naiveMaxPoolGrad(x, dy, c), c.x);
      const selected = kiln.maxPool2dSelect(x, g, p);
      expect(dot(selected, dy)).toBeCloseTo(dot(g, dx), 4);
      expectClose(kiln.maxPool2dSelect(x, x, p), kiln.maxPool2dRaw(x, p), c.out);
      const avgDx = kiln.avgPool2dGrad(dy, { ...p, inputSize: [c.x[1]!, c.x[2]!] });
      expect(avgDx.shape).toEqual(c.x);
      expect(dot(avgDx, g)).toBeCloseTo(dot(dy, kiln.avgPool2dRaw(g, p)), 4);
    });

    test(`${c.name}: every VJP agrees with finite differences`, () => {
      const avgGrad = { ...p, inputSize: [c.x[1]!, c.x[2]!] as const };
      kiln.checkGrads((a) => kiln.maxPool2dRaw(a, p), [x], tol);
      // x stays fixed: both are piecewise constant in it, and a nudge could move a maximum
      kiln.checkGrads((a) => kiln.maxPool2dGrad(x, a, p), [dy], tol);
      kiln.checkGrads((a) => kiln.maxPool2dSelect(x, a, p), [g], tol);
      kiln.checkGrads((a) => kiln.avgPool2dRaw(a, p), [x], tol);
      kiln.checkGrads((a) => kiln.avgPool2dGrad(a, avgGrad), [dy], tol);
    });
  });

  test('ties go to the first position of the window, in row-major order', () => {
    const p = { poolSize: [2, 2] as const, strides: [1, 1] as const, padding: none };
    const dx = kiln.maxPool2dGrad(kiln.zeros([1, 3, 3, 1]), kiln.tensor([1, 2, 3, 4], [1, 2, 2, 1]), p);
    expect(Array.from(dx.dataSync())).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
  });

  test('padding cells never win, even over negative inputs', () => {
    const p = { poolSize: [2, 2] as const, strides: [1, 1] as const, padding: [[1, 0], [1, 0]] as const };
    const x = kiln.fill([1, 2, 2, 1], -1);
    expect(Array.from(kiln.maxPool2dRaw(x, p).dataSync())).toEqual([-1, -1, -1, -1]);
    const dx = kiln.maxPool2dGrad(x, kiln.tensor([1, 2, 3, 4], [1, 2, 2, 1]), p);
    expect(Array.from(dx.dataSync())).toEqual([10, 0, 0, 0]);
  });

  test("average pooling with 'same' padding leaves padding out of the count", () => {
    const y = kiln.avgPool2d(kiln.tensor([1, 2, 3, 4], [1, 2, 2, 1]), { poolSize: 2, strides: 1, padding: 'same' });
    expect(Array.from(y.dataSync())).toEqual([2.5, 3, 3.5, 4]);
  });

  test('second order: gradients of pooling gradients', () => {
    const c = poolCases[1]!;
    const p = poolParams(c);
    const x = rnd(c.x, 300);
    kiln.checkGrads((a) => kiln.grad((y: Tensor) => kiln.sum(kiln.square(kiln.avgPool2dRaw(y, p))))(a), [x], tol);
    kiln.checkGrads((a) => kiln.grad((y: Tensor) => kiln.sum(kiln.square(kiln.maxPool2dRaw(y, p))))(a), [x], tol);
  });
});

// ---- the user-facing functions ------------------------------------------------

describe('conv and pooling functions', () => {
  test("'same' padding follows TensorFlow: the odd cell goes after", () => {
    const w = rnd([3, 3, 1, 2], 401);
    const even = rnd([1, 4, 4, 1], 402);
    expectClose(kiln.conv2d(even, w, { strides: 2, padding: 'same' }), kiln.conv2d(even, w, { strides: 2, padding: [[0, 1], [0, 1]] }), [1, 2, 2, 2]);
    const odd = rnd([1, 5, 5, 1], 403);
    expectClose(kiln.conv2d(odd, w, { strides: 2, padding: 'same' }), kiln.conv2d(odd, w, { strides: 2, padding: 1 }), [1, 3, 3, 2]);
    expectClose(kiln.conv2d(odd, w, { dilations: 2, padding: 'same' }), kiln.conv2d(odd, w, { dilations: [2, 2], padding: [[0, 0], [2, 2], [2, 2], [0, 0]] }), [1, 5, 5, 2]);
  });

  test('depthwiseConv2d convolves each channel with its own filters', () => {
    const [x, f] = [rnd([2, 6, 5, 3], 411), rnd([3, 2, 3, 2], 412)];
    const y = kiln.depthwiseConv2d(x, f, { strides: [2, 1], padding: 'same' });
    const perChannel = range(3).map((c) => kiln.conv2d(kiln.stridedSlice(x, [0, 0, 0, c], [2, 6, 5, c + 1]), kiln.stridedSlice(f, [0, 0, c, 0], [3, 2, c + 1, 2]), { strides: [2, 1], padding: 'same' }));
    expectClose(y, kiln.concat(perChannel, 3), [2, 3, 5, 6]);
    kiln.checkGrads((a, b) => kiln.depthwiseConv2d(a, b, { strides: [2, 1], padding: 'same' }), [x, f], tol);
  });

  test('conv2dTranspose has Keras output sizes and is the transpose of conv2d', () => {
    const [x, f] = [rnd([1, 3, 3, 2], 421), rnd([3, 3, 5, 2], 422)];
    expect(kiln.conv2dTranspose(x, f, undefined, { strides: 2, padding: 'same' }).shape).toEqual([1, 6, 6, 5]);
    expect(kiln.conv2dTranspose(x, f, undefined, { strides: 2, padding: 'valid' }).shape).toEqual([1, 7, 7, 5]);
    expect(kiln.conv2dTranspose(x, f, undefined, { strides: 1, padding: [[1, 0], [0, 0]] }).shape).toEqual([1, 4, 5, 5]);
    const y = kiln.conv2dTranspose(x, f, [5, 5], { strides: 2, padding: 'same' });
    expect(kiln.conv2dTranspose(x, f, [1, 5, 5, 5], { strides: 2, padding: 'same' }).shape).toEqual([1, 5, 5, 5]);
    const z = rnd([1, 5, 5, 5], 423);
    expect(dot(y, z)).toBeCloseTo(dot(x, kiln.conv2d(z, f, { strides: 2, padding: 'same' })), 4);
    kiln.checkGrads((a, b) => kiln.conv2dTranspose(a, b, [5, 5], { strides: 2, padding: 'same' }), [x, f], tol);
  });

  test('conv1d is conv2d on a height-1 image', () => {
    const [x, f] = [rnd([2, 9, 4], 431), rnd([4, 2, 6], 432)];
    const y = kiln.conv1d(x, f, { stride: 2, padding: 'same', groups: 2 });
    const y2 = kiln.conv2d(kiln.reshape(x, [2, 1, 9, 4]), kiln.reshape(f, [1, 4, 2, 6]), { strides: [1, 2], padding: [[0, 0], [1, 2]], groups: 2 });
    expectClose(y, kiln.reshape(y2, [2, 5, 6]), [2, 5, 6]);
    expect(kiln.conv1d(x, f, { dilation: 2, padding: [1, 0], groups: 2 }).shape).toEqual([2, 4, 6]);
    kiln.checkGrads((a, b) => kiln.conv1d(a, b, { stride: 2, padding: 'same', groups: 2 }), [x, f], tol);
  });

  test('1-D pooling is 2-D pooling on a height-1 image', () => {
    const x = rnd([2, 7, 3], 441);
    const image = kiln.reshape(x, [2, 1, 7, 3]);
    expectClose(kiln.maxPool1d(x, { poolSize: 3, strides: 2 }), kiln.reshape(kiln.maxPool2d(image, { poolSize: [1, 3], strides: [1, 2] }), [2, 3, 3]), [2, 3, 3]);
    expectClose(kiln.avgPool1d(x, { poolSize: 2, padding: 'same' }), kiln.reshape(kiln.avgPool2d(image, { poolSize: [1, 2], padding: [[0, 0], [0, 1]] }), [2, 4, 3]), [2, 4, 3]);
    expect(kiln.maxPool2d(rnd([1, 5, 5, 2], 442)).shape).toEqual([1, 2, 2, 2]);
    kiln.checkGrads((a) => kiln.avgPool1d(a, { poolSize: 3, strides: 1, padding: 'same' }), [x], tol);
    kiln.checkGrads((a) => kiln.maxPool1d(a, { poolSize: 2 }), [x], tol);
  });

  test('a symbolic batch dimension survives every function', () => {
    const w = rnd([3, 3, 3, 4], 451);
    const g = kiln.trace((x: Tensor) => kiln.conv2d(x, w, { padding: 'same' }), [kiln.spec([null, 7, 7, 3])]);
    kiln.verify(g);
    expect(kiln.formatType(g.nodes[g.outputs[0]!.id]!.type)).toBe('f32[B,7,7,4]');
    const x = rnd([2, 7, 7, 3], 452);
    const out = kiln.interpret(g, { input: x.value! }).outputs.output!;
    expectClose(kiln.Tensor.concrete(out), kiln.conv2d(x, w, { padding: 'same' }), [2, 7, 7, 4]);

    const typeOf = (f: (x: Tensor) => Tensor, shape: (number | null)[]) => {
      const graph = kiln.verify(kiln.trace(f, [kiln.spec(shape)]));
      return kiln.formatType(graph.nodes[graph.outputs[0]!.id]!.type);
    };
    expect(typeOf((a) => kiln.conv1d(a, rnd([3, 4, 2], 453), { stride: 2, padding: 'same' }), [null, 9, 4])).toBe('f32[B,5,2]');
    expect(typeOf((a) => kiln.depthwiseConv2d(a, rnd([3, 3, 3, 2], 454)), [null, 7, 7, 3])).toBe('f32[B,5,5,6]');
    expect(typeOf((a) => kiln.conv2dTranspose(a, rnd([3, 3, 5, 3], 455), undefined, { strides: 2, padding: 'same' }), [null, 4, 4, 3])).toBe('f32[B,8,8,5]');
    expect(typeOf((a) => kiln.maxPool2d(a, { padding: 'same', strides: 1, poolSize: 3 }), [null, 7, 7, 3])).toBe('f32[B,7,7,3]');
    expect(typeOf((a) => kiln.avgPool1d(a), [null, 9, 4])).toBe('f32[B,4,4]');
    // and the gradient graph of a batched conv, which uses both backprop ops
    expect(typeOf((a) => kiln.grad((y: Tensor) => kiln.sum(kiln.square(kiln.conv2d(y, w, { strides: 2 }))))(a), [null, 7, 7, 3])).toBe('f32[B,7,7,3]');
  });
});

// ---- errors -------------------------------------------------------------------

describe('conv errors', () => {
  const [x, w] = [rnd([1, 5, 5, 3], 501), rnd([3, 3, 3, 4], 502)];

  test('a filter whose input channels disagree with the input', () => {
    const f = () => kiln.conv2d(x, rnd([3, 3, 2, 4], 503));
    const message = messageOf(f);
    expect(f).toThrow("conv2d: expected the filter's input channels (dim 2) to be 3 (input channels 3 / groups 1), got input f32[1,5,5,3] and filter f32[3,3,2,4]");
    expect(message).toMatch(/ \(at test\/ops\/conv\.test\.ts:\d+\)\.$/);
  });

  test('an unknown padding string', () => {
    const f = () => kiln.conv2d(x, w, { padding: 'full' as never });
    messageOf(f);
    expect(f).toThrow("conv2d: expected padding 'same', 'valid', a number or [[top,bottom],[left,right]], got 'full'");
  });

  test('a rank-3 input', () => {
    const f = () => kiln.conv2d(rnd([5, 5, 3], 504), w);
    messageOf(f);
    expect(f).toThrow('conv2d: expected input of rank 4 (NHWC), got f32[5,5,3]');
  });

  test('groups that do not divide the channels', () => {
    const f = () => kiln.conv2d(x, rnd([3, 3, 1, 4], 505), { groups: 2 });
    messageOf(f);
    expect(f).toThrow('conv2d: expected groups 2 to divide the input channels 3 and the output channels 4, got input f32[1,5,5,3] and filter f32[3,3,1,4]');
  });

  test('a window larger than the padded input', () => {
    const f = () => kiln.conv2d(rnd([1, 2, 4, 3], 506), w, { dilations: [1, 2] });
    messageOf(f);
    expect(f).toThrow('conv2d: expected a window that fits the padded input 2x4 (input 2x4, padding [[0,0],[0,0]]), got a window spanning 3x5 (size 3x3, dilations 1x2)');
  });

  test('non-positive strides', () => {
    const f = () => kiln.conv2d(x, w, { strides: [0, 1] });
    messageOf(f);
    expect(f).toThrow('conv2d: expected strides of two positive integers, got [0,1]');
  });

  test('pooling padding as large as the pool', () => {
    const f = () => kiln.maxPool2d(x, { poolSize: 2, padding: [[2, 0], [0, 0]] });
    messageOf(f);
    expect(f).toThrow('maxPool2d: expected padding smaller than the pool size 2x2 on every side, got [[2,0],[0,0]]');
  });

  test('a dy that is not the conv2d output', () => {
    const f = () => kiln.conv2dBackpropInput(rnd([1, 4, 3, 4], 507), w, { strides: [1, 1], padding: none, dilations: [1, 1], groups: 1, inputSize: [5, 5] });
    messageOf(f);
    expect(f).toThrow('conv2dBackpropInput: expected dy of shape [1,3,3,4] (the conv2d output for input f32[1,5,5,3] and filter f32[3,3,3,4]), got f32[1,4,3,4]');
  });

  test('a transposed convolution output shape that does not map back to the input', () => {
    const f = () => kiln.conv2dTranspose(rnd([1, 3, 3, 2], 508), rnd([3, 3, 5, 2], 509), [7, 7], { strides: 2, padding: 'same' });
    messageOf(f);
    expect(f).toThrow("conv2dTranspose: expected an output size from which conv2d (strides 2x2, padding 'same') gives the input's 3x3, got 7x7 (which gives 4x4)");
  });
});
