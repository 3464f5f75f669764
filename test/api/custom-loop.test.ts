/**
 * Custom training loops (the GradientTape use case): `kiln.variable` weights,
 * `kiln.valueAndGrad` and `optimizer.applyGradients` inside `kiln.compile` run as
 * one compiled step whose weights persist across calls and are copied back.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const X = [[1, 2, -1], [0.5, -1, 2], [-1.5, 0.5, 1], [2, 1, 0.5]];
const Y = [[1], [0.5], [-1], [2]];
const x = kiln.tensor(X);
const y = kiln.tensor(Y);

const flat = (t: kiln.Tensor) => Array.from(t.value!.data as ArrayLike<number>);

/** Plain float64 SGD on mean((x·w + b − y)²), w [3,1], b [1]. */
function sgdReference(w0: number[], b0: number[], lr: number, steps: number): { w: number[]; b: number[]; losses: number[] } {
  const w = [...w0];
  const b = [...b0];
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const dw = [0, 0, 0];
    let db = 0;
    let loss = 0;
    X.forEach((row, n) => {
      const r = row[0]! * w[0]! + row[1]! * w[1]! + row[2]! * w[2]! + b[0]! - Y[n]![0]!;
      loss += (r * r) / X.length;
      const d = (2 * r) / X.length;
      for (let i = 0; i < 3; i++) dw[i]! += row[i]! * d;
      db += d;
    });
    losses.push(loss);
    for (let i = 0; i < 3; i++) w[i] = w[i]! - lr * dw[i]!;
    b[0] = b[0]! - lr * db;
  }
  return { w, b, losses };
}

function makeStep(w: kiln.Variable, b: kiln.Variable, opt: kiln.optimizers.SGD | kiln.optimizers.Adam) {
  let traces = 0;
  const step = kiln.compile((xs, ys) => {
    traces++;
    const loss = (wv: kiln.Tensor, bv: kiln.Tensor) => kiln.meanSquaredError(ys!, kiln.add(kiln.matmul(xs!, wv), bv));
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1])(w.read(), b.read());
    opt.applyGradients([[grad[0]!, w.read()], [grad[1]!, b.read()]]);
    return value;
  });
  return { step, traces: () => traces };
}

describe('custom training loop with kiln.variable', () => {
  test('SGD: compiled once, loss falls, weights match a float64 reference and persist', async () => {
    const w = kiln.variable(kiln.zeros([3, 1]));
    const b = kiln.variable(kiln.zeros([1]));
    expect(w.name).not.toBe(b.name);
    const lr = 0.05;
    const { step, traces } = makeStep(w, b, kiln.optimizers.sgd({ learningRate: lr }));
    const n = 10;
    const losses: number[] = [];
    for (let i = 0; i < n; i++) losses.push(flat((await step(x, y)) as kiln.Tensor)[0]!);
    expect(traces()).toBe(1);
    const ref = sgdReference([0, 0, 0], [0], lr, n);
    losses.forEach((l, i) => expect(l).toBeCloseTo(ref.losses[i]!, 5));
    expect(losses[n - 1]!).toBeLessThan(losses[0]! * 0.5);
    flat(w.value).forEach((v, i) => expect(Math.abs(v - ref.w[i]!)).toBeLessThan(1e-5));
    flat(b.read()).forEach((v, i) => expect(Math.abs(v - ref.b[i]!)).toBeLessThan(1e-5));
  });

  test('assign outside between calls is picked up; learning-rate changes are fed', async () => {
    const w = kiln.variable(kiln.zeros([3, 1]));
    const b = kiln.variable([0]);
    const opt = kiln.optimizers.sgd({ learningRate: 0.05 });
    const { step, traces } = makeStep(w, b, opt);
    await step(x, y);
    await step(x, y);
    const w0 = [0.3, -0.2, 0.1];
    w.assign(kiln.tensor(w0.map((v) => [v])));
    b.assign(kiln.tensor([0.5]));
    opt.learningRate = 0.02;
    await step(x, y);
    await step(x, y);
    const ref = sgdReference(w0, [0.5], 0.02, 2);
    flat(w.value).forEach((v, i) => expect(Math.abs(v - ref.w[i]!)).toBeLessThan(1e-5));
    flat(b.value).forEach((v, i) => expect(Math.abs(v - ref.b[i]!)).toBeLessThan(1e-5));
    expect(traces()).toBe(1);
  });

  test('Adam: matches the same steps run in the interpreter', async () => {
    const w = kiln.variable(kiln.tensor([[0.5], [-0.3], [0.2]]), { name: 'w' });
    const b = kiln.variable([0.1], { name: 'b' });
    const { step, traces } = makeStep(w, b, kiln.optimizers.adam({ learningRate: 0.1 }));
    const n = 6;
    const losses: number[] = [];
    for (let i = 0; i < n; i++) losses.push(flat((await step(x, y)) as kiln.Tensor)[0]!);
    expect(traces()).toBe(1);
    expect(losses[n - 1]!).toBeLessThan(losses[0]!);

    // the same step traced explicitly and run eagerly by the reference interpreter
    const opt = kiln.optimizers.adam({ learningRate: 0.1 });
    const g = kiln.trace(({ x: xs, y: ys, w: wv, b: bv }) => {
      const loss = (a: kiln.Tensor, c: kiln.Tensor) => kiln.meanSquaredError(ys!, kiln.add(kiln.matmul(xs!, a), c));
      const { value, grad } = kiln.valueAndGrad(loss, [0, 1])(wv!, bv!);
      opt.applyGradients([[grad[0]!, wv!], [grad[1]!, bv!]]);
      return value;
    }, { x: kiln.spec([4, 3]), y: kiln.spec([4, 1]), w: kiln.spec([3, 1], 'float32', { kind: 'parameter' }), b: kiln.spec([1], 'float32', { kind: 'parameter' }) });
    const f32 = (data: number[], shape: number[]): kiln.Value => ({ dtype: 'float32', shape, data: new Float32Array(data) });
    let state: Record<string, kiln.Value> = {
      w: f32([0.5, -0.3, 0.2], [3, 1]),
      b: f32([0.1], [1]),
      ...Object.fromEntries(Object.entries(opt.initialState({ w: { shape: [3, 1] }, b: { shape: [1] } })).map(([k, v]) => [k, f32([...v], k.endsWith('step') ? [] : k.startsWith('w') ? [3, 1] : [1])])),
    };
    for (let i = 0; i < n; i++) {
      const lrIn = Object.fromEntries(Object.entries(opt.inputs()).map(([k, v]) => [k, f32([...v], [])]));
      const r = kiln.interpret(g, { x: f32(X.flat(), [4, 3]), y: f32(Y.flat(), [4, 1]), ...state, ...lrIn });
      expect(Math.abs((r.outputs.output!.data as ArrayLike<number>)[0]! - losses[i]!)).toBeLessThan(1e-5);
      state = { ...state, ...r.updates };
    }
    flat(w.value).forEach((v, i) => expect(Math.abs(v - (state.w!.data as ArrayLike<number>)[i]!)).toBeLessThan(1e-5));
    flat(b.value).forEach((v, i) => expect(Math.abs(v - (state.b!.data as ArrayLike<number>)[i]!)).toBeLessThan(1e-5));
  });

  test('two input signatures share one optimizer state: the steps equal those of one signature', async () => {
    const run = async (split: boolean) => {
      const w = kiln.variable(kiln.tensor([[0.5], [-0.3], [0.2]]));
      const b = kiln.variable([0.1]);
      const { step, traces } = makeStep(w, b, kiln.optimizers.adam({ learningRate: 0.1 }));
      const head = { x: kiln.slice(x, [0, 0], [2, -1]), y: kiln.slice(y, [0, 0], [2, -1]) };
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) {
        // split: alternate a 2-row and a 4-row batch (two signatures); else the 2 rows padded by repeating them (one signature)
        const batch = i % 2 === 0 && split ? head : i % 2 === 0 ? { x: kiln.concat([head.x, head.x], 0), y: kiln.concat([head.y, head.y], 0) } : { x, y };
        losses.push(flat((await step(batch.x, batch.y)) as kiln.Tensor)[0]!);
      }
      return { losses, w: flat(w.value), traces: traces() };
    };
    const two = await run(true);
    const one = await run(false);
    expect(two.traces).toBe(2);
    expect(one.traces).toBe(1);
    two.losses.forEach((l, i) => expect(l).toBeCloseTo(one.losses[i]!, 5));
    two.w.forEach((v, i) => expect(v).toBeCloseTo(one.w[i]!, 5));
  });

  test('variable names that clash with another input of the compiled function are errors', async () => {
    const a = kiln.variable([1], { name: 'same' });
    const c = kiln.variable([2], { name: 'same' });
    await expect(kiln.compile(() => kiln.add(a.read(), c.read()))()).rejects.toThrow('compile: two variables named "same" are used in one compiled function; give them distinct names (kiln.variable(value, { name })).');
    const arg = kiln.variable([1], { name: 'arg_0' });
    await expect(kiln.compile((t) => kiln.add(t!, arg.read()))(kiln.tensor([1]))).rejects.toThrow(/variable "arg_0" has the name of another input of the compiled function/);
  });

  test('read and assign outside a compiled function; wrong shapes are clear errors', () => {
    const v = kiln.variable([[1, 2], [3, 4]], { trainable: false });
    expect(v.trainable).toBe(false);
    expect(v.name).toMatch(/^variable(_\d+)?$/);
    expect(v.read().arraySync()).toEqual([[1, 2], [3, 4]]);
    v.assign(kiln.tensor([[5, 6], [7, 8]]));
    expect(v.value.arraySync()).toEqual([[5, 6], [7, 8]]);
    expect(() => v.assign(kiln.tensor([1, 2, 3, 4]))).toThrow(/expected a value of type f32\[2,2\], got f32\[4\]/);
    expect(() => v.assign(kiln.tensor([[1, 2], [3, 4]], undefined, 'int32'))).toThrow(/Variable .*assign/);
    expect(v.value.arraySync()).toEqual([[5, 6], [7, 8]]);
  });
});

describe('kiln.compile results', () => {
  test('are views of the module until the next call, which first gives each the copy it keeps: earlier results never change', async () => {
    const f = kiln.compile((x: kiln.Tensor) => kiln.mul(x, 2));
    const a = await f(kiln.tensor([1, 2, 3])) as kiln.Tensor;
    const b = await f(kiln.tensor([10, 20, 30])) as kiln.Tensor;
    const c = await f(kiln.tensor([7, 8, 9])) as kiln.Tensor;
    expect(Array.from(a.dataSync())).toEqual([2, 4, 6]);
    expect(Array.from(await b.data())).toEqual([20, 40, 60]);
    expect(Array.from(c.dataSync())).toEqual([14, 16, 18]);
    // what data() hands out is the caller's: writing to it changes no tensor
    const mine = c.dataSync();
    mine[0] = -1;
    expect(c.dataSync()[0]).toBe(14);
  });
});
