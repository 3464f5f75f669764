/**
 * One model, one state (issue: a whole training run silently lost). While a fit
 * runs, a call that needs a larger module, another fit, a trainOnBatch or a save
 * used to rebuild from weights copied before the fit and replace its trained
 * module. Each pair below runs concurrently and must end with the weights and
 * results of running the two calls one after the other.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const n = 96;
const x = kiln.randomNormal([n, 6], { seed: 1 });
const y = kiln.tensor(Array.from({ length: n }, (_, i) => i % 3), [n], 'int32');

function build(): kiln.LayersModel {
  const init = (seed: number) => kiln.layers.initializers.glorotUniform({ seed });
  const model = kiln.sequential({ layers: [
    kiln.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: init(1) } as never),
    kiln.layers.dense({ units: 3, kernelInitializer: init(2) } as never),
  ] });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.01 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return model as kiln.LayersModel;
}

const weights = (m: kiln.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
const fitArgs = { epochs: 4, batchSize: 16, shuffle: false, verbose: 0 as const };

type Second = (m: kiln.LayersModel) => Promise<unknown>;
const seconds: [string, Second][] = [
  ['ready(256)', (m) => m.ready(256)],
  ['evaluate with batchSize 512', (m) => m.evaluate(x, y, { batchSize: 512 }).then((r) => (r as kiln.Tensor[]).map((t) => t.itemSync()))],
  ['trainOnBatch on 100 rows', (m) => m.trainOnBatch(kiln.concat([x, x.slice([0, 0], [4, 6])]), kiln.concat([y, y.slice([0], [4])]))],
  ['a second fit with a bigger batch', (m) => m.fit(x, y, { ...fitArgs, epochs: 1, batchSize: 80 }).then((h) => h.history.loss)],
  ['save', (m) => m.save(join(mkdtempSync(join(tmpdir(), 'kiln-q-')), 'm.kiln'))],
];

describe('calls on one model take turns', () => {
  for (const [name, second] of seconds) {
    test(`fit + ${name}, started together, end as fit then ${name}`, async () => {
      const sequential = build();
      const h1 = await sequential.fit(x, y, fitArgs);
      const r1 = await second(sequential);
      const concurrent = build();
      const [h2, r2] = await Promise.all([concurrent.fit(x, y, fitArgs), second(concurrent)]);
      expect(h2.history.loss).toEqual(h1.history.loss);
      expect(weights(concurrent)).toEqual(weights(sequential));
      if (r1 !== undefined) expect(r2).toEqual(r1);
      expect(weights(concurrent)).not.toEqual(weights(build())); // trained, not the initial weights
    });
  }

  test('a failing call does not block the next; a checkpoint saving inside fit does not wait on fit', async () => {
    const model = build();
    const bad = model.fit(x, kiln.tensor(Array(n).fill(7), [n], 'int32'), fitArgs);
    const good = model.fit(x, y, { ...fitArgs, epochs: 1 });
    await expect(bad).rejects.toThrow();
    expect((await good).history.loss!.length).toBe(1);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-q-'));
    const h = await model.fit(x, y, { ...fitArgs, epochs: 2, callbacks: [kiln.callbacks.modelCheckpoint({ filepath: join(dir, 'ckpt-{epoch}.kiln') })] });
    expect(h.epoch).toEqual([0, 1]);
  });
});
