/** kiln.layers.regularizers, kiln.layers.constraints and spatialDropout2d: values by hand, and in a model's training step. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const { regularizers, constraints } = kiln.layers;

const close = (got: ArrayLike<number>, want: ArrayLike<number>, digits = 5) => {
  expect(got.length).toBe(want.length);
  Array.from(got).forEach((v, k) => expect(v).toBeCloseTo(want[k]!, digits));
};

describe('regularizers', () => {
  const w = kiln.tensor(new Float32Array([1, -2, 3, -4]), [2, 2]);

  test('penalties: l1 · Σ|w|, l2 · Σw², both; Keras defaults 0.01', () => {
    expect(regularizers.l1({ l1: 0.1 }).penalty(w).itemSync()).toBeCloseTo(1, 6);
    expect(regularizers.l2({ l2: 0.1 }).penalty(w).itemSync()).toBeCloseTo(3, 6);
    expect(regularizers.l1l2({ l1: 0.5, l2: 0.25 }).penalty(w).itemSync()).toBeCloseTo(0.5 * 10 + 0.25 * 30, 5);
    expect(regularizers.l1().penalty(w).itemSync()).toBeCloseTo(0.1, 6);
    expect(regularizers.l2().penalty(w).itemSync()).toBeCloseTo(0.3, 6);
    expect(regularizers.l1l2().penalty(w).itemSync()).toBeCloseTo(0.4, 6);
  });

  test('get: names, configs and objects', () => {
    expect(regularizers.get('l1').config).toEqual({ l1: 0.01 });
    expect(regularizers.get('l2').className).toBe('L2');
    expect(regularizers.get('l1l2').config).toEqual({ l1: 0.01, l2: 0.01 });
    const r = regularizers.l2({ l2: 0.3 });
    expect(regularizers.get(r)).toBe(r);
    expect(regularizers.get({ className: 'L2', config: { l2: 0.3 } }).penalty(w).itemSync()).toBeCloseTo(9, 5);
    expect(() => regularizers.get('l3' as 'l1')).toThrow(/unknown regularizer 'l3'/);
  });
});

describe('constraints', () => {
  test('maxNorm scales the columns whose norm exceeds maxValue', () => {
    const w = kiln.tensor(new Float32Array([3, 0.3, 4, 0.4]), [2, 2]); // column norms 5, 0.5
    close(constraints.maxNorm({ maxValue: 1 }).apply(w).dataSync(), [0.6, 0.3, 0.8, 0.4]);
    close(constraints.maxNorm({ maxValue: 1, axis: 1 }).apply(w).dataSync(), [3 / Math.hypot(3, 0.3), 0.3 / Math.hypot(3, 0.3), 4 / Math.hypot(4, 0.4), 0.4 / Math.hypot(4, 0.4)]);
    expect(constraints.maxNorm().config).toEqual({ maxValue: 2, axis: 0 });
  });

  test('nonNeg, unitNorm, minMaxNorm', () => {
    const w = kiln.tensor(new Float32Array([3, -1, -4, 2]), [2, 2]);
    close(constraints.nonNeg().apply(w).dataSync(), [3, 0, 0, 2]);
    close(constraints.unitNorm().apply(w).dataSync(), [0.6, -1 / Math.sqrt(5), -0.8, 2 / Math.sqrt(5)]);
    // norms 5 and √5 clipped to [0.5, 2]
    close(constraints.minMaxNorm({ minValue: 0.5, maxValue: 2 }).apply(w).dataSync(), [1.2, -2 / Math.sqrt(5), -1.6, 4 / Math.sqrt(5)]);
  });

  test('get: names (camelCase and snake_case), configs and objects', () => {
    expect(constraints.get('maxNorm').className).toBe('MaxNorm');
    expect(constraints.get('max_norm').config).toEqual({ maxValue: 2, axis: 0 });
    expect(constraints.get('non_neg').className).toBe('NonNeg');
    expect(constraints.get('unitNorm').className).toBe('UnitNorm');
    expect(constraints.get({ className: 'MaxNorm', config: { maxValue: 3, axis: 1 } }).config).toEqual({ maxValue: 3, axis: 1 });
    const c = constraints.nonNeg();
    expect(constraints.get(c)).toBe(c);
    expect(() => constraints.get('positive' as 'nonNeg')).toThrow(/unknown constraint 'positive'/);
  });
});

/** A one-layer linear model [3] → [2] with fixed weights. */
function linear(args: Partial<kiln.layers.DenseArgs>, kernel: number[], bias = [0, 0]) {
  const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [3], units: 2, ...args })] });
  model.setWeights([kiln.tensor(new Float32Array(kernel), [3, 2]), kiln.tensor(new Float32Array(bias), [2])]);
  return model;
}

const x = kiln.tensor(new Float32Array([1, 2, 0.5, -1, 0.3, 2, 0.7, -0.2, 1]), [3, 3]);

describe('in training', () => {
  test('l2 on a Dense kernel: the training loss adds the penalty, the SGD step its gradient 2·l2·w; evaluate does not', async () => {
    const l2 = 0.1;
    const kernel = [0.5, -0.3, 0.2, 0.8, -0.6, 0.1];
    const model = linear({ kernelRegularizer: regularizers.l2({ l2 }) }, kernel, [0.1, -0.2]);
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
    const y = kiln.tensor(new Float32Array([1, 0, 0, 1, 0.5, 0.5]), [3, 2]);
    const [w, b] = model.getWeights() as [kiln.Tensor, kiln.Tensor];
    const mse = (w: kiln.Tensor, b: kiln.Tensor) => kiln.meanSquaredError(y, kiln.add(kiln.matmul(x, w), b));
    const { value, grad } = kiln.valueAndGrad(mse, [0, 1])(w, b);
    const penalty = l2 * kernel.reduce((a, v) => a + v * v, 0);
    const evaluated = (await model.evaluate(x, y)) as kiln.Tensor;
    expect(evaluated.itemSync()).toBeCloseTo(value.itemSync(), 5); // evaluation's loss: no penalty
    const loss = (await model.trainOnBatch(x, y)) as number;
    expect(loss).toBeCloseTo(value.itemSync() + penalty, 5);
    const [w1, b1] = model.getWeights() as [kiln.Tensor, kiln.Tensor];
    const g = grad[0]!.dataSync();
    close(w1.dataSync(), kernel.map((v, k) => v - 0.1 * (g[k]! + 2 * l2 * v)));
    close(b1.dataSync(), Array.from(b.dataSync(), (v, k) => v - 0.1 * grad[1]!.dataSync()[k]!)); // the bias is not regularized
  }, 120_000);

  test('nonNeg keeps every weight >= 0 under steps that push them negative', async () => {
    const model = linear({ kernelConstraint: 'nonNeg', biasConstraint: constraints.nonNeg() }, [0.1, 0.2, 0.3, 0.1, 0.2, 0.3], [0.1, 0.1]);
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.5 }), loss: 'meanSquaredError' });
    const xPos = kiln.abs(x);
    const y = kiln.fill([3, 2], -10);
    for (let i = 0; i < 3; i++) await model.trainOnBatch(xPos, y);
    const values = model.getWeights().flatMap((t) => Array.from(t.dataSync()));
    expect(values.every((v) => v >= 0)).toBe(true);
    expect(values.some((v) => v === 0)).toBe(true);
    // without the constraint, the same steps make them negative
    const free = linear({}, [0.1, 0.2, 0.3, 0.1, 0.2, 0.3], [0.1, 0.1]);
    free.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.5 }), loss: 'meanSquaredError' });
    await free.trainOnBatch(xPos, y);
    expect(free.getWeights().flatMap((t) => Array.from(t.dataSync())).some((v) => v < 0)).toBe(true);
  }, 120_000);

  test('maxNorm caps the kernel column norms after each step', async () => {
    const model = linear({ kernelConstraint: constraints.maxNorm({ maxValue: 0.5 }) }, [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 1 }), loss: 'meanSquaredError' });
    const y = kiln.tensor(new Float32Array([20, -20, 20, -20, 20, -20]), [3, 2]);
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    const k = model.getWeights()[0]!.dataSync();
    const norms = [0, 1].map((c) => Math.hypot(k[c]!, k[2 + c]!, k[4 + c]!));
    for (const n of norms) {
      expect(n).toBeLessThanOrEqual(0.5 + 1e-5);
      expect(n).toBeGreaterThan(0.49); // pushed to the cap
    }
  }, 120_000);
});

describe('spatialDropout2d', () => {
  test('zeroes whole channels and scales the rest by 1 / (1 − rate); identity at inference', () => {
    const layer = kiln.layers.spatialDropout2d({ rate: 0.5, seed: 7 });
    expect(layer.weights([3, 4, 16]).map((w) => w.name)).toEqual(['step']);
    const input = kiln.add(kiln.randomUniform([2, 3, 4, 16], { seed: 1 }), 1); // all in [1, 2)
    const out = layer.call(input, { step: kiln.scalar(3) }, { training: true }).dataSync();
    const inp = input.dataSync();
    let dropped = 0;
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 16; c++) {
        const at = (h: number, w: number) => ((b * 3 + h) * 4 + w) * 16 + c;
        const kept = out[at(0, 0)] !== 0;
        if (!kept) dropped++;
        for (let h = 0; h < 3; h++) for (let w = 0; w < 4; w++) expect(out[at(h, w)]).toBeCloseTo(kept ? inp[at(h, w)]! * 2 : 0, 5);
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(32);
    expect(layer.call(input, { step: kiln.scalar(3) }, { training: false })).toBe(input);
    expect(() => layer.weights([4, 16])).toThrow(/SpatialDropout2D/);
    expect(layer.getConfig()).toMatchObject({ rate: 0.5, seed: 7 });
  });
});

describe('config', () => {
  test('layers report their regularizers and constraints, which get() rebuilds', () => {
    const dense = kiln.layers.dense({ units: 4, kernelRegularizer: 'l2', biasRegularizer: regularizers.l1({ l1: 0.2 }), kernelConstraint: 'maxNorm', biasConstraint: 'non_neg' });
    const config = dense.getConfig() as Record<string, { className: string; config: object }>;
    expect(config.kernelRegularizer).toEqual({ className: 'L2', config: { l2: 0.01 } });
    expect(config.biasRegularizer).toEqual({ className: 'L1', config: { l1: 0.2 } });
    expect(config.kernelConstraint).toEqual({ className: 'MaxNorm', config: { maxValue: 2, axis: 0 } });
    expect(config.biasConstraint).toEqual({ className: 'NonNeg', config: {} });
    const again = kiln.layers.dense({ units: 4, kernelRegularizer: regularizers.get(config.kernelRegularizer!), biasRegularizer: regularizers.get(config.biasRegularizer!), kernelConstraint: constraints.get(config.kernelConstraint!), biasConstraint: constraints.get(config.biasConstraint!) });
    const { name: _a, ...c1 } = config;
    const { name: _b, ...c2 } = again.getConfig() as Record<string, unknown>;
    expect(c2).toEqual(c1);
    const plain = kiln.layers.dense({ units: 1 }).getConfig() as Record<string, unknown>;
    expect([plain.kernelRegularizer, plain.kernelConstraint]).toEqual([undefined, undefined]);
    expect(dense.weights([3]).map((w) => [w.regularizer?.className, w.constraint?.className])).toEqual([['L2', 'MaxNorm'], ['L1', 'NonNeg']]);
  });

  test('conv and embedding layers take them too', () => {
    const layers = [
      kiln.layers.conv2d({ filters: 2, kernelSize: 3, kernelRegularizer: 'l1l2', kernelConstraint: 'unitNorm' }),
      kiln.layers.conv1d({ filters: 2, kernelSize: 3, kernelRegularizer: 'l1l2', kernelConstraint: 'unitNorm' }),
      kiln.layers.conv2dTranspose({ filters: 2, kernelSize: 3, kernelRegularizer: 'l1l2', kernelConstraint: 'unitNorm' }),
    ];
    for (const l of layers) {
      expect(l.getConfig()).toMatchObject({ kernelRegularizer: { className: 'L1L2' }, kernelConstraint: { className: 'UnitNorm' } });
      expect((l.getConfig() as Record<string, unknown>).biasRegularizer).toBeUndefined();
    }
    const depthwise = kiln.layers.depthwiseConv2d({ kernelSize: 3, kernelRegularizer: 'l2', biasConstraint: 'nonNeg' });
    expect(depthwise.getConfig()).toMatchObject({ depthwiseRegularizer: { className: 'L2' }, biasConstraint: { className: 'NonNeg' } });
    expect(depthwise.weights([5, 5, 2]).map((w) => w.regularizer?.className)).toEqual(['L2', undefined]);
    const emb = kiln.layers.embedding({ inputDim: 5, outputDim: 2, embeddingsRegularizer: 'l1', embeddingsConstraint: 'maxNorm' });
    expect(emb.getConfig()).toMatchObject({ embeddingsRegularizer: { className: 'L1', config: { l1: 0.01 } }, embeddingsConstraint: { className: 'MaxNorm' } });
    expect(() => kiln.layers.dense({ units: 1, kernelRegularizer: 'l3' as 'l1' })).toThrow(/Dense "dense\w*": unknown regularizer 'l3'/);
  });
});
