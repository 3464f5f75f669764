/**
 * What goes into a PyTorch-style loop: exact messages for bad input (backward
 * misuse, mixed dtypes, shape errors inside forward, a graph used after a step
 * changed its weights), the DataLoader and TensorDataset batch by batch, and
 * the creation functions value by value.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { messageOf } from '../util/errors.js';

const { nn } = kiln;
const file = 'test/torch/inputs.test.ts';
const message = (f: () => unknown) => messageOf(f, file);

beforeEach(() => kiln.setCompilePolicy({ compileAt: Infinity }));
afterEach(() => kiln.setCompilePolicy({ compileAt: 2 }));

describe('bad input: errors name the module and op and point at the user\'s line', () => {
  test('backward on a non-scalar without a gradient', () => {
    const w = kiln.tensor([1, 2], { requiresGrad: true });
    expect(message(() => w.mul(2).backward())).toBe(`backward: expected a scalar (one element) or a gradient argument, got f32[2]; pass the upstream gradient, e.g. y.backward(kiln.onesLike(y)) (at ${file}:L).`);
    expect(message(() => w.mul(2).backward(kiln.tensor([1, 2, 3])))).toBe(`backward: expected a gradient of type f32[2], got f32[3] (at ${file}:L).`);
  });

  test('backward on a tensor that does not require grad', () => {
    expect(message(() => kiln.tensor([1, 2]).sum().backward())).toBe(`backward: expected a tensor that requires grad, got f32[] that does not (its inputs do not require grad, or it was made under noGrad or by detach()) (at ${file}:L).`);
    const w = kiln.tensor([1, 2], { requiresGrad: true });
    expect(message(() => kiln.noGrad(() => w.sum()).backward())).toMatch(/^backward: expected a tensor that requires grad/);
  });

  test('backward twice through one graph, and a graph used after a step changed its weights', async () => {
    const w = kiln.tensor([1, 2], { requiresGrad: true });
    const loss = w.mul(w).sum();
    loss.backward();
    expect(message(() => loss.backward())).toBe(`backward: tried to backward through the graph of f32[] a second time; pass { retainGraph: true } to the first backward() to do that (at ${file}:L).`);
    const twice = w.mul(w).sum();
    twice.backward(undefined, { retainGraph: true });
    twice.backward(); // allowed: the graph was retained
    expect(Array.from(w.grad!.dataSync())).toEqual([2 + 4, 4 + 8]); // the first loss's gradient, then twice's twice

    const fc = new nn.Linear(2, 1, { seed: 1 });
    const opt = new kiln.optim.SGD(fc.parameters(), { lr: 0.1 });
    const out = fc.forward(kiln.ones([1, 2]));
    out.sum().backward();
    const later = out.mul(2); // recorded before the step, read after it: its first op on a parameter (the bias add) is stale
    await opt.step();
    expect(message(() => later.itemSync())).toBe(`add: this tensor was computed from "bias" before an update changed it (optimizer.step(), an in-place copy or loadStateDict); read it before the update (await t.item()) or compute it again. To backward through a graph twice, call backward once and read .grad before stepping (at ${file}:L).`);
  });

  test('mixing dtypes inside forward', () => {
    class Net extends nn.Module {
      fc = new nn.Linear(2, 2, { seed: 1 });
      forward(x: kiln.Tensor) {
        return this.fc.forward(x).add(kiln.tensor([1, 2], { dtype: 'int32' }));
      }
    }
    expect(message(() => new Net().forward(kiln.ones([1, 2])))).toBe(`Net: add: expected operands of one dtype, got f32[1,2] and i32[2]; cast one of them (at ${file}:L).`);
    expect(message(() => nn.functional.crossEntropy(kiln.ones([2, 3]), kiln.tensor([0, 1])))).toBe(`crossEntropy: expected int32 class labels, got f32[2]; for probabilities use a soft-label loss (at ${file}:L).`);
    expect(message(() => nn.functional.crossEntropy(kiln.ones([2, 3]), kiln.tensor([0, 3], { dtype: 'int32' })))).toBe(`crossEntropy: expected class labels in [0, 3) or ignoreIndex -100, got 3 at index 1 (at ${file}:L).`);
  });

  test('shape errors inside forward name the submodule by its path, the op and the user\'s line', () => {
    class Net extends nn.Module {
      features = new nn.Sequential(new nn.Conv2d(1, 2, 3, { seed: 1 }), new nn.Flatten());
      head = new nn.Linear(10, 2, { seed: 2 });
      forward(x: kiln.Tensor) {
        return this.head.forward(this.features.forward(x));
      }
    }
    const net = new Net(); // never asked for its parameters: the first forward names the submodules
    expect(message(() => net.forward(kiln.ones([1, 1, 5, 5])))).toBe(`Linear "head": linear: expected input features 10 (weight f32[2,10]), got input f32[1,18] (at ${file}:L).`);
    expect(message(() => net.forward(kiln.ones([1, 2, 5, 5])))).toBe(`Conv2d "features.0": conv2d: expected 1 input channels (weight f32[2,1,3,3]), got input f32[1,2,5,5] (at ${file}:L).`);
    expect(message(() => new nn.LSTM(3, 4).forward(kiln.ones([2, 5, 2])))).toBe(`LSTM: lstm: expected a float32 input [T, N, features] with 3 features, got f32[2,5,2] (at ${file}:L).`);
    expect(message(() => new nn.GRU(3, 4, { numLayers: 2, batchFirst: true }).forward(kiln.ones([2, 5, 3]), kiln.zeros([1, 2, 4])))).toBe(`GRU: gru: expected h0 of shape [2,2,4], got f32[1,2,4] (at ${file}:L).`);
  });

  test('the reported line is the one inside forward that made the bad call', () => {
    class Net extends nn.Module {
      fc = new nn.Linear(3, 2, { seed: 1 });
      forward(x: kiln.Tensor) {
        return this.fc.forward(x); // ← this line
      }
    }
    let raw = '';
    try {
      new Net().forward(kiln.ones([1, 2]));
    } catch (e) {
      raw = (e as Error).message;
    }
    const at = Number(/inputs\.test\.ts:(\d+)\)\.$/.exec(raw)![1]);
    expect(readFileSync(new URL(import.meta.url), 'utf8').split('\n')[at - 1]).toContain('// ← this line');
  });
});

describe('DataLoader and TensorDataset', () => {
  const ds = new kiln.utils.data.TensorDataset(kiln.arange(20).reshape([10, 2]).cast('float32'), kiln.arange(10));
  const labels = (loader: Iterable<kiln.Tensor[]>) => [...loader].map(([, y]) => Array.from(y!.dataSync()));

  test('batches rows in order, with the last batch smaller unless dropLast', () => {
    const loader = new kiln.utils.data.DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map(([x, y]) => [x!.shape, x!.dtype, y!.shape, y!.dtype])).toEqual([[[4, 2], 'float32', [4], 'int32'], [[4, 2], 'float32', [4], 'int32'], [[2, 2], 'float32', [2], 'int32']]);
    expect(batches[1]![0]!.arraySync()).toEqual([[8, 9], [10, 11], [12, 13], [14, 15]]);
    expect(labels(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const dropping = new kiln.utils.data.DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dropping.length).toBe(2);
    expect(labels(dropping)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(labels(new kiln.utils.data.DataLoader(ds))).toEqual(Array.from({ length: 10 }, (_, i) => [i])); // batchSize 1 by default
  });

  test('shuffles with a seed: a permutation per epoch, new each epoch, the same on every run', () => {
    const make = (seed: number) => new kiln.utils.data.DataLoader(ds, { batchSize: 3, shuffle: true, seed });
    const a = make(4);
    const [e1, e2] = [labels(a), labels(a)];
    expect(e1.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect([...e1.flat()].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e2.flat()).not.toEqual(e1.flat());
    const b = make(4);
    expect([labels(b), labels(b)]).toEqual([e1, e2]);
    expect(labels(make(5)).flat()).not.toEqual(e1.flat());
    // rows stay together: x row i is [2i, 2i + 1]
    for (const [x, y] of make(4)) expect(x!.arraySync()).toEqual(Array.from(y!.dataSync(), (i) => [2 * i, 2 * i + 1]));
  });

  test('a map-style Dataset is stacked into batches', () => {
    class Squares extends kiln.utils.data.Dataset {
      get length() { return 5; }
      get(i: number) { return [kiln.tensor([i, i * i]), kiln.tensor([i % 2], { dtype: 'int32' })]; }
    }
    const batches = [...new kiln.utils.data.DataLoader(new Squares(), { batchSize: 2 })];
    expect(batches.map(([x]) => x!.arraySync())).toEqual([[[0, 0], [1, 1]], [[2, 4], [3, 9]], [[4, 16]]]);
    expect(batches[0]![1]!.dtype).toBe('int32');
    expect(batches[0]![1]!.arraySync()).toEqual([[0], [1]]);
  });

  test('bad arguments', () => {
    expect(message(() => new kiln.utils.data.TensorDataset(kiln.ones([3, 2]), kiln.ones([4])))).toBe(`TensorDataset: expected tensors with the same first dimension, got f32[3,2] and f32[4] (at ${file}:L).`);
    expect(message(() => new kiln.utils.data.DataLoader(ds, { batchSize: 0 }))).toBe(`DataLoader: expected a positive integer batchSize, got 0 (at ${file}:L).`);
  });
});

describe('creation functions', () => {
  test('tensor and fromArray: float32 by default (float64 input converted), dtype when given', () => {
    const t = kiln.tensor([[1, 2.5], [3, 4]]);
    expect([t.dtype, t.shape, t.arraySync()]).toEqual(['float32', [2, 2], [[1, 2.5], [3, 4]]]);
    const wide = kiln.fromArray(new Float64Array([0.1, 2]), [2, 1]);
    expect([wide.dtype, wide.shape]).toEqual(['float32', [2, 1]]);
    expect(wide.dataSync()).toEqual(new Float32Array([0.1, 2]));
    expect(kiln.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(kiln.tensor([1, 2], { dtype: 'int32' }).dataSync()).toEqual(new Int32Array([1, 2]));
    expect(kiln.tensor([true, false]).dtype).toBe('bool');
    expect(kiln.fromArray([1, 2], undefined, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(message(() => kiln.tensor([1.5], { dtype: 'int32' }))).toBe(`tensor: expected integers for dtype int32, got 1.5 at index 0 (at ${file}:L).`);
    expect(message(() => kiln.tensor([1, 2, 3], [2, 2]))).toBe(`tensor: expected 4 values for shape [2,2], got 3 (at ${file}:L).`);
  });

  test('arange, linspace, zeros, ones, full and eye', () => {
    expect([kiln.arange(5).dtype, kiln.arange(5).arraySync()]).toEqual(['int32', [0, 1, 2, 3, 4]]);
    expect(kiln.arange(2, 8, 3).arraySync()).toEqual([2, 5]);
    expect(kiln.arange(3, 0, -1).arraySync()).toEqual([3, 2, 1]);
    const fractional = kiln.arange(0, 1, 0.3);
    expect(fractional.dtype).toBe('float32');
    expect(fractional.dataSync()).toEqual(new Float32Array([0, 0.3, 0.6, 0.9]));
    expect(kiln.arange(4, undefined, 1, { dtype: 'float32' }).dtype).toBe('float32');
    expect(kiln.linspace(-1, 1, 5).arraySync()).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(kiln.linspace(2, 3, 1).arraySync()).toEqual([2]);
    expect(kiln.zeros([2, 3]).arraySync()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(kiln.zeros([2], 'int32').dtype).toBe('int32');
    expect(kiln.ones([1, 2]).arraySync()).toEqual([[1, 1]]);
    expect(kiln.full([2, 2], -1.5).arraySync()).toEqual([[-1.5, -1.5], [-1.5, -1.5]]);
    expect(kiln.full([2], 3, { dtype: 'int32' }).dataSync()).toEqual(new Int32Array([3, 3]));
    expect(kiln.eye(3).arraySync()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(kiln.eye(3, 2).arraySync()).toEqual([[1, 0], [0, 1], [0, 0]]);
    expect(message(() => kiln.arange(0, 1, 0))).toBe(`arange: expected a non-zero finite step, got 0 (at ${file}:L).`);
  });

  test('rand, randn and randint are seeded and have the right ranges and moments', () => {
    const u = kiln.rand([10000], { seed: 1 }).dataSync();
    expect(kiln.rand([10000], { seed: 1 }).dataSync()).toEqual(u);
    expect(kiln.rand([10000], { seed: 2 }).dataSync()).not.toEqual(u);
    expect(Math.min(...u) >= 0 && Math.max(...u) < 1).toBe(true);
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.01);
    const z = kiln.randn([100, 100], { seed: 3 });
    expect([z.dtype, z.shape]).toEqual(['float32', [100, 100]]);
    const zs = z.dataSync();
    expect(Math.abs(mean(zs))).toBeLessThan(0.03);
    expect(Math.abs(mean(Array.from(zs, (v) => v * v)) - 1)).toBeLessThan(0.05);
    const r = kiln.randint(-2, 3, [5000], { seed: 4 });
    expect(r.dtype).toBe('int32');
    const counts = [-2, -1, 0, 1, 2].map((k) => r.dataSync().filter((v) => v === k).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5000);
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
    expect(kiln.randint(0, 10, [4], { seed: 9 }).dataSync()).toEqual(kiln.randint(0, 10, [4], { seed: 9 }).dataSync());
    expect(kiln.randn([2], { seed: 1, requiresGrad: true }).requiresGrad).toBe(true);
  });
});
