/**
 * @file softmax and logSoftmax, as composites of primitives. The max shift is
 * gradient-free: it cancels exactly, and stopping it keeps the graph small.
 */
import type { Tensor } from '../tensor.js';
import { div, exp, stopGradient, sub } from './elementwise.js';
import { logSumExp, max, sum } from './reduce.js';
import { checkTensor, fail, normalizeAxis, recordable } from './util.js';
import { formatType } from '../types.js';

function floatInput(op: string, x: Tensor, axis: number): number {
  checkTensor(op, x);
  if (x.dtype !== 'float32') fail(op, `expected float32 logits, got ${formatType(x.type)}`);
  return normalizeAxis(op, axis, x.rank);
}

function softmaxOp(x: Tensor, axis = -1): Tensor {
  const a = floatInput('softmax', x, axis);
  const e = exp(sub(x, stopGradient(max(x, a, true))));
  return div(e, sum(e, a, true));
}

function logSoftmaxOp(x: Tensor, axis = -1): Tensor {
  const a = floatInput('logSoftmax', x, axis);
  return sub(x, logSumExp(x, a, true));
}

// recorded as a layer when given a functional-API tensor (see recordable)
export const softmax = recordable('softmax', softmaxOp);
export const logSoftmax = recordable('logSoftmax', logSoftmaxOp);
