/**
 * kiln.scan and the scan primitive: reference semantics against hand-written
 * loops, gradients against finite differences (first and second order, through
 * carries, sequences and captured weights), compiled wasm against the
 * interpreter (static and dynamic batch, reverse, nested, carries that trade
 * places), and the errors a wrong body or sequence gets.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import type { Graph, Tensor, Value } from '../../compiler/index.js';
import { compileModule, type Compiled } from '../../src/compile.js';
import { emitAssemblyScript } from '../../compiler/emit/index.js';
import { optimize } from '../../compiler/pipeline.js';
import { planMemory } from '../../compiler/plan.js';
import { messageOf } from '../util/errors.js';
import { Rng } from '../util/random.js';

const values = (t: Tensor) => Array.from(t.dataSync());
const T = (x: unknown) => x as Tensor;

/** An Elman cell h' = tanh(h·W + x·U) over xs [T, N, F]: final h and every h. */
function rnn(h0: Tensor, xs: Tensor, w: Tensor, u: Tensor, options: kiln.ScanOptions = {}): [Tensor, Tensor] {
  const [h, ys] = kiln.scan((h: Tensor, x: Tensor) => {
    const next = kiln.tanh(kiln.add(kiln.matmul(h, w), kiln.matmul(x, u)));
    return [next, next];
  }, h0, xs, options);
  return [h, T(ys)];
}

/** The same recurrence written as a JavaScript loop over slices. */
function rnnUnrolled(h0: Tensor, xs: Tensor, w: Tensor, u: Tensor, reverse = false): [Tensor, Tensor] {
  const [steps, n, f] = xs.shape as number[];
  let h = h0;
  const outs: Tensor[] = new Array<Tensor>(steps!);
  for (let k = 0; k < steps!; k++) {
    const t = reverse ? steps! - 1 - k : k;
    h = kiln.tanh(kiln.add(kiln.matmul(h, w), kiln.matmul(kiln.reshape(kiln.slice(xs, [t, 0, 0], [1, n!, f!]), [n!, f!]), u)));
    outs[t] = h;
  }
  return [h, kiln.stack(outs, 0)];
}

describe('reference semantics', () => {
  test('a cumulative sum: the final carry and every step\'s output', () => {
    const xs = kiln.tensor([[1, 2], [3, 4], [5, 6]]);
    const [c, ys] = kiln.scan((c: Tensor, x: Tensor) => { const s = kiln.add(c, x); return [s, kiln.mul(s, 10)]; }, kiln.zeros([2]), xs);
    expect(values(c)).toEqual([9, 12]);
    expect(T(ys).shape).toEqual([3, 2]);
    expect(values(T(ys))).toEqual([10, 20, 40, 60, 90, 120]);
  });

  test('reverse runs from the last step and keeps outputs in step order', () => {
    const xs = kiln.tensor([1, 2, 3, 4]).reshape([4, 1]);
    const [c, ys] = kiln.scan((c: Tensor, x: Tensor) => { const s = kiln.add(c, x); return [s, s]; }, kiln.zeros([1]), xs, { reverse: true });
    expect(values(c)).toEqual([10]);
    expect(values(T(ys))).toEqual([10, 9, 7, 4]);
  });

  test('matches a hand-unrolled RNN, forward and reverse', () => {
    const rng = new Rng(5);
    const [h0, xs, w, u] = [rng.normal([2, 4]), rng.normal([5, 2, 3]), rng.normal([4, 4]), rng.normal([3, 4])];
    for (const reverse of [false, true]) {
      const [h, ys] = rnn(h0, xs, w, u, { reverse });
      const [h2, ys2] = rnnUnrolled(h0, xs, w, u, reverse);
      values(h).forEach((v, i) => expect(v).toBeCloseTo(values(h2)[i]!, 6));
      values(ys).forEach((v, i) => expect(v).toBeCloseTo(values(ys2)[i]!, 6));
    }
  });

  test('carries, xs and ys may be arrays and records of tensors; xs may be null with a length', () => {
    const xs = { a: kiln.tensor([1, 2, 3]).reshape([3, 1]), b: [kiln.tensor([[10, 20], [30, 40], [50, 60]])] };
    const [carry, ys] = kiln.scan(([n, s]: Tensor[], x: { a: Tensor; b: Tensor[] }) => {
      const total = kiln.add(s!, kiln.sum(x.b[0]!));
      return [[kiln.add(n!, x.a), total], { total, twice: kiln.mul(x.a, 2) }];
    }, [kiln.zeros([1]), kiln.zeros([])], xs);
    expect(values(carry[0]!)).toEqual([6]);
    expect(values(carry[1]!)).toEqual([210]);
    expect(values(T((ys as Record<string, Tensor>).total))).toEqual([30, 100, 210]);
    expect(values(T((ys as Record<string, Tensor>).twice))).toEqual([2, 4, 6]);
    const [count, none] = kiln.scan((c: Tensor) => [kiln.add(c, 1), undefined], kiln.zeros([]), null, { length: 4 });
    expect(values(count)).toEqual([4]);
    expect(none).toBeUndefined();
  });

  test('axis slices and stacks along another axis', () => {
    const xs = kiln.tensor([[1, 2, 3], [4, 5, 6]]); // [2, 3]: three steps along axis 1
    const [c, ys] = kiln.scan((c: Tensor, x: Tensor) => [kiln.add(c, x), kiln.mul(x, -1)], kiln.zeros([2]), xs, { axis: 1 });
    expect(values(c)).toEqual([6, 15]);
    expect(T(ys).shape).toEqual([2, 3]);
    expect(values(T(ys))).toEqual([-1, -2, -3, -4, -5, -6]);
  });

  test('steps: a run-time count runs the first steps only, zeros after (reverse starts at step steps − 1)', () => {
    const xs = kiln.tensor([1, 2, 3, 4]).reshape([4, 1]);
    const cumsum = (reverse: boolean, steps: Tensor | number) => kiln.scan((c: Tensor, x: Tensor) => { const s = kiln.add(c, x); return [s, s]; }, kiln.zeros([1]), xs, { reverse, steps });
    const [c, ys] = cumsum(false, kiln.scalar(2, 'int32'));
    expect(values(c)).toEqual([3]);
    expect(values(T(ys))).toEqual([1, 3, 0, 0]);
    const [c2, ys2] = cumsum(true, 3);
    expect(values(c2)).toEqual([6]);
    expect(values(T(ys2))).toEqual([6, 5, 3, 0]);
    expect(values(cumsum(false, 0)[0])).toEqual([0]);
    expect(() => cumsum(false, kiln.scalar(5, 'int32'))).toThrow(/^scan: expected a step count in \[0, 4\] \(the compiled maximum\), got 5/);
  });

  test('traces to one scan node whose body holds the cell once', () => {
    const g = kiln.trace((h0: Tensor, xs: Tensor, w: Tensor, u: Tensor) => rnn(h0, xs, w, u)[1], [kiln.spec([2, 4]), kiln.spec([50, 2, 3]), kiln.spec([4, 4]), kiln.spec([3, 4])]);
    const scans = g.nodes.filter((n) => n.op === 'scan');
    expect(scans).toHaveLength(1);
    expect(g.nodes.filter((n) => n.op === 'matmul')).toHaveLength(0);
    const body = (scans[0]!.params as kiln.OpParams['scan']).body;
    expect(body.nodes.filter((n) => n.op === 'matmul')).toHaveLength(2);
  });
});

test('a training step runs the forward loop once; the reverse loop reads its residuals instead of recomputing the cell', () => {
  const loss = (w: Tensor, u: Tensor, h0: Tensor, xs: Tensor) => kiln.sum(kiln.square(rnn(h0, xs, w, u)[1]));
  const g = optimize(kiln.trace((w: Tensor, u: Tensor, h0: Tensor, xs: Tensor) => kiln.grad(loss, [0, 1])(w, u, h0, xs) as Tensor[], [kiln.spec([4, 4]), kiln.spec([3, 4]), kiln.spec([2, 4]), kiln.spec([50, 2, 3])]));
  const scans = g.nodes.filter((n) => n.op === 'scan').map((n) => n.params as kiln.OpParams['scan']);
  expect(scans.map((p) => p.reverse)).toEqual([false, true]); // the forward scan the loss reads and the VJP's merged into one
  const ops = (body: Graph, op: string) => body.nodes.filter((n) => n.op === op || (n.op === 'fused' && (n.params as kiln.OpParams['fused']).body.nodes.some((m) => m.op === op))).length;
  // the forward stacks tanh's output as a residual; the reverse body has no tanh and only the backward's matmuls
  expect(ops(scans[0]!.body, 'tanh')).toBe(1);
  expect(ops(scans[1]!.body, 'tanh')).toBe(0);
  expect(ops(scans[0]!.body, 'matmul')).toBe(2);
  // dh = d·Wᵀ and dx = d·Uᵀ (not h·W and x·U again); dW = Σ hᵀd and dU = Σ xᵀd are one product each after the loop
  expect(ops(scans[1]!.body, 'matmul')).toBe(2);
  const contracted = g.nodes.filter((n) => n.op === 'matmul' && (n.params as kiln.OpParams['matmul']).contract);
  expect(contracted.map((n) => n.type.shape)).toEqual(expect.arrayContaining([[4, 4], [3, 4]]));
  expect(contracted).toHaveLength(2);
});

describe('gradients against finite differences', () => {
  const rng = new Rng(11);
  const [h0, xs, w, u] = [kiln.mul(rng.normal([2, 3]), 0.5), kiln.mul(rng.normal([4, 2, 2]), 0.5), kiln.mul(rng.normal([3, 3]), 0.5), kiln.mul(rng.normal([2, 3]), 0.5)];

  test('an RNN: through the initial carry, the sequence and the captured weights', () => {
    kiln.checkGrads((a: Tensor, b: Tensor, c: Tensor, d: Tensor) => { const [h, ys] = rnn(a, b, c, d); return kiln.add(kiln.sum(kiln.square(h)), kiln.sum(kiln.sin(ys))); }, [h0, xs, w, u]);
  });

  test('reverse, and only the stacked outputs used', () => {
    kiln.checkGrads((a: Tensor, b: Tensor, c: Tensor, d: Tensor) => rnn(a, b, c, d, { reverse: true })[1], [h0, xs, w, u]);
  });

  test('a run-time step count: only the steps run get gradients', () => {
    kiln.checkGrads((a: Tensor, b: Tensor, c: Tensor, n: Tensor) => { const [h, ys] = rnn(a, b, c, u, { steps: n }); return kiln.add(kiln.sum(kiln.square(h)), kiln.sum(kiln.sin(ys))); }, [h0, xs, w, kiln.scalar(3, 'int32')]);
    kiln.checkGrads((a: Tensor, b: Tensor, c: Tensor, n: Tensor) => rnn(a, b, c, u, { steps: n, reverse: true })[1], [h0, xs, w, kiln.scalar(2, 'int32')]);
    const dxs = kiln.grad((b: Tensor) => kiln.sum(rnn(h0, b, w, u, { steps: 2 })[1]))(xs);
    expect(values(dxs).slice(2 * 2 * 2).every((v) => v === 0)).toBe(true); // steps 2 and 3 were not run
  });

  test('an LSTM cell: two carries, gates split from one matmul', () => {
    const wx = kiln.mul(rng.normal([2, 12]), 0.5);
    const wh = kiln.mul(rng.normal([3, 12]), 0.5);
    const lstm = (x: Tensor, a: Tensor, b: Tensor) => {
      const [[h, c], ys] = kiln.scan(([h, c]: Tensor[], xt: Tensor) => {
        const [i, f, g, o] = kiln.split(kiln.add(kiln.matmul(xt, a), kiln.matmul(h!, b)), 4, -1) as [Tensor, Tensor, Tensor, Tensor];
        const c2 = kiln.add(kiln.mul(kiln.sigmoid(f), c!), kiln.mul(kiln.sigmoid(i), kiln.tanh(g)));
        const h2 = kiln.mul(kiln.sigmoid(o), kiln.tanh(c2));
        return [[h2, c2], h2];
      }, [kiln.zeros([2, 3]), kiln.zeros([2, 3])], x);
      return kiln.add(kiln.add(kiln.sum(T(ys)), kiln.sum(kiln.square(c!))), kiln.sum(h!));
    };
    kiln.checkGrads(lstm, [xs, wx, wh]);
  });

  test('second order: the gradient of a gradient of a small RNN', () => {
    const inner = kiln.grad((a: Tensor, b: Tensor, c: Tensor) => { const [h, ys] = rnn(a, b, c, u); return kiln.add(kiln.sum(kiln.square(h)), kiln.sum(ys)); }, [0, 2]);
    kiln.checkGrads((a: Tensor, b: Tensor, c: Tensor) => { const [dh, dw] = inner(a, b, c) as [Tensor, Tensor]; return kiln.add(kiln.sum(kiln.square(dh)), kiln.sum(kiln.mul(dw, dw))); }, [h0, xs, w], { rtol: 1e-3 });
  });

  test('a captured tensor that is not differentiated stays a constant of the body', () => {
    const scale = kiln.tensor([2]);
    const f = (b: Tensor) => kiln.sum(T(kiln.scan((c: Tensor, x: Tensor) => [kiln.add(c, kiln.mul(x, scale)), c], kiln.zeros([2, 2]), b)[1]));
    kiln.checkGrads(f, [xs]);
  });
});

describe('compiled loops agree with the interpreter', () => {
  interface Entry { name: string; graph: Graph; inputs: Record<string, Value>; batch?: number }
  const entries: Entry[] = [];
  const rng = new Rng(23);
  const add = (fn: (...xs: Tensor[]) => unknown, args: Tensor[], batched: number[] = [], batch?: number) => {
    const name = `e${entries.length}`;
    const specs = args.map((a, i) => kiln.spec(batched.includes(i) ? [null, ...(a.shape.slice(1) as number[])] : (a.shape as number[]), a.dtype, { name: `${name}_${i}` }));
    entries.push({ name, graph: kiln.trace(fn as never, specs), inputs: Object.fromEntries(args.map((a, i) => [`${name}_${i}`, a.value!])), batch });
  };
  const [h0, xs, w, u] = [rng.normal([3, 5]), rng.normal([7, 3, 4]), kiln.mul(rng.normal([5, 5]), 0.4), kiln.mul(rng.normal([4, 5]), 0.4)];
  add((a, b, c, d) => rnn(a, b, c, d), [h0, xs, w, u]);
  add((a, b, c, d) => rnn(a, b, c, d, { reverse: true })[1], [h0, xs, w, u]);
  // training-step gradients: the reverse scan with its weight accumulators
  add((...args) => kiln.grad((a: Tensor, b: Tensor, c: Tensor, d: Tensor) => { const [h, ys] = rnn(a, b, c, d); return kiln.add(kiln.sum(kiln.square(h)), kiln.sum(kiln.mul(ys, ys))); }, [0, 1, 2, 3])(...args), [h0, xs, w, u]);
  // second order: the gradient of a gradient (a reverse scan of a reverse scan, accumulators hoisted at both levels)
  add((...args) => kiln.grad((a: Tensor, b: Tensor, c: Tensor, d: Tensor) => {
    const [dw] = kiln.grad((w2: Tensor) => kiln.sum(kiln.square(rnn(a, b, w2, d)[1])), [0])(c) as [Tensor];
    return kiln.sum(kiln.mul(dw, dw));
  }, [0, 2, 3])(...args), [h0, xs, w, u]);
  // a dynamic batch: xs [B, T, F] scanned along axis 1, h0 [B, H]; run at a batch below the maximum
  add((a, b, c, d) => { const [h, ys] = rnn(a, b, c, d, { axis: 1 }); return [h, ys]; }, [rng.normal([5, 5]), rng.normal([5, 6, 4]), w, u], [0, 1]);
  add((...args) => kiln.grad((a: Tensor, b: Tensor, c: Tensor, d: Tensor) => kiln.sum(kiln.square(rnn(a, b, c, d, { axis: 1 })[1])), [0, 1, 2, 3])(...args), [rng.normal([5, 5]), rng.normal([5, 6, 4]), w, u], [0, 1]);
  // carries that trade places every step, and a body whose output is one of its inputs
  add((a, b, s) => {
    const [[p, q], ys] = kiln.scan(([p, q]: Tensor[], x: Tensor) => [[q!, kiln.add(p!, x)], p!], [a, b], s);
    return [p, q, T(ys)];
  }, [rng.normal([2, 3]), rng.normal([2, 3]), rng.normal([5, 2, 3])]);
  // a scan inside a scan's body (the inner loop over a row of each step)
  add((s) => kiln.scan((c: Tensor, row: Tensor) => {
    const [inner] = kiln.scan((d: Tensor, v: Tensor) => [kiln.add(kiln.mul(d, 0.5), v), undefined], kiln.zeros([]), row);
    return [kiln.add(c, inner), kiln.mul(c, inner)];
  }, kiln.zeros([]), s)[1] as Tensor, [rng.normal([6, 4])]);

  // one module for every length up to 7: the count is an input
  const counted = entries.length;
  add((a, b, c, d, n) => { const [h, ys] = rnn(a, b, c, d, { steps: n }); return [h, ys]; }, [h0, xs, w, u, kiln.scalar(4, 'int32')]);
  add((...args) => kiln.grad((a: Tensor, b: Tensor, c: Tensor, d: Tensor, n: Tensor) => kiln.sum(kiln.square(rnn(a, b, c, d, { steps: n, reverse: true })[1])), [0, 1, 2, 3])(...args), [h0, xs, w, u, kiln.scalar(5, 'int32')]);

  let compiled: Compiled;
  beforeAll(async () => {
    compiled = await compileModule(Object.fromEntries(entries.map((e) => [e.name, e.graph])), { maxBatch: 8 });
  }, 300_000);

  test.each(entries.map((e) => [e.name, e] as const))('%s', (_, entry) => {
    const expected = kiln.interpret(entry.graph, entry.inputs).outputs;
    const actual = compiled.module.run(entry.name, entry.inputs);
    for (const [name, want] of Object.entries(expected)) {
      const got = actual[name]!;
      expect(got.shape).toEqual(want.shape);
      const a = Array.from(want.data);
      const b = Array.from(got.data);
      a.forEach((v, i) => expect(Math.abs(b[i]! - v)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(v)));
    }
  });

  test('one module runs every step count up to the compiled length, and refuses a larger one', () => {
    const count = (n: number): Value => ({ dtype: 'int32', shape: [], data: new Int32Array([n]) });
    for (const e of [entries[counted]!, entries[counted + 1]!]) {
      const key = `${e.name}_4`;
      for (const n of [0, 1, 7]) {
        const inputs = { ...e.inputs, [key]: count(n) };
        const want = kiln.interpret(e.graph, inputs).outputs;
        const got = compiled.module.run(e.name, inputs);
        for (const [name, v] of Object.entries(want)) Array.from(v.data).forEach((x, i) => expect(Math.abs(got[name]!.data[i]! - x)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(x)));
      }
      expect(() => compiled.module.run(e.name, { ...e.inputs, [key]: count(8) })).toThrow(/^scan: expected a step count in \[0, 7\] \(the compiled maximum\), got 8 \(at test\/ops\/scan\.test\.ts:\d+\)\.$/);
    }
  });

  test('the body is emitted once: the generated source does not grow with the length', () => {
    const library = new Map([['arena_base', 'memory.ts'], ['f32_gemm__simd128', 'gemm.ts'], ['f32_gemm_stable_b__simd128', 'gemm.ts'], ['f32_gemm_forget_b', 'gemm.ts']]);
    const sources = [7, 70, 700].map((n) => {
      const g = optimize(kiln.trace((a: Tensor, b: Tensor) => rnn(a, b, w, u)[1], [kiln.spec([3, 5]), kiln.spec([n, 3, 4])]));
      return emitAssemblyScript([{ name: 'f', graph: g, plan: planMemory([g]).entries[0]! }], library).source;
    });
    // h·W and x·U, once each, in the loop's body; W and U are the loop's constants, packed once for it
    expect(sources[0]!.match(/f32_gemm_stable_b__simd128\(/g)).toHaveLength(2);
    expect(sources[0]!.match(/f32_gemm_forget_b\(\)/g)).toHaveLength(2); // before and after the loop
    expect(sources[1]!.length - sources[0]!.length).toBeLessThan(40); // only numbers change
    expect(sources[2]!.length - sources[1]!.length).toBeLessThan(40);
  });
});

describe('errors', () => {
  const file = 'scan.test.ts';
  test('a carry that changes shape names scan, both types and the line', () => {
    expect(messageOf(() => kiln.scan((c: Tensor, x: Tensor) => [kiln.concat([c, x]), c], kiln.zeros([2]), kiln.zeros([3, 1])), file))
      .toMatch(/^scan: the carried state must keep its shape and dtype: carry 0 is f32\[2\] in init but the body returns f32\[3\] \(at test\/ops\/scan\.test\.ts:L\)\.$/);
  });
  test('a body that does not return [carry, y]', () => {
    expect(messageOf(() => kiln.scan(((c: Tensor) => c) as never, kiln.zeros([2]), kiln.zeros([3, 2])), file)).toMatch(/^scan: expected the body to return \[newCarry, y\], got object \(at .*scan\.test\.ts:L\)\.$/);
  });
  test('a sequence axis that does not exist, and sequences of different lengths', () => {
    expect(messageOf(() => kiln.scan((c: Tensor, x: Tensor) => [c, x], kiln.zeros([2]), kiln.zeros([3, 2]), { axis: 2 }), file)).toMatch(/^scan: expected an axis of xs leaf 0 f32\[3,2\] \(0…1\), got 2/);
    expect(messageOf(() => kiln.scan((c: Tensor) => [c, c], kiln.zeros([2]), [kiln.zeros([3, 2]), kiln.zeros([4, 2])]), file)).toMatch(/^scan: expected every xs leaf to have the same size along axis 0, got 3 and 4/);
    expect(messageOf(() => kiln.scan((c: Tensor) => [c, c], kiln.zeros([2]), kiln.zeros([3, 2]), { length: 5 }), file)).toMatch(/^scan: options.length is 5 but xs has 3 steps along axis 0/);
    expect(messageOf(() => kiln.scan((c: Tensor) => [c, c], kiln.zeros([2]), null), file)).toMatch(/^scan: expected xs, or options.length when xs is null/);
  });
  test('a step count that is not an int32 scalar or is out of range', () => {
    expect(messageOf(() => kiln.scan((c: Tensor) => [c, c], kiln.zeros([2]), kiln.zeros([3, 2]), { steps: 4 }), file)).toMatch(/^scan: expected options.steps to be an integer in \[0, 3\], got 4/);
    expect(messageOf(() => kiln.scan((c: Tensor) => [c, c], kiln.zeros([2]), kiln.zeros([3, 2]), { steps: kiln.scalar(1) }), file)).toMatch(/^scan: expected options.steps to be an int32 scalar tensor or a number, got f32\[\]/);
  });
  test('int32 carries, a carry structure that changes, a scan over the dynamic batch axis', () => {
    expect(messageOf(() => kiln.scan((c: Tensor) => [c, undefined], kiln.zeros([2], 'int32'), null, { length: 2 }), file)).toMatch(/^scan: expected float32 carries, got i32\[2\] for carry 0/);
    expect(messageOf(() => kiln.scan((c: Tensor[]) => [[c[0]!], undefined], [kiln.zeros([2]), kiln.zeros([2])], null, { length: 2 }), file)).toMatch(/^scan: the body must return a new carry with the same structure as init/);
    expect(messageOf(() => kiln.trace((x: Tensor) => kiln.scan((c: Tensor, r: Tensor) => [c, r], kiln.zeros([3]), x)[1] as Tensor, [kiln.spec([null, 3])]), file)).toMatch(/^scan: cannot loop over the dynamic batch axis 0 of xs leaf 0 f32\[B,3\]/);
  });
});

describe('PyTorch-style (lazy) tensors', () => {
  test('weights used in the body get gradients through backward(), as kiln.grad gives them', () => {
    const rng = new Rng(41);
    const [h0, xs, w0, u0] = [rng.normal([2, 3]), rng.normal([4, 2, 2]), kiln.mul(rng.normal([3, 3]), 0.5), kiln.mul(rng.normal([2, 3]), 0.5)];
    const loss = (a: Tensor, b: Tensor, c: Tensor, d: Tensor) => { const [h, ys] = rnn(a, b, c, d); return kiln.add(kiln.sum(kiln.square(h)), kiln.sum(ys)); };
    const [dw, du] = kiln.grad(loss, [2, 3])(h0, xs, w0, u0) as [Tensor, Tensor];
    const w = kiln.tensor(w0.dataSync(), [3, 3]).requiresGrad_();
    const u = kiln.tensor(u0.dataSync(), [2, 3]).requiresGrad_();
    const l = loss(h0, xs, w, u);
    expect(l.isLazy).toBe(true);
    l.backward();
    values(w.grad!).forEach((v, i) => expect(v).toBeCloseTo(values(dw)[i]!, 5));
    values(u.grad!).forEach((v, i) => expect(v).toBeCloseTo(values(du)[i]!, 5));
  });
});

test('a shape error inside a lazy step\'s body names the body\'s line', () => {
  const h = kiln.zeros([2, 3]).requiresGrad_();
  const message = messageOf(() => kiln.scan((c: Tensor, x: Tensor) => [kiln.add(c, kiln.matmul(x, kiln.zeros([5, 3]))), c], h, kiln.zeros([4, 2, 2])), 'scan.test.ts');
  expect(message).toMatch(/^matmul: expected inner dimensions to agree, got f32\[2,2\] and f32\[5,3\] \(at test\/ops\/scan\.test\.ts:L\)\.$/);
});
