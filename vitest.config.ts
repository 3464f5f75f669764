import { defineConfig } from 'vitest/config';

// Two projects: every test as Node runs by default, and the GEMM and convolution
// kernel sweeps plus the determinism test again in a Node with relaxed SIMD on
// (Node 20 needs the flag; KILN_KERNELS_RELAXED makes the sweeps build the
// fused-multiply-add kernels and fail if the engine cannot run them).
const relaxed = ['test/kernels/gemm.test.ts', 'test/kernels/conv.test.ts', 'test/api/determinism.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'relaxed-simd', include: relaxed, execArgv: ['--experimental-wasm-relaxed-simd'], env: { KILN_KERNELS_RELAXED: '1' } } },
    ],
  },
});
