/**
 * kiln through its public Keras-style API, as a user writes it: `kiln.sequential`
 * of `kiln.layers.*`, `model.compile` with `kiln.optimizers.adam`, a training
 * step is `model.trainOnBatch(x, y)` on a fixed batch and a prediction is
 * `model.predict(x, { batchSize }).dataSync()`. The first trainOnBatch traces and
 * compiles the module (train step, evaluate and predict entries sharing the
 * weights); preparing does it, so it is never timed.
 *
 * `kilnModuleRun` is a diagnostic, not a contender: the same models' compiled
 * entries called with `module.run` on the same inputs (the module reached through
 * a cast, as no user would), so the gap to `kilnLayers` is the API's host
 * overhead per call (data checks, row copies, weight reads, loss bookkeeping).
 */
import * as kiln from '../../src/index.js';
import type { KilnModule } from '../../src/index.js';
import type { Run } from '../harness.js';
import { architectures, batchData, type Architecture, type LayerSpec, type ModelEngine, type ModelEngineFactory, type ModelName } from '../models.js';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

function layer(spec: LayerSpec, inputShape: readonly number[] | undefined) {
  const first = inputShape ? { inputShape: [...inputShape] } : {};
  switch (spec.kind) {
    case 'dense': return kiln.layers.dense({ ...first, units: spec.units, ...(spec.relu ? { activation: 'relu' as const } : {}) });
    case 'conv': return kiln.layers.conv2d({ ...first, filters: spec.filters, kernelSize: spec.kernel, padding: 'same', activation: 'relu' });
    case 'maxPool': return kiln.layers.maxPooling2d({ ...first, poolSize: spec.size });
    case 'flatten': return kiln.layers.flatten(first);
    default: return spec satisfies never;
  }
}

function build(a: Architecture): kiln.Sequential {
  const model = kiln.sequential({ layers: a.layers.map((spec, i) => layer(spec, i === 0 ? a.input : undefined)) });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  return model;
}

const tensors = (a: Architecture, batch: number) => {
  const { x, xShape, labels } = batchData(a, batch);
  return { x: kiln.tensor(x, xShape), y: kiln.tensor(labels, [batch], 'int32'), xData: x, labels };
};

/**
 * One compiled model per architecture, shared by its train and predict cases (the
 * first trainOnBatch compiles it), on `threads` threads: the module is loaded
 * under that count, then the count goes back to one for everything else.
 */
function modelCache(threads = 1) {
  const models = new Map<ModelName, Promise<kiln.Sequential>>();
  return (name: ModelName) => {
    let m = models.get(name);
    if (!m) {
      const a = architectures[name];
      const { x, y } = tensors(a, a.trainBatch);
      const model = build(a);
      kiln.setThreads(threads);
      m = model.trainOnBatch(x, y).then(async () => {
        kiln.setThreads(1);
        for (let waited = 0; model.threadCount < threads && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
        if (model.threadCount !== threads) throw new Error(`kiln ${threads} threads: the model runs on ${model.threadCount}`);
        return model;
      });
      models.set(name, m);
    }
    return m;
  };
}

const info = (what: string) => `${what}; one module per model (train step, evaluate, predict), compiled by the first trainOnBatch; no metrics`;

function kilnLayersOn(threads: number): ModelEngineFactory {
  const name = threads === 1 ? 'kiln' : `kiln ${threads} threads`;
  return {
  name,
  async load(): Promise<ModelEngine> {
    const model = modelCache(threads);
    return {
      name,
      info: info(`kiln.sequential + trainOnBatch / predict(x, { batchSize }).dataSync()${threads > 1 ? `, ${threads} threads` : ''}`),
      async prepare(name, kind, batch): Promise<Run> {
        const m = await model(name);
        const { x, y } = tensors(architectures[name], batch);
        return kind === 'train' ? () => m.trainOnBatch(x, y) : () => m.predict(x, { batchSize: batch }).dataSync();
      },
    };
  },
  };
}

export const kilnLayers = kilnLayersOn(1);
/** The same on two threads: the 2-thread column of the model tables (issue 16). */
export const kilnLayers2 = kilnLayersOn(2);

export const kilnModuleRun: ModelEngineFactory = {
  name: 'kiln module.run',
  async load(): Promise<ModelEngine> {
    const model = modelCache();
    return {
      name: 'kiln module.run',
      info: info('diagnostic: the same compiled entries through module.run, without the Keras-style API around them'),
      async prepare(name, kind, batch): Promise<Run> {
        const m = await model(name);
        const module = (m as unknown as { module: KilnModule }).module;
        const { xData, labels } = tensors(architectures[name], batch);
        const xShape = [batch, ...architectures[name].input];
        if (kind === 'predict') return () => module.run('predict', { x: { data: xData, shape: xShape } });
        const optimizer = m.optimizer!;
        // a loss with a per-example form takes per-example weights; trainOnBatch passes ones
        const weights: Record<string, Float32Array> = module.manifest.entries.trainStep!.inputs.includes('sample_weight') ? { sample_weight: new Float32Array(batch).fill(1) } : {};
        return () => module.run('trainStep', { x: { data: xData, shape: xShape }, y: labels, ...weights, ...optimizer.inputs() });
      },
    };
  },
};
