/**
 * TensorFlow.js layers 4.22 on the wasm backend (XNNPACK, SIMD, one thread) and
 * the cpu backend (plain JavaScript): `tf.sequential` of `tf.layers.*`, compiled
 * with `tf.train.adam(1e-3)` and softmax cross-entropy on the logits
 * (`tf.losses.softmaxCrossEntropy`, one-hot labels: tfjs-layers' sparse loss
 * takes probabilities, not logits). A training step is `model.trainOnBatch(x, y)`
 * (it reads the loss back); a prediction is `model.predict(x, { batchSize })`
 * ending in `dataSync()`. The wasm backend registers no Conv2DBackpropFilter,
 * so it cannot train the CNN: that case is reported as not supported.
 */
import { NotApplicable, type Run } from '../harness.js';
import { architectures, batchData, type Architecture, type LayerSpec, type ModelEngine, type ModelEngineFactory, type ModelName } from '../models.js';
import { loadCore, registerBackend, type Backend } from './tfjs.js';

type Tfl = typeof import('@tensorflow/tfjs-layers');
type LayersModel = import('@tensorflow/tfjs-layers').Sequential;
type Tensor = import('@tensorflow/tfjs-core').Tensor;

function layer(tfl: Tfl, spec: LayerSpec, inputShape: readonly number[] | undefined) {
  const first = inputShape ? { inputShape: [...inputShape] } : {};
  switch (spec.kind) {
    case 'dense': return tfl.layers.dense({ ...first, units: spec.units, ...(spec.relu ? { activation: 'relu' as const } : {}) });
    case 'conv': return tfl.layers.conv2d({ ...first, filters: spec.filters, kernelSize: spec.kernel, padding: 'same', activation: 'relu' });
    case 'maxPool': return tfl.layers.maxPooling2d({ ...first, poolSize: spec.size });
    case 'flatten': return tfl.layers.flatten(first);
    default: return spec satisfies never;
  }
}

/** A missing kernel ("… not registered for backend …") becomes a not-supported cell instead of an error. */
function unsupported(e: unknown, what: string): unknown {
  const message = e instanceof Error ? e.message : String(e);
  return /not registered/.test(message) ? new NotApplicable('n/a (not supported)', `${what}: ${message}`) : e;
}

function tfjsLayersEngine(backend: Backend, slowCases: Partial<Record<`${ModelName}:${'train' | 'predict'}`, string>>): ModelEngineFactory {
  const name = `tfjs-${backend}`;
  return {
    name,
    async load(): Promise<ModelEngine> {
      const tf = await loadCore();
      const detail = await registerBackend(tf, backend);
      const tfl: Tfl = await import('@tensorflow/tfjs-layers');
      const activate = async () => {
        if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
      };
      await activate();
      const models = new Map<ModelName, LayersModel>();
      const build = (a: Architecture) => {
        const model = tfl.sequential({ layers: a.layers.map((spec, i) => layer(tfl, spec, i === 0 ? a.input : undefined)) });
        model.compile({ optimizer: tf.train.adam(1e-3), loss: (labels: Tensor, logits: Tensor) => tf.losses.softmaxCrossEntropy(labels, logits) });
        return model;
      };
      let live: Tensor[] = []; // the previous case's inputs, released when the next is prepared
      return {
        name,
        info: `@tensorflow/tfjs-layers ${tfl.version_layers} on tfjs-core ${tf.version_core} (${backend}: ${detail}); tf.sequential + trainOnBatch / predict(x, { batchSize }).dataSync()`,
        activate,
        slow: (model, kind) => slowCases[`${model}:${kind}`],
        async prepare(modelName, kind, batch): Promise<Run> {
          const a = architectures[modelName];
          let model = models.get(modelName);
          if (!model) models.set(modelName, (model = build(a)));
          const { x, xShape, labels } = batchData(a, batch);
          tf.dispose(live);
          const xs = tf.tensor(x, xShape);
          const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), a.classes);
          live = [xs, ys];
          const m = model;
          if (kind === 'train') {
            return async () => {
              try {
                await m.trainOnBatch(xs, ys);
              } catch (e) {
                throw unsupported(e, `${name} ${modelName} trainOnBatch`);
              }
            };
          }
          return () => {
            const out = m.predict(xs, { batchSize: batch }) as Tensor;
            out.dataSync();
            out.dispose();
          };
        },
      };
    },
  };
}

export const tfjsLayersWasm = tfjsLayersEngine('wasm', {});
export const tfjsLayersCpu = tfjsLayersEngine('cpu', {
  // its Conv2DBackpropFilter reads every element through TensorBuffer.get
  'cnn:train': 'tfjs-cpu\'s CNN training step takes minutes (its Conv2DBackpropFilter reads every element through TensorBuffer.get)',
});
