/**
 * The f32 GEMM family (runtime-as/gemm.ts) on an edge-case sweep: `f32_gemm__simd128`
 * and `f32_gemm__scalar` each against a float64 triple loop, within 1e-5 of the sum of
 * |a·b| (plus |old C| and |bias|) behind each value, for all four transpose
 * combinations, with row strides above the minimum, pointers off 16-byte alignment,
 * accumulate, bias and relu; every call also checks that C's row padding is untouched.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { instantiateKernels } from '../util/kernels.js';
import { Rng } from '../util/random.js';

type GemmKernel = (
  m: number, n: number, k: number,
  a: number, lda: number, transA: number,
  b: number, ldb: number, transB: number,
  c: number, ldc: number,
  accumulate: number, bias: number, activation: number,
) => void;
interface Module { memory: WebAssembly.Memory; arena_base(): number; f32_gemm__simd128: GemmKernel; f32_gemm__scalar: GemmKernel }

const kernels = ['f32_gemm__simd128', 'f32_gemm__scalar'] as const;
const transposes = [[false, false], [true, false], [false, true], [true, true]] as const;
const dims = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 64, 67];
const SENTINEL = 1234.5; // written into C's row padding; must survive every call

interface GemmCase {
  m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  /** Extra floats per row beyond the minimum, for A, B and C. */
  padA: number; padB: number; padC: number;
  accumulate: boolean; bias: boolean; relu: boolean;
  /** Floats past a 64-byte boundary for every array (0 = aligned). */
  skew: number;
}

let wasm: Module;

beforeAll(async () => {
  wasm = await instantiateKernels<Module>();
}, 120_000);

const label = (c: GemmCase) =>
  `m=${c.m} n=${c.n} k=${c.k} transA=${c.transA} transB=${c.transB} pads=${c.padA}/${c.padB}/${c.padC} ` +
  `accumulate=${c.accumulate} bias=${c.bias} relu=${c.relu} skew=${c.skew}`;

/** Random inputs for one case, as stored (A is m×k or k×m with its stride, and so on). */
function inputs(c: GemmCase, rng: Rng) {
  const lda = (c.transA ? c.m : c.k) + c.padA, ldb = (c.transB ? c.k : c.n) + c.padB, ldc = c.n + c.padC;
  const random = (count: number) => Float32Array.from({ length: count }, () => rng.next() * 2 - 1);
  const a = random((c.transA ? c.k : c.m) * lda), b = random((c.transB ? c.n : c.k) * ldb);
  const c0 = random(c.m * ldc);
  for (let i = 0; i < c.m; i++) c0.fill(SENTINEL, i * ldc + c.n, (i + 1) * ldc);
  return { lda, ldb, ldc, a, b, c0, bias: random(c.n) };
}

/** float64 reference and the error bound of each C value (row-major m×n). */
function reference(c: GemmCase, x: ReturnType<typeof inputs>) {
  const want = new Float64Array(c.m * c.n), bound = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let sum = 0, magnitude = 0;
      for (let p = 0; p < c.k; p++) {
        const product = x.a[c.transA ? p * x.lda + i : i * x.lda + p]! * x.b[c.transB ? j * x.ldb + p : p * x.ldb + j]!;
        sum += product;
        magnitude += Math.abs(product);
      }
      if (c.accumulate) { sum += x.c0[i * x.ldc + j]!; magnitude += Math.abs(x.c0[i * x.ldc + j]!); }
      if (c.bias) { sum += x.bias[j]!; magnitude += Math.abs(x.bias[j]!); }
      want[i * c.n + j] = c.relu ? Math.max(sum, 0) : sum;
      bound[i * c.n + j] = 1e-5 * magnitude;
    }
  }
  return { want, bound };
}

/** Places the arrays from arena_base() (growing memory as needed), runs `kernel`, returns C as stored. */
function run(kernel: (typeof kernels)[number], c: GemmCase, x: ReturnType<typeof inputs>): Float32Array {
  let top = wasm.arena_base();
  const place = (data: Float32Array) => {
    const at = Math.ceil(top / 64) * 64 + c.skew * 4;
    top = at + data.length * 4 + 64;
    return { at, data };
  };
  const spans = [place(x.a), place(x.b), place(x.bias), place(x.c0)];
  const need = top - wasm.memory.buffer.byteLength;
  if (need > 0) wasm.memory.grow(Math.ceil(need / 65536));
  const memory = new Float32Array(wasm.memory.buffer);
  for (const { at, data } of spans) memory.set(data, at / 4);
  const [a, b, bias, out] = spans.map((s) => s.at) as [number, number, number, number];
  wasm[kernel](c.m, c.n, c.k, a, x.lda, +c.transA, b, x.ldb, +c.transB, out, x.ldc, +c.accumulate, c.bias ? bias : 0, c.relu ? 1 : 0);
  return new Float32Array(wasm.memory.buffer).slice(out / 4, out / 4 + x.c0.length);
}

/** Runs both kernels on one case; returns the first problem of each, if any. */
function check(c: GemmCase, rng: Rng): string[] {
  const x = inputs(c, rng);
  const { want, bound } = reference(c, x);
  const failures: string[] = [];
  for (const kernel of kernels) {
    const got = run(kernel, c, x);
    search: for (let i = 0; i < c.m; i++) {
      for (let j = 0; j < x.ldc; j++) {
        const g = got[i * x.ldc + j]!;
        if (j >= c.n) {
          if (g !== SENTINEL) { failures.push(`${kernel} ${label(c)}: C padding (${i}, ${j}) changed to ${g}`); break search; }
          continue;
        }
        const e = want[i * c.n + j]!, tol = bound[i * c.n + j]!;
        if (!(Math.abs(g - e) <= tol)) { failures.push(`${kernel} ${label(c)}: C(${i}, ${j}) = ${g}, reference ${e} (tolerance ${tol})`); break search; }
      }
    }
  }
  return failures;
}

function expectNone(failures: string[]): void {
  if (failures.length) expect.fail(`${failures.length} failures:\n${failures.slice(0, 12).join('\n')}`);
}

/** ~150 (m, n, k) from the edge-case sizes: the 14 cubes m = n = k, the rest sampled. */
function sweepShapes(): [number, number, number][] {
  const rng = new Rng(2024);
  const shapes: [number, number, number][] = dims.map((d) => [d, d, d]);
  const seen = new Set(shapes.map((s) => s.join()));
  while (shapes.length < 150) {
    const s: [number, number, number] = [rng.pick(dims), rng.pick(dims), rng.pick(dims)];
    if (!seen.has(s.join())) { seen.add(s.join()); shapes.push(s); }
  }
  return shapes;
}

describe('f32_gemm kernels', () => {
  const shapes = sweepShapes();
  for (const [transA, transB] of transposes) {
    const op = `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;
    test(`compute ${op} on the edge-case sweep, with strides, accumulate, bias and relu`, () => {
      const rng = new Rng(transA ? (transB ? 4 : 2) : transB ? 3 : 1);
      const failures: string[] = [];
      for (const [m, n, k] of shapes) {
        failures.push(...check({
          m, n, k, transA, transB,
          padA: rng.int(0, 3), padB: rng.int(0, 3), padC: rng.int(0, 3),
          accumulate: rng.next() < 0.5, bias: rng.next() < 0.5, relu: rng.next() < 0.5, skew: rng.int(0, 3),
        }, rng));
      }
      expectNone(failures);
    });
  }

  test('compute large products that cross every block boundary (k > 256, m > 128, n > 512)', () => {
    const rng = new Rng(7);
    const failures: string[] = [];
    const large: [number, number, number][] = [[256, 255, 257], [130, 600, 9], [5, 520, 300], [129, 17, 513]];
    for (const [m, n, k] of large) {
      transposes.forEach(([transA, transB], i) => {
        // each flag on for two of the four combinations: k blocks must add up without `accumulate` too
        const flags = { accumulate: i % 2 === 1, bias: i >= 2, relu: i === 0 || i === 3 };
        failures.push(...check({ m, n, k, transA, transB, padA: 1, padB: 2, padC: 3, ...flags, skew: 1 }, rng));
      });
    }
    failures.push(...check({ m: 256, n: 256, k: 256, transA: false, transB: false, padA: 0, padB: 0, padC: 0, accumulate: false, bias: false, relu: false, skew: 0 }, rng));
    expectNone(failures);
  });

  test('give only the epilogue when k = 0: old C (if accumulating) plus bias, then relu', () => {
    const rng = new Rng(11);
    const failures: string[] = [];
    for (const [transA, transB] of transposes) {
      for (const accumulate of [false, true]) {
        failures.push(...check({ m: 5, n: 9, k: 0, transA, transB, padA: 1, padB: 1, padC: 2, accumulate, bias: true, relu: true, skew: 0 }, rng));
      }
    }
    expectNone(failures);
  });

  test('leave all of C alone when m or n is 0, and never write past C or into its row padding', () => {
    for (const kernel of kernels) {
      for (const [m, n, k, transA, transB] of [[0, 5, 3, false, false], [4, 0, 3, true, true], [3, 5, 7, false, true], [9, 17, 4, true, false]] as const) {
        const ldc = n + 3, guard = 16;
        const base = Math.ceil(wasm.arena_base() / 64) * 64;
        const a = base, b = a + 4096, c = b + 4096, size = m * ldc + 2 * guard;
        if (c + size * 4 > wasm.memory.buffer.byteLength) wasm.memory.grow(1);
        const memory = new Float32Array(wasm.memory.buffer);
        memory.fill(0.5, a / 4, c / 4);
        memory.fill(SENTINEL, c / 4, c / 4 + size);
        const out = c + guard * 4;
        wasm[kernel](m, n, k, a, transA ? m : k, +transA, b, transB ? k : n, +transB, out, ldc, 0, 0, 0);
        const after = new Float32Array(wasm.memory.buffer, c, size);
        for (let at = 0; at < size; at++) {
          const inside = at >= guard && at < guard + m * ldc && (at - guard) % ldc < n;
          const expected = inside ? 0.25 * k : SENTINEL;
          if (after[at] !== expected) {
            expect.fail(`${kernel} m=${m} n=${n} k=${k}: float ${at - guard} from C (row ${Math.floor((at - guard) / ldc)}) is ${after[at]}, expected ${expected}`);
          }
        }
      }
    }
  });
});

describe('f32_gemm_stable_b__simd128: op(B) packed once for a loop', () => {
  interface Kept { f32_gemm_stable_b__simd128: GemmKernel; f32_gemm_forget_b(): void }
  const [m, n, k] = [9, 40, 24];
  const rng = new Rng(77);
  const random = (count: number) => Float32Array.from({ length: count }, () => rng.next() * 2 - 1);
  /** C = A·B (B k×n, or n×k with transB) for float arrays, in float64. */
  const product = (a: Float32Array, b: Float32Array, transB: boolean) => Float64Array.from({ length: m * n }, (_, q) => {
    const [i, j] = [Math.floor(q / n), q % n];
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p]! * b[transB ? j * k + p : p * n + j]!;
    return s;
  });
  /** Runs one GEMM with B at a fixed address (so calls can share it); returns C. */
  function call(kept: boolean, a: Float32Array, b: Float32Array, transB: boolean, bAt: number): Float32Array {
    const base = Math.ceil(wasm.arena_base() / 64) * 64;
    const [aAt, cAt] = [base + 4 * 65536, base + 8 * 65536];
    const need = cAt + m * n * 4 - wasm.memory.buffer.byteLength;
    if (need > 0) wasm.memory.grow(Math.ceil(need / 65536));
    const memory = new Float32Array(wasm.memory.buffer);
    memory.set(a, aAt / 4);
    memory.set(b, (base + bAt) / 4);
    const kernel = kept ? (wasm as unknown as Kept).f32_gemm_stable_b__simd128 : wasm.f32_gemm__simd128;
    kernel(m, n, k, aAt, k, 0, base + bAt, transB ? k : n, +transB, cAt, n, 0, 0, 0);
    return new Float32Array(wasm.memory.buffer).slice(cAt / 4, cAt / 4 + m * n);
  }
  const close = (got: Float32Array, want: Float64Array) => got.forEach((g, q) => expect(Math.abs(g - want[q]!)).toBeLessThan(1e-4));

  test('a stable B is packed by the first call and reused until forgotten; other calls repack', () => {
    const forget = () => (wasm as unknown as Kept).f32_gemm_forget_b();
    const [a1, a2, b1, b2] = [random(m * k), random(m * k), random(k * n), random(k * n)];
    forget();
    close(call(true, a1, b1, false, 0), product(a1, b1, false));
    // B's values change behind the kernel's back: the kept packing (the old B) is what the promise allows it to use
    close(call(true, a2, b2, false, 0), product(a2, b1, false));
    forget();
    close(call(true, a2, b2, false, 0), product(a2, b2, false));
    // a call that packs another B overwrites the block: the next stable call packs again
    close(call(false, a1, b1, false, 65536), product(a1, b1, false));
    close(call(true, a1, b2, false, 0), product(a1, b2, false));
    // the same address read transposed is another op(B)
    const bt = random(n * k);
    close(call(true, a2, bt, true, 0), product(a2, bt, true));
    forget();
  });
});

describe('f32_gemm_prepacked__simd128: op(B) packed once into a buffer of its own', () => {
  interface Prepacked {
    f32_gemm_prepacked__simd128: (...args: [...Parameters<GemmKernel>, buffer: number, allColumns: number, firstColumn: number]) => void;
    f32_gemm_pack_b(m: number, n: number, k: number, b: number, ldb: number, transB: number, buffer: number): void;
    f32_gemm_packed_stale(buffer: number): void;
    f32_gemm_packed_bytes(n: number, k: number): number;
  }
  const kernel = () => wasm as unknown as Module & Prepacked;

  /** C from the plain kernel and from the prepacked one (whole, or as column shares of 8-aligned starts), as stored. */
  function both(c: GemmCase, x: ReturnType<typeof inputs>, shares: number[]): { plain: Float32Array; packed: Float32Array; flag: number } {
    const w = kernel();
    const base = Math.ceil(wasm.arena_base() / 64) * 64;
    const [aAt, bAt, biasAt, cAt] = [base, base + x.a.length * 4 + 64, base + (x.a.length + x.b.length) * 4 + 128, base + (x.a.length + x.b.length + x.bias.length) * 4 + 192].map((v) => Math.ceil(v / 64) * 64 + c.skew * 4) as [number, number, number, number];
    const bufferAt = Math.ceil((cAt + x.c0.length * 4) / 64) * 64 + 64;
    const need = bufferAt + w.f32_gemm_packed_bytes(c.n, c.k) - wasm.memory.buffer.byteLength;
    if (need > 0) wasm.memory.grow(Math.ceil(need / 65536));
    const put = () => {
      const memory = new Float32Array(wasm.memory.buffer);
      memory.set(x.a, aAt / 4); memory.set(x.b, bAt / 4); memory.set(x.bias, biasAt / 4); memory.set(x.c0, cAt / 4);
    };
    const get = () => new Float32Array(wasm.memory.buffer).slice(cAt / 4, cAt / 4 + x.c0.length);
    put();
    w.f32_gemm__simd128(c.m, c.n, c.k, aAt, x.lda, +c.transA, bAt, x.ldb, +c.transB, cAt, x.ldc, +c.accumulate, c.bias ? biasAt : 0, c.relu ? 1 : 0);
    const plain = get();
    put();
    new Int32Array(wasm.memory.buffer)[bufferAt / 4] = 0;
    w.f32_gemm_pack_b(c.m, c.n, c.k, bAt, x.ldb, +c.transB, bufferAt);
    const flag = new Int32Array(wasm.memory.buffer)[bufferAt / 4]!;
    const bounds = [...shares, c.n];
    let lo = 0;
    for (const hi of bounds) {
      const bLo = bAt + (c.transB ? lo * x.ldb : lo) * 4;
      w.f32_gemm_prepacked__simd128(c.m, hi - lo, c.k, aAt, x.lda, +c.transA, bLo, x.ldb, +c.transB, cAt + lo * 4, x.ldc, +c.accumulate, c.bias ? biasAt + lo * 4 : 0, c.relu ? 1 : 0, bufferAt, c.n, lo);
      lo = hi;
    }
    return { plain, packed: get(), flag };
  }

  const same = (c: GemmCase, r: ReturnType<typeof both>) => {
    const j = r.packed.findIndex((v, q) => !Object.is(v, r.plain[q]));
    if (j >= 0) expect.fail(`${label(c)}: float ${j} of C is ${r.packed[j]} prepacked, ${r.plain[j]} packed per call`);
  };

  test('gives the same bits as packing per call, across block boundaries, transposes and epilogues', () => {
    const rng = new Rng(31);
    const shapes: [number, number, number][] = [[64, 1024, 300], [9, 40, 24], [130, 600, 9], [5, 520, 300], [129, 17, 513], [8, 3, 1], [67, 67, 67], [6, 9, 0]];
    for (const [m, n, k] of shapes) {
      for (const [transA, transB] of transposes) {
        const c: GemmCase = { m, n, k, transA, transB, padA: rng.int(0, 2), padB: rng.int(0, 2), padC: rng.int(0, 2), accumulate: rng.next() < 0.5, bias: rng.next() < 0.5, relu: rng.next() < 0.5, skew: rng.int(0, 3) };
        const r = both(c, inputs(c, rng), []);
        expect(r.flag).toBe(1);
        same(c, r);
      }
    }
  });

  test('serves column shares that start at any multiple of 8 from the one buffer', () => {
    const rng = new Rng(32);
    for (const transB of [false, true]) {
      const c: GemmCase = { m: 12, n: 530, k: 270, transA: false, transB, padA: 1, padB: 3, padC: 2, accumulate: false, bias: true, relu: true, skew: 1 };
      same(c, both(c, inputs(c, rng), [8, 264, 520]));
    }
  });

  test('packs nothing for the few-rows path (m ≤ 4, B not transposed), which reads B itself', () => {
    const rng = new Rng(33);
    const c: GemmCase = { m: 3, n: 21, k: 14, transA: false, transB: false, padA: 0, padB: 1, padC: 0, accumulate: true, bias: true, relu: false, skew: 0 };
    const r = both(c, inputs(c, rng), []);
    expect(r.flag).toBe(0);
    same(c, r);
  });

  test('keeps a current buffer until it is marked stale, then packs the new values', () => {
    const w = kernel();
    const [m, n, k] = [8, 16, 8];
    const base = Math.ceil(wasm.arena_base() / 64) * 64;
    const [aAt, bAt, cAt, bufferAt] = [base, base + 1024, base + 2048, base + 4096];
    if (bufferAt + w.f32_gemm_packed_bytes(n, k) > wasm.memory.buffer.byteLength) wasm.memory.grow(1);
    const f32 = () => new Float32Array(wasm.memory.buffer);
    f32().fill(1, aAt / 4, aAt / 4 + m * k);
    f32().fill(2, bAt / 4, bAt / 4 + k * n);
    new Int32Array(wasm.memory.buffer)[bufferAt / 4] = 0;
    const run = () => {
      w.f32_gemm_pack_b(m, n, k, bAt, n, 0, bufferAt);
      w.f32_gemm_prepacked__simd128(m, n, k, aAt, k, 0, bAt, n, 0, cAt, n, 0, 0, 0, bufferAt, n, 0);
      return f32()[cAt / 4];
    };
    expect(run()).toBe(16);
    f32().fill(3, bAt / 4, bAt / 4 + k * n);
    expect(run()).toBe(16); // still the packed copy of the old B: the caller must mark it stale
    w.f32_gemm_packed_stale(bufferAt);
    expect(run()).toBe(24);
  });
});
