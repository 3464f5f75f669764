/** The autodiff pass, compared as printed graphs before and after. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';

const lines = (...xs: string[]) => xs.join('\n');

describe('autodiff pass', () => {
  const mlp = kiln.trace(
    (x: kiln.Tensor, w: kiln.Tensor, b: kiln.Tensor) => kiln.sum(kiln.relu(kiln.add(kiln.matmul(x, w), b))),
    [kiln.spec([null, 3], 'float32', { name: 'x' }), kiln.spec([3, 2], 'float32', { kind: 'parameter', name: 'w' }), kiln.spec([2], 'float32', { kind: 'parameter', name: 'b' })],
  );

  test('before: the traced forward graph', () => {
    expect(kiln.print(mlp)).toBe(lines(
      '%0: f32[B,3] = input name=x kind=data',
      '%1: f32[3,2] = input name=w kind=parameter',
      '%2: f32[2] = input name=b kind=parameter',
      '%3: f32[B,2] = matmul %0, %1 transposeA=false transposeB=false',
      '%4: f32[B,2] = add %3, %2',
      '%5: f32[B,2] = relu %4',
      '%6: f32[] = sum %5 axes=[0,1] keepDims=false',
      'output output = %6',
    ));
  });

  test('after: gradients of w and b, with the broadcast of b summed back and no gradient for x', () => {
    const g = kiln.verify(kiln.autodiff(mlp, { of: 'output', wrt: ['w', 'b'] }));
    expect(kiln.print(g)).toBe(lines(
      '%0: f32[B,3] = input name=x kind=data',
      '%1: f32[3,2] = input name=w kind=parameter',
      '%2: f32[2] = input name=b kind=parameter',
      '%3: f32[B,2] = matmul %0, %1 transposeA=false transposeB=false',
      '%4: f32[B,2] = add %3, %2',
      '%5: f32[B,2] = relu %4',
      '%6: f32[] = sum %5 axes=[0,1] keepDims=false',
      '%7: f32[1,1] = constant value=[1]',
      '%8: f32[B,2] = broadcastTo %7 shape=[B,2]',
      '%9: f32[] = constant value=[0]',
      '%10: bool[B,2] = gt %5, %9',
      '%11: f32[] = constant value=[0]',
      '%12: f32[B,2] = where %10, %8, %11',
      '%13: f32[1,2] = sum %12 axes=[0] keepDims=true',
      '%14: f32[2] = reshape %13 shape=[2]',
      '%15: f32[3,2] = matmul %0, %12 transposeA=true transposeB=false',
      'output output = %6',
      'output grad_w = %15',
      'output grad_b = %14',
    ));
  });

  test('does no work for a branch that does not reach the loss', () => {
    const g = kiln.trace(({ x, y }: Record<string, kiln.Tensor>) => {
      const unused = kiln.exp(kiln.mul(x!, y!)); // reaches no output
      const side = kiln.sin(y!); // an output, but not the loss
      return { loss: kiln.sum(kiln.square(x!)), side, other: kiln.sum(unused) };
    }, { x: kiln.spec([2]), y: kiln.spec([2]) });
    const dg = kiln.autodiff(g, { of: 'loss', wrt: ['x', 'y'] });
    const printed = kiln.print(dg);
    expect(printed).not.toMatch(/= cos /); // sin's VJP never ran
    expect(printed).not.toMatch(/= exp .*\n.*= mul/); // nor exp's
    const out = kiln.interpret(dg, { x: kiln.tensor([1, 2]).value!, y: kiln.tensor([3, 4]).value! }).outputs;
    expect(Array.from(out.grad_x!.data)).toEqual([2, 4]);
    expect(Array.from(out.grad_y!.data)).toEqual([0, 0]);
  });

  test('keeps the updates of the graph it differentiates', () => {
    const g = kiln.trace((s: kiln.Tensor, x: kiln.Tensor) => {
      kiln.assign(s, kiln.add(s, 1));
      return kiln.sum(kiln.mul(x, s));
    }, [kiln.spec([2], 'float32', { kind: 'state', name: 's' }), kiln.spec([2], 'float32', { name: 'x' })]);
    const dg = kiln.verify(kiln.autodiff(g, { of: 'output', wrt: ['x'] }));
    const r = kiln.interpret(dg, { s: kiln.tensor([1, 2]).value!, x: kiln.tensor([5, 6]).value! });
    expect(Array.from(r.outputs.grad_x!.data)).toEqual([1, 2]);
    expect(Array.from(r.updates.s!.data)).toEqual([2, 3]);
  });

  test('interpreting the pass output leaves the original outputs unchanged', () => {
    const inputs = { x: kiln.randomNormal([4, 3], { seed: 1 }).value!, w: kiln.randomNormal([3, 2], { seed: 2 }).value!, b: kiln.randomNormal([2], { seed: 3 }).value! };
    const before = kiln.interpret(mlp, inputs).outputs.output!;
    const after = kiln.interpret(kiln.autodiff(mlp, { of: 'output', wrt: ['w'] }), inputs).outputs.output!;
    expect(after.data).toEqual(before.data);
  });
});

describe('dce pass', () => {
  test('drops nodes no output needs and renumbers the rest', () => {
    const g = kiln.trace((x: kiln.Tensor) => {
      kiln.exp(x);
      return kiln.neg(x);
    }, [kiln.spec([2])]);
    expect(kiln.print(kiln.verify(kiln.dce(g)))).toBe(lines('%0: f32[2] = input name=input kind=data', '%1: f32[2] = neg %0', 'output output = %1'));
  });
});
