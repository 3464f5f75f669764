/**
 * What every engine offers the harness: prepared closures for one GEMM or one
 * convolution pass, built (inputs made, models compiled, layouts converted) before
 * any timing starts. All data is NHWC / HWIO and row-major on the kiln side; an
 * engine converts to its own layout during preparation.
 */
import type { Run } from '../harness.js';

/** A 'same', stride-1 convolution layer: [batch, size, size, cin] → [batch, size, size, cout]. */
export interface ConvLayer {
  readonly name: string;
  readonly batch: number;
  readonly size: number;
  readonly cin: number;
  readonly cout: number;
  readonly kernel: number;
}

export type ConvPass = 'forward' | 'inputGrad' | 'filterGrad';

/** Everything the run will ask for, so an engine can compile it all at once. */
export interface Plan {
  readonly gemmSizes: readonly number[];
  readonly transposes: readonly (readonly [transA: boolean, transB: boolean])[];
  readonly convLayers: readonly ConvLayer[];
}

export interface Engine {
  readonly name: string;
  /** Version and settings, for the results' header. */
  readonly info?: string;
  /** Called before each prepare; engines sharing global state (TF.js backends) switch it here. */
  activate?(): Promise<void>;
  /** C = op(A)·op(B) for square n×n float32 operands; the closure's result is fully computed. */
  gemm(n: number, transA: boolean, transB: boolean): Promise<Run>;
  conv(layer: ConvLayer, pass: ConvPass): Promise<Run>;
}

export interface EngineFactory {
  readonly name: string;
  /** Loads the engine's packages and compiles what the plan needs; a failure marks the engine unavailable. */
  load(plan: Plan): Promise<Engine>;
}

/** Deterministic pseudo-random values in [-0.5, 0.5), so every engine sees the same data. */
export function randomData(length: number, seed = 1): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; // xorshift32
    out[i] = (s >>> 0) / 2 ** 32 - 0.5;
  }
  return out;
}

/** NHWC → NCHW, ONNX's activation layout. */
export function nhwcToNchw(data: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n!; b++) for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) for (let ch = 0; ch < c!; ch++) {
    out[((b * c! + ch) * h! + y) * w! + x] = data[((b * h! + y) * w! + x) * c! + ch]!;
  }
  return out;
}

/** HWIO → OIHW, ONNX's filter layout. */
export function hwioToOihw(data: Float32Array, [kh, kw, ci, co]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh!; y++) for (let x = 0; x < kw!; x++) for (let i = 0; i < ci!; i++) for (let o = 0; o < co!; o++) {
    out[((o * ci! + i) * kh! + y) * kw! + x] = data[((y * kw! + x) * ci! + i) * co! + o]!;
  }
  return out;
}

export const convShapes = (l: ConvLayer) => ({
  x: [l.batch, l.size, l.size, l.cin],
  filter: [l.kernel, l.kernel, l.cin, l.cout],
  y: [l.batch, l.size, l.size, l.cout],
  pad: (l.kernel - 1) >> 1, // 'same' with an odd kernel, stride 1: equal padding on both sides
});

/** FLOPs of one pass (each of the three is the same count of multiply-adds). */
export const convFlops = (l: ConvLayer) => 2 * l.batch * l.size * l.size * l.cout * l.kernel * l.kernel * l.cin;
