/**
 * @file matmul with NumPy's rules for vectors: a 1-D operand is promoted to a
 * matrix and the added dimension removed from the result.
 */
import { checkOptionsObject } from '../check.js';
import { apply, Tensor } from '../tensor.js';
import { formatType } from '../types.js';
import { expandDims, squeeze } from './movement.js';
import { checkTensor, fail, recordable } from './util.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

function matmulOp(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkOptionsObject('matmul', options);
  checkTensor('matmul', a, 'a');
  checkTensor('matmul', b, 'b');
  const transposeA = options.transposeA ?? false;
  const transposeB = options.transposeB ?? false;
  if (a.rank === 0 || b.rank === 0) fail('matmul', `expected operands of rank >= 1, got ${formatType(a.type)} and ${formatType(b.type)}`);
  const vecA = a.rank === 1;
  const vecB = b.rank === 1;
  const a2 = vecA ? expandDims(a, 0) : a;
  const b2 = vecB ? expandDims(b, -1) : b;
  let y = apply('matmul', [a2, b2], { transposeA: vecA ? false : transposeA, transposeB: vecB ? false : transposeB });
  if (vecA) y = squeeze(y, -2);
  if (vecB) y = squeeze(y, -1);
  return y;
}

/** x · y over the last axis of both; for vectors, the dot product. */
export function dot(a: Tensor, b: Tensor): Tensor {
  return matmul(a, b);
}

// recorded as a layer when given a functional-API tensor (see recordable)
export const matmul = recordable('matmul', matmulOp);
