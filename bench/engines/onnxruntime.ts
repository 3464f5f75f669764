/**
 * onnxruntime 1.30, two builds of one engine sharing this file: onnxruntime-web
 * (its WebAssembly SIMD build, run in Node, one thread) and onnxruntime-node (the
 * native library with its own x86 kernels, one intra-op thread; a reference
 * point, not a WebAssembly contender). Models are encoded by ../onnx.ts: MatMul for
 * A·B, Gemm with transA / transB for the transposed cases, Conv in NCHW with the
 * filter as an initializer. Layouts are converted while preparing, never in the
 * timed call. onnxruntime computes no gradients.
 */
import { NotApplicable } from '../harness.js';
import { encodeModel, type OnnxGraph } from '../onnx.js';
import { convShapes, hwioToOihw, nhwcToNchw, randomData, type Engine, type EngineFactory } from './engine.js';

// both packages re-export onnxruntime-common's API; its types are taken from onnxruntime-web's
type Ort = typeof import('onnxruntime-web');
type Session = import('onnxruntime-web').InferenceSession;
type SessionOptions = import('onnxruntime-web').InferenceSession.SessionOptions;
type OrtTensor = import('onnxruntime-web').Tensor;

function gemmModel(n: number, transA: boolean, transB: boolean): OnnxGraph {
  const square = (name: string) => ({ name, shape: [n, n] });
  const node = transA || transB
    ? { op: 'Gemm', inputs: ['a', 'b'], outputs: ['c'], attributes: { transA: +transA, transB: +transB } }
    : { op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] };
  return { nodes: [node], inputs: [square('a'), square('b')], outputs: [square('c')] };
}

function convModel(x: readonly number[], filter: readonly number[], pad: number, weights: Float32Array): OnnxGraph {
  const [n, h, w, cin] = x as [number, number, number, number];
  const [kh, kw, , cout] = filter as [number, number, number, number];
  return {
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attributes: { kernel_shape: [kh, kw], pads: [pad, pad, pad, pad], strides: [1, 1] } }],
    inputs: [{ name: 'x', shape: [n, cin, h, w] }],
    outputs: [{ name: 'y', shape: [n, cout, h, w] }],
    initializers: [{ name: 'w', shape: [cout, cin, kh, kw], data: hwioToOihw(weights, filter) }],
  };
}

function ortEngine(name: string, load: OrtLoader): EngineFactory {
  return {
    name,
    async load(): Promise<Engine> {
      const { ort, options, info } = await load();
      let session: Session | undefined; // the previous case's, released when the next is prepared
      const open = async (graph: OnnxGraph, feeds: Record<string, OrtTensor>, output: string) => {
        await session?.release();
        session = await ort.InferenceSession.create(encodeModel(graph), options);
        const s = session;
        return async () => (await s.run(feeds))[output]!.data;
      };
      const tensor = (data: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', data, dims);
      return {
        name,
        info,
        async gemm(n, transA, transB) {
          const feeds = { a: tensor(randomData(n * n, 1), [n, n]), b: tensor(randomData(n * n, 2), [n, n]) };
          return open(gemmModel(n, transA, transB), feeds, 'c');
        },
        async conv(layer, pass) {
          if (pass !== 'forward') throw new NotApplicable('n/a', 'onnxruntime runs inference only: no gradients');
          const { x, filter, pad } = convShapes(layer);
          const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
          const [n, h, w, c] = x as [number, number, number, number];
          const input = tensor(nhwcToNchw(randomData(size(x), 3), x), [n, c, h, w]);
          return open(convModel(x, filter, pad, randomData(size(filter), 4)), { x: input }, 'y');
        },
      };
    },
  };
}

const common = { graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;

/** An onnxruntime build with its session options (one thread) and its details for the results' header. */
export type OrtLoader = () => Promise<{ ort: Ort; options: SessionOptions; info: string }>;

export const loadOrtWeb: OrtLoader = async () => {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  return { ort, options: { ...common, executionProviders: ['wasm'] }, info: `${ort.env.versions.web ?? '?'}, wasm SIMD, 1 thread` };
};

/** onnxruntime-node with `threads` intra-op threads (1: the one-thread column; 2: the anchor beside kiln's 2 threads). */
export const loadOrtNodeOn = (threads: number): OrtLoader => async () => {
  // a specifier in a variable: the build does not need the package, whose native library may be missing
  const specifier = 'onnxruntime-node';
  const ort = (await import(specifier)) as Ort & { env: { versions: { node?: string } } };
  return {
    ort,
    options: { ...common, executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 },
    info: `${ort.env.versions.node ?? '?'}, native cpu, ${threads} intra-op thread${threads > 1 ? 's' : ''}`,
  };
};
export const loadOrtNode = loadOrtNodeOn(1);

export const ortWeb = ortEngine('ort-web', loadOrtWeb);
export const ortNode = ortEngine('ort-node', loadOrtNode);
export const ortNode2 = ortEngine('ort-node 2 threads', loadOrtNodeOn(2));
