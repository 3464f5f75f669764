/** Numeric preprocessing layers against NumPy (test/fixtures/data/preprocessing.json, from scripts/preprocessing_reference.py): adapt, outputs, training, save/load. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/data/preprocessing.json', import.meta.url), 'utf8'));
const close = (got: number[][], want: number[][], tol: number) => got.forEach((r, i) => r.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThan(tol * Math.max(1, Math.abs(want[i]![j]!)))));

describe('normalization', () => {
  test('adapt learns NumPy’s per-feature mean and population variance; predict normalizes as Keras', async () => {
    const norm = kiln.layers.normalization({ inputShape: [3] });
    await norm.adapt(kiln.tensor(ref.x));
    const config = norm.getConfig() as { mean: number[]; variance: number[] };
    // kiln's input is float32 (as Keras's), so its statistics match float64 NumPy to float32 rounding of the data
    config.mean.forEach((m, i) => expect(Math.abs(m - ref.mean[i]) / Math.abs(ref.mean[i])).toBeLessThan(1e-7));
    config.variance.forEach((v, i) => expect(Math.abs(v - ref.variance[i]) / ref.variance[i]).toBeLessThan(1e-6));
    const model = kiln.sequential({ layers: [norm] });
    await model.ready();
    close(model.predict(kiln.tensor(ref.x)).arraySync() as number[][], ref.normalized, 2e-5);
  });

  test('adapt from a Dataset of batches equals adapt from the whole tensor; axis null gives one mean', async () => {
    const whole = kiln.layers.normalization();
    await whole.adapt(kiln.tensor(ref.x));
    const streamed = kiln.layers.normalization();
    await streamed.adapt(kiln.data.fromTensors(kiln.tensor(ref.x)).batch(7));
    expect((streamed.getConfig() as { mean: number[] }).mean.map((m) => m.toFixed(9))).toEqual((whole.getConfig() as { mean: number[] }).mean.map((m) => m.toFixed(9)));
    const all = kiln.layers.normalization({ axis: null });
    await all.adapt(ref.x);
    const c = all.getConfig() as { mean: number[]; variance: number[] };
    expect(Math.abs(c.mean[0]! - ref.meanAll) / ref.meanAll).toBeLessThan(1e-7);
    expect(Math.abs(c.variance[0]! / ref.varianceAll - 1)).toBeLessThan(1e-6);
  });

  test('invert undoes it; given mean and variance need no adapt; unadapted is an error at build', async () => {
    const inv = kiln.sequential({ layers: [kiln.layers.normalization({ inputShape: [3], mean: ref.mean, variance: ref.variance, invert: true })] });
    await inv.ready();
    close(inv.predict(kiln.tensor(ref.normalized)).arraySync() as number[][], ref.x, 1e-5);
    const bare = kiln.sequential({ layers: [kiln.layers.normalization({ inputShape: [3], name: 'norm' })] });
    expect(() => bare.predict(kiln.tensor(ref.x))).toThrow('Normalization "norm": expected adapt(data) to be called, or mean and variance given, before the model is built');
    expect(() => kiln.layers.normalization({ mean: 1 })).toThrow('expected mean and variance together (or neither, then adapt)');
  });

  test('a model with an adapted normalization trains, saves and loads with its statistics', async () => {
    const norm = kiln.layers.normalization({ inputShape: [3] });
    await norm.adapt(kiln.tensor(ref.x));
    const model = kiln.sequential({ layers: [norm, kiln.layers.dense({ units: 2 })] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const y = kiln.tensor((ref.x as number[][]).map((r) => (r[0]! > 10 ? 1 : 0)), [40], 'int32');
    const h = await model.fit(kiln.tensor(ref.x), y, { epochs: 30, batchSize: 8, verbose: 0 });
    expect((h.history.acc ?? h.history.accuracy)!.at(-1)).toBeGreaterThan(0.9);
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-pre-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    await again.ready();
    expect((again.predict(kiln.tensor(ref.x)) as kiln.Tensor).arraySync()).toEqual((model.predict(kiln.tensor(ref.x)) as kiln.Tensor).arraySync());
  });
});

describe('rescaling, discretization, categoryEncoding', () => {
  test('rescaling scales and offsets', async () => {
    const m = kiln.sequential({ layers: [kiln.layers.rescaling({ inputShape: [2], scale: 1 / 255, offset: -1 } as never)] });
    await m.ready();
    expect(m.predict(kiln.tensor([[0, 255]])).arraySync()).toEqual([[-1, 0]]);
  });

  test('discretization gives np.digitize’s buckets; adapt splits at quantiles', async () => {
    const m = kiln.sequential({ layers: [kiln.layers.discretization({ inputShape: [3], binBoundaries: ref.bins } as never)] });
    await m.ready();
    expect(m.predict(kiln.tensor(ref.x)).arraySync()).toEqual(ref.buckets); // bucket indices (a model's outputs come out as float32)
    const q = kiln.layers.discretization({ numBins: 4 });
    await q.adapt(kiln.tensor(Array.from({ length: 100 }, (_, i) => i), [100]));
    expect(q.binBoundaries).toEqual([25, 50, 75]);
  });

  test('categoryEncoding: counts and multi-hot as np.bincount; one-hot of [n] and [n,1]', async () => {
    const ids = kiln.tensor(ref.ids, undefined, 'int32');
    for (const [mode, want] of [['count', ref.counts], ['multi_hot', ref.multiHot]] as const) {
      const m = kiln.sequential({ layers: [kiln.layers.categoryEncoding({ inputShape: [4], numTokens: 5, outputMode: mode } as never)] });
      await m.ready();
      expect(m.predict(ids).arraySync()).toEqual(want);
    }
    const one = kiln.sequential({ layers: [kiln.layers.categoryEncoding({ inputShape: [1], numTokens: 3, outputMode: 'one_hot' } as never)] });
    await one.ready();
    expect(one.predict(kiln.tensor([[2], [0], [7]], undefined, 'int32')).arraySync()).toEqual([[0, 0, 1], [1, 0, 0], [0, 0, 0]]);
  });
});
