/**
 * Vectorised float32 math (runtime-as/vmath.ts) through its array maps
 * `f32_v<fn>__simd128` (f32x4 body, scalar tail) and `f32_v<fn>__scalar`:
 * - the vector and scalar forms agree bit for bit (NaN payloads aside) on grids,
 *   range-reduction boundaries, special values and random bit patterns;
 * - the error against float64 stays within the ulp bound named in each test;
 * - special values come out exactly as IEEE 754 / C99 libm define them.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { instantiateKernels } from '../util/kernels.js';
import { erf } from '../../compiler/ops/unary.js';
import { Rng } from '../util/random.js';

type Map1 = (n: number, x: number, y: number) => void;
type Map2 = (n: number, x1: number, x2: number, y: number) => void;
interface Module { memory: WebAssembly.Memory; arena_base(): number; [kernel: string]: unknown }

const MAX = 3.4028234663852886e38;
const MIN_NORMAL = 2 ** -126;
const MIN_DENORMAL = 2 ** -149;
const CAPACITY = 1 << 20; // floats per array

let wasm: Module;
let base = 0;

beforeAll(async () => {
  wasm = await instantiateKernels<Module>();
  base = wasm.arena_base();
  const need = base + 4 * 4 * (CAPACITY + 64);
  const have = wasm.memory.buffer.byteLength;
  if (need > have) wasm.memory.grow(Math.ceil((need - have) / 65536));
}, 120_000);

// ---- running the array maps ------------------------------------------------------

const slot = (i: number) => base + i * 4 * (CAPACITY + 64); // four arrays: x1, x2, y, spare

/** y = kernel(xs[, ys]) with each array `skew` floats past its slot. */
function run(kernel: string, xs: Float32Array, ys?: Float32Array, skew = 0): Float32Array {
  if (xs.length > CAPACITY) throw new Error(`internal: ${xs.length} inputs, capacity ${CAPACITY}`);
  const [x1, x2, y] = [0, 1, 2].map((i) => slot(i) + 4 * skew) as [number, number, number];
  const heap = new Float32Array(wasm.memory.buffer);
  heap.set(xs, x1 / 4);
  if (ys) {
    heap.set(ys, x2 / 4);
    (wasm[kernel] as Map2)(xs.length, x1, x2, y);
  } else {
    (wasm[kernel] as Map1)(xs.length, x1, y);
  }
  return new Float32Array(wasm.memory.buffer).slice(y / 4, y / 4 + xs.length);
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** Spacing of float32 at the exact value v (2^-149 below the normals, 2^104 beyond the largest float). */
function ulp(v: number): number {
  const a = Math.abs(v);
  if (a < MIN_NORMAL) return MIN_DENORMAL;
  if (a >= MAX) return 2 ** 104;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

/** Error of `got` against the exact value `want` in float32 ulps; 0 when both are the same infinity or NaN. */
function ulpError(got: number, want: number): number {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got) ? 0 : Infinity;
  if (!Number.isFinite(got)) return got === Math.fround(want) ? 0 : Infinity;
  return Math.abs(got - want) / ulp(want);
}

// ---- inputs --------------------------------------------------------------------------

const rng = new Rng(20240611);
const grid = (lo: number, hi: number, n: number) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
/** n values spaced evenly in log2 between lo > 0 and hi, both signs if `signed`. */
function logGrid(lo: number, hi: number, n: number, signed = false): Float32Array {
  const [a, b] = [Math.log2(lo), Math.log2(hi)];
  const out = Float32Array.from({ length: n }, (_, i) => 2 ** (a + ((b - a) * i) / (n - 1)));
  return signed ? concat(out, out.map((v) => -v)) : out;
}
/** The 2k+1 floats around each of `centers`: where range reductions switch. */
function around(centers: readonly number[], k = 3): Float32Array {
  const bits = new Int32Array(1);
  const view = new Float32Array(bits.buffer);
  const out: number[] = [];
  for (const c of centers) {
    view[0] = c;
    const b = bits[0]!;
    for (let i = -k; i <= k; i++) {
      bits[0] = b + i;
      if (Number.isFinite(view[0]!)) out.push(view[0]!);
    }
  }
  return Float32Array.from(out);
}
/** Random float32 bit patterns: every sign, exponent, denormal, infinity and NaN. */
const randomBits = (n: number) => new Float32Array(Uint32Array.from({ length: n }, () => Math.floor(rng.next() * 2 ** 32)).buffer);
function concat(...parts: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

const specialInputs = [0, -0, MIN_DENORMAL, -MIN_DENORMAL, 3e-42, -3e-42, MIN_NORMAL, -MIN_NORMAL, 1e-30, -1e-30, 1, -1, 1e30, -1e30, MAX, -MAX, Infinity, -Infinity, NaN];

// ---- the functions ---------------------------------------------------------------

interface UnaryCase {
  name: string;
  ref: (x: number) => number;
  /** The bound asserted over `main` and random bit patterns, in ulps. */
  maxUlp: number;
  /** The max error there when last measured, for the test name. */
  measured: number;
  domain: string;
  main: () => Float32Array;
  /** [x, exact f(x)]. */
  exact: readonly (readonly [number, number])[];
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const LN2 = Math.LN2;
const halfSteps = (lo: number, hi: number, step: number) => range(lo, hi).map((k) => (k + 0.5) * step);

const unaryCases: UnaryCase[] = [
  {
    name: 'exp', ref: Math.exp, maxUlp: 1, measured: 0.98, domain: 'all x',
    main: () => concat(grid(-104, 89, 200_001), logGrid(1e-30, 89, 20_000, true), around(halfSteps(-151, 128, LN2)), around([88.72283935546875, -87.33654, -103.972])),
    exact: [[0, 1], [-0, 1], [MIN_DENORMAL, 1], [-MIN_DENORMAL, 1], [88.72283935546875, Infinity], [100, Infinity], [MAX, Infinity], [Infinity, Infinity],
      [-104, 0], [-1000, 0], [-MAX, 0], [-Infinity, 0], [NaN, NaN]],
  },
  {
    name: 'expm1', ref: Math.expm1, maxUlp: 1.5, measured: 1.38, domain: 'all x',
    main: () => concat(grid(-20, 89, 200_001), grid(-1, 1, 100_001), logGrid(1e-30, 20, 20_000, true), around([...halfSteps(-30, 127, LN2), 0.52, -0.52, 88.72283935546875])),
    exact: [[0, 0], [-0, -0], [MIN_DENORMAL, MIN_DENORMAL], [-MIN_DENORMAL, -MIN_DENORMAL], [1e-30, 1e-30], [-1e-30, -1e-30], [100, Infinity], [Infinity, Infinity],
      [-30, -1], [-1000, -1], [-Infinity, -1], [NaN, NaN]],
  },
  {
    name: 'log', ref: Math.log, maxUlp: 1, measured: 0.8, domain: 'x > 0, denormals included',
    main: () => concat(logGrid(MIN_DENORMAL, MAX, 200_001), grid(0.5, 2, 100_001), around(range(-149, 127).map((k) => Math.SQRT2 * 2 ** k)), around([1, MIN_NORMAL])),
    exact: [[1, 0], [0, -Infinity], [-0, -Infinity], [Infinity, Infinity], [-MIN_DENORMAL, NaN], [-1, NaN], [-Infinity, NaN], [NaN, NaN]],
  },
  {
    name: 'log1p', ref: Math.log1p, maxUlp: 1, measured: 0.77, domain: 'x > -1',
    main: () => concat(grid(-1 + 2 ** -24, 4, 200_001), logGrid(2 ** -30, MAX, 50_000), logGrid(2 ** -30, 1 - 2 ** -24, 50_000).map((v) => -v),
      around([Math.SQRT2 - 1, Math.SQRT1_2 - 1, 2 ** -24, -(2 ** -24), 1, 3, 2 ** 24, 2 ** 25])),
    exact: [[0, 0], [-0, -0], [MIN_DENORMAL, MIN_DENORMAL], [-MIN_DENORMAL, -MIN_DENORMAL], [1e-30, 1e-30], [-1e-30, -1e-30], [Infinity, Infinity],
      [-1, -Infinity], [-1 - 2 ** -23, NaN], [-2, NaN], [-Infinity, NaN], [NaN, NaN]],
  },
  {
    name: 'tanh', ref: Math.tanh, maxUlp: 1.5, measured: 1.33, domain: 'all x',
    main: () => concat(grid(-10, 10, 200_001), logGrid(2 ** -30, 20, 20_000, true), around([0.55, -0.55, 9.1, 9.0109, -9.0109])),
    exact: [[0, 0], [-0, -0], [MIN_DENORMAL, MIN_DENORMAL], [-MIN_DENORMAL, -MIN_DENORMAL], [9.1, 1], [-9.1, -1], [20, 1], [-MAX, -1], [Infinity, 1], [-Infinity, -1], [NaN, NaN]],
  },
  {
    name: 'sigmoid', ref: sigmoid, maxUlp: 2, measured: 1.87, domain: 'all x',
    main: () => concat(grid(-110, 30, 200_001), grid(-8, 8, 100_001), logGrid(2 ** -30, 120, 20_000, true), around([0, -87.33654, -103.27893])),
    exact: [[0, 0.5], [-0, 0.5], [MIN_DENORMAL, 0.5], [-MIN_DENORMAL, 0.5], [20, 1], [MAX, 1], [Infinity, 1], [-200, 0], [-MAX, 0], [-Infinity, 0], [NaN, NaN]],
  },
  {
    name: 'erf', ref: erf, maxUlp: 1.5, measured: 0.99, domain: 'all x',
    main: () => concat(grid(-5, 5, 200_001), logGrid(2 ** -30, 5, 20_000, true), around([0.875, -0.875, 3.92, 4, -4])),
    exact: [[0, 0], [-0, -0], [4, 1], [-4, -1], [10, 1], [MAX, 1], [-MAX, -1], [Infinity, 1], [-Infinity, -1], [NaN, NaN]],
  },
  {
    name: 'sin', ref: Math.sin, maxUlp: 1.5, measured: 1.23, domain: 'all finite x',
    main: () => concat(grid(-10, 10, 100_001), grid(-1e4, 1e4, 100_001), logGrid(2 ** -30, MAX, 100_000, true), trigHardCases()),
    exact: [[0, 0], [-0, -0], [MIN_DENORMAL, MIN_DENORMAL], [-MIN_DENORMAL, -MIN_DENORMAL], [1e-30, 1e-30], [Infinity, NaN], [-Infinity, NaN], [NaN, NaN]],
  },
  {
    name: 'cos', ref: Math.cos, maxUlp: 1.5, measured: 1.25, domain: 'all finite x',
    main: () => concat(grid(-10, 10, 100_001), grid(-1e4, 1e4, 100_001), logGrid(2 ** -30, MAX, 100_000, true), trigHardCases()),
    exact: [[0, 1], [-0, 1], [MIN_DENORMAL, 1], [-1e-30, 1], [Infinity, NaN], [-Infinity, NaN], [NaN, NaN]],
  },
];

/** Where sin and cos reduce: odd multiples of π/4 (quadrant switches), floats nearest multiples of π/2 (tiny r), the Cody–Waite limit 2^26. */
function trigHardCases(): Float32Array {
  const quarter = range(-400, 400).map((k) => ((2 * k + 1) * Math.PI) / 4);
  const nearZero = [...range(1, 300), ...Array.from({ length: 300 }, () => Math.floor(rng.next() * 2 ** 40))].map((k) => (k * Math.PI) / 2);
  return concat(around(quarter, 2), around(nearZero, 2), around([2 ** 26, -(2 ** 26)], 8));
}

// ---- unary tests -------------------------------------------------------------------

const mainInputs = new Map<string, Float32Array>();
const mainOf = (c: UnaryCase) => mainInputs.get(c.name) ?? mainInputs.set(c.name, c.main()).get(c.name)!;

describe.each(unaryCases)('$name', (c) => {
  test(`f32x4_${c.name} and f32_${c.name} agree bit for bit`, () => {
    const xs = concat(mainOf(c), specialInputs, around(specialInputs.filter((v) => Number.isFinite(v) && v !== 0)), randomBits(100_000));
    for (const skew of [0, 1]) {
      const simd = run(`f32_v${c.name}__simd128`, xs, undefined, skew);
      const scalar = run(`f32_v${c.name}__scalar`, xs, undefined, skew);
      for (let i = 0; i < xs.length; i++) {
        if (!same(simd[i]!, scalar[i]!)) expect.fail(`x=${show(xs[i]!)} (index ${i}, skew ${skew}): f32x4 ${show(simd[i]!)}, scalar ${show(scalar[i]!)}`);
      }
    }
  });

  test(`${c.name} is within ${c.maxUlp} ulp of float64 (${c.domain}; measured ${c.measured})`, () => {
    const xs = concat(mainOf(c), randomBits(50_000)); // grids and boundaries, then every exponent at random
    const got = run(`f32_v${c.name}__simd128`, xs);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < xs.length; i++) {
      const e = ulpError(got[i]!, c.ref(xs[i]!));
      if (e > worst) [worst, at] = [e, i];
    }
    if (worst > c.maxUlp) expect.fail(`${worst.toFixed(3)} ulp at x=${show(xs[at]!)}: got ${show(got[at]!)}, float64 ${c.ref(xs[at]!)}`);
  });

  test(`${c.name} special values are exact`, () => {
    const xs = Float32Array.from(c.exact.map(([x]) => x));
    for (const kernel of [`f32_v${c.name}__simd128`, `f32_v${c.name}__scalar`]) {
      const got = run(kernel, xs);
      c.exact.forEach(([x, want], i) => {
        if (!same(got[i]!, Math.fround(want))) expect.fail(`${kernel}: ${c.name}(${show(x)}) = ${show(got[i]!)}, expected ${show(Math.fround(want))}`);
      });
    }
  });
});

test('f32_vexp__simd128_u16 (unrolled ×4) matches f32_vexp__simd128 bit for bit', () => {
  const xs = concat(mainOf(unaryCases[0]!), specialInputs, randomBits(10_003));
  const unrolled = run('f32_vexp__simd128_u16', xs, undefined, 1);
  const plain = run('f32_vexp__simd128', xs, undefined, 1);
  for (let i = 0; i < xs.length; i++) {
    if (!same(unrolled[i]!, plain[i]!)) expect.fail(`x=${show(xs[i]!)} (index ${i}): unrolled ${show(unrolled[i]!)}, f32x4 ${show(plain[i]!)}`);
  }
});

// ---- pow ------------------------------------------------------------------------------

/** C99 pow: Math.pow but for pow(1, y) = 1 and pow(-1, ±inf) = 1 (where JavaScript gives NaN). */
const powRef = (x: number, y: number) => (x === 1 || y === 0 || (Math.abs(x) === 1 && Math.abs(y) === Infinity) ? 1 : Math.pow(x, y));
const POW_ULP = 1;
const POW_MEASURED = 0.5; // f64 inside: off by the final rounding and ~2^-40

function powInputs(): [Float32Array, Float32Array] {
  const n = 100_000;
  const xs: number[] = [], ys: number[] = [];
  const add = (x: number, y: number) => { xs.push(x); ys.push(y); };
  for (let i = 0; i < n; i++) add(rng.next() * 10, (rng.next() - 0.5) * 40);
  for (let i = 0; i < n; i++) add(2 ** ((rng.next() - 0.5) * 250), (rng.next() - 0.5) * 4); // all magnitudes, denormals too
  for (let i = 0; i < n; i++) add(1 + (rng.next() - 0.5) * 2 ** -10, (rng.next() - 0.5) * 2 ** 20); // x near 1, large y
  for (let i = 0; i < n; i++) add((rng.next() - 0.5) * 200, Math.round((rng.next() - 0.5) * 30)); // negative x, integer y
  return [Float32Array.from(xs), Float32Array.from(ys)];
}

const powSpecials = [0, -0, MIN_DENORMAL, -MIN_DENORMAL, 0.5, -0.5, 1, -1, 2, -2, 3, -3, 1e10, -1e10, MAX, -MAX, Infinity, -Infinity, NaN].map(Math.fround);
const powExponents = [0, -0, 0.5, -0.5, 1, -1, 1.5, 2, -2, 3, -3, 2 ** 23 + 1, -(2 ** 23 + 1), 2 ** 24 + 2, 1e30, -1e30, Infinity, -Infinity, NaN].map(Math.fround);

describe('pow', () => {
  test('f32x4_pow and f32_pow agree bit for bit', () => {
    const [px, py] = powInputs();
    const grid2 = powSpecials.flatMap((x) => powExponents.map((y) => [x, y] as const));
    const xs = concat(px, grid2.map(([x]) => x), randomBits(100_000));
    const ys = concat(py, grid2.map(([, y]) => y), randomBits(100_000));
    const simd = run('f32_vpow__simd128', xs, ys);
    const scalar = run('f32_vpow__scalar', xs, ys);
    for (let i = 0; i < xs.length; i++) {
      if (!same(simd[i]!, scalar[i]!)) expect.fail(`pow(${show(xs[i]!)}, ${show(ys[i]!)}): f32x4 ${show(simd[i]!)}, scalar ${show(scalar[i]!)}`);
    }
  });

  test(`pow is within ${POW_ULP} ulp of float64 (x > 0 any y, x < 0 integer y; measured ${POW_MEASURED})`, () => {
    const [xs, ys] = powInputs();
    const got = run('f32_vpow__simd128', xs, ys);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < xs.length; i++) {
      const e = ulpError(got[i]!, powRef(xs[i]!, ys[i]!));
      if (e > worst) [worst, at] = [e, i];
    }
    if (worst > POW_ULP) expect.fail(`${worst.toFixed(3)} ulp at pow(${xs[at]}, ${ys[at]}): got ${got[at]}, float64 ${powRef(xs[at]!, ys[at]!)}`);
  });

  test('pow special cases follow C99 (zeros, infinities, NaN, negative bases, x = ±1)', () => {
    const pairs = powSpecials.flatMap((x) => powExponents.map((y) => [x, y] as const));
    const xs = Float32Array.from(pairs.map(([x]) => x));
    const ys = Float32Array.from(pairs.map(([, y]) => y));
    for (const kernel of ['f32_vpow__simd128', 'f32_vpow__scalar']) {
      const got = run(kernel, xs, ys);
      pairs.forEach(([x, y], i) => {
        const want = powRef(x, y);
        // a result float32 holds exactly (0, ±inf, NaN, 1, 8, …) must come out exactly; others within the bound
        const ok = Math.fround(want) === want || !Number.isFinite(want) ? same(got[i]!, want) : ulpError(got[i]!, want) <= POW_ULP;
        if (!ok) expect.fail(`${kernel}: pow(${show(x)}, ${show(y)}) = ${show(got[i]!)}, expected ${show(want)}`);
      });
    }
  });
});

// ---- floor_mod --------------------------------------------------------------------------

/** The op table's floored modulo (compiler/ops/binary.ts): fmod, then + b where the signs differ; rounded to float32. */
const floorModRef = (a: number, b: number) => {
  const r = a % b;
  return Math.fround(r !== 0 && r < 0 !== b < 0 ? r + b : r);
};

function floorModInputs(): [Float32Array, Float32Array] {
  const xs: number[] = [], ys: number[] = [];
  const magnitude = (lo: number, hi: number) => (rng.next() < 0.5 ? -1 : 1) * 2 ** (lo + rng.next() * (hi - lo));
  for (let i = 0; i < 200_000; i++) { xs.push(magnitude(-20, 40)); ys.push(magnitude(-20, 20)); } // quotients up to 2^60: both paths
  for (let i = 0; i < 50_000; i++) { xs.push(Math.round((rng.next() - 0.5) * 100)); ys.push(rng.pick([1, -1, 2, -2, 3, -3, 0.5, -0.5, 0.1, -0.1])); }
  for (const q of around([2 ** 29, -(2 ** 29)], 4)) for (const b of [1.5, -0.75, 3]) { xs.push(Math.fround(q * b)); ys.push(b); } // the f64 path's limit
  return [Float32Array.from(xs), Float32Array.from(ys)];
}
const modSpecials = [0, -0, MIN_DENORMAL, -MIN_DENORMAL, 0.1, -0.1, 1, -1, 5.5, -5.5, 3, -3, 1e30, -1e30, MAX, -MAX, Infinity, -Infinity, NaN];

describe('floor_mod', () => {
  test('f32x4_floor_mod and f32_floor_mod agree bit for bit', () => {
    const [fx, fy] = floorModInputs();
    const pairs = modSpecials.flatMap((a) => modSpecials.map((b) => [a, b] as const));
    const xs = concat(fx, pairs.map(([a]) => a), randomBits(100_000));
    const ys = concat(fy, pairs.map(([, b]) => b), randomBits(100_000));
    const simd = run('f32_vfloor_mod__simd128', xs, ys);
    const scalar = run('f32_vfloor_mod__scalar', xs, ys);
    for (let i = 0; i < xs.length; i++) {
      if (!same(simd[i]!, scalar[i]!)) expect.fail(`floor_mod(${show(xs[i]!)}, ${show(ys[i]!)}): f32x4 ${show(simd[i]!)}, scalar ${show(scalar[i]!)}`);
    }
  });

  test('floor_mod is exact: fmod, then one rounded add of b (0 ulp, signed zeros and specials included)', () => {
    const [fx, fy] = floorModInputs();
    const pairs = modSpecials.flatMap((a) => modSpecials.map((b) => [a, b] as const));
    const xs = concat(fx, pairs.map(([a]) => a), randomBits(50_000));
    const ys = concat(fy, pairs.map(([, b]) => b), randomBits(50_000));
    for (const kernel of ['f32_vfloor_mod__simd128', 'f32_vfloor_mod__scalar']) {
      const got = run(kernel, xs, ys);
      for (let i = 0; i < xs.length; i++) {
        const want = floorModRef(xs[i]!, ys[i]!);
        if (!same(got[i]!, want)) expect.fail(`${kernel}: floor_mod(${show(xs[i]!)}, ${show(ys[i]!)}) = ${show(got[i]!)}, expected ${show(want)}`);
      }
    }
  });
});

// ---- the array maps themselves --------------------------------------------------------------

test('every array map writes exactly n values, for n = 0…37 and unaligned pointers', () => {
  const SENTINEL = 1234.5;
  const names = [...unaryCases.map((c) => c.name), 'pow', 'floor_mod'];
  const kernels = [...names.flatMap((name) => [`${name}__simd128`, `${name}__scalar`]), 'exp__simd128_u16'];
  for (const kernel of kernels) {
    const binary = kernel.startsWith('pow') || kernel.startsWith('floor_mod');
    for (let n = 0; n <= 37; n++) {
      for (const skew of [0, 1, 3]) {
        const y = slot(2) + 4 * skew;
        new Float32Array(wasm.memory.buffer).fill(SENTINEL, y / 4, y / 4 + 40);
        const xs = Float32Array.from({ length: n }, (_, i) => 0.25 + i);
        const got = run(`f32_v${kernel}`, xs, binary ? xs : undefined, skew);
        if (got.some((v) => v === SENTINEL)) expect.fail(`f32_v${kernel}: n=${n} skew=${skew} left a value unwritten`);
        if (new Float32Array(wasm.memory.buffer)[y / 4 + n] !== SENTINEL) expect.fail(`f32_v${kernel}: n=${n} skew=${skew} wrote past the end`);
      }
    }
  }
});
