/**
 * The op table, record by record: the shape rule agrees with the reference on
 * random shapes (static and with a dynamic batch), and every differentiable op's
 * VJP agrees with central finite differences in float64.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { convOps } from '../../compiler/ops/conv.js';
import { Rng } from '../util/random.js';
import { records, type Case } from './records.js';

const trials = 4;

function seedOf(name: string, trial: number): number {
  let h = 17;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return (h >>> 0) + trial * 7919;
}

function batchArgs(c: Case): number[] {
  if (c.batch === true) return c.args[0]!.rank > 0 ? [0] : [];
  if (!c.batch) return [];
  return c.batch.filter((i) => c.args[i]!.rank > 0 && c.args[i]!.shape[0] === c.args[0]!.shape[0]);
}

function inputsOf(args: readonly kiln.Tensor[]): Record<string, kiln.Value> {
  return Object.fromEntries(args.map((a, i) => [args.length === 1 ? 'input' : `input_${i}`, a.value!]));
}

describe.each(records)('$name', (record) => {
  test('shape rule agrees with the reference, static and with a dynamic batch', () => {
    for (let trial = 0; trial < trials; trial++) {
      const c = record.make(new Rng(seedOf(record.name, trial)));
      const eager = c.fn(...c.args);
      const g = kiln.verify(kiln.trace(c.fn as never, c.args.map((a) => kiln.spec(a.shape as number[], a.dtype))));
      const out = g.nodes[g.outputs[0]!.id]!.type;
      expect(out.shape).toEqual(eager.shape);
      expect(out.dtype).toBe(eager.dtype);
      expect(kiln.interpret(g, inputsOf(c.args)).outputs.output!.data).toEqual(eager.dataSync());

      const batched = batchArgs(c);
      if (batched.length === 0) continue;
      const specs = c.args.map((a, i) => kiln.spec(batched.includes(i) ? [null, ...(a.shape.slice(1) as number[])] : (a.shape as number[]), a.dtype));
      const gb = kiln.verify(kiln.trace(c.fn as never, specs));
      const result = kiln.interpret(gb, inputsOf(c.args)).outputs.output!;
      expect(kiln.concreteShape(gb.nodes[gb.outputs[0]!.id]!.type.shape, c.args[0]!.shape[0] as number)).toEqual(eager.shape);
      expect(result.data).toEqual(eager.dataSync());
    }
  });

  test.runIf(record.grad)('VJP agrees with finite differences in float64', () => {
    for (let trial = 0; trial < trials; trial++) {
      const c = record.make(new Rng(seedOf(record.name, trial + 100)));
      const r = kiln.gradientError(c.fn, c.args, { rtol: record.rtol ?? 1e-5, atol: 1e-7, seed: trial });
      expect(r.error, `trial ${trial}: analytic ${r.analytic}, numeric ${r.numeric}`).toBeLessThanOrEqual(r.tolerance);
    }
  });
});

describe('second-order gradients agree with finite differences', () => {
  const rng = new Rng(99);
  const second = (f: (...xs: kiln.Tensor[]) => kiln.Tensor, n: number) =>
    (...xs: kiln.Tensor[]) => kiln.add(...(kiln.grad((...ys: kiln.Tensor[]) => kiln.sum(kiln.square(f(...ys))), Array.from({ length: n }, (_, i) => i))(...xs).map((g) => kiln.sum(kiln.mul(g, g))) as [kiln.Tensor, kiln.Tensor]));
  const unaryCases: [string, (x: kiln.Tensor) => kiln.Tensor, kiln.Tensor][] = [
    ['tanh', kiln.tanh, rng.normal([3, 4])],
    ['sigmoid', kiln.sigmoid, rng.normal([5])],
    ['exp', kiln.exp, rng.uniform([2, 3], -1, 1)],
    ['log', kiln.log, rng.uniform([7], 0.5, 2)],
    ['softmax', (x) => kiln.softmax(x), rng.normal([2, 5])],
  ];
  test.each(unaryCases)('%s', (_, f, x) => {
    const g = (y: kiln.Tensor) => kiln.grad((z: kiln.Tensor) => kiln.sum(kiln.mul(f(z), f(z))))(y);
    expect(kiln.checkGrads(g, [x], { rtol: 1e-5 }).error).toBeLessThan(1e-5);
  });
  const binaryCases: [string, (a: kiln.Tensor, b: kiln.Tensor) => kiln.Tensor, kiln.Tensor, kiln.Tensor][] = [
    ['mul', kiln.mul, rng.normal([3, 1]), rng.normal([4])],
    ['div', kiln.div, rng.normal([2, 3]), rng.uniform([3], 0.5, 2)],
    ['matmul', (a, b) => kiln.matmul(a, b), rng.normal([3, 5]), rng.normal([5, 2])],
    ['matmul transposed', (a, b) => kiln.matmul(a, b, { transposeA: true, transposeB: true }), rng.normal([5, 3]), rng.normal([2, 5])],
  ];
  test.each(binaryCases)('%s', (_, f, a, b) => {
    expect(kiln.checkGrads(second(f, 2), [a, b], { rtol: 1e-5 }).error).toBeLessThan(1e-4);
  });
  test('third order of tanh through nested grad', () => {
    const d1 = kiln.grad((x: kiln.Tensor) => kiln.sum(kiln.tanh(x)));
    const d2 = kiln.grad((x: kiln.Tensor) => kiln.sum(d1(x)));
    const x = kiln.tensor([0.3, -0.7]);
    // d³/dx³ tanh = -2 sech²(x) (1 - 3 tanh²(x))
    const expected = [0.3, -0.7].map((v) => { const t = Math.tanh(v); return -2 * (1 - t * t) * (1 - 3 * t * t); });
    const d3 = kiln.grad((y: kiln.Tensor) => kiln.sum(d2(y)))(x);
    Array.from(d3.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });
});

test('every primitive is exercised by a record (conv family: test/ops/conv.test.ts)', () => {
  const covered = new Set(records.flatMap((r) => r.covers));
  // customVjp: test/api/transforms.test.ts; fused: test/passes/fuseElementwise.test.ts
  const exempt = new Set(['input', 'constant', 'customVjp', 'fused', ...Object.keys(convOps)]);
  const missing = kiln.opNames.filter((op) => !covered.has(op) && !exempt.has(op));
  expect(missing).toEqual([]);
});
