/** kiln.data: Dataset pipelines (fromTensors, shuffle, batch, map, take, skip, repeat) and model.fit/evaluate on them. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { blobs } from '../util/blobs.js';

const mlp = () => kiln.sequential({ layers: [
  kiln.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
  kiln.layers.dense({ units: 3 }),
] });

const compiled = () => {
  const model = mlp();
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return model;
};

const ids = (n: number) => kiln.tensor(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32');
const items = async (ds: kiln.data.Dataset<kiln.Tensor>) => (await ds.toArray()).map((t) => t.itemSync());
const sorted = (a: number[]) => [...a].sort((p, q) => p - q);
/** The first n rows of t. */
const head = (t: kiln.Tensor, n: number) => {
  const shape = t.shape as number[];
  return kiln.tensor(t.dataSync().slice(0, (n * t.size) / shape[0]!), [n, ...shape.slice(1)], t.dtype);
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('kiln.data.fromTensors', () => {
  test('slices along axis 0: one Tensor, a list, a record', async () => {
    const x = kiln.tensor([[1, 2], [3, 4], [5, 6]]);
    const y = kiln.tensor([0, 1, 2], [3], 'int32');
    const one = kiln.data.fromTensors(x);
    expect(one.size).toBe(3);
    const rows = await one.toArray();
    expect(rows.map((r) => r.arraySync())).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(rows[0]!.shape).toEqual([2]);
    const pairs = await kiln.data.fromTensors([x, y]).toArray();
    expect(pairs.length).toBe(3);
    expect(pairs[2]![0].arraySync()).toEqual([5, 6]);
    expect(pairs[2]![1].itemSync()).toBe(2);
    expect(pairs[2]![1].dtype).toBe('int32');
    const records = await kiln.data.fromTensors({ a: x, b: y }).toArray();
    expect(records[1]!.a.arraySync()).toEqual([3, 4]);
    expect(records[1]!.b.itemSync()).toBe(1);
  });

  test('errors: mismatched first dimensions, scalars, non-tensors, empty', () => {
    expect(() => kiln.data.fromTensors([kiln.ones([3, 2]), kiln.ones([4])])).toThrow('kiln.data.fromTensors: expected every tensor to have the same first dimension, got 3 for tensors[0] and 4 for tensors[1].');
    expect(() => kiln.data.fromTensors({ a: kiln.ones([2]), b: kiln.ones([5, 1]) })).toThrow('got 2 for tensors.a and 5 for tensors.b');
    expect(() => kiln.data.fromTensors(kiln.tensor(3))).toThrow('kiln.data.fromTensors: expected tensors to have a first dimension to slice, got f32[].');
    expect(() => kiln.data.fromTensors([kiln.ones([2]), [1, 2] as unknown as kiln.Tensor])).toThrow('kiln.data.fromTensors: expected tensors[1] to be a Tensor, got a list of 2.');
    expect(() => kiln.data.fromTensors([])).toThrow('expected a Tensor, or a non-empty list or record of Tensors');
  });
});

describe('Dataset.shuffle', () => {
  test('is a permutation, reproducible with a seed', async () => {
    const ds = kiln.data.fromTensors(ids(50));
    const a = await items(ds.shuffle(50, { seed: 7 }));
    expect(sorted(a)).toEqual(range(50));
    expect(a).not.toEqual(range(50));
    expect(await items(ds.shuffle(50, { seed: 7 }))).toEqual(a); // a new dataset, same seed: same order
    expect(await items(ds.shuffle(50, { seed: 8 }))).not.toEqual(a);
    // a small buffer: still every element once, and an element moves at most bufferSize − 1 places earlier
    const local = await items(ds.shuffle(4, { seed: 1 }));
    expect(sorted(local)).toEqual(range(50));
    local.forEach((v, i) => expect(v).toBeLessThanOrEqual(i + 3));
  });

  test('reshuffles at each iteration unless told not to', async () => {
    const ds = kiln.data.fromTensors(ids(30)).shuffle(100, { seed: 3 });
    const first = await items(ds);
    const second = await items(ds);
    expect(sorted(second)).toEqual(range(30));
    expect(second).not.toEqual(first);
    const again = kiln.data.fromTensors(ids(30)).shuffle(100, { seed: 3 });
    expect(await items(again)).toEqual(first); // the sequence of orders is reproducible
    expect(await items(again)).toEqual(second);
    const fixed = kiln.data.fromTensors(ids(30)).shuffle(100, { seed: 3, reshuffleEachIteration: false });
    expect(await items(fixed)).toEqual(await items(fixed));
    expect(() => kiln.data.fromTensors(ids(3)).shuffle(0)).toThrow('Dataset.shuffle: expected bufferSize to be a positive integer, got 0.');
  });
});

describe('Dataset.batch', () => {
  test('stacks examples with a leading batch dimension; the remainder, or dropRemainder', async () => {
    const x = kiln.tensor(Float32Array.from({ length: 20 }, (_, i) => i), [10, 2]);
    const ds = kiln.data.fromTensors([x, ids(10)]);
    const batches = await ds.batch(4).toArray();
    expect(ds.batch(4).size).toBe(3);
    expect(batches.map(([b]) => b.shape)).toEqual([[4, 2], [4, 2], [2, 2]]);
    expect(batches[2]![0].arraySync()).toEqual([[16, 17], [18, 19]]);
    expect(batches[1]![1].arraySync()).toEqual([4, 5, 6, 7]);
    expect(batches[1]![1].dtype).toBe('int32');
    const dropped = ds.batch(4, { dropRemainder: true });
    expect(dropped.size).toBe(2);
    expect((await dropped.toArray()).map(([b]) => b.shape[0])).toEqual([4, 4]);
    // records, and numbers from map
    const rec = await kiln.data.fromTensors({ a: x }).map((e) => ({ a: e.a, n: e.a.dataSync()[0]! })).batch(3).toArray();
    expect(rec[0]!.a.shape).toEqual([3, 2]);
    expect(rec[0]!.n.arraySync()).toEqual([0, 2, 4]);
    // batching copies the batch's rows: the source tensor is untouched
    (batches[0]![0].value!.data as Float32Array)[0] = 99;
    expect(x.dataSync()[0]).toBe(0);
    expect(() => ds.batch(0)).toThrow('Dataset.batch: expected batchSize to be a positive integer, got 0.');
    await expect(kiln.data.fromArray([kiln.ones([2]), kiln.ones([3])]).batch(2).toArray()).rejects.toThrow('Dataset.batch: expected element of every element to be f32[2], got f32[3] in element 1.');
  });
});

describe('Dataset.map, take, skip, repeat', () => {
  test('compose lazily with known sizes', async () => {
    const ds = kiln.data.fromTensors(ids(10));
    let calls = 0;
    const doubled = ds.map((t) => (calls++, kiln.mul(t, 2)));
    expect(calls).toBe(0); // lazy
    expect(await items(doubled.take(3))).toEqual([0, 2, 4]);
    expect(calls).toBe(3);
    expect(doubled.size).toBe(10);
    expect(await items(ds.skip(7))).toEqual([7, 8, 9]);
    expect(ds.skip(7).size).toBe(3);
    expect(ds.skip(20).size).toBe(0);
    expect(ds.take(20).size).toBe(10);
    expect(await items(ds.take(2).repeat(3))).toEqual([0, 1, 0, 1, 0, 1]);
    expect(ds.take(2).repeat(3).size).toBe(6);
    expect(ds.repeat().size).toBe(Infinity);
    expect(await items(ds.repeat().skip(8).take(4))).toEqual([8, 9, 0, 1]);
    await expect(ds.repeat().toArray()).rejects.toThrow('Dataset.toArray: the dataset is infinite');
    expect(await items(ds.filter((t) => t.itemSync() % 3 === 0))).toEqual([0, 3, 6, 9]);
    expect(ds.filter(() => true).size).toBeUndefined();
    // async map, async iteration
    const seen: number[] = [];
    for await (const b of ds.map(async (t) => t.itemSync() + 1).take(3)) seen.push(b);
    expect(seen).toEqual([1, 2, 3]);
    // repeat re-iterates: a shuffle inside it gives a new order each pass
    const twice = await items(kiln.data.fromTensors(ids(20)).shuffle(20, { seed: 5 }).repeat(2));
    expect(sorted(twice.slice(0, 20))).toEqual(range(20));
    expect(twice.slice(20)).not.toEqual(twice.slice(0, 20));
    expect(() => ds.take(-1)).toThrow('Dataset.take: expected a non-negative integer count, got -1.');
  });
});

describe('fit and evaluate on a Dataset', () => {
  test('learns, and gives the History of fit on the same tensors without shuffling', async () => {
    const { x, y } = blobs(150, 1);
    const val = blobs(60, 2);
    const a = compiled();
    const fromTensors = await a.fit(x, y, { epochs: 4, batchSize: 32, shuffle: false, validationData: [val.x, val.y], verbose: 0 });
    const b = compiled();
    const ds = kiln.data.fromTensors([x, y]).batch(32);
    const fromDataset = await b.fit(ds, { epochs: 4, validationData: kiln.data.fromTensors([val.x, val.y]).batch(32), verbose: 0 });
    expect(fromDataset).toEqual(fromTensors);
    const loss = fromDataset.history.loss!;
    expect(loss[3]).toBeLessThan(loss[0]!);
    expect(fromDataset.history.val_accuracy![3]).toBeGreaterThan(0.9);
    expect(b.getWeights().map((w) => w.dataSync())).toEqual(a.getWeights().map((w) => w.dataSync()));
    // evaluate on a dataset equals evaluate on the tensors
    const onTensors = (await a.evaluate(val.x, val.y, { batchSize: 16 })) as kiln.Tensor[];
    const onDataset = (await a.evaluate(kiln.data.fromTensors([val.x, val.y]).batch(16))) as kiln.Tensor[];
    expect(onDataset.map((t) => t.itemSync())).toEqual(onTensors.map((t) => t.itemSync()));
    // { xs, ys } elements, as TF.js' fitDataset takes
    const xsys = (await a.evaluate(kiln.data.fromTensors({ xs: val.x, ys: val.y }).batch(16))) as kiln.Tensor[];
    expect(xsys.map((t) => t.itemSync())).toEqual(onTensors.map((t) => t.itemSync()));
    expect(((await a.evaluate(kiln.data.fromTensors([val.x, val.y]).batch(16), { steps: 2 })) as kiln.Tensor[])[0]!.itemSync())
      .toBeCloseTo((((await a.evaluate(head(val.x, 32), head(val.y, 32), { batchSize: 16 })) as kiln.Tensor[])[0]!.itemSync()), 6);
  }, 120_000);

  test('a shuffled dataset: each epoch a new order, stepsPerEpoch, callbacks, a larger later batch', async () => {
    const { x, y } = blobs(96, 3);
    const model = compiled();
    const params: unknown[] = [];
    const batches: number[] = [];
    const ds = kiln.data.fromTensors([x, y]).shuffle(96, { seed: 0 }).batch(16);
    const history = await model.fit(ds, { epochs: 3, verbose: 0, callbacks: { setParams: (p) => params.push(p), onBatchEnd: (b) => void batches.push(b) } });
    expect(history.epoch).toEqual([0, 1, 2]);
    expect(params).toEqual([{ epochs: 3, initialEpoch: 0, steps: 6, batchSize: 16, samples: NaN, verbose: 0 }]);
    expect(batches).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    // stepsPerEpoch cycles through the dataset, an infinite one needs it
    const steps: number[] = [];
    await model.fit(ds.repeat(), { epochs: 2, stepsPerEpoch: 4, verbose: 0, callbacks: { onBatchEnd: (b) => void steps.push(b) } });
    expect(steps).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    const counted: number[] = [];
    await model.fit(ds, { epochs: 2, stepsPerEpoch: 10, verbose: 0, callbacks: { onBatchEnd: (b) => void counted.push(b) } });
    expect(counted.length).toBe(20);
    await expect(model.fit(ds.repeat(), { epochs: 1, verbose: 0 })).rejects.toThrow('fit: the dataset is infinite (repeat() without a count); pass stepsPerEpoch.');
    await expect(model.evaluate(ds.repeat())).rejects.toThrow('evaluate: the dataset is infinite (repeat() without a count); pass steps.');
    // batches growing past the module's maxBatch (32 at least) recompile, keeping the weights
    const grow = kiln.data.generator(function* () {
      yield [head(x, 16), head(y, 16)];
      yield [x, y]; // 96 rows
    });
    const before = (await model.evaluate(x, y, { batchSize: 96 })) as kiln.Tensor[];
    const evaluated = (await model.evaluate(kiln.data.fromTensors([x, y]).batch(96))) as kiln.Tensor[];
    expect(evaluated[0]!.itemSync()).toBeCloseTo(before[0]!.itemSync(), 6);
    const h = await model.fit(grow, { epochs: 1, verbose: 0 });
    expect(Number.isFinite(h.history.loss![0]!)).toBe(true);
  }, 120_000);

  test('errors: elements that are not [x, y] batches, options that do not apply', async () => {
    const { x, y } = blobs(12, 4);
    const model = compiled();
    await expect(model.fit(kiln.data.fromTensors(x).batch(4), { verbose: 0 })).rejects.toThrow("fit: expected the dataset's elements to be [x, y] batches or { xs, ys }, got f32[4,4].");
    await expect(model.fit(kiln.data.fromTensors([x, y]).batch(4), { batchSize: 4, verbose: 0 })).rejects.toThrow('fit: batchSize does not apply to a Dataset');
    await expect(model.fit(kiln.data.fromTensors([x, y]).batch(4), { validationSplit: 0.2, verbose: 0 })).rejects.toThrow('fit: validationSplit does not apply to a Dataset');
    await expect(model.fit(kiln.data.fromTensors([x, y]), { verbose: 0 })).rejects.toThrow('fit: expected x of shape [n,4], got f32[4].');
    await expect(model.fit(kiln.data.fromTensors([x, y]).take(0), { verbose: 0 })).rejects.toThrow('fit: the dataset has no batches.');
  }, 60_000);
});
