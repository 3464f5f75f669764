/**
 * @file Loss functions as composites. Each takes (labels, predictions) in Keras
 * order and a reduction: 'mean' (default) over all elements of the per-example
 * loss, 'sum', or 'none' (one value per example).
 */
import { checkOptionsObject } from '../check.js';
import type { Tensor } from '../tensor.js';
import { formatType } from '../types.js';
import { abs, add, clip, div, log, log1p, exp, mul, neg, sub, square, minimum, maximum, relu, rsqrt } from './elementwise.js';
import { logSoftmax } from './nn.js';
import { mean, sum } from './reduce.js';
import { oneHot } from './movement.js';
import { checkTensor, fail, normalizeAxis } from './util.js';

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

/** Checks a label-smoothing factor: a finite number in [0, 1]. */
function smoothingOf(op: string, labelSmoothing: number | undefined): number {
  const ls = labelSmoothing ?? 0;
  if (typeof ls !== 'number' || !(ls >= 0 && ls <= 1)) fail(op, `expected labelSmoothing in [0, 1], got ${String(labelSmoothing)}`);
  return ls;
}

/** Keras' categorical smoothing: y·(1 − ls) + ls/numClasses. */
function smoothCategorical(labels: Tensor, ls: number, classes: number): Tensor {
  return ls === 0 ? labels : add(mul(labels, 1 - ls), ls / classes);
}

/**
 * Cross-entropy of one-hot (or soft) labels; `fromLogits` takes unnormalised scores.
 * Per example: −Σ_c y'_c · log p_c, with p = softmax(logits) or clip(predictions, 1e-7, 1 − 1e-7),
 * and y' = y·(1 − labelSmoothing) + labelSmoothing/numClasses (Keras' label_smoothing;
 * numClasses is the size of `axis`).
 */
export function categoricalCrossentropy(labels: Tensor, predictions: Tensor, options: LossOptions & { fromLogits?: boolean; axis?: number; labelSmoothing?: number } = {}): Tensor {
  checkOptionsObject('categoricalCrossentropy', options);
  sameShape('categoricalCrossentropy', labels, predictions);
  const axis = options.axis ?? -1;
  const ls = smoothingOf('categoricalCrossentropy', options.labelSmoothing);
  labels = smoothCategorical(labels, ls, predictions.type.shape[normalizeAxis('categoricalCrossentropy', axis, predictions.rank)] as number);
  const logp = options.fromLogits ? logSoftmax(predictions, axis) : log(clip(predictions, epsilon, 1 - epsilon));
  return reduce('categoricalCrossentropy', neg(sum(mul(labels, logp), axis)), options.reduction);
}

/**
 * Cross-entropy of int32 class labels against the last axis of predictions:
 * −Σ_c y'_c · log p_c with y = oneHot(label), smoothed as in categoricalCrossentropy
 * (y' = y·(1 − labelSmoothing) + labelSmoothing/numClasses) when labelSmoothing > 0.
 */
export function sparseCategoricalCrossentropy(labels: Tensor, predictions: Tensor, options: LossOptions & { fromLogits?: boolean; labelSmoothing?: number } = {}): Tensor {
  checkOptionsObject('sparseCategoricalCrossentropy', options);
  const op = 'sparseCategoricalCrossentropy';
  checkTensor(op, labels, 'labels');
  checkTensor(op, predictions, 'predictions');
  if (labels.dtype !== 'int32') fail(op, `expected int32 class labels, got ${formatType(labels.type)}`);
  const lead = predictions.type.shape.slice(0, -1);
  const ok = predictions.rank >= 1 && labels.rank === lead.length && labels.type.shape.every((d, i) => d === lead[i]);
  if (!ok) fail(op, `expected labels of shape [${lead.join(',')}] for predictions ${formatType(predictions.type)}, got ${formatType(labels.type)}`);
  const ls = smoothingOf(op, options.labelSmoothing);
  const classes = predictions.type.shape[predictions.rank - 1] as number;
  const logp = options.fromLogits ? logSoftmax(predictions, -1) : log(clip(predictions, epsilon, 1 - epsilon));
  return reduce(op, neg(sum(mul(smoothCategorical(oneHot(labels, classes), ls, classes), logp), -1)), options.reduction);
}

/**
 * Binary cross-entropy, averaged over the last axis as Keras does:
 * −[y'·log p + (1 − y')·log(1 − p)] with p clipped to [1e-7, 1 − 1e-7] (or the
 * stable logit form), and y' = y·(1 − labelSmoothing) + 0.5·labelSmoothing.
 */
export function binaryCrossentropy(labels: Tensor, predictions: Tensor, options: LossOptions & { fromLogits?: boolean; labelSmoothing?: number } = {}): Tensor {
  checkOptionsObject('binaryCrossentropy', options);
  sameShape('binaryCrossentropy', labels, predictions);
  const ls = smoothingOf('binaryCrossentropy', options.labelSmoothing);
  if (ls !== 0) labels = add(mul(labels, 1 - ls), 0.5 * ls);
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
  checkOptionsObject('meanSquaredError', options);
  sameShape('meanSquaredError', labels, predictions);
  return reduce('meanSquaredError', mean(square(sub(predictions, labels)), -1), options.reduction);
}

export function meanAbsoluteError(labels: Tensor, predictions: Tensor, options: LossOptions = {}): Tensor {
  checkOptionsObject('meanAbsoluteError', options);
  sameShape('meanAbsoluteError', labels, predictions);
  return reduce('meanAbsoluteError', mean(abs(sub(predictions, labels)), -1), options.reduction);
}

/** Quadratic within `delta` of the label, linear beyond. */
export function huber(labels: Tensor, predictions: Tensor, options: LossOptions & { delta?: number } = {}): Tensor {
  checkOptionsObject('huber', options);
  sameShape('huber', labels, predictions);
  const delta = options.delta ?? 1;
  if (!(delta > 0) || !Number.isFinite(delta)) fail('huber', `expected a positive finite delta, got ${delta}`);
  const err = abs(sub(predictions, labels));
  const quadratic = minimum(err, delta);
  const perElement = add(mul(square(quadratic), 0.5), mul(sub(err, quadratic), delta));
  return reduce('huber', mean(perElement, -1), options.reduction);
}


/**
 * Kullback–Leibler divergence, as Keras' `kl_divergence`: per example
 * Σ_axis y·log(y/p) with y = clip(labels, 1e-7, 1) and p = clip(predictions, 1e-7, 1)
 * (so zero labels contribute ~0, never NaN).
 */
export function kullbackLeiblerDivergence(labels: Tensor, predictions: Tensor, options: LossOptions = {}): Tensor {
  checkOptionsObject('kullbackLeiblerDivergence', options);
  sameShape('kullbackLeiblerDivergence', labels, predictions);
  const y = clip(labels, epsilon, 1);
  const p = clip(predictions, epsilon, 1);
  return reduce('kullbackLeiblerDivergence', sum(mul(y, log(div(y, p))), -1), options.reduction);
}

/** x / ‖x‖ along `axis`, as Keras' l2_normalize: x · rsqrt(max(Σx², 1e-12)). */
function l2Normalize(x: Tensor, axis: number): Tensor {
  return mul(x, rsqrt(maximum(sum(square(x), axis, true), 1e-12)));
}

/**
 * Keras' `cosine_similarity` loss: the NEGATIVE cosine similarity, per example
 * −Σ_axis (y/‖y‖)·(p/‖p‖) with ‖v‖ = sqrt(max(Σv², 1e-12)): −1 for parallel
 * vectors, 0 for orthogonal, 1 for opposite, so minimising it aligns p with y.
 */
export function cosineSimilarity(labels: Tensor, predictions: Tensor, options: LossOptions & { axis?: number } = {}): Tensor {
  checkOptionsObject('cosineSimilarity', options);
  const op = 'cosineSimilarity';
  sameShape(op, labels, predictions);
  const axis = normalizeAxis(op, options.axis ?? -1, predictions.rank);
  return reduce(op, neg(sum(mul(l2Normalize(labels, axis), l2Normalize(predictions, axis)), axis)), options.reduction);
}
