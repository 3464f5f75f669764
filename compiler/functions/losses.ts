/**
 * @file Loss functions as composites. Each takes (labels, predictions) in Keras
 * order and a reduction: 'mean' (default) over all elements of the per-example
 * loss, 'sum', or 'none' (one value per example).
 */
import type { Tensor } from '../tensor.js';
import { formatType } from '../types.js';
import { abs, add, clip, log, log1p, exp, mul, neg, sub, square, minimum, relu } from './elementwise.js';
import { logSoftmax } from './nn.js';
import { mean, sum } from './reduce.js';
import { oneHot } from './movement.js';
import { checkTensor, fail } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOptions {
  reduction?: Reduction;
}

const epsilon = 1e-7; // Keras' backend epsilon: probabilities are clipped to [eps, 1 - eps]

function reduce(op: string, perExample: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (reduction === 'none') return perExample;
  if (reduction === 'sum') return sum(perExample);
  if (reduction === 'mean') return mean(perExample);
  return fail(op, `expected reduction 'mean', 'sum' or 'none', got '${String(reduction)}'`);
}

function sameShape(op: string, labels: Tensor, predictions: Tensor): void {
  checkTensor(op, labels, 'labels');
  checkTensor(op, predictions, 'predictions');
  const ok = labels.rank === predictions.rank && labels.type.shape.every((d, i) => d === predictions.type.shape[i]);
  if (!ok) fail(op, `expected labels and predictions of one shape, got ${formatType(labels.type)} and ${formatType(predictions.type)}`);
  if (predictions.dtype !== 'float32' || labels.dtype !== 'float32') fail(op, `expected float32 labels and predictions, got ${formatType(labels.type)} and ${formatType(predictions.type)}`);
}

/** Cross-entropy of one-hot (or soft) labels; `fromLogits` takes unnormalised scores. */
export function categoricalCrossentropy(labels: Tensor, predictions: Tensor, options: LossOptions & { fromLogits?: boolean; axis?: number } = {}): Tensor {
  sameShape('categoricalCrossentropy', labels, predictions);
  const axis = options.axis ?? -1;
  const logp = options.fromLogits ? logSoftmax(predictions, axis) : log(clip(predictions, epsilon, 1 - epsilon));
  return reduce('categoricalCrossentropy', neg(sum(mul(labels, logp), axis)), options.reduction);
}

/** Cross-entropy of int32 class labels against the last axis of predictions. */
export function sparseCategoricalCrossentropy(labels: Tensor, predictions: Tensor, options: LossOptions & { fromLogits?: boolean } = {}): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  checkTensor(op, labels, 'labels');
  checkTensor(op, predictions, 'predictions');
  if (labels.dtype !== 'int32') fail(op, `expected int32 class labels, got ${formatType(labels.type)}`);
  const lead = predictions.type.shape.slice(0, -1);
  const ok = predictions.rank >= 1 && labels.rank === lead.length && labels.type.shape.every((d, i) => d === lead[i]);
  if (!ok) fail(op, `expected labels of shape [${lead.join(',')}] for predictions ${formatType(predictions.type)}, got ${formatType(labels.type)}`);
  const classes = predictions.type.shape[predictions.rank - 1] as number;
  const logp = options.fromLogits ? logSoftmax(predictions, -1) : log(clip(predictions, epsilon, 1 - epsilon));
  return reduce(op, neg(sum(mul(oneHot(labels, classes), logp), -1)), options.reduction);
}

/** Binary cross-entropy, averaged over the last axis as Keras does. */
export function binaryCrossentropy(labels: Tensor, predictions: Tensor, options: LossOptions & { fromLogits?: boolean } = {}): Tensor {
  sameShape('binaryCrossentropy', labels, predictions);
  let perElement: Tensor;
  if (options.fromLogits) {
    // max(x, 0) - x·z + log(1 + e^-|x|): stable for any logit
    perElement = add(sub(relu(predictions), mul(predictions, labels)), log1p(exp(neg(abs(predictions)))));
  } else {
    const p = clip(predictions, epsilon, 1 - epsilon);
    perElement = neg(add(mul(labels, log(p)), mul(sub(1, labels), log(sub(1, p)))));
  }
  return reduce('binaryCrossentropy', mean(perElement, -1), options.reduction);
}

export function meanSquaredError(labels: Tensor, predictions: Tensor, options: LossOptions = {}): Tensor {
  sameShape('meanSquaredError', labels, predictions);
  return reduce('meanSquaredError', mean(square(sub(predictions, labels)), -1), options.reduction);
}

export function meanAbsoluteError(labels: Tensor, predictions: Tensor, options: LossOptions = {}): Tensor {
  sameShape('meanAbsoluteError', labels, predictions);
  return reduce('meanAbsoluteError', mean(abs(sub(predictions, labels)), -1), options.reduction);
}

/** Quadratic within `delta` of the label, linear beyond. */
export function huber(labels: Tensor, predictions: Tensor, options: LossOptions & { delta?: number } = {}): Tensor {
  sameShape('huber', labels, predictions);
  const delta = options.delta ?? 1;
  if (!(delta > 0) || !Number.isFinite(delta)) fail('huber', `expected a positive finite delta, got ${delta}`);
  const err = abs(sub(predictions, labels));
  const quadratic = minimum(err, delta);
  const perElement = add(mul(square(quadratic), 0.5), mul(sub(err, quadratic), delta));
  return reduce('huber', mean(perElement, -1), options.reduction);
}

