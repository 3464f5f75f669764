/**
 * The measured single-thread f32x4 mul+add peak of this machine, the ceiling that
 * GEMM efficiency is quoted against: the max of two loops, 12 independent register
 * accumulators and the 4×8 register tile over an L1-resident buffer (the GEMM
 * micro-kernel's ceiling with its loads).
 */
import { oneThread } from '../src/runtime/wasm.js';
import { buildWasm } from '../compiler/build.js';

export interface PeakKernels { peak_chains(iters: number, scale: number): number; peak_tile(reps: number): number }

const splat = (name: string, count: number) => Array.from({ length: count }, (_, i) => `${name}${i} = f32x4.splat(0)`).join(', ');
const tileRows = [0, 1, 2, 3].map((r) =>
  `a = v128.load32_splat(pa, ${4 * r}); c${2 * r} = f32x4.add(c${2 * r}, f32x4.mul(a, b0)); c${2 * r + 1} = f32x4.add(c${2 * r + 1}, f32x4.mul(a, b1));`);
const chains = Array.from({ length: 12 }, (_, i) => `x${i} = f32x4.add(x${i}, f32x4.mul(x${i}, m));`);
const sum = (name: string, count: number) => Array.from({ length: count }, (_, i) => `${name}${i}`).reduce((s, x) => `f32x4.add(${s}, ${x})`);

// loops nested two deep on purpose: V8 unrolls deeper wasm loops more, as in the GEMM's blocking
export const peakSource = `
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

/** Instantiates a binary of kiln's build on one thread: ordinary memory for the memory it imports. */
export async function instantiate<T>(binary: Uint8Array): Promise<T> {
  const one = oneThread(new Uint8Array(binary)); // a copy typed over a plain ArrayBuffer
  const env: WebAssembly.ModuleImports = { abort: () => { throw new Error('wasm abort'); }, kiln_wait: () => { throw new Error('kernels run on one thread'); } };
  if (one.memory) env.memory = one.memory;
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(one.bytes), { env });
  return instance.exports as unknown as T;
}

export const loadPeakKernels = async (): Promise<PeakKernels> => instantiate<PeakKernels>((await buildWasm({ 'bench/peak.ts': peakSource })).binary);

/** One call of each loop as (flops, call) pairs: the caller times them its own way. */
export const peakLoops = (peak: PeakKernels) => [
  { flops: 256 * 1024 * 12 * 8, call: () => peak.peak_chains(256 * 1024, -1) }, // m = -1 keeps the chains at exact zeros
  { flops: 1024 * 128 * 64, call: () => peak.peak_tile(1024) },
] as const;
