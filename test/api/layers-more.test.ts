/** The further kiln.layers: conv1d, depthwiseConv2d, conv2dTranspose, 1-D and global pooling, permute, zeroPadding2d, embedding, layerNormalization. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { initializers, resetLayerNames, type Layer, type Shape, type WeightSpec } from '../../src/layers/index.js';
import * as layers from '../../src/layers/index.js';
import { messageOf as messageIn } from '../util/errors.js';

const here = 'test/api/layers-more.test.ts';
const at = ` (at ${here}:L).`;

const messageOf = (f: () => unknown): string => messageIn(f, here);

const count = (specs: WeightSpec[]) => specs.reduce((a, s) => a + s.shape.reduce((p, d) => p * d, 1), 0);
const ctx = { training: false };

/** Binds the layer's weights from their initializers and applies it to `x` eagerly. */
function run(layer: Layer, x: kiln.Tensor, seed = 1): kiln.Tensor {
  const bound: Record<string, kiln.Tensor> = {};
  for (const s of layer.weights(x.shape.slice(1) as number[])) bound[s.name] = kiln.tensor(s.initializer.init(s.shape, seed), [...s.shape]);
  return layer.call(x, bound, ctx);
}

const close = (t: kiln.Tensor, expected: number[], digits = 5) => {
  const got = Array.from(t.dataSync() as Float32Array);
  expect(got.length).toBe(expected.length);
  got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
};
const same = (a: kiln.Tensor, b: kiln.Tensor) => {
  expect(a.shape).toEqual(b.shape);
  close(a, Array.from(b.dataSync()));
};

/** An initializer giving 1, 2, 3, … (row-major). */
const arange: layers.Initializer = { className: 'Arange', config: {}, init: (shape: Shape) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1) };
const seq = (shape: number[]) => kiln.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1), shape);
const rnd = (shape: readonly number[], seed: number) => kiln.randomNormal(shape, { seed });
const tol = { rtol: 1e-4, atol: 1e-6 };

/** Gradient check of the layer with respect to its input and all its weights (random values). */
function gradCheck(layer: Layer, xShape: number[], seed: number): void {
  const specs = layer.weights(xShape.slice(1));
  const args = [rnd(xShape, seed), ...specs.map((s, i) => rnd(s.shape, seed + 1 + i))];
  kiln.checkGrads((x, ...ws) => layer.call(x, Object.fromEntries(specs.map((s, i) => [s.name, ws[i]!])), ctx), args, tol);
}

/** The output shape the layer gives inside a trace on a dynamic batch. */
function tracedShape(layer: Layer, inputShape: number[], dtype: 'float32' | 'int32' = 'float32'): unknown {
  const specs = layer.weights(inputShape);
  let shape: unknown;
  kiln.trace((x: kiln.Tensor, ...ws: kiln.Tensor[]) => {
    const y = layer.call(x, Object.fromEntries(specs.map((s, i) => [s.name, ws[i]!])), { training: true });
    shape = y.shape;
    return y;
  }, [kiln.spec([null, ...inputShape], dtype), ...specs.map((s) => kiln.spec([...s.shape]))]);
  return shape;
}

describe('names and configs', () => {
  test('default names, as Keras', () => {
    resetLayerNames();
    expect(layers.conv1d({ filters: 1, kernelSize: 1 }).name).toBe('conv1d');
    expect(layers.depthwiseConv2d({ kernelSize: 1 }).name).toBe('depthwise_conv2d');
    expect(layers.conv2dTranspose({ filters: 1, kernelSize: 1 }).name).toBe('conv2d_transpose');
    expect(layers.maxPooling1d().name).toBe('max_pooling1d');
    expect(layers.averagePooling1d().name).toBe('average_pooling1d');
    expect(layers.globalAveragePooling1d().name).toBe('global_average_pooling1d');
    expect(layers.globalMaxPooling2d().name).toBe('global_max_pooling2d');
    expect(layers.permute({ dims: [1] }).name).toBe('permute');
    expect(layers.zeroPadding2d().name).toBe('zero_padding2d');
    expect(layers.embedding({ inputDim: 2, outputDim: 2 }).name).toBe('embedding');
    expect(layers.layerNormalization().name).toBe('layer_normalization');
    expect(layers.layerNormalization().name).toBe('layer_normalization_1');
  });

  test('getConfig with TensorFlow.js defaults', () => {
    const glorot = { className: 'GlorotUniform', config: { scale: 1, mode: 'fanAvg', distribution: 'uniform' } };
    const zeros = { className: 'Zeros', config: {} };
    const base = { name: 'l', trainable: true };
    expect(layers.conv1d({ filters: 4, kernelSize: 3, name: 'l', inputShape: [10, 2] }).getConfig()).toEqual({
      ...base, batchInputShape: [null, 10, 2], filters: 4, kernelSize: [3], strides: [1], padding: 'valid', dataFormat: 'channelsLast', dilationRate: [1],
      activation: 'linear', useBias: true, kernelInitializer: glorot, biasInitializer: zeros,
    });
    expect(layers.depthwiseConv2d({ kernelSize: 3, name: 'l' }).getConfig()).toEqual({
      ...base, kernelSize: [3, 3], depthMultiplier: 1, strides: [1, 1], padding: 'valid', dataFormat: 'channelsLast', dilationRate: [1, 1],
      activation: 'linear', useBias: true, depthwiseInitializer: glorot, biasInitializer: zeros,
    });
    expect(layers.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu', name: 'l' }).getConfig()).toEqual({
      ...base, filters: 2, kernelSize: [3, 2], strides: [2, 2], padding: 'same', dataFormat: 'channelsLast', dilationRate: [1, 1],
      activation: 'relu', useBias: true, kernelInitializer: glorot, biasInitializer: zeros,
    });
    expect(layers.maxPooling1d({ name: 'l' }).getConfig()).toEqual({ ...base, poolSize: [2], strides: [2], padding: 'valid' });
    expect(layers.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same', name: 'l' }).getConfig()).toEqual({ ...base, poolSize: [3], strides: [1], padding: 'same' });
    expect(layers.globalAveragePooling1d({ name: 'l' }).getConfig()).toEqual(base);
    expect(layers.globalMaxPooling2d({ name: 'l' }).getConfig()).toEqual({ ...base, dataFormat: 'channelsLast' });
    expect(layers.permute({ dims: [2, 1], name: 'l' }).getConfig()).toEqual({ ...base, dims: [2, 1] });
    expect(layers.zeroPadding2d({ name: 'l' }).getConfig()).toEqual({ ...base, padding: [[1, 1], [1, 1]], dataFormat: 'channelsLast' });
    expect(layers.zeroPadding2d({ padding: [1, 2], name: 'l' }).getConfig()).toMatchObject({ padding: [[1, 1], [2, 2]] });
    expect(layers.embedding({ inputDim: 10, outputDim: 4, name: 'l' }).getConfig()).toEqual({
      ...base, inputDim: 10, outputDim: 4, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05 } }, maskZero: false,
    });
    expect(layers.layerNormalization({ name: 'l' }).getConfig()).toEqual({
      ...base, axis: -1, epsilon: 1e-3, center: true, scale: true, betaInitializer: zeros, gammaInitializer: { className: 'Ones', config: {} },
    });
    expect(layers.layerNormalization({ axis: [1, 2], name: 'l' }).getConfig()).toMatchObject({ axis: [1, 2] });
    expect(layers.embedding({ inputDim: 2, outputDim: 2 }).inputDtype).toBe('int32');
  });
});

describe('output shapes and parameter counts', () => {
  test('conv1d', () => {
    const c = layers.conv1d({ filters: 8, kernelSize: 3 });
    expect(c.computeOutputShape([10, 4])).toEqual([8, 8]);
    expect(c.weights([10, 4]).map((w) => [w.name, w.shape])).toEqual([['kernel', [3, 4, 8]], ['bias', [8]]]);
    expect(count(c.weights([10, 4]))).toBe(104);
    expect(layers.conv1d({ filters: 2, kernelSize: 3, padding: 'same', strides: 2 }).computeOutputShape([7, 1])).toEqual([4, 2]);
    expect(layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2 }).computeOutputShape([7, 1])).toEqual([3, 2]);
    expect(count(layers.conv1d({ filters: 2, kernelSize: [3], useBias: false }).weights([7, 5]))).toBe(30);
  });

  test('depthwiseConv2d', () => {
    const d = layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 });
    expect(d.computeOutputShape([8, 8, 3])).toEqual([6, 6, 6]);
    expect(d.weights([8, 8, 3]).map((w) => [w.name, w.shape])).toEqual([['depthwise_kernel', [3, 3, 3, 2]], ['bias', [6]]]);
    expect(count(d.weights([8, 8, 3]))).toBe(60);
    expect(layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }).computeOutputShape([7, 8, 4])).toEqual([4, 4, 4]);
  });

  test('conv2dTranspose (Keras output sizes)', () => {
    const t = layers.conv2dTranspose({ filters: 5, kernelSize: 3, strides: 2, padding: 'same' });
    expect(t.computeOutputShape([4, 3, 2])).toEqual([8, 6, 5]);
    expect(t.weights([4, 3, 2]).map((w) => [w.name, w.shape])).toEqual([['kernel', [3, 3, 5, 2]], ['bias', [5]]]);
    expect(count(t.weights([4, 3, 2]))).toBe(95);
    expect(layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2 }).computeOutputShape([4, 4, 1])).toEqual([9, 9, 1]);
    expect(layers.conv2dTranspose({ filters: 1, kernelSize: [2, 1], strides: [1, 3] }).computeOutputShape([4, 4, 1])).toEqual([5, 12, 1]);
  });

  test('pooling, permute, zeroPadding2d, embedding, layerNormalization', () => {
    expect(layers.maxPooling1d().computeOutputShape([9, 3])).toEqual([4, 3]);
    expect(layers.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }).computeOutputShape([9, 3])).toEqual([9, 3]);
    expect(layers.globalAveragePooling1d().computeOutputShape([9, 3])).toEqual([3]);
    expect(layers.globalMaxPooling2d().computeOutputShape([5, 5, 7])).toEqual([7]);
    expect(layers.permute({ dims: [3, 1, 2] }).computeOutputShape([2, 3, 4])).toEqual([4, 2, 3]);
    expect(layers.zeroPadding2d({ padding: [[1, 0], [2, 3]] }).computeOutputShape([4, 4, 2])).toEqual([5, 9, 2]);
    const e = layers.embedding({ inputDim: 100, outputDim: 8 });
    expect(e.computeOutputShape([12])).toEqual([12, 8]);
    expect(count(e.weights([12]))).toBe(800);
    const ln = layers.layerNormalization();
    expect(ln.computeOutputShape([5, 6])).toEqual([5, 6]);
    expect(ln.weights([5, 6]).map((w) => [w.name, w.shape])).toEqual([['gamma', [6]], ['beta', [6]]]);
    expect(layers.layerNormalization({ axis: [-2, -1] }).weights([4, 5, 6]).map((w) => w.shape)).toEqual([[5, 6], [5, 6]]);
    expect(layers.layerNormalization({ center: false }).weights([5]).map((w) => w.name)).toEqual(['gamma']);
    expect(layers.layerNormalization({ scale: false, center: false }).weights([5])).toEqual([]);
    for (const l of [layers.maxPooling1d(), layers.averagePooling1d(), layers.globalAveragePooling1d(), layers.permute({ dims: [2, 1] })]) expect(l.weights([4, 2])).toEqual([]);
    for (const l of [layers.globalMaxPooling2d(), layers.zeroPadding2d()]) expect(l.weights([4, 4, 2])).toEqual([]);
  });

  test('a dynamic batch survives every layer inside a trace', () => {
    const B = kiln.BATCH;
    expect(tracedShape(layers.conv1d({ filters: 3, kernelSize: 2, strides: 2 }), [6, 2])).toEqual([B, 3, 3]);
    expect(tracedShape(layers.depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2 }), [3, 3, 2])).toEqual([B, 2, 2, 4]);
    expect(tracedShape(layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }), [3, 3, 1])).toEqual([B, 6, 6, 2]);
    expect(tracedShape(layers.maxPooling1d(), [6, 2])).toEqual([B, 3, 2]);
    expect(tracedShape(layers.averagePooling1d(), [6, 2])).toEqual([B, 3, 2]);
    expect(tracedShape(layers.globalAveragePooling1d(), [6, 2])).toEqual([B, 2]);
    expect(tracedShape(layers.globalMaxPooling2d(), [3, 3, 2])).toEqual([B, 2]);
    expect(tracedShape(layers.permute({ dims: [2, 1] }), [6, 2])).toEqual([B, 2, 6]);
    expect(tracedShape(layers.zeroPadding2d({ padding: [1, 2] }), [3, 3, 1])).toEqual([B, 5, 7, 1]);
    expect(tracedShape(layers.embedding({ inputDim: 5, outputDim: 3 }), [4], 'int32')).toEqual([B, 4, 3]);
    expect(tracedShape(layers.embedding({ inputDim: 5, outputDim: 3 }), [4])).toEqual([B, 4, 3]);
    expect(tracedShape(layers.layerNormalization(), [4, 3])).toEqual([B, 4, 3]);
  });
});

describe('forward values', () => {
  test('conv1d: valid, same, strides, dilation; the kernel layout [k, cin, filters]', () => {
    const x = kiln.tensor([1, 2, 3, 4], [1, 4, 1]);
    const opts = { filters: 1, kernelSize: 2, kernelInitializer: 'ones', biasInitializer: initializers.constant({ value: 0.5 }) } as const;
    close(run(layers.conv1d(opts), x), [3.5, 5.5, 7.5]);
    close(run(layers.conv1d({ ...opts, padding: 'same' }), x), [3.5, 5.5, 7.5, 4.5]); // the padding cell goes after
    close(run(layers.conv1d({ ...opts, strides: 2 }), x), [3.5, 7.5]);
    close(run(layers.conv1d({ ...opts, dilationRate: 2 }), x), [4.5, 6.5]);
    // two channels in, two filters, kernel 1: kernel [[[1,2],[3,4]]]
    const x2 = kiln.tensor([1, -1, 2, 0], [1, 2, 2]);
    close(run(layers.conv1d({ filters: 2, kernelSize: 1, useBias: false, kernelInitializer: arange }), x2), [-2, -2, 2, 4]);
    const y = run(layers.conv1d({ filters: 2, kernelSize: 2, padding: 'same', activation: 'tanh', kernelInitializer: arange }), seq([2, 3, 2]));
    const k = kiln.tensor(arange.init([2, 2, 2], 0), [2, 2, 2]);
    same(y, kiln.tanh(kiln.conv1d(seq([2, 3, 2]), k, { padding: 'same' })));
  });

  test('depthwiseConv2d: output channel c·multiplier + m reads channel c', () => {
    // kernel 1x1, 2 channels, multiplier 2: [[1,2],[3,4]]
    const x = kiln.tensor([1, 10, 2, 20], [1, 1, 2, 2]);
    close(run(layers.depthwiseConv2d({ kernelSize: 1, depthMultiplier: 2, useBias: false, depthwiseInitializer: arange }), x), [1, 2, 30, 40, 2, 4, 60, 80]);
    // 2x2 window of ones per channel, bias 0.5
    const x2 = kiln.tensor([1, -1, 2, -2, 3, -3, 4, -4], [1, 2, 2, 2]);
    close(run(layers.depthwiseConv2d({ kernelSize: 2, depthwiseInitializer: 'ones', biasInitializer: initializers.constant({ value: 0.5 }) }), x2), [10.5, -9.5]);
    const d = layers.depthwiseConv2d({ kernelSize: 2, strides: 2, padding: 'same', depthMultiplier: 3, activation: 'relu', depthwiseInitializer: arange, biasInitializer: arange });
    const k = kiln.tensor(arange.init([2, 2, 2, 3], 0), [2, 2, 2, 3]);
    const b = kiln.tensor(arange.init([6], 0), [6]);
    const xs = rnd([1, 3, 3, 2], 5);
    same(run(d, xs), kiln.relu(kiln.add(kiln.depthwiseConv2d(xs, k, { strides: 2, padding: 'same' }), b)));
  });

  test('conv2dTranspose: spreads each input cell; the kernel layout [kh, kw, filters, cin]', () => {
    const x = kiln.tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    const ones = { filters: 1, kernelSize: 2, kernelInitializer: 'ones', useBias: false } as const;
    close(run(layers.conv2dTranspose({ ...ones, strides: 2 }), x), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    close(run(layers.conv2dTranspose(ones), x), [1, 3, 2, 4, 10, 6, 3, 7, 4]);
    close(run(layers.conv2dTranspose({ ...ones, padding: 'same' }), x), [1, 3, 4, 10]);
    // kernel [1,1,2,1] = [1, 2]: filter f is x·(f + 1); kernel [1,1,1,2] = [1, 2]: y = x₀ + 2·x₁
    close(run(layers.conv2dTranspose({ filters: 2, kernelSize: 1, useBias: false, kernelInitializer: arange }), kiln.tensor([3], [1, 1, 1, 1])), [3, 6]);
    close(run(layers.conv2dTranspose({ filters: 1, kernelSize: 1, biasInitializer: initializers.constant({ value: 1 }), kernelInitializer: arange }), kiln.tensor([3, 5], [1, 1, 1, 2])), [14]);
  });

  test('1-D and global pooling', () => {
    const x = kiln.tensor([1, 3, 2, 5, 4], [1, 5, 1]);
    close(run(layers.maxPooling1d(), x), [3, 5]);
    close(run(layers.averagePooling1d(), x), [2, 3.5]);
    close(run(layers.maxPooling1d({ padding: 'same' }), x), [3, 5, 4]);
    close(run(layers.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }), x), [2, 2, 10 / 3, 11 / 3, 4.5]);
    const g = run(layers.globalAveragePooling1d(), kiln.tensor([1, 10, 2, 20, 6, 0], [1, 3, 2]));
    expect(g.shape).toEqual([1, 2]);
    close(g, [3, 10]);
    const m = run(layers.globalMaxPooling2d(), kiln.tensor([1, -1, 7, -2, 3, -3, 4, -4], [1, 2, 2, 2]));
    expect(m.shape).toEqual([1, 2]);
    close(m, [7, -1]);
  });

  test('permute and zeroPadding2d', () => {
    const y = run(layers.permute({ dims: [2, 1] }), seq([1, 2, 3]));
    expect(y.shape).toEqual([1, 3, 2]);
    close(y, [1, 4, 2, 5, 3, 6]);
    same(run(layers.permute({ dims: [3, 1, 2] }), seq([2, 2, 3, 4])), kiln.transpose(seq([2, 2, 3, 4]), [0, 3, 1, 2]));
    const p = run(layers.zeroPadding2d({ padding: [[1, 0], [0, 2]] }), kiln.tensor([5], [1, 1, 1, 1]));
    expect(p.shape).toEqual([1, 2, 3, 1]);
    close(p, [0, 0, 0, 5, 0, 0]);
    const q = run(layers.zeroPadding2d(), seq([1, 1, 1, 2]));
    expect(q.shape).toEqual([1, 3, 3, 2]);
    close(q, [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('embedding looks up rows for int32 and integer-valued float32 indices', () => {
    const e = layers.embedding({ inputDim: 3, outputDim: 2, embeddingsInitializer: arange }); // [[1,2],[3,4],[5,6]]
    const y = run(e, kiln.tensor([2, 0, 1, 1], [2, 2], 'int32'));
    expect(y.shape).toEqual([2, 2, 2]);
    close(y, [5, 6, 1, 2, 3, 4, 3, 4]);
    close(run(e, kiln.tensor([[2, 0], [1, 1]])), [5, 6, 1, 2, 3, 4, 3, 4]);
    const u = layers.embedding({ inputDim: 50, outputDim: 20 }).weights([1])[0]!.initializer.init([50, 20], 3);
    expect(Math.max(...u.map(Math.abs))).toBeLessThanOrEqual(0.05);
  });

  test('layerNormalization over the last axis and over several', () => {
    const x = kiln.tensor([[1, 2, 3, 4], [-2, 0, 0, 2]]);
    const norm = (row: number[]) => {
      const m = row.reduce((a, b) => a + b, 0) / row.length;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / row.length;
      return row.map((r) => (r - m) / Math.sqrt(v + 1e-3));
    };
    close(run(layers.layerNormalization(), x), [...norm([1, 2, 3, 4]), ...norm([-2, 0, 0, 2])]);
    const affine = layers.layerNormalization({ gammaInitializer: initializers.constant({ value: 2 }), betaInitializer: initializers.constant({ value: 1 }), epsilon: 0 });
    close(run(affine, x), [...norm([1, 2, 3, 4]), ...norm([-2, 0, 0, 2])].map((v, i) => 2 * v * Math.sqrt(([1.25, 2][i >> 2]! + 1e-3) / [1.25, 2][i >> 2]!) + 1), 4);
    // axis [1, 2] on [2, 2, 2] with gamma [[1,2],[3,4]] and beta [[1,2],[3,4]]
    const xs = seq([2, 2, 2]);
    const l2 = layers.layerNormalization({ axis: [1, 2], gammaInitializer: arange, betaInitializer: arange });
    const g = kiln.tensor([[1, 2], [3, 4]]);
    const mean = kiln.mean(xs, [1, 2], true);
    const expected = kiln.add(kiln.mul(kiln.div(kiln.sub(xs, mean), kiln.sqrt(kiln.add(kiln.variance(xs, [1, 2], true), 1e-3))), g), g);
    same(run(l2, xs), expected);
    // axis 1 of [2, 2, 2]: gamma [2] broadcast along axis 1
    const l1 = layers.layerNormalization({ axis: 1, gammaInitializer: arange, center: false });
    const e1 = kiln.mul(kiln.div(kiln.sub(xs, kiln.mean(xs, 1, true)), kiln.sqrt(kiln.add(kiln.variance(xs, 1, true), 1e-3))), kiln.tensor([1, 2], [1, 2, 1]));
    same(run(l1, xs), e1);
  });
});

describe('gradients (float64 reference, finite differences)', () => {
  test('conv1d', () => {
    gradCheck(layers.conv1d({ filters: 2, kernelSize: 2, activation: 'tanh' }), [2, 4, 3], 10);
    gradCheck(layers.conv1d({ filters: 2, kernelSize: 3, padding: 'same', strides: 2, dilationRate: 1 }), [1, 5, 2], 20);
  });
  test('depthwiseConv2d', () => gradCheck(layers.depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2, padding: 'same', strides: [2, 1] }), [1, 3, 3, 2], 30));
  test('conv2dTranspose', () => {
    gradCheck(layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' }), [1, 2, 2, 3], 40);
    gradCheck(layers.conv2dTranspose({ filters: 1, kernelSize: [2, 3], strides: [1, 2] }), [2, 2, 2, 2], 45);
  });
  test('pooling', () => {
    gradCheck(layers.maxPooling1d({ poolSize: 2, strides: 1 }), [2, 5, 2], 50);
    gradCheck(layers.averagePooling1d({ poolSize: 3, padding: 'same' }), [2, 5, 2], 51);
    gradCheck(layers.globalAveragePooling1d(), [2, 4, 3], 52);
    gradCheck(layers.globalMaxPooling2d(), [2, 3, 3, 2], 53);
  });
  test('permute and zeroPadding2d', () => {
    gradCheck(layers.permute({ dims: [3, 1, 2] }), [2, 2, 3, 4], 60);
    gradCheck(layers.zeroPadding2d({ padding: [[1, 0], [2, 1]] }), [1, 2, 2, 3], 61);
  });
  test('embedding (with respect to the embeddings)', () => {
    const e = layers.embedding({ inputDim: 4, outputDim: 3 });
    const idx = kiln.tensor([3, 0, 1, 3, 2, 3], [2, 3], 'int32');
    kiln.checkGrads((x, w) => e.call(x, { embeddings: w }, ctx), [idx, rnd([4, 3], 70)], tol);
  });
  test('layerNormalization', () => {
    gradCheck(layers.layerNormalization(), [3, 4], 80);
    gradCheck(layers.layerNormalization({ axis: [-2, -1] }), [2, 3, 2], 81);
    gradCheck(layers.layerNormalization({ axis: 1, center: false }), [2, 3, 2], 82);
  });
});

describe('error messages', () => {
  test('one bad input per layer', () => {
    expect(messageOf(() => layers.conv1d({ filters: 2, kernelSize: 3, name: 'c' }).weights([8, 8, 1]))).toBe(
      `Conv1D "c": expected an input of rank 3 [batch, steps, channels] (with the batch dimension), got shape [null,8,8,1]${at}`,
    );
    expect(messageOf(() => layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2, name: 'c' }).computeOutputShape([4, 1]))).toBe(
      `Conv1D "c": expected an input of at least the dilated kernel's 5 steps with padding 'valid', got 4${at}`,
    );
    expect(messageOf(() => layers.conv1d({ filters: 2, kernelSize: [3, 3] as unknown as number, name: 'c' }))).toBe(`Conv1D "c": expected kernelSize to be a positive integer or [kernelSize], got [3,3]${at}`);
    const dw = layers.depthwiseConv2d({ kernelSize: 1, name: 'd' });
    expect(messageOf(() => dw.call(kiln.zeros([1, 2, 2, 3]), { depthwise_kernel: kiln.zeros([1, 1, 2, 1]) }, ctx))).toBe(`DepthwiseConv2D "d": expected an input [batch, height, width, 2], got f32[1,2,2,3]${at}`);
    expect(messageOf(() => dw.call(kiln.zeros([1, 2, 2, 2]), { kernel: kiln.zeros([1, 1, 2, 1]) }, ctx))).toBe(`DepthwiseConv2D "d": expected a bound weight 'depthwise_kernel', got only 'kernel'${at}`);
    expect(messageOf(() => layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 0, name: 'd' }))).toBe(`DepthwiseConv2D "d": expected depthMultiplier to be a positive integer, got 0${at}`);
    expect(messageOf(() => layers.conv2dTranspose({ filters: 2, kernelSize: 3, name: 't' }).computeOutputShape([4, 4]))).toBe(
      `Conv2DTranspose "t": expected an input of rank 4 [batch, height, width, channels] (with the batch dimension), got shape [null,4,4]${at}`,
    );
    expect(messageOf(() => layers.conv2dTranspose({ filters: 1, kernelSize: 1, name: 't' }).call(kiln.zeros([1, 2, 2, 3]), { kernel: kiln.zeros([1, 1, 1, 2]) }, ctx))).toBe(
      `Conv2DTranspose "t": expected an input [batch, height, width, 2], got f32[1,2,2,3]${at}`,
    );
    expect(messageOf(() => layers.maxPooling1d({ poolSize: 3, name: 'p' }).computeOutputShape([2, 4]))).toBe(`MaxPooling1D "p": expected an input of at least the pool size 3 with padding 'valid', got 2 steps${at}`);
    expect(messageOf(() => layers.averagePooling1d({ name: 'p' }).call(kiln.zeros([1, 4]), {}, ctx))).toBe(`AveragePooling1D "p": expected an input [batch, steps, channels], got f32[1,4]${at}`);
    expect(messageOf(() => layers.globalAveragePooling1d({ name: 'g' }).computeOutputShape([4]))).toBe(
      `GlobalAveragePooling1D "g": expected an input of rank 3 [batch, steps, channels] (with the batch dimension), got shape [null,4]${at}`,
    );
    expect(messageOf(() => layers.globalMaxPooling2d({ name: 'g' }).call(kiln.zeros([1, 4, 2]), {}, ctx))).toBe(`GlobalMaxPooling2D "g": expected an input [batch, height, width, channels], got f32[1,4,2]${at}`);
    expect(messageOf(() => layers.permute({ dims: [0, 1], name: 'p' }))).toBe(`Permute "p": expected dims to be a permutation of 1..2 (the batch dimension excluded), got [0,1]${at}`);
    expect(messageOf(() => layers.permute({ dims: [2, 1], name: 'p' }).computeOutputShape([2, 3, 4]))).toBe(`Permute "p": expected an input of rank 3 for dims [2,1] (with the batch dimension), got shape [null,2,3,4]${at}`);
    expect(messageOf(() => layers.zeroPadding2d({ padding: -1, name: 'z' }))).toBe(`ZeroPadding2D "z": expected padding to be a non-negative integer, [height, width] or [[top, bottom], [left, right]], got -1${at}`);
    expect(messageOf(() => layers.zeroPadding2d({ name: 'z' }).weights([4, 4]))).toBe(`ZeroPadding2D "z": expected an input of rank 4 [batch, height, width, channels] (with the batch dimension), got shape [null,4,4]${at}`);
    expect(messageOf(() => layers.embedding({ inputDim: 0, outputDim: 2, name: 'e' }))).toBe(`Embedding "e": expected inputDim to be a positive integer, got 0${at}`);
    expect(messageOf(() => layers.embedding({ inputDim: 3, outputDim: 2, name: 'e' }).call(kiln.tensor([true], [1], 'bool'), { embeddings: kiln.zeros([3, 2]) }, ctx))).toBe(
      `Embedding "e": expected int32 (or integer-valued float32) indices [batch, ...], got bool[1]${at}`,
    );
    expect(messageOf(() => layers.layerNormalization({ axis: 0, name: 'n' }))).toBe(`LayerNormalization "n": expected axis to be a nonzero integer or an array of distinct ones (0 is the batch axis), got 0${at}`);
    expect(messageOf(() => layers.layerNormalization({ axis: 3, name: 'n' }).weights([4, 5]))).toBe(`LayerNormalization "n": expected axis 3 to name non-batch axes of an input of rank 3, got shape [null,4,5]${at}`);
  });
});

describe('compiled to wasm', () => {
  test('every layer, forward and gradient, agrees with the eager interpreter', async () => {
    const { compile } = await import('../../src/jit.js');
    const chainA: Layer[] = [layers.conv1d({ filters: 3, kernelSize: 2, padding: 'same', activation: 'relu' }), layers.maxPooling1d(), layers.averagePooling1d({ poolSize: 1 }), layers.globalAveragePooling1d()];
    const chainB: Layer[] = [layers.zeroPadding2d(), layers.depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2 }), layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }), layers.globalMaxPooling2d()];
    const chainC: Layer[] = [layers.embedding({ inputDim: 5, outputDim: 4 }), layers.layerNormalization(), layers.permute({ dims: [2, 1] })];
    const shapesOf = (chain: Layer[], input: number[]) => {
      let shape: Shape = input;
      return chain.map((l) => {
        const specs = l.weights(shape);
        shape = l.computeOutputShape(shape);
        return specs;
      });
    };
    const plan = [[chainA, [6, 2]], [chainB, [3, 3, 2]], [chainC, [3]]] as const;
    const specsOf = plan.map(([chain, input]) => shapesOf(chain, [...input]));
    const weights = specsOf.flatMap((perLayer, c) => perLayer.flatMap((ss, l) => ss.map((s, i) => rnd(s.shape, 100 + 10 * c + 3 * l + i))));
    const xs = [rnd([2, 6, 2], 1), rnd([2, 3, 3, 2], 2), kiln.tensor([0, 4, 2, 1, 1, 3], [2, 3], 'int32')];
    const forward = (inputs: kiln.Tensor[], ws: kiln.Tensor[]): kiln.Tensor[] => {
      let k = 0;
      return plan.map(([chain], c) => chain.reduce((y, layer, l) => layer.call(y, Object.fromEntries(specsOf[c]![l]!.map((s) => [s.name, ws[k++]!])), ctx), inputs[c]!));
    };
    const loss = (inputs: kiln.Tensor[], ws: kiln.Tensor[]) => forward(inputs, ws).map((y) => kiln.sum(kiln.square(y))).reduce((a, b) => kiln.add(a, b));
    const fn = (...args: kiln.Tensor[]) => {
      const [inputs, ws] = [args.slice(0, 3), args.slice(3)];
      const g = kiln.grad((...w: kiln.Tensor[]) => loss(inputs, w), ws.map((_, i) => i))(...ws) as kiln.Tensor[];
      return [...forward(inputs, ws), ...g];
    };
    const compiled = (await compile(fn)(...xs, ...weights)) as kiln.Tensor[];
    const eager = fn(...xs, ...weights);
    expect(compiled.length).toBe(eager.length);
    compiled.forEach((t, i) => {
      expect(t.shape).toEqual(eager[i]!.shape);
      close(t, Array.from(eager[i]!.dataSync()), 4);
    });
  });
});
