/**
 * GEMM kernel benchmark: median GFLOP/s of `f32_gemm__simd128` for square n = 128…1024
 * in the four transpose combinations, next to a measured single-thread f32x4 mul+add
 * peak (two loops: 12 independent register accumulators, and the 4×8 register tile
 * over an L1-resident buffer, i.e. the micro-kernel's ceiling with its loads).
 *
 *   node bench/setup.mjs && npx tsc -p bench && node bench/dist/bench/gemm-kernel.js     (about 15 s)
 */
import { buildWasm, runtimeAsSources } from '../compiler/build.js';
import { instantiate, loadPeakKernels, peakLoops } from './peak.js';

type GemmKernel = (m: number, n: number, k: number, a: number, lda: number, transA: number, b: number, ldb: number, transB: number,
  c: number, ldc: number, accumulate: number, bias: number, activation: number) => void;
interface Runtime { memory: WebAssembly.Memory; arena_base(): number; f32_gemm__simd128: GemmKernel }

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

const peak = await loadPeakKernels();
const wasm = await instantiate<Runtime>((await buildWasm(runtimeAsSources())).binary);

const sizes = [128, 256, 512, 1024];
const largest = sizes[sizes.length - 1]!;
const base = Math.ceil(wasm.arena_base() / 64) * 64;
const [a, b, c] = [base, base + largest * largest * 4, base + 2 * largest * largest * 4];
wasm.memory.grow(Math.ceil((c + largest * largest * 4 - wasm.memory.buffer.byteLength) / 65536));
const memory = new Float32Array(wasm.memory.buffer);
for (let i = a / 4; i < c / 4; i++) memory[i] = Math.random() - 0.5;

const measurePeak = () => Math.max(...peakLoops(peak).map(({ flops, call }) => measure(flops, call)));
const peakBefore = measurePeak();
const combos = [['A·B', false, false], ['Aᵀ·B', true, false], ['A·Bᵀ', false, true], ['Aᵀ·Bᵀ', true, true]] as const;
const rows = sizes.map((n) => [n, ...combos.map(([, transA, transB]) =>
  measure(2 * n ** 3, () => wasm.f32_gemm__simd128(n, n, n, a, n, +transA, b, n, +transB, c, n, 0, 0, 0)))]);
const peakAfter = measurePeak();

console.log(`f32x4 mul+add peak: ${peakBefore.toFixed(1)} GFLOP/s before, ${peakAfter.toFixed(1)} after (max of 12 register chains and the 4×8 tile in L1)`);
console.log(`${'n'.padStart(5)} ${combos.map(([name]) => name.padStart(7)).join('')}   GFLOP/s, median of 7`);
for (const [n, ...rates] of rows) console.log(`${String(n).padStart(5)} ${rates.map((r) => r!.toFixed(1).padStart(7)).join('')}`);
