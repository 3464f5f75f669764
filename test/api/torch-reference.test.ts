/**
 * Small models against PyTorch: forward values, gradients (kiln.valueAndGrad in
 * the interpreter) and optimizer steps (compiled: applyGradients in a traced step
 * for Dense, the model's trainOnBatch for the others) agree
 * with golden fixtures that scripts/torch-fixtures.py computed with torch in
 * float64 (Dense + SGD/Adam/RMSprop, Conv2D, BatchNormalization, Embedding).
 * Nothing foreign runs here: the fixtures are committed JSON.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { compileModule } from '../../src/compile.js';
import type { Layer } from '../../src/layers/index.js';
import { closeness, fixture, i32, type Stored } from '../util/torchFixtures.js';


const f32 = (s: Stored): kiln.Tensor => kiln.tensor(Float32Array.from(s.data), s.shape);

// float32 against float64: |kiln − torch| ≤ rtol·|torch| + atol, elementwise
const { expectClose, report } = closeness(1e-5, 1e-6);

const expectAllClose = (what: string, got: readonly kiln.Tensor[], want: readonly Stored[]) => {
  expect(got.length, `${what}: count`).toBe(want.length);
  got.forEach((g, i) => expectClose(`${what} ${i}`, g, want[i]!));
};

const training = { training: true };

afterAll(() => {
  console.log(report('torch-reference'));
});

// ---- (a) Dense + relu + Dense, three optimizers ----------------------------------------------

interface DenseFixture {
  inputs: { x: Stored; labels: Stored };
  weights: Stored[];
  logits: Stored;
  loss: number;
  gradients: Stored[];
  optimizers: Record<'sgd' | 'adam' | 'rmsprop', { options: Record<string, number>; losses: number[]; weightsAfterStep: Stored[][] }>;
}

describe('dense → relu → dense with sparse cross-entropy from logits, against torch', () => {
  const d = fixture<DenseFixture>('dense');
  const x = f32(d.inputs.x);
  const labels = i32(d.inputs.labels);
  const mlp = () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [3], units: 5, activation: 'relu' }), kiln.layers.dense({ units: 3 })] });
    model.setWeights(d.weights.map(f32));
    return model;
  };

  test('gives torch’s logits, loss and gradients of every weight', () => {
    const model = mlp();
    expectClose('logits', model.predict(x), d.logits);
    const [first, second] = model.layers as [Layer, Layer];
    const loss = (k1: kiln.Tensor, b1: kiln.Tensor, k2: kiln.Tensor, b2: kiln.Tensor) =>
      kiln.sparseCategoricalCrossentropy(labels, second.call(first.call(x, { kernel: k1, bias: b1 }, training), { kernel: k2, bias: b2 }, training), { fromLogits: true });
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1, 2, 3])(...d.weights.map(f32));
    expectClose('loss', value.itemSync(), d.loss);
    expectAllClose('gradient', grad, d.gradients);
  });

  // the three optimizers' training steps as entries of one compiled module (one wasm build); each
  // names its parameters and state `<optimizer>/…`, so the entries share only the data inputs x and labels
  const factories = { sgd: kiln.optimizers.sgd, adam: kiln.optimizers.adam, rmsprop: kiln.optimizers.rmsprop };
  const names = ['sgd', 'adam', 'rmsprop'] as const;
  const [first, second] = [kiln.layers.dense({ units: 5, activation: 'relu' }), kiln.layers.dense({ units: 3 })];
  const weightNames = ['kernel1', 'bias1', 'kernel2', 'bias2'];
  const optimizers = Object.fromEntries(names.map((name) => [name, factories[name]({ ...d.optimizers[name].options, name })]));
  const step = (name: (typeof names)[number]) => kiln.trace((t: Record<string, kiln.Tensor>) => {
    const loss = (k1: kiln.Tensor, b1: kiln.Tensor, k2: kiln.Tensor, b2: kiln.Tensor) =>
      kiln.sparseCategoricalCrossentropy(t.labels!, second.call(first.call(t.x!, { kernel: k1, bias: b1 }, training), { kernel: k2, bias: b2 }, training), { fromLogits: true });
    const params = weightNames.map((w) => t[w]!);
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1, 2, 3])(...params);
    optimizers[name]!.applyGradients(params.map((p, i) => [grad[i]!, p] as const));
    return { loss: value };
  }, {
    x: kiln.spec([null, 3]), labels: kiln.spec([null], 'int32'),
    ...Object.fromEntries(d.weights.map((w, i) => [weightNames[i]!, kiln.spec(w.shape, 'float32', { kind: 'parameter', name: `${name}/${weightNames[i]}` })])),
  });
  let module: kiln.KilnModule;
  beforeAll(async () => {
    module = (await compileModule(Object.fromEntries(names.map((name) => [name, step(name)])), { maxBatch: 4 })).module;
  }, 60_000);

  for (const name of names) {
    const run = d.optimizers[name];
    test(`two compiled ${name} steps (${JSON.stringify(run.options)}) give torch’s losses and weights`, () => {
      const optimizer = optimizers[name]!;
      const params = Object.fromEntries(d.weights.map((w, i) => [`${name}/${weightNames[i]}`, { shape: w.shape, data: Float32Array.from(w.data) }]));
      const state = optimizer.initialState(Object.fromEntries(d.weights.map((w, i) => [`${name}/${weightNames[i]}`, { shape: w.shape }])));
      for (let t = 0; t < run.losses.length; t++) {
        const data = { x: { data: Float32Array.from(d.inputs.x.data), shape: d.inputs.x.shape }, labels: { data: Int32Array.from(d.inputs.labels.data), shape: d.inputs.labels.shape } };
        const out = module.run(name, { ...data, ...(t === 0 ? { ...params, ...state } : {}), ...optimizer.inputs() });
        expectClose(`${name} loss at step ${t + 1}`, out.loss!.data[0]!, run.losses[t]!);
        const weights = weightNames.map((w, i) => kiln.Tensor.concrete({ ...module.get(`${name}/${w}`), shape: d.weights[i]!.shape }));
        expectAllClose(`${name} weight after step ${t + 1}`, weights, run.weightsAfterStep[t]!);
      }
    });
  }
});

// ---- (b) Conv2D 'same' → flatten → dense ------------------------------------------------------

interface Conv2dFixture {
  inputs: { x: Stored; y: Stored };
  weights: Stored[];
  convOutput: Stored;
  predictions: Stored;
  loss: number;
  gradients: Stored[];
  inputGradient: Stored;
  sgd: { learningRate: number; weightsAfterStep: Stored[] };
}

describe('conv2d (NHWC, HWIO, same padding) → flatten → dense, against torch (NCHW, OIHW)', () => {
  const d = fixture<Conv2dFixture>('conv2d');
  const [x, y] = [f32(d.inputs.x), f32(d.inputs.y)];
  const convNet = () => {
    const model = kiln.sequential({ layers: [
      kiln.layers.conv2d({ inputShape: [4, 4, 2], filters: 3, kernelSize: 3, padding: 'same' }),
      kiln.layers.flatten(),
      kiln.layers.dense({ units: 2 }),
    ] });
    model.setWeights(d.weights.map(f32));
    return model;
  };

  test('gives torch’s feature maps, predictions, loss and gradients (weights and input)', () => {
    const model = convNet();
    expectClose('predictions', model.predict(x), d.predictions);
    const [conv, flatten, dense] = model.layers as [Layer, Layer, Layer];
    const [kernel, bias, k, b] = d.weights.map(f32) as [kiln.Tensor, kiln.Tensor, kiln.Tensor, kiln.Tensor];
    expectClose('conv output', conv.call(x, { kernel, bias }, training), d.convOutput);
    const loss = (input: kiln.Tensor, ck: kiln.Tensor, cb: kiln.Tensor, dk: kiln.Tensor, db: kiln.Tensor) =>
      kiln.meanSquaredError(y, dense.call(flatten.call(conv.call(input, { kernel: ck, bias: cb }, training), {}, training), { kernel: dk, bias: db }, training));
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1, 2, 3, 4])(x, kernel, bias, k, b);
    expectClose('loss', value.itemSync(), d.loss);
    expectClose('input gradient', grad[0]!, d.inputGradient);
    expectAllClose('gradient', grad.slice(1), d.gradients);
  });

  test('one compiled SGD step gives torch’s weights', async () => {
    const model = convNet();
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: d.sgd.learningRate }), loss: 'meanSquaredError' });
    expectClose('loss', (await model.trainOnBatch(x, y)) as number, d.loss);
    expectAllClose('weight after the step', model.getWeights(), d.sgd.weightsAfterStep);
  });
});

// ---- (c) BatchNormalization → dense ---------------------------------------------------------

interface BatchNormFixture {
  inputs: { x: Stored; y: Stored };
  weights: Stored[];
  normalised: Stored;
  predictions: Stored;
  loss: number;
  gradients: Stored[];
  inputGradient: Stored;
  sgd: { learningRate: number; weightsAfterStep: Stored[] };
  inferenceAfterStep: Stored;
  nhwc: { x: Stored; gamma: number[]; beta: number[]; output: Stored; movingMean: Stored; movingVariance: Stored };
}

describe('batchNormalization (training mode) → dense, against torch converted to Keras’ moving variance', () => {
  const d = fixture<BatchNormFixture>('batchnorm');
  const [x, y] = [f32(d.inputs.x), f32(d.inputs.y)];
  const [gamma, beta, movingMean, movingVariance, kernel, bias] = d.weights.map(f32) as kiln.Tensor[];
  const bnNet = () => {
    const model = kiln.sequential({ layers: [kiln.layers.batchNormalization({ inputShape: [3] }), kiln.layers.dense({ units: 2 })] });
    model.setWeights(d.weights.map(f32));
    return model;
  };

  test('normalises by the batch moments and gives torch’s loss and gradients (gamma, beta, dense, input)', () => {
    const [bn, dense] = bnNet().layers as [Layer, Layer];
    const moving = { moving_mean: movingMean!, moving_variance: movingVariance! };
    expectClose('normalised', bn.call(x, { gamma: gamma!, beta: beta!, ...moving }, training), d.normalised);
    const loss = (input: kiln.Tensor, g: kiln.Tensor, b: kiln.Tensor, k: kiln.Tensor, c: kiln.Tensor) =>
      kiln.meanSquaredError(y, dense.call(bn.call(input, { gamma: g, beta: b, ...moving }, training), { kernel: k, bias: c }, training));
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1, 2, 3, 4])(x, gamma!, beta!, kernel!, bias!);
    expectClose('loss', value.itemSync(), d.loss);
    expectClose('input gradient', grad[0]!, d.inputGradient);
    expectAllClose('gradient', grad.slice(1), d.gradients);
  });

  test('one compiled SGD step gives torch’s weights and moving statistics (biased variance), then predicts with them', async () => {
    const model = bnNet();
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: d.sgd.learningRate }), loss: 'meanSquaredError' });
    expectClose('loss', (await model.trainOnBatch(x, y)) as number, d.loss);
    expectAllClose('weight after the step', model.getWeights(), d.sgd.weightsAfterStep);
    expectClose('inference after the step', model.predict(x), d.inferenceAfterStep);
  });

  test('normalises an NHWC batch per channel as torch’s BatchNorm2d and updates the moving statistics', () => {
    const layer = kiln.layers.batchNormalization();
    const n = d.nhwc;
    const channels = [2];
    const g = kiln.trace((t: Record<string, kiln.Tensor>) => layer.call(t.x!, t, training), {
      x: kiln.spec([null, ...n.x.shape.slice(1)]),
      ...Object.fromEntries(['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => [w, kiln.spec(channels, 'float32', { kind: 'parameter' })])),
    });
    const value = (data: number[]) => ({ dtype: 'float32' as const, shape: channels, data: Float32Array.from(data) });
    const { outputs, updates } = kiln.interpret(g, { x: f32(n.x).value!, gamma: value(n.gamma), beta: value(n.beta), moving_mean: value([0, 0]), moving_variance: value([1, 1]) });
    expectClose('output', kiln.Tensor.concrete(outputs.output!), n.output);
    expectClose('moving mean', kiln.Tensor.concrete(updates.moving_mean!), n.movingMean);
    expectClose('moving variance', kiln.Tensor.concrete(updates.moving_variance!), n.movingVariance);
  });
});

// ---- (d) Embedding → mean → dense -------------------------------------------------------------

interface EmbeddingFixture {
  inputs: { indices: Stored; labels: Stored };
  weights: Stored[];
  logits: Stored;
  loss: number;
  gradients: Stored[];
  sgd: { learningRate: number; weightsAfterStep: Stored[] };
}

describe('embedding → mean over positions → dense, against torch', () => {
  const d = fixture<EmbeddingFixture>('embedding');
  const labels = i32(d.inputs.labels);
  const embNet = () => {
    const model = kiln.sequential({ layers: [
      kiln.layers.embedding({ inputShape: [4], inputDim: 6, outputDim: 4 }),
      kiln.layers.globalAveragePooling1d(),
      kiln.layers.dense({ units: 2 }),
    ] });
    model.setWeights(d.weights.map(f32));
    return model;
  };

  test('gives torch’s logits, loss and gradients, repeated indices accumulating into one row', () => {
    const model = embNet();
    expectClose('logits', model.predict(f32(d.inputs.indices)), d.logits);
    const [embedding, , dense] = model.layers as [Layer, Layer, Layer];
    const indices = i32(d.inputs.indices);
    const loss = (table: kiln.Tensor, k: kiln.Tensor, b: kiln.Tensor) =>
      kiln.sparseCategoricalCrossentropy(labels, dense.call(kiln.mean(embedding.call(indices, { embeddings: table }, training), 1), { kernel: k, bias: b }, training), { fromLogits: true });
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1, 2])(...d.weights.map(f32));
    expectClose('loss', value.itemSync(), d.loss);
    expectAllClose('gradient', grad, d.gradients);
  });

  test('one compiled SGD step gives torch’s embeddings and dense weights', async () => {
    const model = embNet();
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: d.sgd.learningRate }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    expectClose('loss', (await model.trainOnBatch(f32(d.inputs.indices), labels)) as number, d.loss);
    expectAllClose('weight after the step', model.getWeights(), d.sgd.weightsAfterStep);
  });
});
