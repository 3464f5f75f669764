/**
 * hoistScanAccumulators: a reverse scan's weight and bias gradients stop being
 * carried — the body stacks the per-step operands and one contracting matmul (or
 * one sum) after the loop gives the total — and every result keeps its value
 * (static and dynamic batch, a run-time step count); a carry the body also reads
 * stays; `matmul … contract` itself against per-step products and finite differences,
 * and as the gradient of a matrix applied to a sequence (a dense layer on [N, T, F]).
 */
import { expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import type { Graph, Tensor, Value } from '../../compiler/index.js';
import { hoistScanAccumulators } from '../../compiler/passes/hoistScanAccumulators.js';
import { Rng } from '../util/random.js';

const rng = new Rng(41);

/** h' = tanh(h·W + x·U + b) over xs [T, N, F] (axis 1 when `batchFirst`), optionally for only `steps` steps. */
function rnn(h0: Tensor, xs: Tensor, w: Tensor, u: Tensor, b: Tensor, options: kiln.ScanOptions = {}): Tensor {
  const [, ys] = kiln.scan((h: Tensor, x: Tensor) => {
    const next = kiln.tanh(kiln.add(kiln.add(kiln.matmul(h, w), kiln.matmul(x, u)), b));
    return [next, next];
  }, h0, xs, options);
  return ys as Tensor;
}

const loss = (options: kiln.ScanOptions) => (h0: Tensor, xs: Tensor, w: Tensor, u: Tensor, b: Tensor, ...rest: Tensor[]) =>
  kiln.sum(kiln.square(rnn(h0, xs, w, u, b, { ...options, ...(rest[0] ? { steps: rest[0] } : {}) })));

const scans = (g: Graph) => g.nodes.filter((n) => n.op === 'scan').map((n) => n.params as kiln.OpParams['scan']);

function expectSameValues(g: Graph, hoisted: Graph, inputs: Record<string, Value>): void {
  const want = kiln.interpret(g, inputs).outputs;
  const got = kiln.interpret(hoisted, inputs).outputs;
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [name, v] of Object.entries(want)) {
    const a = Array.from(v.data);
    const b = Array.from(got[name]!.data);
    expect(b).toHaveLength(a.length);
    // only the order of the float32 additions changes
    a.forEach((x, i) => expect(Math.abs(b[i]! - x), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(x)));
  }
}

test.each([
  ['static batch', {}, false],
  ['a reverse loop', { reverse: true }, false],
  ['a dynamic batch, sequence axis 1', { axis: 1 }, true],
] as const)('the weight and bias gradients leave the reverse loop (%s) and keep their values', (_, options, dynamic) => {
  const n = 3;
  const [h0, xs, w, u, b] = [rng.normal([n, 4]), rng.normal(dynamic ? [n, 6, 5] : [6, n, 5]), kiln.mul(rng.normal([4, 4]), 0.4), kiln.mul(rng.normal([5, 4]), 0.4), rng.normal([4])];
  const specs = [h0, xs, w, u, b].map((t, i) => kiln.spec(dynamic && i < 2 ? [null, ...(t.shape.slice(1) as number[])] : (t.shape as number[])));
  const g = kiln.trace((...args: Tensor[]) => kiln.grad(loss(options), [0, 1, 2, 3, 4])(...args) as Tensor[], specs);
  const reverse = scans(g).find((p) => p.reverse !== ((options as kiln.ScanOptions).reverse ?? false))!;
  expect(reverse.carries).toBe(4); // dh and the accumulators of dW, dU, db

  const hoisted = kiln.verify(hoistScanAccumulators(g));
  const after = scans(hoisted).find((p) => p.reverse !== ((options as kiln.ScanOptions).reverse ?? false))!;
  expect(after.carries).toBe(1); // only dh is carried
  const contracted = hoisted.nodes.filter((m) => m.op === 'matmul' && (m.params as kiln.OpParams['matmul']).contract);
  expect(contracted.map((m) => m.type.shape)).toEqual(expect.arrayContaining([[4, 4], [5, 4]]));
  expect(hoisted.nodes.some((m) => m.op === 'sum' && (m.params as kiln.OpParams['sum']).axes.includes(0) && m.type.shape.join() === '4')).toBe(true);
  const inputs = Object.fromEntries(g.inputs.map((input, i) => [input.name, [h0, xs, w, u, b][i]!.value!]));
  expectSameValues(g, hoisted, inputs);
});

test('a run-time step count: the stacked operands of skipped steps read as zeros, not as the padded sequence', () => {
  // the padding past the count holds NaN, which the loop never reads: neither may the hoisted product
  const xs = kiln.concat([rng.normal([3, 2, 4]), kiln.full([2, 2, 4], NaN)], 0);
  const [h0, w, u, b] = [rng.normal([2, 3]), kiln.mul(rng.normal([3, 3]), 0.4), kiln.mul(rng.normal([4, 3]), 0.4), rng.normal([3])];
  const steps = kiln.scalar(3, 'int32');
  const specs = [...[h0, xs, w, u, b].map((t) => kiln.spec(t.shape as number[])), kiln.spec([], 'int32')];
  const g = kiln.trace((...args: Tensor[]) => kiln.grad(loss({}), [2, 3, 4])(...args) as Tensor[], specs);
  const hoisted = kiln.verify(hoistScanAccumulators(g));
  const reverse = scans(hoisted).find((p) => p.reverse)!;
  expect(reverse.counted).toBe(true);
  expect(reverse.carries).toBe(1);
  const inputs = Object.fromEntries(g.inputs.map((input, i) => [input.name, [h0, xs, w, u, b, steps][i]!.value!]));
  expectSameValues(g, hoisted, inputs);
});

test('a carry the body also reads, or that is not a sum of products, stays carried', () => {
  const g = kiln.trace((c0: Tensor, xs: Tensor) => {
    // c' = c + xᵀx, but c is also read for the output: a running value, not only an accumulator
    const [c, ys] = kiln.scan((c: Tensor, x: Tensor) => [kiln.add(c, kiln.matmul(x, x, { transposeA: true })), kiln.mul(c, 2)], c0, xs);
    // d' = d + x·x: elementwise, not a product over a contracted axis
    const [d] = kiln.scan((d: Tensor, x: Tensor) => [kiln.add(d, kiln.mul(x, x)), undefined], kiln.zeros([2, 2]), xs);
    return [c as Tensor, ys as Tensor, d as Tensor];
  }, [kiln.spec([2, 2]), kiln.spec([4, 2, 2])]);
  expect(hoistScanAccumulators(g)).toBe(g);
});

test('matmul contract: Σ over the leading axes of A_lᵀ·B_l, as one product; its gradients', () => {
  const a = rng.normal([3, 4, 2]);
  const b = rng.normal([3, 4, 5]);
  const contract = (x: Tensor, y: Tensor) => kiln.apply('matmul', [x, y], { transposeA: true, transposeB: false, contract: true });
  const c = contract(a, b);
  expect(c.shape).toEqual([2, 5]);
  let want = kiln.zeros([2, 5]);
  for (let l = 0; l < 3; l++) {
    const at = (t: Tensor, cols: number) => kiln.reshape(kiln.slice(t, [l, 0, 0], [1, 4, cols]), [4, cols]);
    want = kiln.add(want, kiln.matmul(at(a, 2), at(b, 5), { transposeA: true }));
  }
  const [got, expected] = [Array.from(c.dataSync()), Array.from(want.dataSync())];
  expected.forEach((v, i) => expect(got[i]!).toBeCloseTo(v, 5));
  kiln.checkGrads((x: Tensor, y: Tensor) => kiln.sum(kiln.square(contract(x, y))), [a, b]);
  expect(() => kiln.apply('matmul', [a, rng.normal([2, 4, 5])], { transposeA: true, transposeB: false, contract: true })).toThrow(/same leading shape/);
  expect(() => kiln.apply('matmul', [a, b], { transposeA: false, transposeB: false, contract: true })).toThrow(/transposeA/);
});

test.each([false, true])('a matrix applied to a sequence (transposeB %s): its gradient is one contracting matmul, and right', (transposeB) => {
  const a = rng.normal([2, 5, 3]);
  const b = rng.normal(transposeB ? [4, 3] : [3, 4]);
  const f = (x: Tensor, y: Tensor) => kiln.sum(kiln.square(kiln.matmul(x, y, { transposeB })));
  const g = kiln.trace((x: Tensor, y: Tensor) => kiln.grad(f, [0, 1])(x, y) as Tensor[], [kiln.spec([2, 5, 3]), kiln.spec(transposeB ? [4, 3] : [3, 4])]);
  const contracted = g.nodes.filter((n) => n.op === 'matmul' && (n.params as kiln.OpParams['matmul']).contract);
  expect(contracted.map((n) => n.type.shape)).toEqual([transposeB ? [4, 3] : [3, 4]]);
  kiln.checkGrads(f, [a, b]);
});
