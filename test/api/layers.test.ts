/** kiln.layers: shapes, weights, forward values, initializers, activations and error messages. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { activations, initializers, resetLayerNames, type Layer, type Shape, type WeightSpec } from '../../src/layers/index.js';
import * as layers from '../../src/layers/index.js';
import { messageOf as messageIn } from '../util/errors.js';

const here = 'test/api/layers.test.ts';
const at = ` (at ${here}:L).`;

const messageOf = (f: () => unknown): string => messageIn(f, here);

const count = (specs: WeightSpec[]) => specs.reduce((a, s) => a + s.shape.reduce((p, d) => p * d, 1), 0);

/** Binds the layer's weights from their initializers and applies it to `x` eagerly. */
function run(layer: Layer, x: kiln.Tensor, seed = 1): kiln.Tensor {
  const inputShape = x.shape.slice(1) as number[];
  const bound: Record<string, kiln.Tensor> = {};
  for (const s of layer.weights(inputShape)) bound[s.name] = kiln.tensor(s.initializer.init(s.shape, seed), [...s.shape]);
  return layer.call(x, bound, { training: false });
}

const close = (t: kiln.Tensor, expected: number[], digits = 5) => {
  const got = Array.from(t.dataSync() as Float32Array);
  expect(got.length).toBe(expected.length);
  got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
};

/** An initializer giving 1, 2, 3, … (row-major). */
const arange: layers.Initializer = { className: 'Arange', config: {}, init: (shape: Shape) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1) };

function stats(v: Float32Array) {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  let maxAbs = 0;
  for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x));
  return { mean, std, maxAbs };
}

describe('names', () => {
  test('default names are unique per class, as Keras', () => {
    resetLayerNames();
    expect([layers.dense({ units: 1 }).name, layers.dense({ units: 1 }).name, layers.dense({ units: 1 }).name]).toEqual(['dense', 'dense_1', 'dense_2']);
    expect(layers.conv2d({ filters: 1, kernelSize: 1 }).name).toBe('conv2d');
    expect(layers.maxPooling2d().name).toBe('max_pooling2d');
    expect(layers.averagePooling2d().name).toBe('average_pooling2d');
    expect(layers.globalAveragePooling2d().name).toBe('global_average_pooling2d');
    expect(layers.flatten().name).toBe('flatten');
    expect(layers.activation({ activation: 'relu' }).name).toBe('activation');
    expect(layers.dense({ units: 1, name: 'head' }).name).toBe('head');
  });

  test('inputShape, trainable and getConfig', () => {
    const d = layers.dense({ units: 3, activation: 'relu', inputShape: [4], name: 'd' });
    expect(d.inputShape).toEqual([4]);
    expect(d.className).toBe('Dense');
    expect(d.getConfig()).toEqual({
      name: 'd', trainable: true, batchInputShape: [null, 4], units: 3, activation: 'relu', useBias: true,
      kernelInitializer: { className: 'GlorotUniform', config: { scale: 1, mode: 'fanAvg', distribution: 'uniform' } },
      biasInitializer: { className: 'Zeros', config: {} },
    });
    const frozen = layers.dense({ units: 2, trainable: false });
    expect(frozen.weights([3]).every((w) => !w.trainable)).toBe(true);
    expect(layers.conv2d({ filters: 2, kernelSize: 3, strides: 2 }).getConfig()).toMatchObject({ filters: 2, kernelSize: [3, 3], strides: [2, 2], padding: 'valid', dilationRate: [1, 1], activation: 'linear' });
  });
});

describe('output and weight shapes', () => {
  test('dense', () => {
    const d = layers.dense({ units: 10 });
    expect(d.computeOutputShape([784])).toEqual([10]);
    expect(d.weights([784]).map((w) => [w.name, w.shape])).toEqual([['kernel', [784, 10]], ['bias', [10]]]);
    expect(count(d.weights([784]))).toBe(7850);
    expect(count(layers.dense({ units: 10, useBias: false }).weights([784]))).toBe(7840);
    expect(d.computeOutputShape([5, 3])).toEqual([5, 10]);
    expect(d.weights([5, 3])[0]!.shape).toEqual([3, 10]);
  });

  test("conv2d 5x5 'same' on [28,28,1] → [28,28,32], 832 params", () => {
    const c = layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' });
    expect(c.computeOutputShape([28, 28, 1])).toEqual([28, 28, 32]);
    expect(c.weights([28, 28, 1]).map((w) => [w.name, w.shape])).toEqual([['kernel', [5, 5, 1, 32]], ['bias', [32]]]);
    expect(count(c.weights([28, 28, 1]))).toBe(832);
  });

  test('conv2d strides, dilation, rectangular kernels and no bias', () => {
    const c = layers.conv2d({ filters: 8, kernelSize: 3, strides: 2 });
    expect(c.computeOutputShape([28, 28, 3])).toEqual([13, 13, 8]);
    expect(count(c.weights([28, 28, 3]))).toBe(224);
    expect(layers.conv2d({ filters: 1, kernelSize: 3, dilationRate: 2 }).computeOutputShape([10, 10, 1])).toEqual([6, 6, 1]);
    expect(layers.conv2d({ filters: 4, kernelSize: [1, 3], padding: 'same', strides: [1, 2] }).computeOutputShape([5, 7, 2])).toEqual([5, 4, 4]);
    expect(layers.conv2d({ filters: 4, kernelSize: 3, useBias: false }).weights([5, 5, 2]).map((w) => w.shape)).toEqual([[3, 3, 2, 4]]);
  });

  test('pooling, flatten, reshape, activation', () => {
    expect(layers.maxPooling2d().computeOutputShape([28, 28, 32])).toEqual([14, 14, 32]);
    expect(layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).computeOutputShape([7, 7, 1])).toEqual([4, 4, 1]);
    expect(layers.averagePooling2d({ poolSize: 3, strides: 2 }).computeOutputShape([7, 7, 1])).toEqual([3, 3, 1]);
    expect(layers.averagePooling2d({ poolSize: [2, 1] }).computeOutputShape([6, 5, 3])).toEqual([3, 5, 3]);
    expect(layers.globalAveragePooling2d().computeOutputShape([7, 7, 16])).toEqual([16]);
    expect(layers.flatten().computeOutputShape([14, 14, 32])).toEqual([6272]);
    expect(layers.reshape({ targetShape: [7, -1] }).computeOutputShape([28, 2])).toEqual([7, 8]);
    expect(layers.reshape({ targetShape: [2, 3] }).computeOutputShape([6])).toEqual([2, 3]);
    expect(layers.activation({ activation: 'softmax' }).computeOutputShape([3, 4])).toEqual([3, 4]);
    for (const l of [layers.maxPooling2d(), layers.averagePooling2d(), layers.globalAveragePooling2d(), layers.flatten(), layers.activation({ activation: 'relu' })]) {
      expect(l.weights([4, 4, 2])).toEqual([]);
    }
  });
});

describe('forward values', () => {
  test('dense with constant initializers', () => {
    const d = layers.dense({ units: 2, kernelInitializer: initializers.constant({ value: 0.5 }), biasInitializer: initializers.constant({ value: 1 }) });
    close(run(d, kiln.tensor([[1, 2, 3], [-1, 0, 4]])), [4, 4, 2.5, 2.5]);
    const r = layers.dense({ units: 1, activation: 'relu', kernelInitializer: 'ones', biasInitializer: initializers.constant({ value: 1 }) });
    close(run(r, kiln.tensor([[-4, 0, 1], [1, 1, 1]])), [0, 4]);
  });

  test('dense with a non-uniform kernel, without bias, and on rank-3 input', () => {
    const d = layers.dense({ units: 2, useBias: false, kernelInitializer: arange }); // kernel [[1,2],[3,4],[5,6]]
    close(run(d, kiln.tensor([[1, 2, 3]])), [22, 28]);
    const y = run(d, kiln.tensor([[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [1, 1, 1]]]));
    expect(y.shape).toEqual([2, 2, 2]);
    close(y, [1, 2, 3, 4, 5, 6, 9, 12]);
    const sig = layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: 'zeros', biasInitializer: 'zeros' });
    close(run(sig, kiln.tensor([[3, 4]])), [0.5]);
  });

  test('dense inside a trace keeps a dynamic batch', () => {
    const d = layers.dense({ units: 2, activation: 'tanh' });
    let shape: unknown;
    kiln.trace((x: kiln.Tensor, k: kiln.Tensor, b: kiln.Tensor) => {
      const y = d.call(x, { kernel: k, bias: b }, { training: true });
      shape = y.shape;
      return y;
    }, [kiln.spec([null, 3]), kiln.spec([3, 2]), kiln.spec([2])]);
    expect(shape).toEqual([kiln.BATCH, 2]);
  });

  test('conv2d with constant initializers', () => {
    const x = kiln.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const opts = { filters: 1, kernelSize: 2, kernelInitializer: 'ones', biasInitializer: initializers.constant({ value: 0.5 }) } as const;
    const valid = run(layers.conv2d(opts), x);
    expect(valid.shape).toEqual([1, 2, 2, 1]);
    close(valid, [12.5, 16.5, 24.5, 28.5]);
    // 'same', stride 1, kernel 2: the padding cell goes after (TensorFlow's rule)
    const same = run(layers.conv2d({ ...opts, padding: 'same' }), x);
    expect(same.shape).toEqual([1, 3, 3, 1]);
    close(same, [12.5, 16.5, 9.5, 24.5, 28.5, 15.5, 15.5, 17.5, 9.5]);
    // two input channels, two filters, a non-uniform kernel and relu
    const x2 = kiln.tensor([1, -1, 2, -2, 3, -3, 4, -4], [1, 2, 2, 2]);
    const c = layers.conv2d({ filters: 2, kernelSize: 1, strides: 2, activation: 'relu', kernelInitializer: arange }); // kernel [[1,2],[3,4]]
    const y = run(c, x2);
    expect(y.shape).toEqual([1, 1, 1, 2]);
    close(y, [0, 0]); // 1·1 + (−1)·3 = −2, 1·2 + (−1)·4 = −2, relu → 0
    close(run(layers.conv2d({ filters: 2, kernelSize: 1, kernelInitializer: arange }), x2), [-2, -2, -4, -4, -6, -6, -8, -8]);
  });

  test('pooling, flatten, reshape and activation', () => {
    const x = kiln.tensor(Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
    close(run(layers.maxPooling2d(), x), [6, 8, 14, 16]);
    close(run(layers.averagePooling2d({ poolSize: 2 }), x), [3.5, 5.5, 11.5, 13.5]);
    const g = run(layers.globalAveragePooling2d(), x);
    expect(g.shape).toEqual([1, 1]);
    close(g, [8.5]);
    expect(run(layers.flatten(), x).shape).toEqual([1, 16]);
    expect(run(layers.reshape({ targetShape: [2, -1] }), x).shape).toEqual([1, 2, 8]);
    close(run(layers.activation({ activation: 'relu6' }), kiln.tensor([[-1, 3, 9]])), [0, 3, 6]);
    close(run(layers.activation({ activation: 'softmax' }), kiln.tensor([[0, Math.log(3)]])), [0.25, 0.75]);
  });

  test('flatten inside a trace keeps a dynamic batch', () => {
    let shape: unknown;
    kiln.trace((x: kiln.Tensor) => {
      const y = layers.flatten().call(x, {}, { training: false });
      shape = y.shape;
      return y;
    }, [kiln.spec([null, 7, 7, 2])]);
    expect(shape).toEqual([kiln.BATCH, 98]);
  });
});

describe('activations', () => {
  const x = kiln.tensor([-2, 0, 1.5]);
  const cases: [string, number[]][] = [
    ['linear', [-2, 0, 1.5]],
    ['relu', [0, 0, 1.5]],
    ['sigmoid', [-2, 0, 1.5].map((v) => 1 / (1 + Math.exp(-v)))],
    ['tanh', [-2, 0, 1.5].map(Math.tanh)],
    ['elu', [Math.expm1(-2), 0, 1.5]],
    ['selu', [1.0507009873554805 * 1.6732632423543772 * Math.expm1(-2), 0, 1.0507009873554805 * 1.5]],
    ['softplus', [-2, 0, 1.5].map((v) => Math.log1p(Math.exp(v)))],
    ['swish', [-2, 0, 1.5].map((v) => v / (1 + Math.exp(-v)))],
    ['silu', [-2, 0, 1.5].map((v) => v / (1 + Math.exp(-v)))],
    ['gelu', [-0.04550026389635842, 0, 1.3997927]],
    ['leakyRelu', [-0.4, 0, 1.5]],
  ];
  test.each(cases)('%s', (name, expected) => close(activations.get(name)(x), expected));

  test('undefined is linear', () => {
    expect(activations.get(undefined)(x)).toBe(x);
  });

  test('an unknown name lists the valid ones', () => {
    expect(messageOf(() => activations.get('relux'))).toBe(
      `activations.get: unknown activation 'relux'; expected one of 'linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'softplus', 'swish', 'silu', 'gelu', 'leakyRelu'${at}`,
    );
  });
});

describe('initializers', () => {
  test('glorotUniform stays within ±sqrt(6 / (fanIn + fanOut))', () => {
    const v = initializers.glorotUniform().init([100, 200], 7);
    const limit = Math.sqrt(6 / 300);
    const s = stats(v);
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.maxAbs).toBeGreaterThan(0.99 * limit);
    expect(Math.abs(s.mean)).toBeLessThan(0.01 * limit * 10);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 2);
  });

  test('conv fans use the receptive field (HWIO)', () => {
    expect(initializers.computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(initializers.computeFans([784, 10])).toEqual({ fanIn: 784, fanOut: 10 });
    const v = initializers.heUniform().init([3, 3, 16, 32], 3);
    expect(stats(v).maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / 144));
    expect(stats(v).maxAbs).toBeGreaterThan(0.98 * Math.sqrt(6 / 144));
  });

  test('heNormal std within 10% of sqrt(2 / fanIn), truncated at 2 (corrected) std', () => {
    const v = initializers.heNormal().init([200, 500], 11);
    const target = Math.sqrt(2 / 200);
    const s = stats(v);
    expect(Math.abs(s.std - target) / target).toBeLessThan(0.1);
    expect(Math.abs(s.std - target) / target).toBeLessThan(0.02);
    expect(s.maxAbs).toBeLessThanOrEqual((2 * target) / 0.87962566103423978 + 1e-6);
    expect(Math.abs(s.mean)).toBeLessThan(0.01 * target * 10);
  });

  test('glorotNormal and lecunNormal variances', () => {
    const g = stats(initializers.glorotNormal().init([300, 100], 5));
    expect(Math.abs(g.std - Math.sqrt(2 / 400)) / Math.sqrt(2 / 400)).toBeLessThan(0.05);
    const l = stats(initializers.lecunNormal().init([3, 3, 8, 400], 5));
    expect(Math.abs(l.std - Math.sqrt(1 / 72)) / Math.sqrt(1 / 72)).toBeLessThan(0.05);
  });

  test('same seed, same values; different seed, different values; an option seed wins', () => {
    for (const make of [initializers.glorotUniform, initializers.glorotNormal, initializers.heUniform, initializers.heNormal, initializers.lecunNormal, initializers.orthogonal]) {
      const a = make().init([8, 6], 42);
      expect(make().init([8, 6], 42)).toEqual(a);
      expect(make().init([8, 6], 43)).not.toEqual(a);
      expect(make({ seed: 42 }).init([8, 6], 99)).toEqual(a);
    }
  });

  test('zeros, ones, constant', () => {
    expect(Array.from(initializers.zeros().init([2, 2], 0))).toEqual([0, 0, 0, 0]);
    expect(Array.from(initializers.ones().init([3], 0))).toEqual([1, 1, 1]);
    expect(Array.from(initializers.constant({ value: -0.25 }).init([2], 0))).toEqual([-0.25, -0.25]);
    expect(initializers.constant({ value: 2 }).config).toEqual({ value: 2 });
  });

  function gram(w: Float32Array, rows: number, cols: number, ofColumns: boolean): number[][] {
    const n = ofColumns ? cols : rows;
    const at2 = (i: number, k: number) => (ofColumns ? w[k * cols + i]! : w[i * cols + k]!);
    const len = ofColumns ? rows : cols;
    return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < len; k++) s += at2(i, k) * at2(j, k);
      return s;
    }));
  }
  const expectIdentity = (m: number[][], scale = 1) => m.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? scale : 0, 4)));

  test('orthogonal gives WᵀW ≈ I (tall), WWᵀ ≈ I (wide), and scales by gain', () => {
    expectIdentity(gram(initializers.orthogonal().init([64, 32], 1), 64, 32, true));
    expectIdentity(gram(initializers.orthogonal().init([16, 48], 2), 16, 48, false));
    expectIdentity(gram(initializers.orthogonal().init([20, 20], 3), 20, 20, true));
    expectIdentity(gram(initializers.orthogonal({ gain: 2 }).init([3, 3, 4, 8], 4), 36, 8, true), 4);
  });

  test('get resolves names, snake_case and objects', () => {
    expect(initializers.get('heNormal').className).toBe('HeNormal');
    expect(initializers.get('glorot_uniform').className).toBe('GlorotUniform');
    expect(initializers.get('lecun_normal').className).toBe('LeCunNormal');
    const c = initializers.constant({ value: 3 });
    expect(initializers.get(c)).toBe(c);
    expect(layers.dense({ units: 1, kernelInitializer: 'heNormal' }).kernelInitializer.className).toBe('HeNormal');
  });
});

describe('error messages', () => {
  test('a dense layer on a wrong input', () => {
    const d = layers.dense({ units: 2, name: 'dense_x' });
    expect(messageOf(() => run(d, kiln.zeros([4])))).toBe(`Dense "dense_x": expected an input of rank >= 2 (with the batch dimension), got shape [null]${at}`);
    const bound = { kernel: kiln.zeros([3, 2]), bias: kiln.zeros([2]) };
    expect(messageOf(() => d.call(kiln.zeros([5, 4]), bound, { training: false }))).toBe(`Dense "dense_x": expected an input of rank >= 2 whose last dimension is 3, got f32[5,4]${at}`);
    expect(messageOf(() => d.weights([0]))).toBe(`Dense "dense_x": expected an input shape (without the batch dimension) of positive integers, got [0]${at}`);
  });

  test('an unknown activation on a layer', () => {
    expect(messageOf(() => layers.dense({ units: 2, name: 'd', activation: 'relux' as 'relu' }))).toBe(
      `Dense "d": unknown activation 'relux'; expected one of 'linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'softplus', 'swish', 'silu', 'gelu', 'leakyRelu'${at}`,
    );
  });

  test('bad options and shapes for the other layers', () => {
    expect(messageOf(() => layers.dense({ units: 0, name: 'd' }))).toBe(`Dense "d": expected units to be a positive integer, got 0${at}`);
    expect(messageOf(() => layers.conv2d({ filters: 4, kernelSize: 3, name: 'c' }).weights([28, 28]))).toBe(
      `Conv2D "c": expected an input of rank 4 [batch, height, width, channels] (with the batch dimension), got shape [null,28,28]${at}`,
    );
    expect(messageOf(() => layers.conv2d({ filters: 4, kernelSize: 5, name: 'c' }).computeOutputShape([3, 3, 1]))).toBe(
      `Conv2D "c": expected an input of at least the dilated kernel's 5x5 with padding 'valid', got 3x3${at}`,
    );
    expect(messageOf(() => layers.conv2d({ filters: 4, kernelSize: 3, padding: 'full' as 'same', name: 'c' }))).toBe(`Conv2D "c": expected padding 'valid' or 'same', got "full"${at}`);
    expect(messageOf(() => layers.reshape({ targetShape: [5, -1], name: 'r' }).computeOutputShape([12]))).toBe(`Reshape "r": cannot reshape an input of shape [12] (12 values) to [5,-1]${at}`);
    expect(messageOf(() => layers.maxPooling2d({ name: 'p' }).computeOutputShape([1, 1, 3]))).toBe(`MaxPooling2D "p": expected an input of at least the pool size 2x2 with padding 'valid', got 1x1${at}`);
    expect(messageOf(() => initializers.get('xavier'))).toMatch(/^initializers\.get: unknown initializer 'xavier'; expected an Initializer or one of 'zeros', 'ones', /);
    expect(messageOf(() => layers.dense({ units: 1, inputShape: [null, 784] }))).toMatch(/^Dense "dense(_\d+)?": expected inputShape \(without the batch dimension\) of positive integers, got \[null,784\]/);
  });
});
