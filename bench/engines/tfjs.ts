/**
 * TensorFlow.js 4.22: the wasm backend (XNNPACK, SIMD, one thread) and the plain
 * JavaScript cpu backend, sharing this file since only the backend differs. A call
 * ends in `dataSync()`, so the work is done and the output is in JavaScript, as
 * kiln's `run` returns it. The gradients call the kernels that `tf.grad` of a
 * conv2d dispatches to (Conv2DBackpropInput / Conv2DBackpropFilter), so the forward
 * pass is not in their time; the wasm backend registers no Conv2DBackpropFilter.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { NotApplicable } from '../harness.js';
import { convShapes, randomData, type Engine, type EngineFactory } from './engine.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;
export type Backend = 'wasm' | 'cpu';

let core: Promise<Tf> | undefined;
/** tfjs-core, loaded once (tfjs-layers resolves the same copy). */
export const loadCore = () => (core ??= import('@tensorflow/tfjs-core'));

const registered = new Map<Backend, Promise<string>>();
/** Registers and sets up `backend` once (the wasm backend's paths cannot be set twice); returns its details for the results' header. */
export function registerBackend(tf: Tf, backend: Backend): Promise<string> {
  let done = registered.get(backend);
  if (!done) registered.set(backend, (done = setUpBackend(tf, backend)));
  return done;
}

async function setUpBackend(tf: Tf, backend: Backend): Promise<string> {
  if (backend === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    return 'JavaScript';
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // in Node the backend looks for its .wasm beside the page; point it at the package's dist folder
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  return `${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread`;
}

interface Limits {
  /** Larger GEMMs are skipped (the cpu backend takes seconds a call there). */
  readonly maxGemm: number;
  /** Why the filter gradient is skipped, if it is. */
  readonly skipFilterGrad?: string;
}

function tfjsEngine(backend: Backend, { maxGemm, skipFilterGrad }: Limits): EngineFactory {
  const name = `tfjs-${backend}`;
  return {
    name,
    async load(): Promise<Engine & { info: string }> {
      const tf = await loadCore();
      const detail = await registerBackend(tf, backend);
      let live: Tensor[] = []; // the previous case's operands, released when the next is prepared
      const prepare = (...tensors: Tensor[]) => {
        tf.dispose(live);
        live = tensors;
      };
      const finish = (t: Tensor) => { t.dataSync(); t.dispose(); };
      const tryOnce = (run: () => void, what: string) => {
        try {
          run();
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          if (/not registered/.test(message)) throw new NotApplicable('n/a (not supported)', `${what}: ${message}`);
          throw e;
        }
        return run;
      };
      return {
        name,
        info: `${tf.version_core}, ${detail}`,
        async activate() {
          if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
        },
        async gemm(n, transA, transB) {
          if (n > maxGemm) throw new NotApplicable('—', `${name} runs GEMM only up to n = ${maxGemm} (it takes seconds a call above)`);
          const [a, b] = [tf.tensor2d(randomData(n * n, 1), [n, n]), tf.tensor2d(randomData(n * n, 2), [n, n])];
          prepare(a, b);
          return () => finish(tf.matMul(a, b, transA, transB));
        },
        async conv(layer, pass) {
          if (pass === 'filterGrad' && skipFilterGrad) throw new NotApplicable('skipped', skipFilterGrad);
          const { x, filter, y } = convShapes(layer);
          const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
          const shape4 = (s: readonly number[]) => s as [number, number, number, number];
          const xs = tf.tensor4d(randomData(size(x), 3), shape4(x));
          const w = tf.tensor4d(randomData(size(filter), 4), shape4(filter));
          const dy = tf.tensor4d(randomData(size(y), 5), shape4(y));
          prepare(xs, w, dy);
          const common = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC' };
          const kernel = (kernelName: string, inputs: Record<string, Tensor>, attrs: object) =>
            () => finish(tf.engine().runKernel(kernelName, inputs, { ...common, ...attrs } as never) as Tensor);
          switch (pass) {
            case 'forward': return () => finish(tf.conv2d(xs, w, 1, 'same'));
            case 'inputGrad': return tryOnce(kernel('Conv2DBackpropInput', { dy, filter: w }, { inputShape: x }), `${name} Conv2DBackpropInput`);
            case 'filterGrad': return tryOnce(kernel('Conv2DBackpropFilter', { x: xs, dy }, { filterShape: filter }), `${name} Conv2DBackpropFilter`);
            default: return pass satisfies never;
          }
        },
      };
    },
  };
}

export const tfjsWasm = tfjsEngine('wasm', { maxGemm: Infinity });
export const tfjsCpu = tfjsEngine('cpu', {
  maxGemm: 256,
  // its Conv2DBackpropFilter reads each element through TensorBuffer.get: over a minute a call at conv1, ~8× that at conv2
  skipFilterGrad: 'tfjs-cpu Conv2DBackpropFilter takes over a minute a call here (TensorBuffer.get per element), too slow to time',
});
