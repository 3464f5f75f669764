/** Builds every runtime-as kernel into one module and instantiates it, for kernel tests. */
import { buildWasm, runtimeAsSources } from '../../compiler/build.js';
import { oneThread, relaxedSimdSupported } from '../../src/runtime/wasm.js';

/** Instantiates a binary that kiln's build made: over ordinary memory of the size it asks for (one thread). */
export async function instantiateBinary<T>(binary: Uint8Array): Promise<T> {
  const one = oneThread(new Uint8Array(binary)); // a copy typed over a plain ArrayBuffer
  const env: WebAssembly.ModuleImports = { abort: () => { throw new Error('wasm abort'); }, kiln_wait: () => { throw new Error('kernels run on one thread'); } };
  if (one.memory) env.memory = one.memory;
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(one.bytes), { env });
  return instance.exports as unknown as T;
}

/**
 * Whether this run tests the relaxed-SIMD build of the kernels (the vitest project
 * "relaxed-simd" sets KILN_KERNELS_RELAXED and runs Node with relaxed SIMD on).
 */
export function testsRelaxedKernels(): boolean {
  if (!process.env.KILN_KERNELS_RELAXED) return false;
  if (!relaxedSimdSupported()) throw new Error('KILN_KERNELS_RELAXED is set but this engine does not validate relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)');
  return true;
}

export async function instantiateKernels<T>(): Promise<T> {
  return instantiateBinary<T>((await buildWasm(runtimeAsSources(), { relaxedSimd: testsRelaxedKernels() })).binary);
}
