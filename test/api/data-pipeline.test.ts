/** kiln.data: the rest of the tf.data surface — map in parallel, unbatch, paddedBatch, zip, concatenate, flatMap, interleave, window, prefetch, cache, strings. */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const nums = (n: number) => kiln.data.fromArray(range(n));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Dataset.map with numParallelCalls', () => {
  test('keeps the order while calls overlap, and runs at most that many at once', async () => {
    let inFlight = 0;
    let most = 0;
    const ds = nums(12).map(async (i) => {
      most = Math.max(most, ++inFlight);
      await sleep((12 - i) % 4); // later calls often finish first
      inFlight--;
      return i * 10;
    }, { numParallelCalls: 3 });
    expect(await ds.toArray()).toEqual(range(12).map((i) => i * 10));
    expect(most).toBe(3);
    expect(await nums(5).map((i) => i + 1, { numParallelCalls: kiln.data.AUTOTUNE }).toArray()).toEqual([1, 2, 3, 4, 5]);
  });

  test('an error in one call reaches the consumer', async () => {
    const ds = nums(6).map(async (i) => { if (i === 3) throw new Error('bad 3'); return i; }, { numParallelCalls: 2 });
    await expect(ds.toArray()).rejects.toThrow('bad 3');
  });

  test('refuses a bad parallelism and unknown options', () => {
    expect(() => nums(3).map((x) => x, { numParallelCalls: 0 })).toThrow('Dataset.map: expected numParallelCalls to be a positive integer or kiln.data.AUTOTUNE, got 0.');
    expect(() => nums(3).map((x) => x, { parallel: 2 } as never)).toThrow("unknown option 'parallel'");
  });
});

describe('batch, unbatch and paddedBatch', () => {
  test('unbatch gives back the rows of every leaf, strings included', async () => {
    const x = kiln.tensor([[1, 2], [3, 4], [5, 6]]);
    const y = kiln.tensor([7, 8, 9], [3], 'int32');
    const batches = kiln.data.fromArray([{ x, y, name: ['a', 'b', 'c'] }]);
    const rows = await batches.unbatch().toArray();
    expect(rows.map((r) => [r.x.arraySync(), r.y.itemSync(), r.name])).toEqual([[[1, 2], 7, 'a'], [[3, 4], 8, 'b'], [[5, 6], 9, 'c']]);
    expect(rows[0]!.y.dtype).toBe('int32');
    const again = await kiln.data.fromTensors([x, y]).batch(2).unbatch().toArray();
    expect(again.map(([a, b]) => [a.arraySync(), b.itemSync()])).toEqual([[[1, 2], 7], [[3, 4], 8], [[5, 6], 9]]);
  });

  test('unbatch refuses leaves of different batch sizes', async () => {
    const bad = kiln.data.fromArray([[kiln.zeros([2, 3]), kiln.zeros([3])]]);
    await expect(bad.unbatch().toArray()).rejects.toThrow('Dataset.unbatch: expected every part of an element to have the same first dimension, got 2 and 3 (at element[1]).');
  });

  test('batch stacks strings into string arrays and refuses mixed leaves', async () => {
    const rows = kiln.data.fromArray([{ city: 'Oslo', t: 3 }, { city: 'Lima', t: 19 }]);
    const [b] = await rows.batch(2).toArray();
    expect(b!.city).toEqual(['Oslo', 'Lima']);
    expect(b!.t.arraySync()).toEqual([3, 19]);
    await expect(kiln.data.fromArray<unknown>(['a', 1]).batch(2).toArray()).rejects.toThrow('Dataset.batch: expected element of every element to be a string, got 1 in element 1.');
  });

  test('paddedBatch pads each Tensor to the longest in its batch, or to the given shape, with the given value', async () => {
    const seqs = [[1], [2, 3, 4], [5, 6], [7, 8, 9, 10, 11]].map((s) => kiln.tensor(s, [s.length], 'int32'));
    const batches = await kiln.data.fromArray(seqs).paddedBatch(2).toArray();
    expect(batches.map((b) => b.arraySync())).toEqual([[[1, 0, 0], [2, 3, 4]], [[5, 6, 0, 0, 0], [7, 8, 9, 10, 11]]]);
    expect(batches[0]!.dtype).toBe('int32');
    const fixed = await kiln.data.fromArray(seqs).paddedBatch(3, { paddedShapes: [6], paddingValues: -1, dropRemainder: true }).toArray();
    expect(fixed.length).toBe(1);
    expect(fixed[0]!.arraySync()).toEqual([[1, -1, -1, -1, -1, -1], [2, 3, 4, -1, -1, -1], [5, 6, -1, -1, -1, -1]]);
    // 2-d leaves in a record: each dimension padded at its end
    const imgs = [kiln.tensor([[1, 2]]), kiln.tensor([[3], [4]])].map((t) => ({ t, label: 1 }));
    const [b] = await kiln.data.fromArray(imgs).paddedBatch(2, { paddedShapes: { t: [null, 3] } }).toArray();
    expect(b!.t.arraySync()).toEqual([[[1, 2, 0], [0, 0, 0]], [[3, 0, 0], [4, 0, 0]]]);
    expect(b!.label.arraySync()).toEqual([1, 1]);
  });

  test('paddedBatch refuses a padded shape smaller than an element', async () => {
    const ds = kiln.data.fromArray([kiln.tensor([1, 2, 3])]).paddedBatch(1, { paddedShapes: [2] });
    await expect(ds.toArray()).rejects.toThrow('Dataset.paddedBatch: expected paddedShapes for element to leave room for every element, got 2 for dimension 0 where an element has 3.');
  });
});

describe('zip, concatenate, flatMap, interleave', () => {
  test('zip pairs elements (list or record) and stops at the shortest', async () => {
    const pairs = await kiln.data.zip([nums(3), kiln.data.fromArray(['a', 'b', 'c', 'd'])]).toArray();
    expect(pairs).toEqual([[0, 'a'], [1, 'b'], [2, 'c']]);
    expect(kiln.data.zip([nums(3), nums(5)]).size).toBe(3);
    const rec = await kiln.data.zip({ x: nums(2), y: nums(2).map((i) => -i) }).toArray();
    expect(rec).toEqual([{ x: 0, y: -0 }, { x: 1, y: -1 }]);
    expect(() => kiln.data.zip([nums(2), [1, 2] as never])).toThrow('kiln.data.zip: expected datasets[1] to be a Dataset, got a list of 2.');
  });

  test('concatenate and flatMap', async () => {
    const both = nums(2).concatenate(kiln.data.fromArray([10, 11]));
    expect(both.size).toBe(4);
    expect(await both.toArray()).toEqual([0, 1, 10, 11]);
    expect(await nums(3).flatMap((i) => range(i).map((k) => `${i}.${k}`)).toArray()).toEqual(['1.0', '2.0', '2.1']);
    expect(await nums(2).flatMap((i) => nums(2).map((k) => i * 10 + k)).toArray()).toEqual([0, 1, 10, 11]);
    await expect(nums(2).flatMap(() => 5 as never).toArray()).rejects.toThrow('Dataset.flatMap: expected the function to return a Dataset, an array or an iterable, got 5.');
  });

  test('interleave follows tf.data: cycleLength datasets, blockLength from each in turn, exhausted ones replaced', async () => {
    // tf.data.Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4)
    const expected = [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5];
    const make = (x: number) => kiln.data.fromArray([x]).repeat(6);
    const ds = kiln.data.fromArray([1, 2, 3, 4, 5]).interleave(make, { cycleLength: 2, blockLength: 4 });
    expect(await ds.toArray()).toEqual(expected);
    const ahead = kiln.data.fromArray([1, 2, 3, 4, 5]).interleave(make, { cycleLength: 2, blockLength: 4, numParallelCalls: 2 });
    expect(await ahead.toArray()).toEqual(expected);
  });
});

describe('window', () => {
  test('windows with shift and stride, as tf.data makes them', async () => {
    const windows = async (ds: kiln.data.Dataset<kiln.data.Dataset<number>>) => Promise.all((await ds.toArray()).map((w) => w.toArray()));
    // tf.data.Dataset.range(7).window(3, shift=2, stride=1)
    expect(await windows(nums(7).window(3, { shift: 2 }))).toEqual([[0, 1, 2], [2, 3, 4], [4, 5, 6], [6]]);
    expect(await windows(nums(7).window(3, { shift: 2, dropRemainder: true }))).toEqual([[0, 1, 2], [2, 3, 4], [4, 5, 6]]);
    // range(7).window(3, shift=1, stride=2, drop_remainder=True)
    expect(await windows(nums(7).window(3, { shift: 1, stride: 2, dropRemainder: true }))).toEqual([[0, 2, 4], [1, 3, 5], [2, 4, 6]]);
    expect(await windows(nums(5).window(2))).toEqual([[0, 1], [2, 3], [4]]);
    expect(nums(7).window(3, { shift: 2, dropRemainder: true }).size).toBe(3);
    expect(nums(7).window(3, { shift: 2 }).size).toBe(4);
    const batched = await nums(6).window(4, { shift: 1, dropRemainder: true }).flatMap((w) => w.batch(4)).toArray();
    expect(batched.map((t) => t.arraySync())).toEqual([[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]);
  });
});

describe('prefetch and cache', () => {
  test('prefetch runs the producer ahead while the consumer works', async () => {
    const produced: number[] = [];
    const ds = nums(6).map(async (i) => { await sleep(1); produced.push(i); return i; }).prefetch(3);
    const seenAhead: number[] = [];
    for await (const i of ds) {
      await sleep(15); // the training step
      seenAhead.push(produced.length - (i + 1));
    }
    expect(Math.max(...seenAhead)).toBeGreaterThanOrEqual(2); // elements were ready before they were asked for
    expect(await nums(4).prefetch(2).toArray()).toEqual([0, 1, 2, 3]);
  });

  test('cache in memory: the pipeline before it runs once; an unfinished pass is not kept', async () => {
    let calls = 0;
    const ds = nums(4).map((i) => (calls++, i * 2)).cache();
    expect(await ds.take(2).toArray()).toEqual([0, 2]);
    expect(await ds.toArray()).toEqual([0, 2, 4, 6]);
    const after = calls;
    expect(await ds.toArray()).toEqual([0, 2, 4, 6]);
    expect(calls).toBe(after);
  });

  test('cache to a file: written after a whole pass, read back by a new pipeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cache-'));
    const file = join(dir, 'rows.cache');
    let calls = 0;
    const make = () => nums(3).map((i) => (calls++, { x: kiln.tensor([i, i + 0.5]), y: kiln.tensor([i], [1], 'int32'), s: `r${i}` })).cache(file);
    const first = await make().toArray();
    expect(existsSync(file)).toBe(true);
    calls = 0;
    const second = await make().toArray();
    expect(calls).toBe(0);
    expect(second.map((e) => [e.x.arraySync(), e.y.arraySync(), e.y.dtype, e.s])).toEqual(first.map((e) => [e.x.arraySync(), e.y.arraySync(), 'int32', e.s]));
    writeFileSync(file, readFileSync(file).subarray(0, 30));
    await expect(make().toArray()).rejects.toThrow(`Dataset.cache: "${file}" is damaged; delete it to rebuild the cache.`);
  });
});
