/**
 * Raw ops on functional-API tensors (Keras' TFOpLambda): `kiln.mul(x, 2)` with x
 * from kiln.input or layer.apply records an OpLambda layer; the model builds,
 * predicts what the ops compute, trains, saves and loads.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { messageOf as messageIn } from '../util/errors.js';

const here = 'test/api/op-layer.test.ts';
const messageOf = (f: () => unknown): string => messageIn(f, here);
const dir = mkdtempSync(join(tmpdir(), 'kiln-oplayer-'));
const seeded = (seed: number) => kiln.layers.initializers.glorotUniform({ seed });

/** x·W + b, row by row, in float64. */
function dense(x: number[][], w: number[][], b: number[]): number[][] {
  return x.map((row) => b.map((bj, j) => row.reduce((s, xi, i) => s + xi * w[i]![j]!, bj)));
}
const expectClose = (got: kiln.Tensor, want: number[][]) => {
  const g = got.arraySync() as number[][];
  expect(got.shape).toEqual([want.length, want[0]!.length]);
  g.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 5)));
};

describe('raw ops on functional-API tensors become layers', () => {
  test('kiln.mul(relu(dense(x)), 2) builds, predicts what the ops compute, trains and survives save/load', async () => {
    const inp = kiln.input({ shape: [4] });
    const h = kiln.layers.dense({ units: 3, kernelInitializer: seeded(1) }).apply(inp);
    const out = kiln.mul(kiln.relu(h), 2);
    expect(String(out)).toMatch(/^SymbolicTensor \[null,3\] from OpLambda "mul(_\d+)?"$/);
    const model = kiln.model({ inputs: inp, outputs: out });
    expect(model.layers.map((l) => l.className)).toEqual(['InputLayer', 'Dense', 'OpLambda', 'OpLambda']);
    const x = kiln.randomNormal([8, 4], { seed: 2 });
    const relu2 = (v: number[][]) => v.map((r) => r.map((e) => 2 * Math.max(e, 0)));
    const [w, b] = model.getWeights().map((t) => t.arraySync()) as [number[][], number[]];
    expectClose(model.predict(x) as kiln.Tensor, relu2(dense(x.arraySync() as number[][], w, b)));

    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.05 }), loss: 'meanSquaredError' });
    const y = kiln.randomNormal([8, 3], { seed: 3 });
    const history = await model.fit(x, y, { epochs: 5, batchSize: 8, verbose: 0 });
    expect(history.history.loss![4]!).toBeLessThan(history.history.loss![0]!);
    const [w2, b2] = model.getWeights().map((t) => t.arraySync()) as [number[][], number[]];
    expect(w2).not.toEqual(w);
    const trained = relu2(dense(x.arraySync() as number[][], w2, b2));
    expectClose(model.predict(x) as kiln.Tensor, trained);

    const path = join(dir, 'mul.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    expect((again as unknown as kiln.Functional).layers.map((l) => l.className)).toEqual(['InputLayer', 'Dense', 'OpLambda', 'OpLambda']);
    expectClose(again.predict(x) as kiln.Tensor, trained);
  });

  test('ops of two inputs, lists, shapes, options and tensor constants, saved and loaded', async () => {
    const a = kiln.input({ shape: [2] });
    const b = kiln.input({ shape: [2] });
    const scale = kiln.tensor([10, 100]);
    const sum = kiln.add(kiln.mul(a, scale), b); // [null,2]
    const joined = kiln.concat([sum, kiln.sub(a, b)], 1); // [null,4]
    const square = kiln.reshape(joined, [null, 2, 2]);
    const out = kiln.softmax(kiln.transpose(square, [0, 2, 1]), -1);
    expect(out.shape).toEqual([2, 2]);
    const model = kiln.model({ inputs: [a, b], outputs: out });
    const xa = kiln.tensor([[1, 2], [0, -1]]);
    const xb = kiln.tensor([[3, 4], [5, 6]]);
    const expected = (ra: number[], rb: number[]) => {
      const j = [ra[0]! * 10 + rb[0]!, ra[1]! * 100 + rb[1]!, ra[0]! - rb[0]!, ra[1]! - rb[1]!];
      const rows = [[j[0]!, j[2]!], [j[1]!, j[3]!]]; // transpose of [[j0, j1], [j2, j3]]
      return rows.map((r) => { const m = Math.max(...r); const e = r.map((v) => Math.exp(v - m)); const s = e[0]! + e[1]!; return e.map((v) => v / s); });
    };
    const check = (m: kiln.LayersModel) => {
      const got = (m.predict([xa, xb]) as kiln.Tensor).arraySync() as number[][][];
      [0, 1].forEach((i) => got[i]!.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(expected((xa.arraySync() as number[][])[i]!, (xb.arraySync() as number[][])[i]!)[r]![c]!, 5))));
    };
    check(model);
    const path = join(dir, 'ops.kiln');
    await model.save(path, { includeOptimizer: false });
    check(await kiln.loadModel(path));
  });

  test('int32 and bool intermediates keep their dtype; a cast back to float32 works', () => {
    const x = kiln.input({ shape: [3] });
    const positive = kiln.cast(kiln.gt(x, 0), 'float32');
    expect(kiln.gt(x, 0).dtype).toBe('bool');
    const model = kiln.model({ inputs: x, outputs: kiln.mul(positive, x) });
    expect((model.predict(kiln.tensor([[-1, 2, 0]])) as kiln.Tensor).arraySync()).toEqual([[-0, 2, 0]]);
  });

  test('an op that drops the batch dimension, or an op that is not recorded, is refused by name', () => {
    const x = kiln.input({ shape: [3], name: 'feat' });
    expect(messageOf(() => kiln.sum(x))).toMatch(/^OpLambda "sum(_\d+)?": expected sum to keep the batch dimension first \(a layer maps a batch to a batch\), got f32\[\] for inputs \[null,3\] \(at test\/api\/op-layer\.test\.ts:L\)\.$/);
    expect(kiln.sum(x, 1).shape).toEqual([]); // per example: fine
    expect(messageOf(() => kiln.gather(x as never, kiln.tensor([0], [1], 'int32'), 1))).toBe(
      `gather: expected a Tensor as input, got SymbolicTensor [null,3] from InputLayer "feat"; gather is not recorded as a layer on functional-API tensors (elementwise ops, matmul, reshape, transpose, expandDims, squeeze, concat, softmax and reductions are): use a kiln.layers layer, or a subclassed kiln.Model whose call uses gather (at ${here}:L).`,
    );
  });
});
