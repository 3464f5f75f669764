/** simplify: printed before/after, and values unchanged on random graphs. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { simplify } from '../../compiler/passes/simplify.js';

const lines = (...xs: string[]) => xs.join('\n');

describe('simplify', () => {
  test('folds constants, merges repeated nodes and drops exact identities', () => {
    const c = kiln.tensor([1, 2]);
    const g = kiln.trace((x: kiln.Tensor) => {
      const twice = kiln.add(kiln.exp(x), kiln.exp(x)); // CSE: one exp
      const folded = kiln.mul(kiln.neg(c), 3); // eager constant arithmetic
      const same = kiln.div(kiln.mul(kiln.neg(kiln.neg(twice)), 1), 1); // identities
      return kiln.sub(kiln.add(same, folded), 0);
    }, [kiln.spec([2])]);
    expect(kiln.print(kiln.verify(simplify(g)))).toBe(lines(
      '%0: f32[2] = input name=input kind=data',
      '%1: f32[2] = exp %0',
      '%2: f32[2] = add %1, %1',
      '%3: f32[2] = constant value=[-3,-6]',
      '%4: f32[2] = add %2, %3',
      'output output = %4',
    ));
  });

  test('composes reshapes and transposes', () => {
    const g = kiln.trace((x: kiln.Tensor) => kiln.transpose(kiln.transpose(kiln.reshape(kiln.reshape(x, [6]), [3, 2]), [1, 0]), [1, 0]), [kiln.spec([2, 3])]);
    expect(kiln.print(simplify(g))).toBe(lines(
      '%0: f32[2,3] = input name=input kind=data',
      '%1: f32[3,2] = reshape %0 shape=[3,2]',
      'output output = %1',
    ));
  });

  test('a split\'s gradient (zero pads that tile an axis, summed) becomes a concat with the same bits', () => {
    const g = kiln.trace((x: kiln.Tensor, dy: kiln.Tensor) => {
      const { vjp } = kiln.vjp((t: kiln.Tensor) => { const [a, b, c] = kiln.split(t, [1, 3, 2], 1) as [kiln.Tensor, kiln.Tensor, kiln.Tensor]; return kiln.concat([kiln.mul(c, 2), kiln.neg(a), kiln.exp(b)], 1); }, x);
      return vjp(dy)[0]!;
    }, [kiln.spec([2, 6]), kiln.spec([2, 6])]);
    const s = simplify(g);
    expect(g.nodes.filter((n) => n.op === 'pad')).toHaveLength(3);
    expect(s.nodes.filter((n) => n.op === 'pad')).toHaveLength(0);
    expect(s.nodes.filter((n) => n.op === 'concat').length).toBeGreaterThan(0);
    // −0 cotangents included: the sum gave +0 there, so must the rewrite
    const inputs = { input_0: kiln.tensor([[0.1, -0.2, 0.3, 0, 1, -1], [2, 0.5, -0.5, 3, 0, 0.25]]).value!, input_1: kiln.tensor([[-0, 1, -0, 2, -0, 3], [0, -0, 1, -0, 2, -0]]).value! };
    const bits = (v: kiln.Value) => Array.from(new Uint32Array(new Float32Array(v.data).buffer));
    expect(bits(kiln.interpret(s, inputs).outputs.output!)).toEqual(bits(kiln.interpret(g, inputs).outputs.output!));
  });

  test('pads that overlap or leave a gap stay a sum', () => {
    const g = kiln.trace((a: kiln.Tensor, b: kiln.Tensor) => kiln.add(kiln.pad(a, [[0, 0], [0, 3]]), kiln.pad(b, [[0, 0], [1, 1]])), [kiln.spec([2, 2]), kiln.spec([2, 3])]); // b overlaps a
    expect(simplify(g).nodes.filter((n) => n.op === 'pad')).toHaveLength(2);
    const gap = kiln.trace((a: kiln.Tensor, b: kiln.Tensor) => kiln.add(kiln.pad(a, [[0, 0], [0, 4]]), kiln.pad(b, [[0, 0], [3, 0]])), [kiln.spec([2, 2]), kiln.spec([2, 3])]);
    expect(simplify(gap).nodes.filter((n) => n.op === 'pad')).toHaveLength(2);
  });

  test('keeps x + 0 (it turns -0 into +0) and x * 0 (NaN · 0 is NaN)', () => {
    const g = kiln.trace((x: kiln.Tensor) => kiln.add(kiln.mul(x, 0), kiln.add(x, 0)), [kiln.spec([2])]);
    expect(kiln.print(simplify(g))).toContain('= mul %0');
    expect(kiln.print(simplify(g))).toMatch(/= add %0, %\d+\n/);
  });

  test('leaves the values of a differentiated graph unchanged, bit for bit', () => {
    const g = kiln.trace((x: kiln.Tensor, w: kiln.Tensor) => kiln.sum(kiln.softmax(kiln.matmul(x, w))), [kiln.spec([null, 4], 'float32', { name: 'x' }), kiln.spec([4, 3], 'float32', { name: 'w' })]);
    const dg = kiln.autodiff(g, { of: 'output', wrt: ['w'] });
    const inputs = { x: kiln.randomNormal([5, 4], { seed: 1 }).value!, w: kiln.randomNormal([4, 3], { seed: 2 }).value! };
    const before = kiln.interpret(dg, inputs).outputs;
    const simplified = kiln.verify(simplify(dg));
    const after = kiln.interpret(simplified, inputs).outputs;
    expect(after.grad_w!.data).toEqual(before.grad_w!.data);
    expect(after.output!.data).toEqual(before.output!.data);
  });
});
