/**
 * @file Reductions: sum, prod, max, min, argmax, argmin as primitives; mean,
 * logSumExp and variance as composites; `sumTo`, the reduction that undoes a
 * broadcast (every binary op's VJP ends with it).
 */
import { apply, Tensor } from '../tensor.js';
import { BATCH, formatShape, formatType, type Shape } from '../types.js';
import { reducedShape } from '../ops/reduce.js';
import { div, exp, log, mul, square, sub, add } from './elementwise.js';
import { reshapeTo } from './movement.js';
import { stopGradient } from './elementwise.js';
import { checkOptions } from '../check.js';
import { checkTensor, fail, normalizeAxes, normalizeAxis, recordable } from './util.js';

type Axes = number | readonly number[] | undefined;

function reduction(op: 'sum' | 'prod' | 'max' | 'min') {
  return (x: Tensor, axis?: Axes, keepDims = false): Tensor => {
    checkTensor(op, x);
    const axes = normalizeAxes(op, axis, x);
    return axes.length === 0 ? x : apply(op, [x], { axes, keepDims });
  };
}

export const sum = recordable('sum', reduction('sum'));
export const prod = recordable('prod', reduction('prod'));
export const max = recordable('max', reduction('max'));
export const min = recordable('min', reduction('min'));

export function argmax(x: Tensor, axis = -1): Tensor {
  return apply('argmax', [checkTensor('argmax', x)], { axis: normalizeAxis('argmax', axis, x.rank) });
}

export function argmin(x: Tensor, axis = -1): Tensor {
  return apply('argmin', [checkTensor('argmin', x)], { axis: normalizeAxis('argmin', axis, x.rank) });
}

/**
 * 0 when every value of `x` is finite (and, with `limit`, below it in
 * magnitude), NaN otherwise: a scalar flag that poisons what it is added to (a
 * training step's update is gated on the flag of its loss and gradients).
 * @example kiln.nonFinite(kiln.tensor([1, Infinity])) // NaN
 * @example kiln.nonFinite(kiln.tensor([1, 1e20]), { limit: 2 ** 63 }) // NaN: its square would overflow float32
 */
export function nonFinite(x: Tensor, options: { limit?: number } = {}): Tensor {
  checkTensor('nonFinite', x);
  checkOptions('nonFinite', options, ['limit']);
  if (x.dtype !== 'float32') fail('nonFinite', `expected float32, got ${formatType(x.type)}`);
  const limit = options.limit ?? Infinity;
  if (typeof limit !== 'number' || !(limit > 0)) fail('nonFinite', `expected a positive limit, got ${String(limit)}`);
  return apply('nonFinite', [x], { limit });
}

/** Number of elements a reduction over `axes` combines, as a JS number or a runtime scalar. */
function count(x: Tensor, axes: readonly number[]): number | Tensor {
  let n = 1;
  let dynamic: Tensor | undefined;
  for (const a of axes) {
    const d = x.type.shape[a]!;
    if (d === BATCH) dynamic = apply('dimSize', [x], { axis: a });
    else n *= d;
  }
  return dynamic ? mul(dynamic, n) : n;
}

function meanOp(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  checkTensor('mean', x);
  if (x.dtype !== 'float32') fail('mean', `expected float32, got ${formatType(x.type)}`);
  const axes = normalizeAxes('mean', axis, x);
  const n = count(x, axes);
  // divide (not multiply by 1/n) so a static and a dynamic batch round alike
  return div(sum(x, axes, keepDims), n);
}

/** Population variance (divides by n), as tf.moments and Keras' layers use. */
export function variance(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  const axes = normalizeAxes('variance', axis, checkTensor('variance', x));
  const centered = sub(x, mean(x, axes, true));
  return mean(square(centered), axes, keepDims);
}

/** log(sum(exp(x))), shifted by the (gradient-free) maximum so it never overflows. */
export function logSumExp(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  const axes = normalizeAxes('logSumExp', axis, checkTensor('logSumExp', x));
  const shift = stopGradient(max(x, axes, true));
  const result = add(log(sum(exp(sub(x, shift)), axes, true)), shift);
  return keepDims ? result : reshapeTo(result, reducedShape(x.type.shape, axes, false));
}

/** Sums `x` over the axes that broadcasting added or stretched, so it gets `shape`. */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  checkTensor('sumTo', x);
  if (!Array.isArray(shape)) fail('sumTo', `expected a shape list, got ${shape === null ? 'null' : typeof shape}`);
  const xs = x.type.shape;
  if (xs.length === shape.length && xs.every((d, i) => d === shape[i])) return x;
  const lead = xs.length - shape.length;
  if (lead < 0) throw new Error(`internal: sumTo ${formatType(x.type)} to ${formatShape(shape)}`);
  const axes: number[] = [];
  xs.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? apply('sum', [x], { axes, keepDims: true }) : x;
  return reshapeTo(summed, shape);
}

// recorded as a layer when given a functional-API tensor (see recordable)
export const mean = recordable('mean', meanOp);
