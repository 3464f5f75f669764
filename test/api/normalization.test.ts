/** Dropout and BatchNormalization: training and inference semantics in the interpreter, gradients, and a compiled model that trains. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Layer } from '../../src/layers/index.js';
import { blobs } from '../util/blobs.js';

/** Runs `layer` on `x` in a trace (weights as parameter inputs, initial values unless given); returns the output and the assigned weights. */
function run(layer: Layer, x: kiln.Tensor, training: boolean, given: Record<string, kiln.Tensor> = {}) {
  const specs = layer.weights(x.shape.slice(1) as number[]);
  const values = Object.fromEntries(specs.map((w, i) => [w.name, given[w.name]?.value ?? { dtype: 'float32' as const, shape: w.shape, data: w.initializer.init(w.shape, 7 + i) }]));
  const g = kiln.trace((t: Record<string, kiln.Tensor>) => layer.call(t.x!, t, { training }), {
    x: kiln.spec([null, ...(x.shape.slice(1) as number[])]),
    ...Object.fromEntries(specs.map((w) => [w.name, kiln.spec([...w.shape], 'float32', { kind: 'parameter' })])),
  });
  const { outputs, updates } = kiln.interpret(g, { x: x.value!, ...values });
  return { y: Array.from(outputs.output!.data), updates: Object.fromEntries(Object.entries(updates).map(([k, v]) => [k, Array.from(v.data)])) };
}

/** Per-channel mean and biased variance of rows-by-channels data. */
function moments(data: ArrayLike<number>, channels: number): { mean: number[]; variance: number[] } {
  const n = data.length / channels;
  const mean = Array.from({ length: channels }, (_, c) => Array.from({ length: n }, (_, r) => data[r * channels + c]!).reduce((a, b) => a + b, 0) / n);
  const variance = mean.map((m, c) => Array.from({ length: n }, (_, r) => (data[r * channels + c]! - m) ** 2).reduce((a, b) => a + b, 0) / n);
  return { mean, variance };
}

describe('dropout', () => {
  const x = kiln.ones([100, 100]);

  test('drops the rate’s fraction of 10k values and scales the survivors by 1 / (1 − rate)', () => {
    const { y, updates } = run(kiln.layers.dropout({ rate: 0.3, seed: 5 }), x, true);
    const dropped = y.filter((v) => v === 0).length / y.length;
    expect(Math.abs(dropped - 0.3)).toBeLessThan(0.05 * 0.3);
    for (const v of y.filter((v) => v !== 0)) expect(v).toBeCloseTo(1 / 0.7, 5);
    expect(updates.step).toEqual([1]);
  });

  test('is the identity at inference, with no state update', () => {
    const r = kiln.randomNormal([8, 5], { seed: 3 });
    const { y, updates } = run(kiln.layers.dropout({ rate: 0.5, seed: 5 }), r, false);
    expect(y).toEqual(Array.from(r.dataSync()));
    expect(updates).toEqual({});
  });

  test('draws a new mask each step and the same mask for the same seed and step', () => {
    const mask = (seed: number, step: number) => run(kiln.layers.dropout({ rate: 0.5, seed }), x, true, { step: kiln.scalar(step) }).y.map((v) => (v === 0 ? 0 : 1)).join('');
    expect(mask(5, 0)).not.toBe(mask(5, 1));
    expect(mask(5, 1)).toBe(mask(5, 1));
    expect(mask(6, 1)).not.toBe(mask(5, 1));
  });

  test('rejects a rate outside [0, 1)', () => {
    expect(() => kiln.layers.dropout({ rate: 1, name: 'd' })).toThrow('Dropout "d": expected rate in [0, 1), got 1');
  });
});

describe('batchNormalization', () => {
  // channel c has mean 3c − 2 and standard deviation c + 1
  const data = (n: number, channels: number, seed: number) => {
    const z = kiln.randomNormal([n, channels], { seed }).dataSync();
    return kiln.tensor(Float32Array.from(z, (v, k) => 3 * (k % channels) - 2 + ((k % channels) + 1) * v), [n, channels]);
  };

  test('normalises each channel by the batch moments in training and updates the moving statistics', () => {
    const x = data(64, 3, 11);
    const { y, updates } = run(kiln.layers.batchNormalization({ momentum: 0.9 }), x, true);
    const out = moments(y, 3);
    out.mean.forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-5));
    const batch = moments(x.dataSync(), 3);
    out.variance.forEach((v, c) => expect(v).toBeCloseTo(batch.variance[c]! / (batch.variance[c]! + 1e-3), 4));
    updates.moving_mean!.forEach((v, c) => expect(v).toBeCloseTo(0 * 0.9 + batch.mean[c]! * 0.1, 5));
    updates.moving_variance!.forEach((v, c) => expect(v).toBeCloseTo(1 * 0.9 + batch.variance[c]! * 0.1, 4));
    expect(Object.keys(updates).sort()).toEqual(['moving_mean', 'moving_variance']);
  });

  test('normalises over every axis but a channel axis that is not last', () => {
    // NCHW-like: channels on axis 1 of [8, 2, 3, 3]
    const x = kiln.transpose(kiln.reshape(data(72, 2, 12), [8, 3, 3, 2]), [0, 3, 1, 2]);
    const { y } = run(kiln.layers.batchNormalization({ axis: 1 }), x, true);
    const channelLast = kiln.transpose(kiln.tensor(Float32Array.from(y), [8, 2, 3, 3]), [0, 2, 3, 1]).dataSync();
    moments(channelLast, 2).mean.forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-5));
    moments(channelLast, 2).variance.forEach((v) => expect(v).toBeCloseTo(1, 2));
  });

  test('uses the moving statistics, gamma and beta at inference', () => {
    const x = data(5, 3, 13);
    const given = { moving_mean: kiln.tensor([1, -2, 0.5]), moving_variance: kiln.tensor([4, 0.25, 1]), gamma: kiln.tensor([2, 1, -1]), beta: kiln.tensor([0, 1, 3]) };
    const { y, updates } = run(kiln.layers.batchNormalization({ epsilon: 1e-3 }), x, false, given);
    const [mm, mv, g, b] = [given.moving_mean, given.moving_variance, given.gamma, given.beta].map((t) => t.dataSync());
    x.dataSync().forEach((v, k) => {
      const c = k % 3;
      expect(y[k]).toBeCloseTo(((v - mm![c]!) / Math.sqrt(mv![c]! + 1e-3)) * g![c]! + b![c]!, 4);
    });
    expect(updates).toEqual({});
  });

  test('training-mode gradients agree with finite differences', () => {
    const layer = kiln.layers.batchNormalization({ epsilon: 1e-3 });
    const x = data(6, 3, 14);
    const weights = kiln.randomNormal([6, 3], { seed: 15 });
    const moving = { moving_mean: kiln.zeros([3]), moving_variance: kiln.ones([3]) };
    const f = (t: kiln.Tensor, gamma: kiln.Tensor, beta: kiln.Tensor) => kiln.sum(kiln.mul(kiln.tanh(layer.call(t, { gamma, beta, ...moving }, { training: true })), weights));
    const r = kiln.checkGrads(f, [x, kiln.tensor([1.5, 0.5, -1]), kiln.tensor([0.1, -0.2, 0.3])], { rtol: 1e-4, atol: 1e-6 });
    expect(r.error).toBeLessThanOrEqual(r.tolerance);
  });
});

describe('a compiled model with dropout and batch normalization', () => {
    test('trains (the loss falls), moves its statistics and evaluates deterministically', async () => {
    const model = kiln.sequential({ layers: [
      kiln.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }),
      kiln.layers.dropout({ rate: 0.2, seed: 9 }),
      kiln.layers.batchNormalization({ momentum: 0.9 }),
      kiln.layers.dense({ units: 3 }),
    ] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const { x, y } = blobs(192, 1);
    const history = await model.fit(x, y, { epochs: 5, batchSize: 32, verbose: 0 });
    const loss = history.history.loss!;
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]!);
    // weights: dense kernel, bias; gamma, beta, moving_mean, moving_variance; dense kernel, bias (dropout's step counter is not a weight)
    const weights = model.getWeights();
    expect(weights).toHaveLength(8);
    expect(Array.from(weights[4]!.dataSync()).some((v) => v !== 0)).toBe(true);
    expect(Array.from(weights[5]!.dataSync()).some((v) => v !== 1)).toBe(true);
    const test = blobs(60, 2);
    const first = ((await model.evaluate(test.x, test.y)) as kiln.Tensor[]).map((t) => t.itemSync());
    const second = ((await model.evaluate(test.x, test.y)) as kiln.Tensor[]).map((t) => t.itemSync());
    expect(second).toEqual(first);
    expect(first[1]).toBeGreaterThan(0.9);
    expect(Array.from(model.predict(test.x).dataSync())).toEqual(Array.from(model.predict(test.x).dataSync()));
  }, 120_000);
});
