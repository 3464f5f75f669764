/**
 * Keras's loss masking: when a model's output carries a mask (an embedding with
 * maskZero, then layers that pass it on: returnSequences, timeDistributed,
 * dense), the per-step losses are weighted by it — padded steps count for
 * nothing and the mean is over the real steps — in evaluate and in training,
 * with values computed by hand.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

/** An embedding whose vector for id k is [k]: its output is the ids as floats, masked where id 0. */
function idsModel(steps: number): kiln.Sequential {
  const model = kiln.sequential({ layers: [kiln.layers.embedding({ inputDim: 4, outputDim: 1, maskZero: true, inputShape: [steps] })] });
  model.setWeights([kiln.tensor([[0], [1], [2], [3]])]);
  return model;
}
const ids = kiln.tensor(Int32Array.from([1, 2, 0, 3, 0, 0]), [2, 3], 'int32');

describe('losses weighted by the output\'s mask', () => {
  test('mse over the real steps only: (1² + 2² + 3²) / 3, not / 6', async () => {
    const model = idsModel(3);
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0 }), loss: 'mse' });
    const loss = (await model.evaluate(ids, kiln.zeros([2, 3, 1]))) as kiln.Tensor;
    expect(loss.dataSync()[0]).toBeCloseTo(14 / 3, 5);
    // the training step's loss (the weighted path, with every example's weight 1) is the same
    expect(await model.trainOnBatch(ids, kiln.zeros([2, 3, 1]))).toBeCloseTo(14 / 3, 5);
    // labels at padded steps do not matter
    const noisy = kiln.tensor([[[0], [0], [50]], [[0], [-7], [9]]]);
    expect(((await model.evaluate(ids, noisy)) as kiln.Tensor).dataSync()[0]).toBeCloseTo(14 / 3, 5);
  });

  test('a batch mean over several batches weights each batch by its examples, as before (mean of the batches\' masked means)', async () => {
    const model = idsModel(3);
    model.compile({ optimizer: 'sgd', loss: 'mae' });
    // batch 1: ids [1,2,0] → |1|+|2| over 2 real steps = 1.5; batch 2: [3,0,0] → 3 over 1 = 3; evaluate's mean over examples: (1.5 + 3) / 2
    const loss = (await model.evaluate(ids, kiln.zeros([2, 3, 1]), { batchSize: 1 })) as kiln.Tensor;
    expect(loss.dataSync()[0]).toBeCloseTo(2.25, 5);
  });

  test('sparse categorical crossentropy over a sequence (labels [n, steps]) through lstm returnSequences and timeDistributed dense', async () => {
    const model = kiln.sequential({
      layers: [
        kiln.layers.embedding({ inputDim: 6, outputDim: 4, maskZero: true, inputShape: [4] }),
        kiln.layers.lstm({ units: 5, returnSequences: true, seed: 1 }),
        kiln.layers.timeDistributed({ layer: kiln.layers.dense({ units: 3, activation: 'softmax' }) }),
      ],
    });
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.5 }), loss: 'sparseCategoricalCrossentropy' });
    const x = kiln.tensor(Int32Array.from([1, 2, 3, 0, 4, 5, 0, 0]), [2, 4], 'int32');
    const y = kiln.tensor(Int32Array.from([0, 1, 2, 0, 2, 1, 0, 0]), [2, 4], 'int32');
    const p = (model.predict(x) as kiln.Tensor).dataSync();
    const real = [0, 1, 2, 4, 5];
    const want = real.reduce((s, k) => s - Math.log(p[k * 3 + y.dataSync()[k]!]!), 0) / real.length;
    const evaluated = ((await model.evaluate(x, y)) as kiln.Tensor).dataSync()[0]!;
    expect(evaluated).toBeCloseTo(want, 5);
    // padded steps give no gradient: other labels there leave the step's result unchanged
    const before = model.getWeights();
    const lossA = await model.trainOnBatch(x, y);
    const afterA = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.setWeights(before);
    const lossB = await model.trainOnBatch(x, kiln.tensor(Int32Array.from([0, 1, 2, 2, 2, 1, 1, 2]), [2, 4], 'int32'));
    expect(lossB).toBeCloseTo(lossA as number, 6);
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(afterA[i]));
    expect(lossA).toBeCloseTo(want, 5);
    // accuracy over the real steps only
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.5 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const q = (model.predict(x) as kiln.Tensor).dataSync();
    const right = real.filter((k) => [0, 1, 2].reduce((best, c) => (q[k * 3 + c]! > q[k * 3 + best]! ? c : best), 0) === y.dataSync()[k]).length;
    const [, accuracy] = (await model.evaluate(x, y)) as kiln.Tensor[];
    expect(accuracy!.dataSync()[0]).toBeCloseTo(right / real.length, 6);
  });

  test('a functional output with a mask weights its loss; an output without one does not', async () => {
    const x = kiln.input({ shape: [3], dtype: 'int32' });
    const emb = kiln.layers.embedding({ inputDim: 4, outputDim: 1, maskZero: true });
    const seq = emb.apply(x) as kiln.SymbolicTensor;
    const pooled = kiln.layers.flatten().apply(seq) as kiln.SymbolicTensor; // flatten drops the mask
    const model = kiln.model({ inputs: x, outputs: [seq, pooled] });
    model.setWeights([kiln.tensor([[0], [1], [2], [3]])]);
    model.compile({ optimizer: 'sgd', loss: ['mse', 'mse'] });
    const [total, first, second] = (await model.evaluate(ids, [kiln.zeros([2, 3, 1]), kiln.zeros([2, 3])])) as kiln.Tensor[];
    expect(first!.dataSync()[0]).toBeCloseTo(14 / 3, 5);
    expect(second!.dataSync()[0]).toBeCloseTo(14 / 6, 5);
    expect(total!.dataSync()[0]).toBeCloseTo(14 / 3 + 14 / 6, 5);
  });

  test('mean metrics of a sequence output are means over its real steps (Keras weights them by the mask)', async () => {
    const model = idsModel(3);
    model.compile({ optimizer: 'sgd', loss: 'mae', metrics: ['mse', 'mae'] });
    // over two batches of one example: the epoch's mse is Σ over real steps / their number, not a mean of the batches
    const [loss, mse, mae] = (await model.evaluate(ids, kiln.zeros([2, 3, 1]), { batchSize: 1 })) as kiln.Tensor[];
    expect(loss!.dataSync()[0]).toBeCloseTo(2.25, 5);
    expect(mse!.dataSync()[0]).toBeCloseTo(14 / 3, 5);
    expect(mae!.dataSync()[0]).toBeCloseTo(6 / 3, 5);
    // a sequence without a mask: accuracy is the fraction of all steps right (at most 1)
    const tagger = kiln.sequential({ layers: [kiln.layers.dense({ units: 2, inputShape: [3, 2], useBias: false })] });
    tagger.setWeights([kiln.tensor([[1, 0], [0, 1]])]); // the class is the larger feature
    tagger.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const x = kiln.tensor([[[1, 0], [0, 1], [1, 0]], [[0, 1], [0, 1], [1, 0]]]);
    const y = kiln.tensor(Int32Array.from([0, 1, 1, 1, 0, 0]), [2, 3], 'int32'); // 4 of 6 right
    const [, accuracy] = (await tagger.evaluate(x, y)) as kiln.Tensor[];
    expect(accuracy!.dataSync()[0]).toBeCloseTo(4 / 6, 6);
    const history = await tagger.fit(x, y, { epochs: 1, verbose: 0, shuffle: false, batchSize: 1 });
    expect(history.history.accuracy![0]).toBeCloseTo(4 / 6, 6); // the weights barely move at lr 0.01
  });

  test('an exported artifact evaluates a masked sequence model as the model does (loss, and accuracy as total / count)', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const runtime = await import('../../src/runtime/index.js');
    const model = kiln.sequential({ layers: [kiln.layers.embedding({ inputDim: 6, outputDim: 3, maskZero: true, inputShape: [4] }), kiln.layers.dense({ units: 3 })] });
    model.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const x = kiln.tensor(Int32Array.from([1, 2, 3, 0, 4, 5, 0, 0]), [2, 4], 'int32');
    const y = kiln.tensor(Int32Array.from([0, 1, 2, 0, 2, 1, 0, 0]), [2, 4], 'int32');
    const [loss, accuracy] = (await model.evaluate(x, y)) as kiln.Tensor[];
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-masked-art-')), 'm.kiln');
    await model.export(file, { entries: ['predict', 'trainStep', 'evaluate'] });
    const art = await runtime.loadArtifact(readFileSync(file));
    const logs = art.evaluate(Float32Array.from(x.dataSync()), y.dataSync() as Int32Array); // a Sequential takes float ids
    expect(logs.loss).toBeCloseTo(loss!.dataSync()[0]!, 5);
    expect(logs.accuracy_count).toBe(5);
    expect(logs.accuracy_total! / logs.accuracy_count!).toBeCloseTo(accuracy!.dataSync()[0]!, 6);
    expect(() => art.evaluate(Float32Array.from(x.dataSync()), Int32Array.from([0, 1, 2, 0, 2, 7, 0, 0]))).toThrow(/label "y" expects class indices in 0…2, got 7 at example 5/);
  });

  test('classWeight with a class per step is refused, naming what it got', async () => {
    const model = idsModel(3);
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await expect(model.fit(ids, kiln.tensor(Int32Array.from([0, 0, 0, 0, 0, 0]), [2, 3], 'int32'), { classWeight: { 0: 2 }, verbose: 0 })).rejects.toThrow(/classWeight weights each example by its class, but the labels i32\[2,3\] give a class per step/);
  });
});
