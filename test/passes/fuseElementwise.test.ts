/** fuseElementwise: which nodes join a loop, printed; values unchanged. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import type { OpParams } from '../../compiler/index.js';
import { fuseElementwise } from '../../compiler/passes/fuseElementwise.js';
import { simplify } from '../../compiler/passes/simplify.js';

const lines = (...xs: string[]) => xs.join('\n');
const bodies = (g: kiln.Graph) => g.nodes.filter((n) => n.op === 'fused').map((n) => kiln.print((n.params as OpParams['fused']).body));

describe('fuseElementwise', () => {
  const dense = kiln.trace((x: kiln.Tensor, w: kiln.Tensor, b: kiln.Tensor) => kiln.mul(kiln.relu(kiln.add(kiln.matmul(x, w), b)), 0.5),
    [kiln.spec([null, 3], 'float32', { name: 'x' }), kiln.spec([3, 2], 'float32', { name: 'w' }), kiln.spec([2], 'float32', { name: 'b' })]);

  test('fuses add→relu→mul after a matmul into one loop, the scalar inlined', () => {
    const g = kiln.verify(fuseElementwise(dense));
    expect(kiln.print(g).replace(/graph#\w+/, 'graph')).toBe(lines(
      '%0: f32[B,3] = input name=x kind=data',
      '%1: f32[3,2] = input name=w kind=data',
      '%2: f32[2] = input name=b kind=data',
      '%3: f32[B,2] = matmul %0, %1 transposeA=false transposeB=false',
      '%4: f32[B,2] = fused %3, %2 body=graph',
      'output output = %4',
    ));
    expect(bodies(g)).toEqual([lines(
      '%0: f32[B,2] = input name=in_0 kind=data',
      '%1: f32[2] = input name=in_1 kind=data',
      '%2: f32[B,2] = add %0, %1',
      '%3: f32[B,2] = relu %2',
      '%4: f32[] = constant value=[0.5]',
      '%5: f32[B,2] = mul %3, %4',
      'output output = %5',
    )]);
  });

  test('keeps a value with a use outside the chain as the end of its own loop', () => {
    const g = kiln.trace((x: kiln.Tensor) => {
      const e = kiln.exp(x);
      return { a: kiln.neg(e), b: kiln.sum(e) };
    }, [kiln.spec([4])]);
    const fused = kiln.verify(fuseElementwise(g));
    expect(fused.nodes.map((n) => n.op)).toEqual(['input', 'fused', 'fused', 'sum']);
  });

  test('fuses a diamond whose branches meet again', () => {
    const g = kiln.trace((x: kiln.Tensor) => {
      const s = kiln.sigmoid(x);
      return kiln.add(kiln.mul(s, x), kiln.sub(1, s));
    }, [kiln.spec([3])]);
    const fused = kiln.verify(fuseElementwise(g));
    expect(fused.nodes.map((n) => n.op)).toEqual(['input', 'fused']);
  });

  test('ends a chain with the reduction that is its only use: sum((x - m)²) is one loop', () => {
    const g = kiln.trace((x: kiln.Tensor, m: kiln.Tensor) => kiln.sum(kiln.square(kiln.sub(x, m)), 1), [kiln.spec([null, 6]), kiln.spec([6])]);
    const fused = kiln.verify(fuseElementwise(g));
    expect(fused.nodes.map((n) => n.op)).toEqual(['input', 'input', 'fused']);
    expect(bodies(fused)[0]!.split('\n').slice(-2)).toEqual(['%4: f32[B] = sum %3 axes=[1] keepDims=false', 'output output = %4']);
    const inputs = { input_0: kiln.randomNormal([3, 6], { seed: 1 }).value!, input_1: kiln.randomNormal([6], { seed: 2 }).value! };
    expect(kiln.interpret(fused, inputs).outputs.output!.data).toEqual(kiln.interpret(g, inputs).outputs.output!.data);
  });

  test('a reduction of a fused reduction stays its own loop', () => {
    const g = kiln.trace((x: kiln.Tensor) => kiln.sum(kiln.sum(kiln.square(x), 1)), [kiln.spec([null, 1])]);
    const fused = kiln.verify(fuseElementwise(g));
    expect(fused.nodes.map((n) => n.op)).toEqual(['input', 'fused', 'sum']);
  });

  test('leaves values unchanged on the backward pass of a small MLP', () => {
    const dg = simplify(kiln.autodiff(dense, { of: 'output', wrt: ['w', 'b'], cotangent: 'dy' }));
    const inputs = { x: kiln.randomNormal([5, 3], { seed: 1 }).value!, w: kiln.randomNormal([3, 2], { seed: 2 }).value!, b: kiln.randomNormal([2], { seed: 3 }).value!, dy: kiln.randomNormal([5, 2], { seed: 4 }).value! };
    const fused = kiln.verify(fuseElementwise(dg));
    expect(fused.nodes.length).toBeLessThan(dg.nodes.length);
    const [before, after] = [kiln.interpret(dg, inputs).outputs, kiln.interpret(fused, inputs).outputs];
    for (const name of ['output', 'grad_w', 'grad_b']) expect(after[name]!.data).toEqual(before[name]!.data);
  });
});

describe('fuseEpilogues', () => {
  test('moves bias and relu into the GEMM, and bias+relu into a conv', async () => {
    const { fuseEpilogues } = await import('../../compiler/passes/fuseEpilogues.js');
    const dense = kiln.trace((x: kiln.Tensor, w: kiln.Tensor, b: kiln.Tensor) => kiln.relu(kiln.add(kiln.matmul(x, w), b)),
      [kiln.spec([null, 3], 'float32', { name: 'x' }), kiln.spec([3, 2], 'float32', { name: 'w' }), kiln.spec([2], 'float32', { name: 'b' })]);
    const g = kiln.verify(fuseEpilogues(fuseElementwise(dense)));
    expect(kiln.print(g)).toBe(lines(
      '%0: f32[B,3] = input name=x kind=data',
      '%1: f32[3,2] = input name=w kind=data',
      '%2: f32[2] = input name=b kind=data',
      '%3: f32[B,2] = matmul %0, %1, %2 transposeA=false transposeB=false epilogue={bias=true relu=true}',
      'output output = %3',
    ));
    const inputs = { x: kiln.randomNormal([4, 3], { seed: 1 }).value!, w: kiln.randomNormal([3, 2], { seed: 2 }).value!, b: kiln.randomNormal([2], { seed: 3 }).value! };
    expect(kiln.interpret(g, inputs).outputs.output!.data).toEqual(kiln.interpret(dense, inputs).outputs.output!.data);

    const conv = kiln.trace((x: kiln.Tensor, k: kiln.Tensor, c: kiln.Tensor) => kiln.relu(kiln.add(kiln.conv2d(x, k, { padding: 'same' }), c)),
      [kiln.spec([null, 5, 5, 2], 'float32', { name: 'x' }), kiln.spec([3, 3, 2, 4], 'float32', { name: 'k' }), kiln.spec([4], 'float32', { name: 'c' })]);
    expect(kiln.verify(fuseEpilogues(fuseElementwise(conv))).nodes.map((n) => n.op)).toEqual(['input', 'input', 'input', 'conv2d']);
  });

  test('leaves a kernel whose output is used elsewhere alone', async () => {
    const { fuseEpilogues } = await import('../../compiler/passes/fuseEpilogues.js');
    const g = kiln.trace((x: kiln.Tensor, w: kiln.Tensor) => {
      const y = kiln.matmul(x, w);
      return { a: kiln.relu(y), b: y };
    }, [kiln.spec([2, 2]), kiln.spec([2, 2])]);
    const fused = fuseElementwise(g);
    expect(fuseEpilogues(fused)).toBe(fused);
  });
});
