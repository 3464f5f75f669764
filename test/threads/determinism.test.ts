/**
 * Threads share work without changing a bit: a CNN and an MLP trained with 1, 2,
 * 3 and 4 threads end with the same weights and losses, and equal the run on
 * ordinary (unshared) memory; a run-time error on one thread aborts the others
 * without a hang, and the module runs again afterwards.
 */
import { afterAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { load } from '../../src/runtime/index.js';

const initial = kiln.getThreads();
afterAll(() => kiln.setThreads(initial));

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

interface Run { losses: number[]; weights: string[]; threads: number }

/** Trains a seeded model for a few batches with `threads` threads; the weights as bits. */
async function train(threads: number, build: () => kiln.Sequential, x: kiln.Tensor, y: kiln.Tensor): Promise<Run> {
  kiln.setThreads(threads);
  kiln.utils.setRandomSeed(11);
  const model = build();
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.01 }), loss: 'categoricalCrossentropy' });
  const losses: number[] = [await model.trainOnBatch(x, y) as number]; // builds the module; its workers instantiate it meanwhile
  for (let waited = 0; model.threadCount < threads && waited < 10_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
  for (let step = 0; step < 3; step++) losses.push(await model.trainOnBatch(x, y) as number);
  const weights = model.getWeights().map((w) => bits(w.dataSync()));
  return { losses, weights, threads: model.threadCount };
}

const cnn = () => kiln.sequential({ layers: [
  kiln.layers.conv2d({ inputShape: [16, 16, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
  kiln.layers.maxPooling2d({ poolSize: 2 }),
  kiln.layers.conv2d({ filters: 24, kernelSize: 3, activation: 'relu' }),
  kiln.layers.averagePooling2d({ poolSize: 2 }),
  kiln.layers.flatten(),
  kiln.layers.dense({ units: 10, activation: 'softmax' }),
] });

const mlp = () => kiln.sequential({ layers: [
  kiln.layers.dense({ inputShape: [300], units: 256, activation: 'relu' }),
  kiln.layers.dense({ units: 130, activation: 'tanh' }),
  kiln.layers.dense({ units: 10, activation: 'softmax' }),
] });

function data(shape: number[], seed: number) {
  const x = kiln.randomNormal(shape, { seed });
  const labels = kiln.randomUniform([shape[0]!], { seed: seed + 1, minval: 0, maxval: 10 }).floor().cast('int32');
  return { x, y: kiln.oneHot(labels, 10) };
}

/** `g` compiled on each thread count, each module's workers ready (checked), with its generated source. */
async function onThreads(g: kiln.Graph, counts: readonly number[]) {
  const out = [];
  for (const t of counts) {
    kiln.setThreads(t);
    const { module, manifest, source } = await kiln.compileModule({ run: g });
    if (t > 1) {
      expect(manifest.entries.run!.thread).toBe(0);
      expect(await module.threaded()).toBe(t);
    }
    out.push({ module, source });
  }
  return out;
}

describe('threads', () => {
  for (const [name, build, shape] of [['CNN', cnn, [37, 16, 16, 3]], ['MLP', mlp, [45, 300]]] as const) {
    test(`a ${name} trains to the same bits with 1, 2, 3 and 4 threads`, async () => {
      const { x, y } = data([...shape], 3);
      const runs: Run[] = [];
      for (const t of [1, 2, 3, 4]) runs.push(await train(t, build, x, y));
      expect(runs.map((r) => r.threads)).toEqual([1, 2, 3, 4]); // the pool really ran them
      expect(runs[0]!.losses.every(Number.isFinite)).toBe(true);
      for (const r of runs.slice(1)) {
        expect(r.losses).toEqual(runs[0]!.losses);
        expect(r.weights).toEqual(runs[0]!.weights);
      }
    }, 120_000);
  }

  test('predict at batch 1 and at the largest batch gives the bits of one thread', async () => {
    const { x } = data([64, 16, 16, 3], 9);
    const outputs: string[][] = [];
    for (const t of [1, 2]) {
      kiln.setThreads(t);
      kiln.utils.setRandomSeed(4);
      const model = cnn();
      await model.ready();
      for (let waited = 0; model.threadCount < t && waited < 10_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
      outputs.push([bits((model.predict(x) as kiln.Tensor).dataSync()), bits((model.predict(x.slice([0], [1])) as kiln.Tensor).dataSync())]);
    }
    expect(outputs[1]).toEqual(outputs[0]);
  });

  test('a GEMM shared by rows: the bits of one thread at any batch, across blocks of k and n', async () => {
    const g = kiln.trace((a, b, c, bias) => ({
      wide: kiln.relu(kiln.add(kiln.matmul(a, b), bias)), // k 300 and n 520: two blocks of each; bias and relu in the GEMM
      transposed: kiln.matmul(a, c, { transposeB: true }), // B read transposed: [B,300]·[130,300]ᵀ
    }), [kiln.spec([null, 300]), kiln.spec([300, 520]), kiln.spec([130, 300]), kiln.spec([520])]);
    const values = (shape: number[], seed: number) => kiln.randomNormal(shape, { seed }).dataSync() as Float32Array;
    const [b, c, bias] = [values([300, 520], 21), values([130, 300], 22), values([520], 23)];
    const results: string[][] = [];
    let a530: Float32Array | undefined, wide: Float32Array | undefined;
    for (const t of [1, 2, 3, 4]) {
      kiln.setThreads(t);
      const { module, source } = await kiln.compileModule({ run: g }, { maxBatch: 600 }); // rows ≥ columns: shared by rows
      if (t > 1) {
        expect(await module.threaded()).toBe(t);
        expect(source.match(/f32_gemm__simd128\(hi - lo, /g)).toHaveLength(2); // rows shared
      }
      const runs: string[] = [];
      for (const batch of [530, 13, 3]) { // 13 rows: one share; 3: the few-rows path on every thread
        const a = values([batch, 300], batch);
        const out = module.run('run', { input_0: a, input_1: b, input_2: c, input_3: bias });
        runs.push(...Object.values(out).map((v) => bits(v.data)));
        if (batch === 530) [a530, wide] = [a, out.wide!.data as Float32Array];
      }
      results.push(runs);
    }
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
    // and the values are the product (float64 reference within rounding), here from 4 threads
    for (const [i, j] of [[0, 0], [529, 519], [300, 260], [5, 511], [140, 8]] as const) {
      let s = bias[j]!;
      for (let p = 0; p < 300; p++) s += a530![i * 300 + p]! * b[p * 520 + j]!;
      expect(wide![i * 520 + j]).toBeCloseTo(Math.max(s, 0), 3);
    }
  });

  test('reductions share their output: column sums, trailing-axis sums, max and min give the bits of one thread and the interpreter', async () => {
    const g = kiln.trace((x, ids) => ({
      columns: kiln.sum(x, [0, 1]), // a bias gradient: 48 columns over 64·120 rows, shared in 16s
      rows: kiln.sum(x, -1), // per-row sums over the trailing axis
      largest: kiln.max(x, [1, 2]),
      smallest: kiln.min(kiln.reshape(x, [64, 5760]), -1),
      counts: kiln.sum(ids, -1), // int32
    }), [kiln.spec([64, 120, 48]), kiln.spec([256, 1024], 'int32')]); // each with at least 3 shares of the split's minimum work
    const x = kiln.randomNormal([64, 120, 48], { seed: 5 }).dataSync() as Float32Array;
    const ids = Int32Array.from({ length: 256 * 1024 }, (_, i) => (i * 7919) % 13 - 6);
    const expected = kiln.interpret(g, { input_0: { dtype: 'float32', shape: [64, 120, 48], data: x }, input_1: { dtype: 'int32', shape: [256, 1024], data: ids } });
    const results: Record<string, string>[] = [];
    for (const { module, source } of await onThreads(g, [1, 2, 3])) {
      if (module.threadCount > 1) expect(source.match(/= (sum|max|min) .*\[shared\]/g)).toHaveLength(5); // every reduction split
      const out = module.run('run', { input_0: x, input_1: ids });
      results.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, bits(v.data)])));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    for (const [name, value] of Object.entries(expected.outputs)) expect(results[0]![name]).toBe(bits(value.data)); // float64 sums, as the reference
  });

  test('nonFinite shares its scan: each thread flags its range, thread 0 ORs the flags; the answer wherever the bad value is', async () => {
    const n = 100_003; // shares of 8-aligned ranges and a tail
    const g = kiln.trace((x) => ({ flag: kiln.nonFinite(x), big: kiln.nonFinite(x, { limit: 1e6 }) }), [kiln.spec([n])]);
    const compiled = await onThreads(g, [1, 2, 3]);
    for (const { module, source } of compiled) if (module.threadCount > 1) expect(source.match(/= nonFinite .*\[shared\]/g)).toHaveLength(2);
    const modules = compiled.map((c) => c.module);
    const x = new Float32Array(n).fill(0.5);
    for (const [at, value] of [[-1, 0], [3, Number.NaN], [50_001, Number.POSITIVE_INFINITY], [n - 1, Number.NaN], [n - 5, 2e6], [70_000, -Number.POSITIVE_INFINITY]] as const) {
      const data = x.slice();
      if (at >= 0) data[at] = value;
      const expected = kiln.interpret(g, { input: { dtype: 'float32', shape: [n], data } }).outputs;
      for (const m of modules) {
        const out = m.run('run', { input: data });
        expect([out.flag!.data[0], out.big!.data[0]], `a ${value} at ${at}`).toEqual([expected.flag!.data[0], expected.big!.data[0]]);
      }
    }
  });

  test('a worker busy with one module\'s back-to-back runs still takes a module loaded meanwhile', async () => {
    const square = (n: number) => kiln.trace((a, b) => kiln.matmul(a, b), [kiln.spec([n, n]), kiln.spec([n, n])]);
    kiln.setThreads(1);
    const later = await kiln.compileModule({ run: square(192) }); // built now, loaded on 2 threads while the other runs
    const [{ module: busy }] = await onThreads(square(256), [2]);
    const a = new Float32Array(256 * 256).fill(0.5);
    let stop = false;
    let runs = 0;
    // runs come well within the workers' 2 ms blocking wait, each after a macrotask turn of this thread only
    const loop = (async () => { while (!stop) { busy!.run('run', { input_0: a, input_1: a }, { views: true }); runs++; await new Promise((resolve) => setImmediate(resolve)); } })();
    while (runs < 20) await new Promise((resolve) => setImmediate(resolve));
    const fresh = await load(later.binary, later.manifest); // setThreads(2) from onThreads: posts the module to the busy workers
    for (let waited = 0; fresh.threadCount < 2 && waited < 3000; waited += 1) await new Promise((resolve) => setTimeout(resolve, 1));
    stop = true;
    await loop;
    expect(fresh.threadCount).toBe(2);
    expect(runs).toBeGreaterThan(20); // the first module kept running meanwhile
  });

  test('a run-time error on thread 0 releases the workers: a KilnRuntimeError, then the module runs again', async () => {
    kiln.setThreads(2);
    const g = kiln.trace((table, ids, w) => kiln.matmul(kiln.gather(table, ids), w), [kiln.spec([50, 128]), kiln.spec([64], 'int32'), kiln.spec([128, 256])]);
    const { module, manifest } = await kiln.compileModule({ run: g });
    expect(manifest.entries.run!.thread).toBe(0); // the matmul is shared
    expect(await module.threaded()).toBe(2);
    const table = kiln.randomNormal([50, 128], { seed: 1 }).dataSync() as Float32Array;
    const w = kiln.randomNormal([128, 256], { seed: 2 }).dataSync() as Float32Array;
    const good = Int32Array.from({ length: 64 }, (_, i) => i % 50);
    const first = bits(module.run('run', { input_0: table, input_1: good, input_2: w }).output!.data);
    const bad = good.slice();
    bad[7] = 50;
    expect(() => module.run('run', { input_0: table, input_1: bad, input_2: w })).toThrow(/gather: index 50 is out of range \[0, 50\)/);
    expect(bits(module.run('run', { input_0: table, input_1: good, input_2: w }).output!.data)).toBe(first);
  });

  test('bad thread counts are refused by name', () => {
    expect(() => kiln.setThreads(0)).toThrow('setThreads: expected a whole number of threads from 1 to 64, got 0.');
    expect(() => kiln.setThreads(1.5)).toThrow('got 1.5');
    expect(() => kiln.setNumThreads(-2)).toThrow('got -2');
    expect(() => kiln.setThreads(Number.NaN)).toThrow('got NaN');
  });
});
