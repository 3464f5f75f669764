/** Builds every runtime-as kernel into one module and instantiates it, for kernel tests. */
import { buildWasm, runtimeAsSources } from '../../compiler/build.js';
import { oneThread } from '../../src/runtime/wasm.js';

/** Instantiates a binary that kiln's build made: over ordinary memory of the size it asks for (one thread). */
export async function instantiateBinary<T>(binary: Uint8Array): Promise<T> {
  const one = oneThread(new Uint8Array(binary)); // a copy typed over a plain ArrayBuffer
  const env: WebAssembly.ModuleImports = { abort: () => { throw new Error('wasm abort'); }, kiln_wait: () => { throw new Error('kernels run on one thread'); } };
  if (one.memory) env.memory = one.memory;
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(one.bytes), { env });
  return instance.exports as unknown as T;
}

export async function instantiateKernels<T>(): Promise<T> {
  return instantiateBinary<T>((await buildWasm(runtimeAsSources())).binary);
}
