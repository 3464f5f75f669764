/** kiln.sequential: compile, fit, evaluate, predict, trainOnBatch, weights, summary — compiled end to end. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { blobs } from '../util/blobs.js';

const mlp = () => kiln.sequential({ layers: [
  kiln.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }),
  kiln.layers.dense({ units: 3 }),
] });

describe('Sequential', () => {
  test('fits separable data, with validation, and evaluates and predicts', async () => {
    const model = mlp();
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const { x, y } = blobs(300, 1);
    const history = await model.fit(x, y, { epochs: 8, batchSize: 32, validationSplit: 0.2, verbose: 0 });
    expect(history.epoch).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const loss = history.history.loss!;
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]!);
    expect(history.history.val_accuracy![7]).toBeGreaterThan(0.9);
    const test = blobs(90, 2);
    const [evalLoss, accuracy] = (await model.evaluate(test.x, test.y)) as kiln.Tensor[];
    expect(accuracy!.itemSync()).toBeGreaterThan(0.9);
    expect(evalLoss!.itemSync()).toBeLessThan(0.5);
    const logits = model.predict(test.x, { batchSize: 7 }); // 90 rows in batches of 7: the last is smaller
    expect(logits.shape).toEqual([90, 3]);
    const predicted = kiln.argmax(logits, -1).dataSync();
    const hits = Array.from(predicted).filter((p, i) => p === test.y.dataSync()[i]).length;
    expect(hits / 90).toBeCloseTo(accuracy!.itemSync(), 5);
  }, 120_000);

  test('one trainOnBatch step equals the reference interpreter’s SGD step', async () => {
    const model = mlp();
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
    const before = model.getWeights();
    const { x, y } = blobs(8, 3);
    const loss = (await model.trainOnBatch(x, y)) as number;
    // the same step by hand, in the interpreter
    const f = (w1: kiln.Tensor, b1: kiln.Tensor, w2: kiln.Tensor, b2: kiln.Tensor) =>
      kiln.sparseCategoricalCrossentropy(y, kiln.add(kiln.matmul(kiln.relu(kiln.add(kiln.matmul(x, w1), b1)), w2), b2));
    const { value, grad } = kiln.valueAndGrad(f, [0, 1, 2, 3])(...before);
    expect(loss).toBeCloseTo(value.itemSync(), 5);
    model.getWeights().forEach((w, i) => {
      const want = kiln.sub(before[i]!, kiln.mul(grad[i]!, 0.1)).dataSync();
      w.dataSync().forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 5));
    });
  }, 120_000);

  test('summary prints layers, shapes and parameter counts', () => {
    const lines: string[] = [];
    mlp().summary((l) => lines.push(l));
    const text = lines.join('\n');
    expect(text).toMatch(/dense\w* \(Dense\)\s+\[null,16\]\s+80/);
    expect(text).toMatch(/\[null,3\]\s+51/);
    expect(text).toContain('Total params: 131');
  });

  test('setWeights then predict uses the new weights, before any compile', () => {
    const model = mlp();
    model.setWeights(model.getWeights().map((w) => kiln.zerosLike(w)));
    expect(Array.from(model.predict(kiln.ones([2, 4])).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test('says what is wrong with the data or the order of calls', async () => {
    const model = mlp();
    await expect(model.fit(kiln.ones([4, 4]), kiln.zeros([4], 'int32'))).rejects.toThrow('Sequential "sequential": call model.compile({ optimizer, loss }) before fit.');
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await expect(model.fit(kiln.ones([4, 5]), kiln.zeros([4], 'int32'))).rejects.toThrow('fit: expected x of shape [n,4], got f32[4,5].');
    await expect(model.fit(kiln.ones([4, 4]), kiln.zeros([3], 'int32'))).rejects.toThrow('fit: expected as many labels as examples (4), got i32[3].');
    expect(() => model.compile({ optimizer: 'adam', loss: 'crossEntropy' })).toThrow(/^compile: unknown loss "crossEntropy"; expected one of /);
  });
});
