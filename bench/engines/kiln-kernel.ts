/**
 * kiln's runtime-as kernels called directly from one module built from
 * `runtimeAsSources()`: operands already in wasm memory, no copies, so this is the
 * kernels' own speed, the floor under what the compiler's modules can reach.
 */
import { buildWasm, runtimeAsSources } from '../../compiler/build.js';
import { instantiate } from '../peak.js';
import { convShapes, randomData, type ConvLayer, type ConvPass, type Engine, type EngineFactory } from './engine.js';

type ConvKernel = (n: number, h: number, w: number, cin: number, oh: number, ow: number, cout: number, kh: number, kw: number,
  strideH: number, strideW: number, dilationH: number, dilationW: number, padTop: number, padLeft: number, groups: number,
  a: number, b: number, out: number, ...epilogue: number[]) => void;

interface Runtime {
  memory: WebAssembly.Memory;
  arena_base(): number;
  f32_gemm__simd128(m: number, n: number, k: number, a: number, lda: number, transA: number, b: number, ldb: number, transB: number,
    c: number, ldc: number, accumulate: number, bias: number, activation: number): void;
  f32_conv2d_nhwc__simd128: ConvKernel;
  f32_conv2d_nhwc_backprop_input__simd128: ConvKernel;
  f32_conv2d_nhwc_backprop_filter__simd128: ConvKernel;
}

/** Places float32 arrays one after another above the runtime's static data, growing memory as needed. */
function place(wasm: Runtime, arrays: readonly (Float32Array | number)[]): number[] {
  let at = Math.ceil(wasm.arena_base() / 64) * 64;
  const offsets = arrays.map((a) => {
    const offset = at;
    at += Math.ceil((typeof a === 'number' ? a : a.length) * 4 / 64) * 64;
    return offset;
  });
  const missing = at - wasm.memory.buffer.byteLength;
  if (missing > 0) wasm.memory.grow(Math.ceil(missing / 65536));
  arrays.forEach((a, i) => { if (typeof a !== 'number') new Float32Array(wasm.memory.buffer, offsets[i], a.length).set(a); });
  return offsets;
}

export const kilnKernel: EngineFactory = {
  name: 'kiln kernel',
  async load(): Promise<Engine> {
    const wasm = await instantiate<Runtime>((await buildWasm(runtimeAsSources())).binary);
    return {
      name: 'kiln kernel',
      info: 'runtime-as kernels called directly, wasm SIMD (v128), 1 thread',
      async gemm(n, transA, transB) {
        const [a, b, c] = place(wasm, [randomData(n * n, 1), randomData(n * n, 2), n * n]) as [number, number, number];
        return () => wasm.f32_gemm__simd128(n, n, n, a, n, +transA, b, n, +transB, c, n, 0, 0, 0);
      },
      async conv(layer: ConvLayer, pass: ConvPass) {
        const { x, filter, y, pad } = convShapes(layer);
        const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
        const k = layer.kernel, s = layer.size;
        const geometry = [layer.batch, s, s, layer.cin, s, s, layer.cout, k, k, 1, 1, 1, 1, pad, pad, 1] as const;
        if (pass === 'forward') {
          const [xp, fp, yp] = place(wasm, [randomData(size(x), 3), randomData(size(filter), 4), size(y)]) as [number, number, number];
          return () => wasm.f32_conv2d_nhwc__simd128(...geometry, xp, fp, yp, 0, 0);
        }
        if (pass === 'inputGrad') {
          const [dyp, fp, dxp] = place(wasm, [randomData(size(y), 5), randomData(size(filter), 4), size(x)]) as [number, number, number];
          return () => wasm.f32_conv2d_nhwc_backprop_input__simd128(...geometry, dyp, fp, dxp);
        }
        const [xp, dyp, dfp] = place(wasm, [randomData(size(x), 3), randomData(size(y), 5), size(filter)]) as [number, number, number];
        return () => wasm.f32_conv2d_nhwc_backprop_filter__simd128(...geometry, xp, dyp, dfp);
      },
    };
  },
};
