/** Builds every runtime-as kernel into one module and instantiates it, for kernel tests. */
import { buildWasm, runtimeAsSources } from '../../compiler/build.js';

export async function instantiateKernels<T>(): Promise<T> {
  const { binary } = await buildWasm(runtimeAsSources());
  const module = await WebAssembly.compile(new Uint8Array(binary)); // a copy typed over a plain ArrayBuffer
  const instance = await WebAssembly.instantiate(module, { env: { abort: () => { throw new Error('wasm abort'); } } });
  return instance.exports as unknown as T;
}
