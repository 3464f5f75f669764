/**
 * timeseriesDatasetFromArray against windows computed by hand and Keras's two
 * documented examples; padSequences against Keras's pad_sequences semantics.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const batches = async (ds: kiln.data.Dataset<unknown>) => (await ds.toArray()) as (kiln.Tensor | kiln.Tensor[])[];

describe('timeseriesDatasetFromArray', () => {
  test("Keras's first example: indices 0 … 98, sequenceLength 10, samplingRate 2, sequenceStride 3", async () => {
    const ds = kiln.utils.timeseriesDatasetFromArray(range(99), null, { sequenceLength: 10, samplingRate: 2, sequenceStride: 3, batchSize: 128 });
    const [x] = (await batches(ds)) as kiln.Tensor[];
    const windows = x!.arraySync() as number[][];
    expect(windows[0]).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(windows[1]).toEqual([3, 5, 7, 9, 11, 13, 15, 17, 19, 21]);
    expect(windows[2]).toEqual([6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
    expect(windows.at(-1)).toEqual([78, 80, 82, 84, 86, 88, 90, 92, 94, 96]);
    expect(windows).toHaveLength(27); // starts 0, 3, …, 78: the windows that end by step 98
  });

  test("Keras's second example: the past 10 steps and the next one as target", async () => {
    const data = range(50).map((i) => i * 1.5);
    const ds = kiln.utils.timeseriesDatasetFromArray(data.slice(0, -10), data.slice(10), { sequenceLength: 10, batchSize: 8 });
    const all = (await batches(ds)) as kiln.Tensor[][];
    expect(Array.from(all[0]![0]!.slice([0, 0], [1, -1]).dataSync())).toEqual(data.slice(0, 10));
    expect(all[0]![1]!.dataSync()[0]).toBe(data[10]);
    // every window i: steps i … i+9, target step i+10; 31 windows fit in 40 steps
    const windows = all.flatMap(([x]) => x!.arraySync() as number[][]);
    const targets = all.flatMap(([, y]) => Array.from(y!.dataSync()));
    expect(windows).toHaveLength(31);
    windows.forEach((w, i) => {
      expect(w).toEqual(data.slice(i, i + 10));
      expect(targets[i]).toBe(data[i + 10]);
    });
    expect(all.map(([x]) => x!.shape[0])).toEqual([8, 8, 8, 7]);
  });

  test('windows by hand: startIndex, endIndex, features, integer targets and unbatched windows', async () => {
    // 12 steps of 2 features: step t is [t, 100 + t]
    const data = kiln.tensor(range(12).flatMap((t) => [t, 100 + t]), [12, 2]);
    const labels = kiln.tensor(range(12).map((t) => t % 3), [12], 'int32');
    const ds = kiln.utils.timeseriesDatasetFromArray(data, labels, { sequenceLength: 3, samplingRate: 2, sequenceStride: 2, startIndex: 1, endIndex: 11, batchSize: null });
    const items = (await batches(ds)) as kiln.Tensor[][];
    // steps 1 … 10; a window spans 5 steps, so 6 start offsets fit (0 … 5), taken every 2: 0, 2, 4 → steps 1, 3, 5
    expect(items.map(([x]) => x!.arraySync())).toEqual([
      [[1, 101], [3, 103], [5, 105]],
      [[3, 103], [5, 105], [7, 107]],
      [[5, 105], [7, 107], [9, 109]],
    ]);
    expect(items.map(([, y]) => [y!.dtype, y!.shape, y!.dataSync()[0]])).toEqual([['int32', [], 1], ['int32', [], 0], ['int32', [], 2]]);
    expect(ds.size).toBe(3);
  });

  test('shuffle: the same windows in a seeded order, another order at the next pass, the same again with the same seed', async () => {
    const make = () => kiln.utils.timeseriesDatasetFromArray(range(40), range(40), { sequenceLength: 4, batchSize: 5, shuffle: true, seed: 3 });
    const order = async (ds: kiln.data.Dataset<unknown>) => ((await batches(ds)) as kiln.Tensor[][]).flatMap(([, y]) => Array.from(y!.dataSync()));
    const ds = make();
    const first = await order(ds);
    const second = await order(ds);
    expect([...first].sort((a, b) => a - b)).toEqual(range(37));
    expect(first).not.toEqual(range(37));
    expect(second).not.toEqual(first);
    expect(await order(make())).toEqual(first);
    // each window still matches its target
    for (const [x, y] of (await batches(make())) as kiln.Tensor[][]) {
      const w = x!.arraySync() as number[][];
      Array.from(y!.dataSync()).forEach((t, i) => expect(w[i]).toEqual([t, t + 1, t + 2, t + 3]));
    }
  });

  test('trains a small model on a series (windows → dense)', async () => {
    const series = range(300).map((t) => Math.sin(t / 8));
    const ds = kiln.utils.timeseriesDatasetFromArray(series.slice(0, -1), series.slice(8).map((v) => [v]), { sequenceLength: 8, batchSize: 32 });
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [8], units: 1 })] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: 'meanSquaredError' });
    const history = await model.fit(ds, { epochs: 20, verbose: 0 });
    const loss = history.history.loss!;
    expect(loss.at(-1)!).toBeLessThan(loss[0]! / 10);
  });

  test('bad arguments are named', () => {
    const f = (o: object, data: unknown = range(10), targets: unknown = null) => () => kiln.utils.timeseriesDatasetFromArray(data as number[], targets as null, o as never);
    expect(f({ sequenceLength: 0 })).toThrow('timeseriesDatasetFromArray: expected sequenceLength to be a positive integer, got 0.');
    expect(f({ sequenceLength: 3, samplingRate: 1.5 })).toThrow('timeseriesDatasetFromArray: expected samplingRate to be a positive integer, got 1.5.');
    expect(f({ sequenceLength: 3, endIndex: 11 })).toThrow('timeseriesDatasetFromArray: expected endIndex to be an integer in (0, 10], got 11.');
    expect(f({ sequenceLength: 20 })).toThrow('timeseriesDatasetFromArray: no window fits: steps 0 … 9 hold 10, one window spans 20 (sequenceLength 20, samplingRate 1).');
    expect(f({ sequenceLength: 3 }, [1, NaN, 3])).toThrow('timeseriesDatasetFromArray: expected finite numbers in data, got NaN at step 1.');
    expect(f({ sequenceLength: 3, stride: 2 })).toThrow(/^timeseriesDatasetFromArray: unknown option 'stride'; expected one of sequenceLength, /);
  });
});

describe('padSequences', () => {
  test("Keras's defaults: pad and truncate at the start to the longest", () => {
    const x = kiln.utils.padSequences([[1, 2, 3], [4, 5], [6]]);
    expect(x.dtype).toBe('int32');
    expect(x.arraySync()).toEqual([[1, 2, 3], [0, 4, 5], [0, 0, 6]]);
  });

  test('maxlen, post padding, post truncating, a value, float32, empty sequences', () => {
    const seqs = [[1, 2, 3, 4], [5], []];
    expect(kiln.utils.padSequences(seqs, { maxlen: 2 }).arraySync()).toEqual([[3, 4], [0, 5], [0, 0]]);
    expect(kiln.utils.padSequences(seqs, { maxlen: 2, truncating: 'post' }).arraySync()).toEqual([[1, 2], [0, 5], [0, 0]]);
    expect(kiln.utils.padSequences(seqs, { maxlen: 3, padding: 'post', value: -1 }).arraySync()).toEqual([[2, 3, 4], [5, -1, -1], [-1, -1, -1]]);
    const f = kiln.utils.padSequences([[0.5], [1.5, 2.5]], { dtype: 'float32', padding: 'post' });
    expect([f.dtype, f.arraySync()]).toEqual(['float32', [[0.5, 0], [1.5, 2.5]]]);
    expect(kiln.utils.padSequences([]).shape).toEqual([0, 0]);
  });

  test('bad input is named', () => {
    expect(() => kiln.utils.padSequences([[1, 2.5]])).toThrow('padSequences: expected integers, got 2.5 at sequence 0, position 1.');
    expect(() => kiln.utils.padSequences([[1], 'ab' as never])).toThrow('padSequences: expected sequence 1 to be a list of numbers, got string.');
    expect(() => kiln.utils.padSequences([[1]], { padding: 'middle' as never })).toThrow("padSequences: expected padding 'pre' or 'post', got \"middle\".");
  });
});
