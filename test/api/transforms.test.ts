/** grad, valueAndGrad, vjp, customGrad and stopGradient, eagerly and inside traces. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';

const values = (t: kiln.Tensor) => Array.from(t.dataSync());

describe('grad', () => {
  test('gives 2x for sum of squares', () => {
    expect(values(kiln.grad((x: kiln.Tensor) => kiln.sum(kiln.square(x)))(kiln.tensor([1, -2, 3])))).toEqual([2, -4, 6]);
  });

  test('takes several arguments with argnums', () => {
    const f = (a: kiln.Tensor, b: kiln.Tensor) => kiln.sum(kiln.mul(a, b));
    const [da, db] = kiln.grad(f, [0, 1])(kiln.tensor([1, 2]), kiln.tensor([3, 4]));
    expect(values(da!)).toEqual([3, 4]);
    expect(values(db!)).toEqual([1, 2]);
  });

  test('accumulates on fan-out: d/dx (x·x + x) = 2x + 1', () => {
    const f = (x: kiln.Tensor) => kiln.sum(kiln.add(kiln.mul(x, x), x));
    expect(values(kiln.grad(f)(kiln.tensor([0.5, 2])))).toEqual([2, 5]);
  });

  test('gives zeros for an input the output does not depend on', () => {
    const f = (_a: kiln.Tensor, b: kiln.Tensor) => kiln.sum(b);
    expect(values(kiln.grad(f, 0)(kiln.tensor([1, 2, 3]), kiln.tensor([1])))).toEqual([0, 0, 0]);
  });

  test('composes to second and third order', () => {
    const f = (x: kiln.Tensor) => kiln.sum(kiln.pow(x, 4));
    const d2 = kiln.grad((x: kiln.Tensor) => kiln.sum(kiln.grad(f)(x)));
    const d3 = kiln.grad((x: kiln.Tensor) => kiln.sum(d2(x)));
    expect(values(d2(kiln.tensor([2])))).toEqual([48]); // 12x²
    expect(values(d3(kiln.tensor([2])))).toEqual([48]); // 24x
  });

  test('through stopGradient sees the stopped value as a constant', () => {
    const f = (x: kiln.Tensor) => kiln.sum(kiln.mul(x, kiln.stopGradient(x)));
    expect(values(kiln.grad(f)(kiln.tensor([3, -1])))).toEqual([3, -1]);
  });

  test('refuses a non-scalar function with a pointer to vjp', () => {
    expect(() => kiln.grad((x: kiln.Tensor) => kiln.exp(x))(kiln.tensor([1, 2]))).toThrow(
      /^grad: expected the function to return a float32 scalar, got f32\[2\]; reduce it \(e\.g\. kiln\.sum\) or use kiln\.vjp with a cotangent \(at test\/api\/transforms\.test\.ts:\d+\)\.$/,
    );
  });
});

describe('valueAndGrad', () => {
  test('returns the loss and its gradient from one trace', () => {
    const w = kiln.tensor([[1, 2], [3, 4]]);
    const x = kiln.tensor([[1, 1]]);
    const { value, grad } = kiln.valueAndGrad((m: kiln.Tensor) => kiln.sum(kiln.matmul(x, m)))(w);
    expect(value.itemSync()).toBe(10);
    expect(grad.arraySync()).toEqual([[1, 1], [1, 1]]);
  });

  test('inside a trace, adds gradient nodes to the traced graph', () => {
    const g = kiln.trace((w: kiln.Tensor) => kiln.valueAndGrad((v: kiln.Tensor) => kiln.sum(kiln.tanh(v)))(w).grad, [kiln.spec([3])]);
    expect(kiln.print(kiln.dce(g))).toBe([
      '%0: f32[3] = input name=input kind=data',
      '%1: f32[3] = tanh %0',
      '%2: f32[3] = square %1',
      '%3: f32[] = constant value=[1]',
      '%4: f32[3] = sub %3, %2',
      '%5: f32[3] = constant value=[1,1,1]',
      '%6: f32[3] = mul %5, %4',
      'output output = %6',
    ].join('\n'));
  });
});

describe('vjp', () => {
  test('pulls back a cotangent through a non-scalar function', () => {
    const { value, vjp } = kiln.vjp((x: kiln.Tensor) => kiln.mul(x, x), kiln.tensor([1, 2, 3]));
    expect(values(value)).toEqual([1, 4, 9]);
    const [dx] = vjp(kiln.tensor([1, 0, -1]));
    expect(values(dx!)).toEqual([2, 0, -6]);
  });

  test('checks the cotangent type', () => {
    const { vjp } = kiln.vjp((x: kiln.Tensor) => kiln.exp(x), kiln.tensor([1, 2]));
    expect(() => vjp(kiln.tensor([1, 2, 3]))).toThrow(/^vjp: expected a cotangent of type f32\[2\], got f32\[3\]/);
  });
});

describe('customGrad', () => {
  // straight-through estimator: forward rounds, backward passes the gradient as is
  const roundSte = kiln.customGrad((x: kiln.Tensor) => ({ value: kiln.round(x), gradFunc: (dy: kiln.Tensor) => dy }));

  test('uses the given gradient instead of the ops’ own', () => {
    expect(values(roundSte(kiln.tensor([0.4, 1.6])))).toEqual([0, 2]);
    expect(values(kiln.grad((x: kiln.Tensor) => kiln.sum(kiln.mul(roundSte(x), 3)))(kiln.tensor([0.4, 1.6])))).toEqual([3, 3]);
  });

  test('lets gradFunc use forward tensors, and differentiates again through it', () => {
    // a hand-written gradient for x³ that closes over the forward input
    const cube = kiln.customGrad((x: kiln.Tensor) => ({ value: kiln.mul(kiln.square(x), x), gradFunc: (dy: kiln.Tensor) => kiln.mul(dy, kiln.mul(kiln.square(x), 3)) }));
    const d1 = kiln.grad((x: kiln.Tensor) => kiln.sum(cube(x)));
    expect(values(d1(kiln.tensor([2])))).toEqual([12]);
    // gradFunc's ops are inlined with the captured x, so the second derivative flows through them: 6x
    const d2 = kiln.grad((x: kiln.Tensor) => kiln.sum(d1(x)));
    expect(values(d2(kiln.tensor([2])))).toEqual([12]);
  });

  test('refuses a gradient of the wrong shape', () => {
    const bad = kiln.customGrad((x: kiln.Tensor) => ({ value: x, gradFunc: () => kiln.tensor([1]) }));
    expect(() => kiln.grad((x: kiln.Tensor) => kiln.sum(bad(x)))(kiln.tensor([1, 2]))).toThrow(/^customGrad: expected gradient 0 of type f32\[2\], got f32\[1\]/);
  });
});

describe('tracing', () => {
  test('records the user’s source line on each node', () => {
    const g = kiln.trace((x: kiln.Tensor) => kiln.relu(x), [kiln.spec([2])]);
    expect(g.nodes[1]!.origin).toMatch(/^test\/api\/transforms\.test\.ts:\d+$/);
  });

  test('runs a graph with a dynamic batch at any batch size', () => {
    const g = kiln.trace((x: kiln.Tensor) => kiln.mean(kiln.square(x), 0), [kiln.spec([null, 2])]);
    expect(kiln.print(g)).toContain('%1: f32[B,2] = square %0');
    for (const [rows, expected] of [[[[1, 2]], [1, 4]], [[[1, 2], [3, 4], [5, 6]], [35 / 3, 56 / 3]]] as const) {
      const out = kiln.interpret(g, { input: kiln.tensor(rows as unknown as number[][]).value! }).outputs.output!;
      Array.from(out.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    }
  });

  test('records updates of parameters', () => {
    const g = kiln.trace((w: kiln.Tensor, x: kiln.Tensor) => {
      const { value, grad } = kiln.valueAndGrad((v: kiln.Tensor) => kiln.sum(kiln.square(kiln.matmul(x, v))))(w);
      kiln.assign(w, kiln.sub(w, kiln.mul(grad, 0.1)));
      return value;
    }, [kiln.spec([2, 1], 'float32', { kind: 'parameter', name: 'w' }), kiln.spec([null, 2], 'float32', { name: 'x' })]);
    kiln.verify(g);
    const { outputs, updates } = kiln.interpret(g, { w: kiln.tensor([[1], [0]]).value!, x: kiln.tensor([[1, 2]]).value! });
    expect(Array.from(outputs.output!.data)).toEqual([1]);
    // loss = (w0 + 2 w1)², grad = 2(w0 + 2 w1)·[1, 2] = [2, 4]
    expect(Array.from(updates.w!.data).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.8, -0.4]);
  });

  test('captures concrete tensors as constants', () => {
    const w = kiln.tensor([[2]]);
    const g = kiln.trace((x: kiln.Tensor) => kiln.matmul(x, w), [kiln.spec([null, 1])]);
    expect(kiln.print(g)).toBe(['%0: f32[B,1] = input name=input kind=data', '%1: f32[1,1] = constant value=[2]', '%2: f32[B,1] = matmul %0, %1 transposeA=false transposeB=false', 'output output = %2'].join('\n'));
  });

  test('structural hash ignores origins and sees constants', () => {
    const make = (c: number) => kiln.trace((x: kiln.Tensor) => kiln.add(x, c), [kiln.spec([2])]);
    expect(kiln.hashGraph(make(1))).toBe(kiln.hashGraph(make(1)));
    expect(kiln.hashGraph(make(1))).not.toBe(kiln.hashGraph(make(2)));
  });
});
