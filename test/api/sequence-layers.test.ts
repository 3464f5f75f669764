/**
 * The sequence layers that need no recurrence: conv1d with Keras's 'causal'
 * padding (step t sees steps ≤ t only: zeros before the sequence) and
 * globalMaxPooling1d, checked on values computed by hand.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

describe("conv1d({ padding: 'causal' })", () => {
  test('y[t] = Σ_k w_k x[t − (K−1−k)·d], zeros before the start; the length is kept; later steps never reach earlier outputs', () => {
    const layer = kiln.layers.conv1d({ filters: 1, kernelSize: 3, dilationRate: 2, padding: 'causal', useBias: false, kernelInitializer: 'ones', inputShape: [8, 1] });
    const model = kiln.sequential({ layers: [layer] });
    model.setWeights([kiln.tensor([1, 10, 100], [3, 1, 1])]);
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const y = Array.from((model.predict(kiln.tensor(x, [1, 8, 1])) as kiln.Tensor).dataSync());
    // the newest step weighs 100, the one 2 back 10, the one 4 back 1
    const at = (t: number) => (t >= 0 ? x[t]! : 0);
    expect(y).toEqual(x.map((_, t) => 100 * at(t) + 10 * at(t - 2) + at(t - 4)));
    const changed = [...x];
    changed[5] = 50;
    const y2 = Array.from((model.predict(kiln.tensor(changed, [1, 8, 1])) as kiln.Tensor).dataSync());
    expect(y2.slice(0, 5)).toEqual(y.slice(0, 5));
    expect(layer.getConfig()).toMatchObject({ padding: 'causal' });
  });

  test('with strides: ceil(steps / stride) outputs, and the config round-trips through save', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.conv1d({ filters: 2, kernelSize: 2, strides: 2, padding: 'causal', inputShape: [7, 3] })] });
    expect((model.predict(kiln.zeros([1, 7, 3])) as kiln.Tensor).shape).toEqual([1, 4, 2]);
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-causal-')), 'm.kiln');
    await model.save(path);
    const x = kiln.randomNormal([2, 7, 3], { seed: 1 });
    expect(Array.from(((await kiln.loadModel(path)).predict(x) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as kiln.Tensor).dataSync()));
  });
});

test('globalMaxPooling1d takes the maximum over the steps', () => {
  const model = kiln.sequential({ layers: [kiln.layers.globalMaxPooling1d({ inputShape: [3, 2] } as never)] });
  expect((model.predict(kiln.tensor([[[1, -5], [4, -2], [2, -3]]])) as kiln.Tensor).arraySync()).toEqual([[4, -2]]);
});

test('repeatVector repeats each example n times: [batch, features] → [batch, n, features]', () => {
  const model = kiln.sequential({ layers: [kiln.layers.repeatVector({ n: 3, inputShape: [2] })] });
  expect((model.predict(kiln.tensor([[1, 2], [3, 4]])) as kiln.Tensor).arraySync()).toEqual([[[1, 2], [1, 2], [1, 2]], [[3, 4], [3, 4], [3, 4]]]);
  expect(() => kiln.layers.repeatVector({ n: 0 })).toThrow(/RepeatVector "[^"]+": expected n to be a positive integer, got 0/);
});

describe('timeDistributed', () => {
  test('applies its layer to every step with one set of weights; equals the layer on each step; trains; saves and loads', async () => {
    const inner = kiln.layers.dense({ units: 2, kernelInitializer: 'ones', biasInitializer: 'zeros' } as never);
    const model = kiln.sequential({ layers: [kiln.layers.timeDistributed({ layer: inner, inputShape: [3, 4] } as never)] });
    expect(model.getWeights().map((w) => w.shape)).toEqual([[4, 2], [2]]); // one kernel for all steps
    const kernel = kiln.tensor(Array.from({ length: 8 }, (_, i) => i / 4), [4, 2]);
    model.setWeights([kernel, kiln.tensor([0.5, -0.5])]);
    const x = kiln.randomNormal([2, 3, 4], { seed: 4 });
    const y = (model.predict(x) as kiln.Tensor).arraySync() as number[][][];
    const xs = x.arraySync() as number[][][];
    const k = kernel.arraySync() as number[][];
    for (let b = 0; b < 2; b++) for (let t = 0; t < 3; t++) for (let j = 0; j < 2; j++) {
      const want = xs[b]![t]!.reduce((a, v, i) => a + v * k[i]![j]!, j === 0 ? 0.5 : -0.5);
      expect(y[b]![t]![j]!).toBeCloseTo(want, 5);
    }
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const h = await model.fit(x, kiln.zeros([2, 3, 2]), { epochs: 20, verbose: 0 });
    expect(h.history.loss!.at(-1)!).toBeLessThan(h.history.loss![0]!);
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-td-')), 'm.kiln');
    await model.save(path);
    expect(Array.from(((await kiln.loadModel(path)).predict(x) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as kiln.Tensor).dataSync()));
  });

  test('bad arguments are named', () => {
    expect(() => kiln.layers.timeDistributed({ layer: 'dense' as never })).toThrow(/TimeDistributed "[^"]+": expected layer to be a kiln layer, got string/);
    expect(() => kiln.sequential({ layers: [kiln.layers.timeDistributed({ layer: kiln.layers.dense({ units: 2 }), inputShape: [4] } as never)] }).predict(kiln.zeros([1, 4]))).toThrow(/expected an input \[batch, steps, \.\.\.\], got \[null,4\]/);
  });
});
