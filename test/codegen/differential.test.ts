/**
 * Compiled wasm against the reference interpreter: every op record (static and
 * with a dynamic batch), forward and backward, plus random chains of fused
 * elementwise ops — all entries of one module, so one AssemblyScript compile
 * covers them.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import type { Graph, Tensor, Value } from '../../compiler/index.js';
import { compileModule, type Compiled } from '../../src/compile.js';
import { records, type Case } from '../ops/records.js';
import { Rng } from '../util/random.js';

interface Entry {
  name: string;
  label: string;
  graph: Graph;
  inputs: Record<string, Value>;
  /** Relative tolerance against the interpreter (reductions and vectorised math round differently). */
  rtol: number;
}

const entries: Entry[] = [];
const add = (label: string, fn: (...xs: Tensor[]) => unknown, args: readonly Tensor[], batched: readonly number[], rtol: number) => {
  const prefix = `e${entries.length}`;
  const specs = args.map((a, i) => kiln.spec(batched.includes(i) ? [null, ...(a.shape.slice(1) as number[])] : (a.shape as number[]), a.dtype, { name: `${prefix}_${i}` }));
  const graph = kiln.trace(fn as never, specs);
  entries.push({ name: prefix, label, graph, inputs: Object.fromEntries(args.map((a, i) => [`${prefix}_${i}`, a.value!])), rtol });
};

function batchArgs(c: Case): number[] {
  if (c.batch === true) return c.args[0]!.rank > 0 ? [0] : [];
  if (!c.batch) return [];
  return c.batch.filter((i) => c.args[i]!.rank > 0 && c.args[i]!.shape[0] === c.args[0]!.shape[0]);
}

// forward, with a dynamic batch where the record allows it, and the gradient graph of differentiable records
for (const record of records) {
  for (let trial = 0; trial < 2; trial++) {
    const c = record.make(new Rng(1000 + trial * 31 + record.name.length * 7));
    const rtol = 2e-5;
    add(`${record.name} #${trial}`, c.fn, c.args, trial === 1 ? batchArgs(c) : [], rtol);
    if (record.grad && trial === 0) {
      const floats = c.args.flatMap((a, i) => (a.dtype === 'float32' ? [i] : []));
      add(`${record.name} gradient`, (...xs: Tensor[]) => kiln.grad((...ys: Tensor[]) => kiln.sum(kiln.square(c.fn(...ys))), floats)(...xs), c.args, [], 1e-4);
    }
  }
}

// the conv family, forward and both gradients, through the user functions
{
  const rng = new Rng(77);
  const convCases: [string, (x: Tensor, w: Tensor) => Tensor, number[], number[]][] = [
    ['conv2d same 5x5', (x, w) => kiln.conv2d(x, w, { padding: 'same' }), [2, 9, 9, 3], [5, 5, 3, 8]],
    ['conv2d stride 2 dilation', (x, w) => kiln.conv2d(x, w, { strides: 2, padding: 'valid', dilations: 1 }), [1, 11, 10, 5], [3, 3, 5, 6]],
    ['conv2d dilated', (x, w) => kiln.conv2d(x, w, { padding: 'same', dilations: 2 }), [2, 7, 7, 4], [3, 3, 4, 4]],
    ['depthwise', (x, w) => kiln.depthwiseConv2d(x, w, { padding: 'same' }), [2, 6, 6, 4], [3, 3, 4, 2]],
    ['grouped', (x, w) => kiln.conv2d(x, w, { groups: 2, padding: 'same' }), [1, 5, 5, 4], [3, 3, 2, 6]],
  ];
  for (const [label, f, xs, ws] of convCases) {
    const [x, w] = [rng.normal(xs), rng.normal(ws)];
    add(label, f, [x, w], [0], 1e-4);
    add(`${label} gradient`, (a: Tensor, b: Tensor) => kiln.add(...(kiln.grad((p: Tensor, q: Tensor) => kiln.sum(kiln.square(f(p, q))), [0, 1])(a, b).map((g) => kiln.sum(kiln.mul(g, g))) as [Tensor, Tensor])), [x, w], [], 1e-4);
  }
  const x = rng.normal([2, 8, 7, 5]);
  const pools: [string, (x: Tensor) => Tensor][] = [
    ['maxPool2d', (t) => kiln.maxPool2d(t, { poolSize: 2 })],
    ['maxPool2d same 3x3 s2', (t) => kiln.maxPool2d(t, { poolSize: 3, strides: 2, padding: 'same' })],
    ['avgPool2d same', (t) => kiln.avgPool2d(t, { poolSize: 3, strides: 1, padding: 'same' })],
  ];
  for (const [label, f] of pools) {
    add(label, f, [x], [0], 1e-5);
    add(`${label} gradient`, (t: Tensor) => kiln.grad((p: Tensor) => kiln.sum(kiln.square(f(p))))(t), [x], [], 1e-5);
  }
}

// values that must not trap or differ: casts of NaN and out-of-range floats, integer modulo by zero
add('cast of NaN and huge floats to int32', (x: Tensor) => kiln.cast(x, 'int32'), [kiln.tensor([NaN, 1e20, -1e20, 2.7, -2.7, Infinity])], [], 0);
add('int32 floor modulo, zero divisor included', (a: Tensor, b: Tensor) => kiln.mod(a, b), [kiln.tensor([7, -7, 7, -7, 5], undefined, 'int32'), kiln.tensor([3, 3, -3, -3, 0], undefined, 'int32')], [], 0);

// random draws: bit for bit, for steps the kernel must read as the interpreter does (negative, fractional, beyond int32, NaN)
for (const [k, step] of [0, 41, -3, 2.75, 3e9, NaN].entries()) {
  add(`randomUniformOp step ${step}`, (x: Tensor, s: Tensor) => kiln.randomUniformOp(x.type.shape, 0x9e3779b9 + k, s), [kiln.zeros([k % 2 ? 37 : 16, 65]), kiln.scalar(step)], k % 2 ? [] : [0], 0);
}

// operands broadcast along interleaved axes: the scalar loop-nest path of fused loops
{
  const rng = new Rng(17);
  add('interleaved broadcast', (a: Tensor, b: Tensor, c: Tensor) => kiln.mul(kiln.sigmoid(kiln.add(a, b)), c), [rng.normal([3, 1, 5]), rng.normal([1, 4, 1]), rng.normal([4, 5])], [], 1e-5);
  add('interleaved broadcast with a batch', (a: Tensor, b: Tensor) => kiln.where(kiln.gt(a, b), a, b), [rng.normal([6, 1, 3]), rng.normal([2, 1])], [0], 0);
}

// a reduction of a reduction (a per-example mean over one unit, then a batch sum)
add('sum of a fused mean', (x: Tensor) => kiln.sum(kiln.mean(kiln.square(x), -1)), [new Rng(3).normal([5, 1])], [0], 1e-5);

// layers whose bias and relu fuse into the GEMM or conv kernel's epilogue, and their training gradients
{
  const rng = new Rng(91);
  const dense = (x: Tensor, w: Tensor, b: Tensor) => kiln.relu(kiln.add(kiln.matmul(x, w), b));
  const conv = (x: Tensor, k: Tensor, c: Tensor) => kiln.relu(kiln.add(kiln.conv2d(x, k, { padding: 'same' }), c));
  const layers: [string, typeof dense, number[][]][] = [['dense + bias + relu', dense, [[6, 13], [13, 9], [9]]], ['conv + bias + relu', conv, [[2, 6, 6, 3], [3, 3, 3, 8], [8]]]];
  for (const [label, f, shapes] of layers) {
    const args = shapes.map((sh) => rng.normal(sh));
    add(label, f, args, [0], 1e-4);
    add(`${label} gradient`, (...xs: Tensor[]) => kiln.add(...(kiln.grad((a: Tensor, b: Tensor, c: Tensor) => kiln.sum(kiln.square(f(a, b, c))), [1, 2])(...xs).map((g) => kiln.sum(kiln.mul(g, g))) as [Tensor, Tensor])), args, [], 1e-4);
  }
}

// random chains of elementwise ops over broadcast operands: what fusion groups and SIMD lowers
{
  const unary = [kiln.neg, kiln.abs, kiln.exp, kiln.tanh, kiln.sigmoid, kiln.relu, kiln.square, kiln.sin, kiln.erf, (t: Tensor) => kiln.log(kiln.add(kiln.abs(t), 1))];
  const binary = [kiln.add, kiln.sub, kiln.mul, kiln.maximum, kiln.minimum, (a: Tensor, b: Tensor) => kiln.where(kiln.gt(a, b), a, kiln.mul(b, 0.5))];
  for (let k = 0; k < 12; k++) {
    const rng = new Rng(500 + k);
    const shape = [rng.int(1, 9), rng.int(1, 13)];
    const shapes = [shape, [shape[1]!], [shape[0]!, 1], [], shape];
    const args = shapes.map((s) => rng.normal(s));
    const steps = Array.from({ length: 8 }, () => [rng.int(0, 1), rng.int(0, 9), rng.int(0, 4), rng.int(0, 5)]);
    const fn = (...xs: Tensor[]) => {
      const values = [...xs];
      for (const [kind, u, i, b] of steps) {
        const a = values[values.length - 1]!;
        values.push(kind === 0 ? unary[u!]!(a) : binary[b! % binary.length]!(a, values[i!]!));
      }
      return values[values.length - 1]!;
    };
    add(`random fused chain ${k}`, fn, args, [0, 2, 4], 1e-5);
  }
}

let compiled: Compiled;
beforeAll(async () => {
  compiled = await compileModule(Object.fromEntries(entries.map((e) => [e.name, e.graph])), { maxBatch: 16 });
}, 300_000);

describe('compiled modules agree with the reference interpreter', () => {
  test.each(entries.map((e) => [e.label, e] as const))('%s', (_, entry) => {
    const expected = kiln.interpret(entry.graph, entry.inputs).outputs;
    const actual = compiled.module.run(entry.name, entry.inputs);
    for (const [name, want] of Object.entries(expected)) {
      const got = actual[name]!;
      expect(got.shape).toEqual(want.shape);
      expect(got.dtype).toBe(want.dtype);
      const scale = Math.max(1e-3, ...Array.from(want.data, Math.abs));
      want.data.forEach((w, i) => {
        const g = got.data[i]!;
        if (Number.isNaN(w)) expect(g, `element ${i}`).toBeNaN();
        else if (Math.abs(g - w) > entry.rtol * scale) expect.fail(`element ${i} of "${name}": compiled ${g}, reference ${w} (tolerance ${entry.rtol} × ${scale})`);
      });
    }
  });
});

test('one module holds every entry, and recompiling hits the cache', async () => {
  expect(compiled.module.entries.length).toBe(entries.length);
  const again = await compileModule(Object.fromEntries(entries.map((e) => [e.name, e.graph])), { maxBatch: 16 });
  expect(again.cached).toBe(true);
});

test('one module runs every batch size from 1 to its maximum, matching the interpreter', async () => {
  const g = kiln.trace((x: Tensor, w: Tensor, b: Tensor) => kiln.softmax(kiln.relu(kiln.add(kiln.matmul(x, w), b))),
    [kiln.spec([null, 7], 'float32', { name: 'x' }), kiln.spec([7, 5], 'float32', { name: 'w' }), kiln.spec([5], 'float32', { name: 'b' })]);
  const { module } = await compileModule({ g }, { maxBatch: 16 });
  const rng = new Rng(5);
  const [w, b] = [rng.normal([7, 5]).value!, rng.normal([5]).value!];
  for (const batch of [1, 2, 5, 13, 16]) {
    const x = rng.normal([batch, 7]).value!;
    const want = kiln.interpret(g, { x, w, b }).outputs.output!;
    const got = module.run('g', { x, w, b }).output!;
    expect(got.shape).toEqual([batch, 5]);
    want.data.forEach((v, i) => expect(Math.abs(got.data[i]! - v)).toBeLessThan(1e-6));
  }
});
