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
