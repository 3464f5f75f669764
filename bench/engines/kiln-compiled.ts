/**
 * kiln end to end: each case is a traced graph (`matmul`, `conv2d` or one of its
 * gradient ops), all compiled into one module by `compileModule`, and a call is
 * `module.run(entry, inputs)`: inputs checked and copied in, the entry run, the
 * output copied out, as a user's call does. Against kiln-kernel this shows what
 * the compiler and the runtime add. Convolution filters are `parameter` inputs,
 * bound once, as a model's weights are (onnxruntime gets them as initializers).
 */
import * as kiln from '../../src/index.js';
import type { KilnModule } from '../../src/index.js';
import { convShapes, randomData, type ConvLayer, type ConvPass, type Engine, type EngineFactory, type Plan } from './engine.js';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const tag = (transA: boolean, transB: boolean) => `${transA ? 't' : 'n'}${transB ? 't' : 'n'}`;
const gemmEntry = (n: number, transA: boolean, transB: boolean) => `gemm_${n}_${tag(transA, transB)}`;
const convEntry = (layer: ConvLayer, pass: ConvPass) => `${layer.name}_${pass}`;
const f32 = (shape: readonly number[], name: string, kind: 'data' | 'parameter' = 'data') => kiln.spec(shape, 'float32', { name, kind });

function gemmGraph(n: number, transA: boolean, transB: boolean): kiln.Graph {
  const id = gemmEntry(n, transA, transB);
  return kiln.trace((a: kiln.Tensor, b: kiln.Tensor) => kiln.matmul(a, b, { transposeA: transA, transposeB: transB }),
    [f32([n, n], `${id}_a`), f32([n, n], `${id}_b`)]);
}

function convGraph(layer: ConvLayer, pass: ConvPass): kiln.Graph {
  const { x, filter, y, pad } = convShapes(layer);
  const id = convEntry(layer, pass);
  const params = { strides: [1, 1], padding: [[pad, pad], [pad, pad]], dilations: [1, 1], groups: 1 } as const;
  switch (pass) {
    case 'forward':
      return kiln.trace((xs: kiln.Tensor, w: kiln.Tensor) => kiln.conv2d(xs, w, { padding: 'same' }), [f32(x, `${id}_x`), f32(filter, `${id}_w`, 'parameter')]);
    case 'inputGrad':
      return kiln.trace((dy: kiln.Tensor, w: kiln.Tensor) => kiln.conv2dBackpropInput(dy, w, { ...params, inputSize: [layer.size, layer.size] }),
        [f32(y, `${id}_dy`), f32(filter, `${id}_w`, 'parameter')]);
    case 'filterGrad':
      return kiln.trace((xs: kiln.Tensor, dy: kiln.Tensor) => kiln.conv2dBackpropFilter(xs, dy, { ...params, filterSize: [layer.kernel, layer.kernel] }),
        [f32(x, `${id}_x`), f32(y, `${id}_dy`)]);
    default:
      return pass satisfies never;
  }
}

/** kiln compiled with `threads` threads (the module is compiled and loaded under that count; later tables go back to one). */
function kilnCompiledOn(threads: number): EngineFactory {
  const name = threads === 1 ? 'kiln compiled' : `kiln compiled, ${threads} threads`;
  return {
  name,
  async load(plan: Plan): Promise<Engine> {
    const graphs: Record<string, kiln.Graph> = {};
    for (const n of plan.gemmSizes) for (const [a, b] of plan.transposes) graphs[gemmEntry(n, a, b)] = gemmGraph(n, a, b);
    for (const layer of plan.convLayers) for (const pass of ['forward', 'inputGrad', 'filterGrad'] as const) graphs[convEntry(layer, pass)] = convGraph(layer, pass);
    kiln.setThreads(threads);
    const { module } = await kiln.compileModule(graphs);
    kiln.setThreads(1);
    if ((await module.threaded()) !== threads) throw new Error(`${name}: the module runs on ${module.threadCount} thread(s)`);
    const runner = (m: KilnModule, entry: string, inputs: Record<string, Float32Array>) => () => m.run(entry, inputs);
    return {
      name,
      info: `${Object.keys(graphs).length} traced graphs in one compileModule module, called through module.run${threads > 1 ? `, ${threads} threads` : ''}`,
      async gemm(n, transA, transB) {
        const id = gemmEntry(n, transA, transB);
        return runner(module, id, { [`${id}_a`]: randomData(n * n, 1), [`${id}_b`]: randomData(n * n, 2) });
      },
      async conv(layer, pass) {
        const { x, filter, y } = convShapes(layer);
        const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
        const id = convEntry(layer, pass);
        const [xs, w, dy] = [randomData(size(x), 3), randomData(size(filter), 4), randomData(size(y), 5)];
        if (pass === 'filterGrad') return runner(module, id, { [`${id}_x`]: xs, [`${id}_dy`]: dy });
        const data = pass === 'forward' ? { [`${id}_x`]: xs } : { [`${id}_dy`]: dy };
        module.run(id, { ...data, [`${id}_w`]: w }); // binds the filter once; later calls keep it
        return runner(module, id, data);
      },
    };
  },
};
}

export const kilnCompiled = kilnCompiledOn(1);
/** The same on two threads: the 2-thread column of the kernel tables (issue 16). */
export const kilnCompiled2 = kilnCompiledOn(2);
