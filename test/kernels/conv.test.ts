/**
 * The conv family's kernels (runtime-as/conv.ts and pool.ts) on an edge-case sweep:
 * every `__simd128` kernel against its `__scalar` variant and against kiln's
 * reference interpreter, within 1e-5 of the sum of |products| behind each value;
 * every call also checks that nothing outside its output changed.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { instantiateKernels } from '../util/kernels.js';
import { Rng } from '../util/random.js';

type Pair = readonly [number, number];
type Pads = readonly [Pair, Pair];

interface ConvCase {
  n: number; h: number; w: number; cin: number; cout: number; kh: number; kw: number;
  strides: Pair; dilations: Pair; padding: Pads; groups: number; oh: number; ow: number;
  bias: boolean; relu: boolean;
}

interface PoolCase {
  n: number; h: number; w: number; c: number; poolSize: Pair; strides: Pair; padding: Pads; oh: number; ow: number;
}

type Kernel = (...args: number[]) => void;
interface Module { memory: WebAssembly.Memory; arena_base(): number; [name: string]: unknown }

let wasm: Module;

beforeAll(async () => {
  wasm = await instantiateKernels<Module>();
}, 120_000);

// ---- running a kernel --------------------------------------------------------------

const SENTINEL = 1234.5;
/** An argument: a dimension, an input array, or an output of `out` floats (filled with NaN first). */
type Arg = number | Float32Array | { out: number };

interface Run { out: Float32Array; damage: string | undefined }

/**
 * Lays the arrays out from arena_base(), each `skew` floats past a 64-byte boundary
 * and between `guard` floats of sentinel, calls the kernel, then reads the output
 * back and reports any sentinel or input that changed.
 */
function run(name: string, args: readonly Arg[], skew = 0, guard = 16): Run {
  const kernel = wasm[name] as Kernel | undefined;
  if (!kernel) throw new Error(`no export ${name}`);
  const spans: { at: number; data: Float32Array | undefined; count: number }[] = [];
  let top = wasm.arena_base();
  const ptrs = args.map((a) => {
    if (typeof a === 'number') return a;
    const count = a instanceof Float32Array ? a.length : a.out;
    const at = Math.ceil((top + guard * 4) / 64) * 64 + skew * 4;
    spans.push({ at, data: a instanceof Float32Array ? a : undefined, count });
    top = at + (count + guard) * 4;
    return at;
  });
  const need = top + 64 - wasm.memory.buffer.byteLength;
  if (need > 0) wasm.memory.grow(Math.ceil(need / 65536));
  let heap = new Float32Array(wasm.memory.buffer);
  for (const s of spans) {
    const i = s.at / 4;
    heap.fill(SENTINEL, i - guard, i).fill(SENTINEL, i + s.count, i + s.count + guard);
    if (s.data) heap.set(s.data, i);
    else heap.fill(NaN, i, i + s.count); // an output value the kernel forgets stays NaN
  }
  kernel(...ptrs);
  heap = new Float32Array(wasm.memory.buffer);
  let damage: string | undefined;
  for (const [k, s] of spans.entries()) {
    const i = s.at / 4;
    for (let j = -guard; j < s.count + guard; j++) {
      const inside = j >= 0 && j < s.count;
      if (inside && !s.data) continue;
      const v = heap[i + j]!;
      const expected = inside ? s.data![j]! : SENTINEL;
      if (!Object.is(v, expected) && !(Number.isNaN(v) && Number.isNaN(expected))) {
        damage ??= `array ${k} ${inside ? 'input' : 'guard'} float ${j} changed from ${expected} to ${v}`;
      }
    }
  }
  const outSpan = spans.find((s) => !s.data)!;
  return { out: heap.slice(outSpan.at / 4, outSpan.at / 4 + outSpan.count), damage };
}

/** simd128 and scalar on the same arguments; the simd run skews its arrays off 16-byte alignment. */
function both(kernel: string, args: readonly Arg[], skew: number): { simd: Run; scalar: Run } {
  return { simd: run(`${kernel}__simd128`, args, skew), scalar: run(`${kernel}__scalar`, args) };
}

/**
 * Failures of simd and scalar against the reference: |got - want| <= 1e-5·bound, with
 * bound the same computation on absolute values (the sum of |products|).
 */
function check(label: string, r: { simd: Run; scalar: Run }, want: ArrayLike<number>, bound: ArrayLike<number>, failures: string[]): void {
  for (const [variant, got] of [['simd128', r.simd], ['scalar', r.scalar]] as const) {
    if (got.damage) { failures.push(`${label} ${variant}: ${got.damage}`); continue; }
    for (let i = 0; i < want.length; i++) {
      const g = got.out[i]!, e = want[i]!, tol = 1e-5 * bound[i]!;
      const ok = Number.isNaN(e) ? Number.isNaN(g) : Math.abs(g - e) <= tol;
      if (!ok) { failures.push(`${label} ${variant}: index ${i}: got ${g}, reference ${e} (tolerance ${tol})`); break; }
    }
  }
}

function expectNone(failures: string[]): void {
  if (failures.length) expect.fail(`${failures.length} failures:\n${failures.slice(0, 12).join('\n')}`);
}

const abs = (a: Float32Array) => a.map(Math.abs);
const values = (rng: Rng, count: number) => Float32Array.from({ length: count }, () => rng.next() * 2 - 1);
const tensor = (data: Float32Array, shape: readonly number[]) => kiln.tensor(data, shape);
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// ---- the sweeps ------------------------------------------------------------------------

const CHANNELS = [1, 2, 3, 4, 5, 8, 9, 16, 17];
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 11];
const outLength = (size: number, pads: Pair, kernel: number, stride: number, dilation: number) =>
  Math.floor((size + pads[0] + pads[1] - (kernel - 1) * dilation - 1) / stride) + 1;

function convCase(c: Omit<ConvCase, 'oh' | 'ow'>): ConvCase | undefined {
  const oh = outLength(c.h, c.padding[0], c.kh, c.strides[0], c.dilations[0]);
  const ow = outLength(c.w, c.padding[1], c.kw, c.strides[1], c.dilations[1]);
  return oh >= 1 && ow >= 1 ? { ...c, oh, ow } : undefined;
}

/** Dense, grouped and depthwise (multiplier 1 and 2) convolutions of small random shapes. */
function convSweep(count: number, seed: number): ConvCase[] {
  const rng = new Rng(seed);
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const kind = rng.pick(['dense', 'dense', 'grouped', 'depthwise'] as const);
    const cig = kind === 'depthwise' ? 1 : rng.pick(kind === 'grouped' ? [1, 2, 3, 4, 5, 8] : CHANNELS);
    const groups = kind === 'dense' ? 1 : kind === 'grouped' ? 2 : rng.pick(CHANNELS);
    const cog = kind === 'depthwise' ? rng.int(1, 2) : rng.pick(CHANNELS);
    const pad = () => rng.int(0, 3);
    const c = convCase({
      n: rng.int(1, 2), h: rng.pick(SIZES), w: rng.pick(SIZES), cin: cig * groups, cout: cog * groups,
      kh: rng.pick([1, 2, 3, 5]), kw: rng.pick([1, 2, 3, 5]), strides: [rng.int(1, 3), rng.int(1, 3)],
      dilations: [rng.int(1, 2), rng.int(1, 2)], padding: [[pad(), pad()], [pad(), pad()]], groups,
      bias: rng.next() < 0.5, relu: rng.next() < 0.5,
    });
    if (c) cases.push(c);
  }
  return cases;
}

const same5: Pads = [[2, 2], [2, 2]];
/** The Fashion-MNIST layers at batch 1, and shapes whose rows or filter overflow the kernels' scratch (passes that accumulate). */
const fixedConvCases: ConvCase[] = [
  { n: 1, h: 28, w: 28, cin: 1, oh: 28, ow: 28, cout: 32, kh: 5, kw: 5, strides: [1, 1], dilations: [1, 1], padding: same5, groups: 1, bias: true, relu: true },
  { n: 1, h: 14, w: 14, cin: 32, oh: 14, ow: 14, cout: 64, kh: 5, kw: 5, strides: [1, 1], dilations: [1, 1], padding: same5, groups: 1, bias: true, relu: true },
  convCase({ n: 1, h: 3, w: 300, cin: 64, cout: 5, kh: 3, kw: 2, strides: [1, 2], dilations: [1, 1], padding: [[1, 1], [0, 1]], groups: 1, bias: true, relu: false })!,
  convCase({ n: 1, h: 4, w: 90, cin: 64, cout: 9, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], padding: [[1, 1], [1, 1]], groups: 1, bias: false, relu: true })!,
  convCase({ n: 1, h: 5, w: 6, cin: 64, cout: 68, kh: 3, kw: 3, strides: [1, 1], dilations: [2, 1], padding: [[2, 1], [1, 1]], groups: 1, bias: false, relu: false })!,
  convCase({ n: 1, h: 3, w: 4, cin: 64, cout: 105, kh: 2, kw: 5, strides: [1, 1], dilations: [1, 1], padding: [[1, 0], [2, 2]], groups: 1, bias: false, relu: false })!,
  convCase({ n: 1, h: 9, w: 2000, cin: 2, cout: 12, kh: 5, kw: 2, strides: [1, 1], dilations: [2, 1], padding: [[4, 4], [1, 0]], groups: 1, bias: true, relu: false })!,
  convCase({ n: 1, h: 1, w: 16400, cin: 1, cout: 4, kh: 1, kw: 3, strides: [1, 1], dilations: [1, 1], padding: [[0, 0], [1, 1]], groups: 1, bias: true, relu: true })!,
];

/** Max and average pools of small random shapes; padding stays below the pool size. */
function poolSweep(count: number, seed: number): PoolCase[] {
  const rng = new Rng(seed);
  const cases: PoolCase[] = [];
  while (cases.length < count) {
    const poolSize: Pair = [rng.int(1, 3), rng.int(1, 3)];
    const padding: Pads = [[rng.int(0, poolSize[0] - 1), rng.int(0, poolSize[0] - 1)], [rng.int(0, poolSize[1] - 1), rng.int(0, poolSize[1] - 1)]];
    const c = { n: rng.int(1, 2), h: rng.pick(SIZES), w: rng.pick(SIZES), c: rng.pick(CHANNELS), poolSize, strides: [rng.int(1, 3), rng.int(1, 3)] as Pair, padding };
    const oh = outLength(c.h, padding[0], poolSize[0], c.strides[0], 1), ow = outLength(c.w, padding[1], poolSize[1], c.strides[1], 1);
    if (oh >= 1 && ow >= 1) cases.push({ ...c, oh, ow });
  }
  return cases;
}

const fixedPoolCases: PoolCase[] = [
  { n: 1, h: 28, w: 28, c: 32, poolSize: [2, 2], strides: [2, 2], padding: [[0, 0], [0, 0]], oh: 14, ow: 14 },
  { n: 2, h: 14, w: 14, c: 64, poolSize: [2, 2], strides: [2, 2], padding: [[0, 0], [0, 0]], oh: 7, ow: 7 },
];

const convCases = [...fixedConvCases, ...convSweep(100, 2024)];
const poolCases = [...fixedPoolCases, ...poolSweep(60, 7)];

// ---- convolution -------------------------------------------------------------------------

const convDims = (c: ConvCase) => [c.n, c.h, c.w, c.cin, c.oh, c.ow, c.cout, c.kh, c.kw, ...c.strides, ...c.dilations, c.padding[0][0], c.padding[1][0], c.groups];
const convParams = (c: ConvCase) => ({ strides: c.strides, padding: c.padding, dilations: c.dilations, groups: c.groups });
const shapes = (c: ConvCase) => ({ x: [c.n, c.h, c.w, c.cin], f: [c.kh, c.kw, c.cin / c.groups, c.cout], y: [c.n, c.oh, c.ow, c.cout] });
const show = (i: number, c: ConvCase | PoolCase) => `case ${i} ${JSON.stringify(c)}`;

describe('conv2d kernels', () => {
  test(`f32_conv2d_nhwc matches its scalar variant and the reference on ${convCases.length} shapes`, () => {
    const failures: string[] = [];
    for (const [i, c] of convCases.entries()) {
      const rng = new Rng(1000 + i), s = shapes(c);
      const x = values(rng, prod(s.x)), f = values(rng, prod(s.f)), bias = values(rng, c.cout);
      const conv = kiln.conv2dRaw(tensor(x, s.x), tensor(f, s.f), convParams(c)).dataSync();
      const want = conv.map((v, j) => { const z = v + (c.bias ? bias[j % c.cout]! : 0); return c.relu && !(z > 0) ? 0 : z; });
      const args = (xs: Float32Array, fs: Float32Array, bs: Float32Array, act: number): Arg[] => [...convDims(c), xs, fs, { out: prod(s.y) }, ...(c.bias ? [bs] : [0]), act];
      const bound = run('f32_conv2d_nhwc__scalar', args(abs(x), abs(f), abs(bias), 0)).out;
      check(`conv2d ${show(i, c)}`, both('f32_conv2d_nhwc', args(x, f, bias, c.relu ? 1 : 0), i % 4), want, bound, failures);
    }
    expectNone(failures);
  });

  test(`f32_conv2d_nhwc_backprop_input matches its scalar variant and the reference on ${convCases.length} shapes`, () => {
    const failures: string[] = [];
    for (const [i, c] of convCases.entries()) {
      const rng = new Rng(2000 + i), s = shapes(c);
      const dy = values(rng, prod(s.y)), f = values(rng, prod(s.f));
      const want = kiln.conv2dBackpropInput(tensor(dy, s.y), tensor(f, s.f), { ...convParams(c), inputSize: [c.h, c.w] }).dataSync();
      const args = (d: Float32Array, fs: Float32Array): Arg[] => [...convDims(c), d, fs, { out: prod(s.x) }];
      const bound = run('f32_conv2d_nhwc_backprop_input__scalar', args(abs(dy), abs(f))).out;
      check(`backprop_input ${show(i, c)}`, both('f32_conv2d_nhwc_backprop_input', args(dy, f), i % 4), want, bound, failures);
    }
    expectNone(failures);
  });

  test(`f32_conv2d_nhwc_backprop_filter matches its scalar variant and the reference on ${convCases.length} shapes`, () => {
    const failures: string[] = [];
    for (const [i, c] of convCases.entries()) {
      const rng = new Rng(3000 + i), s = shapes(c);
      const x = values(rng, prod(s.x)), dy = values(rng, prod(s.y));
      const want = kiln.conv2dBackpropFilter(tensor(x, s.x), tensor(dy, s.y), { ...convParams(c), filterSize: [c.kh, c.kw] }).dataSync();
      const args = (xs: Float32Array, d: Float32Array): Arg[] => [...convDims(c), xs, d, { out: prod(s.f) }];
      const bound = run('f32_conv2d_nhwc_backprop_filter__scalar', args(abs(x), abs(dy))).out;
      check(`backprop_filter ${show(i, c)}`, both('f32_conv2d_nhwc_backprop_filter', args(x, dy), i % 4), want, bound, failures);
    }
    expectNone(failures);
  });
});

test("the filter gradient split by output channels (each thread's share) gives the whole call's bits and writes only its channels", () => {
  const failures: string[] = [];
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  for (const [i, c] of convCases.entries()) {
    const rng = new Rng(5000 + i), s = shapes(c);
    const x = values(rng, prod(s.x)), dy = values(rng, prod(s.y));
    const args = (co0: number, co1: number): Arg[] => [...convDims(c), x, dy, { out: prod(s.f) }, co0, co1];
    const whole = run('f32_conv2d_nhwc_backprop_filter__simd128', [...convDims(c), x, dy, { out: prod(s.f) }]).out;
    // shares as the threads take them: blocks of 8 channels, the last to cout
    const cuts = [0, ...[8, 16, 24].filter((k) => k < c.cout), c.cout];
    const merged = new Float32Array(whole.length).fill(Number.NaN);
    const written: boolean[][] = [];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const [a, b] = [cuts[k]!, cuts[k + 1]!];
      const { out, damage } = run('f32_conv2d_nhwc_backprop_filter_cols__simd128', args(a, b), i % 4);
      if (damage) failures.push(`case ${i} share [${a}, ${b}): ${damage}`);
      const channels = new Array<boolean>(c.cout).fill(false);
      out.forEach((v, j) => {
        if (Number.isNaN(v)) return; // outputs start as NaN: not written
        channels[j % c.cout] = true;
        merged[j] = v;
      });
      written.push(channels);
    }
    // each share writes exactly its channels; or, where the kernel does not split (groups > 1, rows too wide
    // for its scratch), the share from channel 0 writes all of them and the others none
    const own = written.every((w, k) => w.every((on, co) => on === (co >= cuts[k]! && co < cuts[k + 1]!)));
    const first = written.every((w, k) => w.every((on) => on === (k === 0)));
    if (!own && !first) failures.push(`case ${i} ${JSON.stringify(c)}: shares wrote ${JSON.stringify(written.map((w) => w.flatMap((on, co) => (on ? [co] : []))))}`);
    if (c.groups !== 1 && !first) failures.push(`case ${i}: groups ${c.groups} split`);
    const want = bits(whole);
    if (bits(merged).some((v, j) => v !== want[j])) failures.push(`case ${i} ${JSON.stringify(c)}: shares differ from the whole call`);
  }
  expectNone(failures);
});

// ---- pooling -------------------------------------------------------------------------------

const poolDims = (c: PoolCase) => [c.n, c.h, c.w, c.c, c.oh, c.ow, ...c.poolSize, ...c.strides, c.padding[0][0], c.padding[1][0]];
const poolParams = (c: PoolCase) => ({ poolSize: c.poolSize, strides: c.strides, padding: c.padding });
/** Few distinct values, -0 among them, so windows hold ties and the first maximum matters. */
const tied = (rng: Rng, count: number) => Float32Array.from({ length: count }, () => rng.pick([-2, -1, -0, 0, 1, 2, 0.5]));

describe('pooling kernels', () => {
  test(`f32_maxpool2d_nhwc and f32_maxpool2d_nhwc_select pick the first maximum on ${poolCases.length} shapes`, () => {
    const failures: string[] = [];
    for (const [i, c] of poolCases.entries()) {
      const rng = new Rng(4000 + i), xs = [c.n, c.h, c.w, c.c], count = c.n * c.oh * c.ow * c.c;
      const x = tied(rng, prod(xs)), g = values(rng, prod(xs));
      const exact = new Float32Array(count); // picking a value is exact
      const y = kiln.maxPool2dRaw(tensor(x, xs), poolParams(c)).dataSync();
      const pooled = both('f32_maxpool2d_nhwc', [...poolDims(c), x, { out: count }], i % 4);
      check(`maxpool2d ${show(i, c)}`, pooled, y, exact, failures);
      for (const [variant, r] of Object.entries(pooled)) { // tolerance 0 still lets -0 pass for +0
        const j = y.findIndex((v, k) => !Object.is(v, r.out[k]));
        if (j >= 0) failures.push(`maxpool2d ${show(i, c)} ${variant}: index ${j}: got ${r.out[j]}, reference ${y[j]} (the first of tied zeros)`);
      }
      const picked = kiln.maxPool2dSelect(tensor(x, xs), tensor(g, xs), poolParams(c)).dataSync();
      check(`maxpool2d_select ${show(i, c)}`, both('f32_maxpool2d_nhwc_select', [...poolDims(c), x, g, { out: count }], i % 4), picked, exact, failures);
    }
    expectNone(failures);
  });

  test(`f32_maxpool2d_nhwc_grad routes dy to the first maximum on ${poolCases.length} shapes`, () => {
    const failures: string[] = [];
    for (const [i, c] of poolCases.entries()) {
      const rng = new Rng(5000 + i), xs = [c.n, c.h, c.w, c.c], ys = [c.n, c.oh, c.ow, c.c];
      const x = tied(rng, prod(xs)), dy = values(rng, prod(ys));
      const want = kiln.maxPool2dGrad(tensor(x, xs), tensor(dy, ys), poolParams(c)).dataSync();
      const bound = run('f32_maxpool2d_nhwc_grad__scalar', [...poolDims(c), x, abs(dy), { out: prod(xs) }]).out;
      check(`maxpool2d_grad ${show(i, c)}`, both('f32_maxpool2d_nhwc_grad', [...poolDims(c), x, dy, { out: prod(xs) }], i % 4), want, bound, failures);
    }
    expectNone(failures);
  });

  test(`f32_avgpool2d_nhwc and its gradient count in-image cells only on ${poolCases.length} shapes`, () => {
    const failures: string[] = [];
    for (const [i, c] of poolCases.entries()) {
      const rng = new Rng(6000 + i), xs = [c.n, c.h, c.w, c.c], ys = [c.n, c.oh, c.ow, c.c];
      const x = values(rng, prod(xs)), dy = values(rng, prod(ys));
      const y = kiln.avgPool2dRaw(tensor(x, xs), poolParams(c)).dataSync();
      const yBound = run('f32_avgpool2d_nhwc__scalar', [...poolDims(c), abs(x), { out: prod(ys) }]).out;
      check(`avgpool2d ${show(i, c)}`, both('f32_avgpool2d_nhwc', [...poolDims(c), x, { out: prod(ys) }], i % 4), y, yBound, failures);
      const dx = kiln.avgPool2dGrad(tensor(dy, ys), { ...poolParams(c), inputSize: [c.h, c.w] }).dataSync();
      const dxBound = run('f32_avgpool2d_nhwc_grad__scalar', [...poolDims(c), abs(dy), { out: prod(xs) }]).out;
      check(`avgpool2d_grad ${show(i, c)}`, both('f32_avgpool2d_nhwc_grad', [...poolDims(c), dy, { out: prod(xs) }], i % 4), dx, dxBound, failures);
    }
    expectNone(failures);
  });
});

// ---- memory safety ---------------------------------------------------------------------------

describe('kernel memory', () => {
  test('writes nothing outside the output and never changes an input', () => {
    const c = convCase({ n: 2, h: 7, w: 9, cin: 6, cout: 10, kh: 3, kw: 2, strides: [2, 1], dilations: [1, 2], padding: [[1, 2], [3, 0]], groups: 2, bias: true, relu: true })!;
    const p: PoolCase = { n: 2, h: 7, w: 5, c: 6, poolSize: [3, 2], strides: [2, 1], padding: [[1, 2], [1, 0]], oh: 4, ow: 5 };
    const rng = new Rng(99), s = shapes(c), xs = [p.n, p.h, p.w, p.c], ys = [p.n, p.oh, p.ow, p.c];
    const calls: [string, Arg[]][] = [
      ['f32_conv2d_nhwc', [...convDims(c), values(rng, prod(s.x)), values(rng, prod(s.f)), { out: prod(s.y) }, values(rng, c.cout), 1]],
      ['f32_conv2d_nhwc_backprop_input', [...convDims(c), values(rng, prod(s.y)), values(rng, prod(s.f)), { out: prod(s.x) }]],
      ['f32_conv2d_nhwc_backprop_filter', [...convDims(c), values(rng, prod(s.x)), values(rng, prod(s.y)), { out: prod(s.f) }]],
      ['f32_maxpool2d_nhwc', [...poolDims(p), tied(rng, prod(xs)), { out: prod(ys) }]],
      ['f32_maxpool2d_nhwc_grad', [...poolDims(p), tied(rng, prod(xs)), values(rng, prod(ys)), { out: prod(xs) }]],
      ['f32_maxpool2d_nhwc_select', [...poolDims(p), tied(rng, prod(xs)), values(rng, prod(xs)), { out: prod(ys) }]],
      ['f32_avgpool2d_nhwc', [...poolDims(p), values(rng, prod(xs)), { out: prod(ys) }]],
      ['f32_avgpool2d_nhwc_grad', [...poolDims(p), values(rng, prod(ys)), { out: prod(xs) }]],
    ];
    for (const [kernel, args] of calls) {
      for (const variant of ['simd128', 'scalar']) {
        for (const skew of [0, 1, 3]) {
          const { out, damage } = run(`${kernel}__${variant}`, args, skew, 1024);
          expect(damage, `${kernel}__${variant} skew ${skew}`).toBeUndefined();
          expect(out.every((v) => !Number.isNaN(v)), `${kernel}__${variant} leaves no output unwritten`).toBe(true);
        }
      }
    }
  });
});
