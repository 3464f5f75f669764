/** Models in models (Keras nesting): in a Sequential, applied in a functional model; values, training, freezing, summary, save/load. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { blobs } from '../util/blobs.js';

const flat = (t: kiln.Tensor) => Array.from(t.dataSync());

describe('nested models', () => {
  test('a trained model inside a Sequential computes the same function, trains, freezes, and saves', async () => {
    const { x, y } = blobs(60, 4);
    const base = kiln.sequential({ name: 'features', layers: [kiln.layers.dense({ inputShape: [4], units: 6, activation: 'tanh' })] });
    const head = kiln.layers.dense({ units: 3 });
    const outer = kiln.sequential({ name: 'outer', layers: [base, head] });
    // the nested model's weights start from its own values: outer = head(base(x))
    const features = base.predict(x) as kiln.Tensor;
    const [kernel, bias] = outer.getWeights().slice(2);
    const want = kiln.add(kiln.matmul(features, kernel!), bias!);
    flat(outer.predict(x) as kiln.Tensor).forEach((v, i) => expect(v).toBeCloseTo(flat(want)[i]!, 5));
    const lines: string[] = [];
    outer.summary((l) => lines.push(l));
    expect(lines.find((l) => l.startsWith('features'))).toMatch(/^features \(Sequential\)\s+\[null,6\]\s+30\s*$/);
    // frozen: training moves only the head
    base.asLayer().trainable = false;
    outer.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.5 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const before = outer.getWeights().map(flat);
    await outer.fit(x, y, { epochs: 2, batchSize: 20, verbose: 0 });
    const after = outer.getWeights().map(flat);
    expect(after.slice(0, 2)).toEqual(before.slice(0, 2));
    expect(after[2]).not.toEqual(before[2]);
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-nested-')), 'outer.kiln');
    await outer.save(path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.toConfig()).toEqual(outer.toConfig());
    flat(loaded.predict(x) as kiln.Tensor).forEach((v, i) => expect(v).toBeCloseTo(flat(outer.predict(x) as kiln.Tensor)[i]!, 4));
  }, 120_000);

  test('a model applied to a symbolic tensor in a functional model (shared, two branches)', async () => {
    const encoder = kiln.sequential({ name: 'encoder', layers: [kiln.layers.dense({ inputShape: [4], units: 3, activation: 'relu' })] });
    const a = kiln.input({ shape: [4] });
    const b = kiln.input({ shape: [4] });
    const joined = kiln.layers.add().apply([encoder.apply(a), encoder.apply(b)]);
    const model = kiln.model({ inputs: [a, b], outputs: kiln.layers.dense({ units: 1 }).apply(joined) });
    expect(model.countParams()).toBe(15 + 4);
    const { x } = blobs(5, 1);
    const e = encoder.predict(x) as kiln.Tensor;
    const [k, c] = model.getWeights().slice(2);
    const want = kiln.add(kiln.matmul(kiln.add(e, e), k!), c!);
    flat(model.predict([x, x]) as kiln.Tensor).forEach((v, i) => expect(v).toBeCloseTo(flat(want)[i]!, 5));
    expect(() => kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [5], units: 7 }), encoder] }).predict(kiln.zeros([1, 5]))).toThrow('Sequential "encoder": expected an input of shape [null,4], got [null,7]');
  }, 120_000);
});
