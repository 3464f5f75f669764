/**
 * The benchmark models as ONNX graphs for onnxruntime-web and onnxruntime-node
 * (prediction only: onnxruntime computes no gradients). Written by ../onnx.ts
 * from the `architectures` table, in NCHW: Conv (pads for 'same') + Relu,
 * MaxPool, Flatten, Gemm (+ Relu); weights are initializers, uniform in
 * ±√(6 / fan-in). ONNX shapes here are static, so each batch size is its own
 * model and session, created while preparing.
 */
import { NotApplicable, type Run } from '../harness.js';
import { encodeModel, type OnnxGraph, type OnnxInitializer, type OnnxNode } from '../onnx.js';
import { architectures, batchData, type Architecture, type ModelEngine, type ModelEngineFactory } from '../models.js';
import { nhwcToNchw, randomData } from './engine.js';
import { loadOrtNode, loadOrtNodeOn, loadOrtWeb, type OrtLoader } from './onnxruntime.js';

type Session = import('onnxruntime-web').InferenceSession;

/** Uniform weights in ±√(6 / fanIn) (He-uniform), so activations stay in range whatever the depth. */
function weights(name: string, shape: readonly number[], fanIn: number, seed: number): OnnxInitializer {
  const data = randomData(shape.reduce((p, d) => p * d, 1), seed);
  const scale = 2 * Math.sqrt(6 / fanIn);
  for (let i = 0; i < data.length; i++) data[i]! *= scale;
  return { name, shape, data };
}

/** The model as an ONNX graph at a fixed batch size: input 'x' (NCHW for images), output 'y' (logits). */
export function modelGraph(a: Architecture, batch: number): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  // the current value's name and its shape without the batch: [c, h, w] or [features]
  let value = 'x';
  let shape: number[] = a.input.length === 3 ? [a.input[2]!, a.input[0]!, a.input[1]!] : [...a.input];
  const inputShape = [batch, ...shape];
  const add = (op: string, inputs: string[], attributes?: OnnxNode['attributes']) => {
    const out = `${op.toLowerCase()}_${nodes.length}`;
    nodes.push({ op, inputs: [value, ...inputs], outputs: [out], ...(attributes ? { attributes } : {}) });
    value = out;
  };
  a.layers.forEach((layer, i) => {
    switch (layer.kind) {
      case 'conv': {
        const [c, h, w] = shape as [number, number, number];
        const k = layer.kernel;
        initializers.push(weights(`w${i}`, [layer.filters, c, k, k], c * k * k, 100 + i), { name: `b${i}`, shape: [layer.filters], data: new Float32Array(layer.filters) });
        const pad = (k - 1) >> 1;
        add('Conv', [`w${i}`, `b${i}`], { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [1, 1] });
        add('Relu', []);
        shape = [layer.filters, h, w];
        break;
      }
      case 'maxPool': {
        const [c, h, w] = shape as [number, number, number];
        add('MaxPool', [], { kernel_shape: [layer.size, layer.size], strides: [layer.size, layer.size] });
        shape = [c, Math.floor(h / layer.size), Math.floor(w / layer.size)];
        break;
      }
      case 'flatten':
        add('Flatten', [], { axis: 1 });
        shape = [shape.reduce((p, d) => p * d, 1)];
        break;
      case 'dense': {
        const fanIn = shape[0]!;
        initializers.push(weights(`w${i}`, [fanIn, layer.units], fanIn, 100 + i), { name: `b${i}`, shape: [layer.units], data: new Float32Array(layer.units) });
        add('Gemm', [`w${i}`, `b${i}`]);
        if (layer.relu) add('Relu', []);
        shape = [layer.units];
        break;
      }
      default:
        layer satisfies never;
    }
  });
  nodes.push({ op: 'Identity', inputs: [value], outputs: ['y'] });
  return { nodes, inputs: [{ name: 'x', shape: inputShape }], outputs: [{ name: 'y', shape: [batch, ...shape] }], initializers };
}

function ortModels(name: string, load: OrtLoader): ModelEngineFactory {
  return {
    name,
    async load(): Promise<ModelEngine> {
      const { ort, options, info } = await load();
      let session: Session | undefined; // the previous case's, released when the next is prepared
      return {
        name,
        info: `${info}; models written by onnx.ts, a session per batch size, session.run() and the output's data`,
        async prepare(model, kind, batch): Promise<Run> {
          if (kind === 'train') throw new NotApplicable('n/a', 'onnxruntime runs inference only: no training step');
          const a = architectures[model];
          const { x, xShape } = batchData(a, batch);
          const graph = modelGraph(a, batch);
          const data = a.input.length === 3 ? nhwcToNchw(x, xShape) : x;
          await session?.release();
          session = await ort.InferenceSession.create(encodeModel(graph), options);
          const s = session;
          const feeds = { x: new ort.Tensor('float32', data, graph.inputs[0]!.shape) };
          return async () => (await s.run(feeds)).y!.data;
        },
      };
    },
  };
}

export const ortWebModels = ortModels('ort-web', loadOrtWeb);
export const ortNodeModels = ortModels('ort-node', loadOrtNode);
export const ortNodeModels2 = ortModels('ort-node 2 threads', loadOrtNodeOn(2));
