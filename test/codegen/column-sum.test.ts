/**
 * Sums over leading axes (bias gradients: Σ over batch and time) compile to the
 * row-streaming float64x2 loop of compiler/emit/reduce.ts; each column must add
 * the same values in the same order as the reference, so results are bit for bit
 * the interpreter's. Column counts below, at and above the 4- and 16-wide chunks,
 * primes, several leading axes and a dynamic batch among them.
 */
import { beforeAll, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import type { Tensor, Value } from '../../compiler/index.js';
import { compileModule, type Compiled } from '../../src/compile.js';
import { Rng } from '../util/random.js';

const cases: { shape: number[]; axes: number[]; batched: boolean }[] = [
  { shape: [7, 4], axes: [0], batched: false },
  { shape: [5, 5], axes: [0], batched: false },
  { shape: [3, 16], axes: [0], batched: false },
  { shape: [9, 19], axes: [0], batched: false },
  { shape: [4, 3, 33], axes: [0, 1], batched: false },
  { shape: [40, 256], axes: [0], batched: false },
  { shape: [6, 5, 2, 23], axes: [0, 1], batched: true },
  { shape: [11, 3], axes: [0], batched: false }, // fewer than 4 columns: the general loop
];
const name = (i: number) => `s${i}`;
let compiled: Compiled;
const inputs: Record<string, Value>[] = [];

beforeAll(async () => {
  const graphs = Object.fromEntries(cases.map((c, i) => {
    const spec = kiln.spec(c.batched ? [null, ...c.shape.slice(1)] : c.shape, 'float32', { name: `${name(i)}_x` });
    // values of mixed magnitude and sign, so float32 accumulation would round differently
    const x = new Rng(40 + i).normal(c.shape);
    inputs.push({ [`${name(i)}_x`]: { dtype: 'float32', shape: c.shape, data: Float32Array.from(x.dataSync(), (v, k) => v * 10 ** ((k % 7) - 3)) } });
    return [name(i), kiln.trace((t: Tensor) => kiln.sum(t, c.axes), [spec])];
  }));
  compiled = await compileModule(graphs, { maxBatch: 8 });
}, 300_000);

test('the generated code streams rows through float64x2 accumulators', () => {
  expect(compiled.source).toMatch(/f64x2\.promote_low_f32x4/);
});

test.each(cases.map((c, i) => [c.shape.join('×'), c.axes.join(','), i] as const))('sum of %s over axes %s: bit for bit the reference', (_s, _a, i) => {
  const want = kiln.interpret(kiln.trace((t: Tensor) => kiln.sum(t, cases[i]!.axes), [kiln.spec(cases[i]!.shape, 'float32', { name: `${name(i)}_x` })]), inputs[i]!).outputs;
  const got = compiled.module.run(name(i), inputs[i]!);
  for (const [k, w] of Object.entries(want)) {
    expect(got[k]!.shape).toEqual(w.shape);
    expect(Array.from(got[k]!.data)).toEqual(Array.from(w.data));
  }
});
