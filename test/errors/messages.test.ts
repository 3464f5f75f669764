/**
 * Exact user-facing error messages: each names the op, what it got and what it
 * expected, and the user's line (this file) where one exists.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { apply } from '../../compiler/tensor.js';
import { messageOf as messageIn } from '../util/errors.js';

const here = 'test/errors/messages.test.ts';

const messageOf = (f: () => unknown): string => messageIn(f, here);

const at = ` (at ${here}:L).`;

describe('shape and dtype errors name the op, the operands and the line', () => {
  const cases: [string, () => unknown, string][] = [
    ['matmul with mismatched inner dimensions', () => kiln.trace((a: kiln.Tensor, b: kiln.Tensor) => kiln.matmul(a, b), [kiln.spec([2, 3]), kiln.spec([4, 5])]), `matmul: expected inner dimensions to agree, got f32[2,3] and f32[4,5]${at}`],
    ['transposed matmul', () => kiln.matmul(kiln.zeros([2, 3]), kiln.zeros([2, 3]), { transposeB: false }), `matmul: expected inner dimensions to agree, got f32[2,3] and f32[2,3]${at}`],
    ['shapes that do not broadcast', () => kiln.add(kiln.zeros([2, 3]), kiln.zeros([4])), `add: cannot broadcast f32[2,3] with f32[4]${at}`],
    ['mixed dtypes', () => kiln.add(kiln.zeros([2]), kiln.zeros([2], 'int32')), `add: expected operands of one dtype, got f32[2] and i32[2]; cast one of them${at}`],
    ['an axis out of range', () => kiln.sum(kiln.zeros([2, 3]), 2), `sum: expected an axis in [-2, 2), got 2${at}`],
    ['a rank-0 matmul operand', () => kiln.matmul(kiln.zeros([]), kiln.zeros([2])), `matmul: expected operands of rank >= 1, got f32[] and f32[2]${at}`],
    ['a NaN literal', () => kiln.mul(kiln.zeros([2]), NaN), `mul: expected a number literal, got NaN${at}`],
    ['an impossible reshape', () => kiln.reshape(kiln.zeros([2, 3]), [4, -1]), `reshape: cannot reshape f32[2,3] to [4,-1]${at}`],
    ['a gather index out of range', () => kiln.gather(kiln.zeros([3, 2]), kiln.tensor([0, 3], undefined, 'int32')), `gather: index 3 is out of range [0, 3) on axis 0${at}`],
    ['a bad permutation', () => kiln.transpose(kiln.zeros([2, 3]), [0, 0]), `transpose: expected a permutation of [0..1] for f32[2,3], got [0,0]${at}`],
    ['log of integers', () => kiln.log(kiln.zeros([2], 'int32')), `log: expected float32, got i32[2]${at}`],
    ['a ragged nested array', () => kiln.tensor([[1, 2], [3]]), `tensor: expected a nested array of shape [2,2], got a ragged array (length 1 at depth 1)${at}`],
    ['concat of disagreeing shapes', () => kiln.concat([kiln.zeros([2, 3]), kiln.zeros([3, 3])], 1), `concat: expected tensors of one dtype whose shapes agree except on axis 1, got f32[2,3], f32[3,3]${at}`],
    ['a float condition for where', () => kiln.where(kiln.zeros([2]), kiln.zeros([2]), 1), `where: expected a bool condition, got f32[2]${at}`],
    ['clip bounds in the wrong order', () => kiln.clip(kiln.zeros([2]), 1, 0), `clip: expected min <= max, got min=1 max=0${at}`],
    ['a slice past the end', () => kiln.slice(kiln.zeros([4]), [2], [5]), `slice: expected 0 <= begin and begin + size <= 4 on axis 0 of f32[4], got begin 2 size 5${at}`],
    ['float labels for a sparse loss', () => kiln.sparseCategoricalCrossentropy(kiln.zeros([4]), kiln.zeros([4, 3])), `sparseCategoricalCrossentropy: expected int32 class labels, got f32[4]${at}`],
    ['labels of another shape', () => kiln.meanSquaredError(kiln.zeros([4, 2]), kiln.zeros([4, 3])), `meanSquaredError: expected labels and predictions of one shape, got f32[4,2] and f32[4,3]${at}`],
    ['a second dynamic dimension', () => kiln.spec([2, null]), `spec: only the leading dimension may be dynamic (null), got [2,null]${at}`],
    ['two batch dimensions meeting', () => kiln.trace((a: kiln.Tensor, b: kiln.Tensor) => kiln.mul(a, kiln.transpose(b)), [kiln.spec([null, 1]), kiln.spec([null, 1])]), `mul: cannot broadcast f32[B,1] with f32[1,B]${at}`],
  ];
  test.each(cases)('%s', (_, f, expected) => {
    expect(messageOf(f)).toBe(expected);
  });
});

describe('misuse of transforms and traces', () => {
  test('a tensor kept after its trace finished', () => {
    let kept: kiln.Tensor | undefined;
    kiln.trace((x: kiln.Tensor) => (kept = kiln.exp(x)), [kiln.spec([2])]);
    expect(messageOf(() => kiln.neg(kept!))).toBe(`neg: got a symbolic tensor f32[2] after its trace finished; return it from the traced function instead of keeping it${at}`);
  });

  test('reading values while tracing', () => {
    expect(messageOf(() => kiln.trace((x: kiln.Tensor) => { x.dataSync(); return x; }, [kiln.spec([2])])))
      .toBe(`Tensor.dataSync: cannot read the values of symbolic tensor f32[2] while tracing; return it from the traced function instead${at}`);
  });

  test('differentiating with respect to integers', () => {
    expect(messageOf(() => kiln.grad((x: kiln.Tensor) => kiln.sum(kiln.cast(x, 'float32')))(kiln.tensor([1, 2], undefined, 'int32'))))
      .toBe(`grad: can only differentiate with respect to float32 tensors, got i32[2] as argument 0${at}`);
  });

  test('an unknown op', () => {
    expect(messageOf(() => apply('fft' as never, [kiln.zeros([2])], {} as never))).toBe(`apply: unknown op "fft"; known ops are listed in kiln.opNames${at}`);
  });

  test('interpreting without an input, or with the wrong shape', () => {
    const g = kiln.trace((x: kiln.Tensor) => kiln.exp(x), [kiln.spec([null, 2])]);
    expect(messageOf(() => kiln.interpret(g, {}))).toBe('interpret: missing input "input" (f32[B,2]); got none.');
    expect(messageOf(() => kiln.interpret(g, { input: kiln.zeros([3, 3]).value! }))).toBe('interpret: input "input" expected f32[B,2], got f32[3,3].');
  });

  test('an error inside a traced function points at the user’s line, not kiln’s', () => {
    const model = (x: kiln.Tensor) => kiln.matmul(x, kiln.zeros([5, 2]));
    const message = messageOf(() => kiln.trace(model, [kiln.spec([null, 4])]));
    expect(message).toBe(`matmul: expected inner dimensions to agree, got f32[B,4] and f32[5,2]${at}`);
  });
});

describe('broken invariants are internal errors, never user errors', () => {
  test('verify reports a node whose type disagrees with its rule', () => {
    const g = kiln.trace((x: kiln.Tensor) => kiln.exp(x), [kiln.spec([2])]);
    const broken = { ...g, nodes: [g.nodes[0]!, { ...g.nodes[1]!, type: { dtype: 'float32' as const, shape: [3] } }] };
    expect(() => kiln.verify(broken)).toThrow('internal: verify: type f32[3] but the rule gives f32[2]: %1: f32[3] = exp %0');
  });
});
