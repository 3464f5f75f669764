/**
 * GEMM kernel benchmark: median GFLOP/s of `f32_gemm__simd128` for square n = 128…1024
 * in the four transpose combinations, next to a measured single-thread f32x4 mul+add
 * peak (two loops: 12 independent register accumulators, and the 4×8 register tile
 * over an L1-resident buffer, i.e. the micro-kernel's ceiling with its loads).
 *
 *   npx tsc -p bench && node dist/bench/gemm-kernel.js     (about 15 s)
 */
import { buildWasm, runtimeAsSources } from '../compiler/build.js';

type GemmKernel = (m: number, n: number, k: number, a: number, lda: number, transA: number, b: number, ldb: number, transB: number,
  c: number, ldc: number, accumulate: number, bias: number, activation: number) => void;
interface Runtime { memory: WebAssembly.Memory; arena_base(): number; f32_gemm__simd128: GemmKernel }
interface Peak { peak_chains(iters: number, m: number): number; peak_tile(reps: number): number }

const splat = (name: string, count: number) => Array.from({ length: count }, (_, i) => `${name}${i} = f32x4.splat(0)`).join(', ');
const tileRows = [0, 1, 2, 3].map((r) =>
  `a = v128.load32_splat(pa, ${4 * r}); c${2 * r} = f32x4.add(c${2 * r}, f32x4.mul(a, b0)); c${2 * r + 1} = f32x4.add(c${2 * r + 1}, f32x4.mul(a, b1));`);
const chains = Array.from({ length: 12 }, (_, i) => `x${i} = f32x4.add(x${i}, f32x4.mul(x${i}, m));`);
const sum = (name: string, count: number) => Array.from({ length: count }, (_, i) => `${name}${i}`).reduce((s, x) => `f32x4.add(${s}, ${x})`);

// loops nested two deep on purpose: V8 unrolls deeper wasm loops more, as in the GEMM's blocking
const peakSource = `
export function peak_chains(iters: i32, scale: f32): f32 {
  const m = f32x4.splat(scale);
  let ${splat('x', 12)};
  for (let o = 0; o < iters; o += 256) for (let i = 0; i < 256; i++) { ${chains.join(' ')} }
  return f32x4.extract_lane(${sum('x', 12)}, 0);
}
const buffer = memory.data(128 * 48, 64);
export function peak_tile(reps: i32): f32 {
  let ${splat('c', 8)};
  for (let r = 0; r < reps; r++) {
    let pa = buffer, pb = buffer + 128 * 16;
    for (let p = 0; p < 128; p++, pa += 16, pb += 32) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      let a: v128; ${tileRows.join(' ')}
    }
  }
  return f32x4.extract_lane(${sum('c', 8)}, 0);
}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Median GFLOP/s of `flops`-sized calls, each sample ≥ ~30 ms; the first calls warm V8 up to TurboFan. */
function measure(flops: number, call: () => void, samples = 7): number {
  const reps = Math.max(1, Math.round(1.5e9 / flops)); // ~30 ms a sample at 50 GFLOP/s
  for (let i = 0; i < 2; i++) call();
  const rates: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let r = 0; r < reps; r++) call();
    rates.push((flops * reps) / ((performance.now() - start) / 1e3) / 1e9);
  }
  return median(rates);
}

async function instantiate<T>(binary: Uint8Array): Promise<T> {
  const module = await WebAssembly.compile(new Uint8Array(binary));
  const instance = await WebAssembly.instantiate(module, { env: { abort: () => { throw new Error('wasm abort'); } } });
  return instance.exports as unknown as T;
}

const peak = await instantiate<Peak>((await buildWasm({ 'bench/peak.ts': peakSource })).binary);
const wasm = await instantiate<Runtime>((await buildWasm(runtimeAsSources())).binary);

const sizes = [128, 256, 512, 1024];
const largest = sizes[sizes.length - 1]!;
const base = Math.ceil(wasm.arena_base() / 64) * 64;
const [a, b, c] = [base, base + largest * largest * 4, base + 2 * largest * largest * 4];
wasm.memory.grow(Math.ceil((c + largest * largest * 4 - wasm.memory.buffer.byteLength) / 65536));
const memory = new Float32Array(wasm.memory.buffer);
for (let i = a / 4; i < c / 4; i++) memory[i] = Math.random() - 0.5;

const measurePeak = () => Math.max(
  measure(256 * 1024 * 12 * 8, () => peak.peak_chains(256 * 1024, -1)), // m = -1 keeps the chains at exact zeros
  measure(1024 * 128 * 64, () => peak.peak_tile(1024)),
);
const peakBefore = measurePeak();
const combos = [['A·B', false, false], ['Aᵀ·B', true, false], ['A·Bᵀ', false, true], ['Aᵀ·Bᵀ', true, true]] as const;
const rows = sizes.map((n) => [n, ...combos.map(([, transA, transB]) =>
  measure(2 * n ** 3, () => wasm.f32_gemm__simd128(n, n, n, a, n, +transA, b, n, +transB, c, n, 0, 0, 0)))]);
const peakAfter = measurePeak();

console.log(`f32x4 mul+add peak: ${peakBefore.toFixed(1)} GFLOP/s before, ${peakAfter.toFixed(1)} after (max of 12 register chains and the 4×8 tile in L1)`);
console.log(`${'n'.padStart(5)} ${combos.map(([name]) => name.padStart(7)).join('')}   GFLOP/s, median of 7`);
for (const [n, ...rates] of rows) console.log(`${String(n).padStart(5)} ${rates.map((r) => r!.toFixed(1).padStart(7)).join('')}`);
