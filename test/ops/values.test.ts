/**
 * Reference semantics at points whose values are known independently (closed
 * forms, NumPy/PyTorch/TensorFlow conventions), including the edge cases the
 * random tests would rarely hit: ties, zeros, huge logits, half-way rounding.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';

const v = (t: kiln.Tensor) => Array.from(t.dataSync());
const close = (actual: number[], expected: number[], digits = 6) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(a, `index ${i}`).toBeCloseTo(expected[i]!, digits));
};

describe('elementwise', () => {
  test('erf and the two GELU forms match their closed forms', () => {
    close(v(kiln.erf(kiln.tensor([0.5, -1.5, 3]))), [0.5204998778130465, -0.9661051464753108, 0.9999779095030014]);
    close(v(kiln.gelu(kiln.tensor([1, -1]))), [0.8413447460685429, -0.15865525393145707]);
    close(v(kiln.gelu(kiln.tensor([1]), { approximate: 'tanh' })), [0.8411919906082768]);
  });

  test('selu, softplus, silu, leakyRelu, relu6', () => {
    close(v(kiln.selu(kiln.tensor([-1, 2]))), [-1.1113307378125628, 2.101401974710961]);
    close(v(kiln.softplus(kiln.tensor([0, 100, -100]))), [Math.LN2, 100, 0]);
    close(v(kiln.silu(kiln.tensor([1]))), [0.7310585786300049]);
    close(v(kiln.leakyRelu(kiln.tensor([-2, 3]), 0.1)), [-0.2, 3]);
    close(v(kiln.relu6(kiln.tensor([-1, 3, 7]))), [0, 3, 6]);
  });

  test('mod is floored (the result takes the divisor’s sign)', () => {
    expect(v(kiln.mod(kiln.tensor([-7, 7, -7.5]), kiln.tensor([3, -3, 2])))).toEqual([2, -2, 0.5]);
  });

  test('round goes half to even', () => {
    expect(v(kiln.round(kiln.tensor([0.5, 1.5, 2.5, -0.5, -1.5])))).toEqual([0, 2, 2, -0, -2]);
  });

  test('sigmoid and elu stay finite, and so do their gradients, at extreme inputs', () => {
    const [low, high] = v(kiln.sigmoid(kiln.tensor([-100, 100])));
    expect(low).toBeGreaterThanOrEqual(0);
    expect(low).toBeLessThan(1e-40);
    expect(high).toBe(1);
    expect(v(kiln.grad((x: kiln.Tensor) => kiln.sum(kiln.elu(x)))(kiln.tensor([100, -100])))).toEqual([1, 0]);
  });

  test('float64 input becomes float32, rounded, not widened', () => {
    const t = kiln.tensor(new Float64Array([0.1]));
    expect(t.dtype).toBe('float32');
    expect(v(t)).toEqual([Math.fround(0.1)]);
  });
});

describe('reductions', () => {
  test('argmax and argmin return the first extremum', () => {
    expect(v(kiln.argmax(kiln.tensor([1, 3, 3])))).toEqual([1]);
    expect(v(kiln.argmin(kiln.tensor([[2, 0, 0], [5, 4, 9]]), 1))).toEqual([1, 1]);
  });

  test('max shares its gradient among ties', () => {
    expect(v(kiln.grad((x: kiln.Tensor) => kiln.max(x))(kiln.tensor([1, 3, 3])))).toEqual([0, 0.5, 0.5]);
  });

  test('prod’s gradient is exact with one or two zeros', () => {
    const dprod = kiln.grad((x: kiln.Tensor) => kiln.prod(x));
    expect(v(dprod(kiln.tensor([2, 0, 3])))).toEqual([0, 6, 0]);
    expect(v(dprod(kiln.tensor([0, 0, 3])))).toEqual([0, 0, 0]);
    expect(v(dprod(kiln.tensor([2, 4, 3])))).toEqual([12, 6, 8]);
  });

  test('logSumExp and softmax do not overflow', () => {
    close(v(kiln.logSumExp(kiln.tensor([1000, 1000]))), [1000 + Math.LN2], 3);
    expect(v(kiln.softmax(kiln.tensor([1000, 0])))).toEqual([1, 0]);
  });

  test('variance divides by n; mean keeps dims on request', () => {
    close(v(kiln.variance(kiln.tensor([1, 2, 3, 4]))), [1.25]);
    expect(kiln.mean(kiln.tensor([[1, 2], [3, 4]]), 1, true).arraySync()).toEqual([[1.5], [3.5]]);
  });
});

describe('movement', () => {
  test('matmul broadcasts batch dimensions', () => {
    expect(kiln.matmul(kiln.ones([2, 1, 2, 3]), kiln.ones([3, 2])).shape).toEqual([2, 1, 2, 2]);
  });

  test('gather on an inner axis, and its gradient with repeated indices', () => {
    const x = kiln.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(kiln.gather(x, kiln.tensor([2, 0], undefined, 'int32'), 1).arraySync()).toEqual([[3, 1], [6, 4]]);
    const idx = kiln.tensor([1, 1, 0], undefined, 'int32');
    expect(kiln.grad((w: kiln.Tensor) => kiln.sum(kiln.gather(w, idx)))(kiln.zeros([3, 2])).arraySync()).toEqual([[1, 1], [2, 2], [0, 0]]);
  });

  test('oneHot gives zero rows for out-of-range indices', () => {
    expect(kiln.oneHot(kiln.tensor([0, 2, -1], undefined, 'int32'), 3).arraySync()).toEqual([[1, 0, 0], [0, 0, 1], [0, 0, 0]]);
  });

  test('tile, pad, stridedSlice, split, stack', () => {
    expect(kiln.tile(kiln.tensor([[1, 2]]), [2, 2]).arraySync()).toEqual([[1, 2, 1, 2], [1, 2, 1, 2]]);
    expect(kiln.pad(kiln.tensor([[1, 2]]), [[1, 0], [0, 2]], 9).arraySync()).toEqual([[9, 9, 9, 9], [1, 2, 9, 9]]);
    expect(kiln.stridedSlice(kiln.tensor([0, 1, 2, 3, 4, 5, 6]), [1], [-1], [2]).arraySync()).toEqual([1, 3, 5]);
    expect(kiln.split(kiln.tensor([1, 2, 3, 4, 5]), [2, 3]).map((t) => t.arraySync())).toEqual([[1, 2], [3, 4, 5]]);
    expect(kiln.stack([kiln.tensor([1, 2]), kiln.tensor([3, 4])], 1).arraySync()).toEqual([[1, 3], [2, 4]]);
  });
});

describe('losses', () => {
  test('categorical cross-entropy from logits equals logSumExp minus the true logit', () => {
    const loss = kiln.categoricalCrossentropy(kiln.tensor([[0, 1, 0]]), kiln.tensor([[1, 2, 3]]), { fromLogits: true });
    close(v(loss), [3 + Math.log(1 + Math.exp(-1) + Math.exp(-2)) - 2]);
  });

  test('sparse and dense cross-entropy agree', () => {
    const logits = kiln.tensor([[1, 2, 3], [0.5, -1, 0]]);
    const sparse = kiln.sparseCategoricalCrossentropy(kiln.tensor([2, 0], undefined, 'int32'), logits, { fromLogits: true });
    const dense = kiln.categoricalCrossentropy(kiln.tensor([[0, 0, 1], [1, 0, 0]]), logits, { fromLogits: true });
    close(v(sparse), v(dense));
  });

  test('binary cross-entropy from logits is stable at ±100', () => {
    close(v(kiln.binaryCrossentropy(kiln.tensor([[1], [1]]), kiln.tensor([[100], [-100]]), { fromLogits: true, reduction: 'none' })), [0, 100], 4);
  });

  test('huber is quadratic inside delta and linear outside', () => {
    close(v(kiln.huber(kiln.tensor([[0, 0]]), kiln.tensor([[0.5, 2]]))), [(0.125 + 1.5) / 2]);
  });

  test('probabilities are clipped away from 0 and 1 as in Keras', () => {
    const loss = kiln.categoricalCrossentropy(kiln.tensor([[1, 0]]), kiln.tensor([[0, 1]]));
    close(v(loss), [-Math.log(1e-7)], 3);
  });
});

test('casting out-of-range floats to int32 saturates, and NaN becomes 0', () => {
  expect(Array.from(kiln.cast(kiln.tensor([NaN, 1e20, -1e20, 2.7, -2.7]), 'int32').dataSync())).toEqual([0, 2147483647, -2147483648, 2, -2]);
});
