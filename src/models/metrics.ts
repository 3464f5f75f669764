/**
 * Metrics for `model.compile({ metrics })`. Most give the batch SUM of a
 * per-example value, so an epoch's metric is the total over its examples divided
 * by their number, whatever the size of the last batch.
 *
 * Ratio metrics (precision, recall) are not means of per-example values: they
 * give `parts`, batch sums of counts (true positives, …) that the training loop
 * totals over the epoch, then `combine` turns the totals into the metric.
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { Loss } from './losses.js';

/** Counts a ratio metric needs: their batch sums (a float32 scalar, or a vector of counts, e.g. one per threshold). */
export interface MetricPart {
  readonly name: string;
  readonly sum: (labels: Tensor, predictions: Tensor) => Tensor;
}

/** The epoch's (or the batches so far') totals of a metric's parts, by part name: one number per element of the part. */
export type PartTotals = Readonly<Record<string, Float64Array>>;

export interface Metric {
  readonly name: string;
  /**
   * The batch sum of a per-example value (a float32 scalar); the epoch's metric is
   * Σ over batches / number of examples. A metric with `parts` has no such form:
   * its `sum` throws, and the loop must use `parts` and `combine` instead.
   */
  readonly sum: (labels: Tensor, predictions: Tensor) => Tensor;
  /** Counts to total over the epoch (each a batch sum), for metrics that are ratios of counts. */
  readonly parts?: readonly MetricPart[];
  /** The metric from the epoch's (or the batches so far') totals of `parts`, keyed by part name. */
  readonly combine?: (totals: PartTotals) => number;
  /** The `kiln.metrics` factory and options that make it again (`metrics[factory](options)`), for saving. */
  readonly factory?: { readonly name: string; readonly options: object };
  /**
   * A mean metric's value at each prediction row ([batch] for [batch, classes],
   * [batch, steps] for a sequence): lets a sequence output's metric be the mean
   * over its (real) steps, as Keras's (see `stepMean`).
   */
  readonly values?: (labels: Tensor, predictions: Tensor) => Tensor;
}

/** A mean metric from its per-row values: the batch sum is their sum. */
const meanMetric = (name: string, values: (y: Tensor, p: Tensor) => Tensor): Metric => ({ name, values, sum: (y, p) => F.sum(values(y, p)) });

/**
 * A mean metric over the steps of a sequence output, as Keras's: Σ value·mask /
 * Σ mask over the epoch (mask: the output's, from `maskOf`, or every step), as
 * a ratio of two totals, so masked steps count for nothing.
 * @example stepMean(metricsByName.accuracy(loss), (p) => tracedMasks.get(p))
 */
export function stepMean(metric: Metric, maskOf: (predictions: Tensor) => Tensor | undefined): Metric {
  const values = metric.values;
  if (!values) throw new Error(`internal: stepMean needs a metric with per-row values, got "${metric.name}"`);
  const weighted = (y: Tensor, p: Tensor): [Tensor, Tensor] => {
    let v = values(y, p);
    const mask = maskOf(p);
    if (!mask) return [v, F.onesLike(v)];
    const m = F.cast(mask.dtype === 'bool' ? mask : F.ne(mask, 0), 'float32');
    while (v.rank > m.rank) v = F.mean(v, -1);
    return [v, m];
  };
  return ratioMetric(metric.name, [
    { name: 'total', sum: (y, p) => { const [v, m] = weighted(y, p); return F.sum(F.mul(v, m)); } },
    { name: 'count', sum: (y, p) => F.sum(weighted(y, p)[1]) },
  ], (t) => ratio(t.total![0]!, t.count![0]!));
}

const correct = (hit: Tensor) => F.sum(F.cast(hit, 'float32'));
const perExampleMean = (t: Tensor) => (t.rank > 1 ? F.mean(t, -1) : t);

function checkK(name: string, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new KilnError(`${name}: expected k to be a positive integer, got ${String(k)}.`);
}

/**
 * The number of examples whose label is among the k highest predictions. A label is in
 * the top k iff fewer than k scores are STRICTLY greater than the label's score —
 * Σ_c [p_c > p_label] < k — so, as TensorFlow's in_top_k, ties at the boundary count as
 * hits. `labelIndex` is int32 [batch]; predictions [batch, classes].
 */
function topKHits(labelIndex: Tensor, predictions: Tensor, k: number): Tensor {
  const classes = predictions.type.shape[predictions.rank - 1] as number;
  const labelScore = F.sum(F.mul(F.oneHot(labelIndex, classes), predictions), -1, true); // [batch, 1]
  const above = F.sum(F.cast(F.gt(predictions, labelScore), 'float32'), -1); // [batch]
  return correct(F.lt(above, k));
}

/** a / b, 0 when b is 0 (Keras' divide_no_nan). */
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * Binary confusion counts over all elements, Keras' way: an element is predicted
 * positive iff prediction > threshold, and is a positive iff its label ≠ 0.
 */
function confusion(threshold: number) {
  const predicted = (p: Tensor) => F.gt(p, threshold);
  const actual = (y: Tensor) => F.ne(y, 0);
  return {
    truePositives: (y: Tensor, p: Tensor) => correct(F.logicalAnd(predicted(p), actual(y))),
    falsePositives: (y: Tensor, p: Tensor) => correct(F.logicalAnd(predicted(p), F.logicalNot(actual(y)))),
    falseNegatives: (y: Tensor, p: Tensor) => correct(F.logicalAnd(F.logicalNot(predicted(p)), actual(y))),
  };
}

function ratioMetric(name: string, parts: MetricPart[], combine: (t: PartTotals) => number): Metric {
  return {
    name, parts, combine,
    sum: () => {
      throw new KilnError(`metric "${name}" is a ratio of counts totalled over the epoch (parts ${parts.map((p) => p.name).join(', ')}), not a mean of per-example values; the training loop must use Metric.parts and Metric.combine.`);
    },
  };
}

function checkThreshold(name: string, threshold: number): void {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw new KilnError(`${name}: expected a finite threshold, got ${String(threshold)}.`);
}

export interface AucOptions {
  /** Thresholds the curve is sampled at (Keras' default 200): −ε, 1/(n−1), …, (n−2)/(n−1), 1 + ε. */
  numThresholds?: number;
  curve?: 'ROC' | 'PR';
  /** 'interpolation' (trapezoids for ROC; Davis & Goadrich's interpolation for PR), 'minoring' or 'majoring' (Riemann sums). */
  summationMethod?: 'interpolation' | 'minoring' | 'majoring';
  /** Predictions are logits (a sigmoid is applied first). */
  fromLogits?: boolean;
}

const AUC_EPSILON = 1e-7;

/** x / y, 0 where y is 0, elementwise. */
const safeDiv = (x: number, y: number) => (y === 0 ? 0 : x / y);

/** The area from per-threshold counts (thresholds increasing), Keras' formulas. */
export function aucFromCounts(tp: ArrayLike<number>, fp: ArrayLike<number>, positives: number, negatives: number, curve: 'ROC' | 'PR', summation: 'interpolation' | 'minoring' | 'majoring'): number {
  const n = tp.length;
  const fn = Array.from({ length: n }, (_, i) => positives - tp[i]!);
  const tn = Array.from({ length: n }, (_, i) => negatives - fp[i]!);
  let area = 0;
  if (curve === 'PR' && summation === 'interpolation') {
    // precision is interpolated between thresholds along the line of true positives over predicted positives
    for (let i = 0; i + 1 < n; i++) {
      const dtp = tp[i]! - tp[i + 1]!;
      const p0 = tp[i]! + fp[i]!;
      const p1 = tp[i + 1]! + fp[i + 1]!;
      const slope = safeDiv(dtp, Math.max(p0 - p1, 0));
      const intercept = tp[i + 1]! - slope * p1;
      const pRatio = p0 > 0 && p1 > 0 ? safeDiv(p0, Math.max(p1, 0)) : 1;
      area += safeDiv(slope * (dtp + intercept * Math.log(pRatio)), Math.max(tp[i + 1]! + fn[i + 1]!, 0));
    }
    return area;
  }
  const x = curve === 'ROC' ? Array.from({ length: n }, (_, i) => safeDiv(fp[i]!, fp[i]! + tn[i]!)) : Array.from({ length: n }, (_, i) => safeDiv(tp[i]!, tp[i]! + fn[i]!));
  const y = curve === 'ROC' ? Array.from({ length: n }, (_, i) => safeDiv(tp[i]!, tp[i]! + fn[i]!)) : Array.from({ length: n }, (_, i) => safeDiv(tp[i]!, tp[i]! + fp[i]!));
  for (let i = 0; i + 1 < n; i++) {
    const h = summation === 'interpolation' ? (y[i]! + y[i + 1]!) / 2 : summation === 'minoring' ? Math.min(y[i]!, y[i + 1]!) : Math.max(y[i]!, y[i + 1]!);
    area += (x[i]! - x[i + 1]!) * h;
  }
  return area;
}

/**
 * Area under the ROC (or precision–recall) curve, Keras' AUC: every element of
 * the predictions is one binary decision against its label (positive iff the
 * label ≠ 0); at each threshold t an element is predicted positive iff p > t. The
 * compiled step outputs the batch's true and false positives per threshold and its
 * positives and negatives; the epoch's totals give the curve.
 */
function auc({ numThresholds = 200, curve = 'ROC', summationMethod = 'interpolation', fromLogits = false }: AucOptions): Metric {
  if (!Number.isInteger(numThresholds) || numThresholds < 2) throw new KilnError(`auc: expected numThresholds to be an integer > 1, got ${String(numThresholds)}.`);
  if (curve !== 'ROC' && curve !== 'PR') throw new KilnError(`auc: expected curve 'ROC' or 'PR', got ${JSON.stringify(curve)}.`);
  if (!['interpolation', 'minoring', 'majoring'].includes(summationMethod)) throw new KilnError(`auc: expected summationMethod 'interpolation', 'minoring' or 'majoring', got ${JSON.stringify(summationMethod)}.`);
  const thresholds = Float32Array.from({ length: numThresholds }, (_, i) => (i === 0 ? -AUC_EPSILON : i === numThresholds - 1 ? 1 + AUC_EPSILON : i / (numThresholds - 1)));
  /** [batch, k, 1] > [T]: [batch, k, T] (k: the elements of one example). */
  const above = (p: Tensor) => {
    const probs = fromLogits ? F.sigmoid(p) : p;
    const flat = F.reshape(probs, [-1, probs.type.shape.slice(1).reduce<number>((a, d) => a * (d as number), 1)]);
    return F.gt(F.expandDims(flat, -1), F.tensor(thresholds));
  };
  const positive = (y: Tensor) => F.expandDims(F.reshape(F.ne(y, 0), [-1, y.type.shape.slice(1).reduce<number>((a, d) => a * (d as number), 1)]), -1);
  const count = (b: Tensor, axes: number[]) => F.sum(F.cast(b, 'float32'), axes);
  return ratioMetric('auc', [
    { name: 'truePositives', sum: (y, p) => count(F.logicalAnd(above(p), positive(y)), [0, 1]) },
    { name: 'falsePositives', sum: (y, p) => count(F.logicalAnd(above(p), F.logicalNot(positive(y))), [0, 1]) },
    { name: 'positives', sum: (y) => count(F.ne(y, 0), [...Array(y.rank).keys()]) },
    { name: 'negatives', sum: (y) => count(F.eq(y, 0), [...Array(y.rank).keys()]) },
  ], (t) => aucFromCounts(t.truePositives!, t.falsePositives!, t.positives![0]!, t.negatives![0]!, curve, summationMethod));
}

/**
 * Metric factories, for options the names don't carry.
 * - topKCategoricalAccuracy({ k = 5 }): one-hot labels; Σ_batch [ #{c : p_c > p_argmax(y)} < k ]
 * - sparseTopKCategoricalAccuracy({ k = 5 }): int32 labels; Σ_batch [ #{c : p_c > p_label} < k ]
 * - precision({ threshold = 0.5 }): TP / (TP + FP) over the epoch (0 when TP + FP = 0)
 * - recall({ threshold = 0.5 }): TP / (TP + FN) over the epoch (0 when TP + FN = 0)
 * - auc({ numThresholds = 200, curve = 'ROC', summationMethod = 'interpolation', fromLogits = false }): Keras' AUC
 */
export const metrics = {
  topKCategoricalAccuracy: ({ k = 5 } = {}): Metric => {
    checkK('topKCategoricalAccuracy', k);
    return { name: 'topKCategoricalAccuracy', sum: (y, p) => topKHits(y.dtype === 'int32' ? y : F.argmax(y, -1), p, k) };
  },
  sparseTopKCategoricalAccuracy: ({ k = 5 } = {}): Metric => {
    checkK('sparseTopKCategoricalAccuracy', k);
    return {
      name: 'sparseTopKCategoricalAccuracy',
      sum: (y, p) => {
        if (y.dtype !== 'int32') throw new KilnError('sparseTopKCategoricalAccuracy: expected int32 class labels (a sparse loss), got float32 labels; use topKCategoricalAccuracy for one-hot labels.');
        return topKHits(y, p, k);
      },
    };
  },
  precision: ({ threshold = 0.5 } = {}): Metric => {
    checkThreshold('precision', threshold);
    const c = confusion(threshold);
    return ratioMetric('precision', [{ name: 'truePositives', sum: c.truePositives }, { name: 'falsePositives', sum: c.falsePositives }],
      (t) => ratio(t.truePositives![0]!, t.truePositives![0]! + t.falsePositives![0]!));
  },
  recall: ({ threshold = 0.5 } = {}): Metric => {
    checkThreshold('recall', threshold);
    const c = confusion(threshold);
    return ratioMetric('recall', [{ name: 'truePositives', sum: c.truePositives }, { name: 'falseNegatives', sum: c.falseNegatives }],
      (t) => ratio(t.truePositives![0]!, t.truePositives![0]! + t.falseNegatives![0]!));
  },
  auc: (options: AucOptions = {}): Metric => auc(options),
};
/** The options each metric factory takes; others are refused. */
const metricOptionKeys: { readonly [K in keyof typeof metrics]: readonly string[] } = {
  topKCategoricalAccuracy: ['k'],
  sparseTopKCategoricalAccuracy: ['k'],
  precision: ['threshold'],
  recall: ['threshold'],
  auc: optionKeys<AucOptions>({ numThresholds: true, curve: true, summationMethod: true, fromLogits: true }),
};
// each factory's metric checks its options and records how to make it again
for (const [name, make] of Object.entries(metrics) as [keyof typeof metrics, (o?: object) => Metric][]) {
  (metrics as Record<string, (o?: object) => Metric>)[name] = (options: object = {}) => {
    checkOptions(`metrics.${name}`, options, metricOptionKeys[name]);
    return { ...make(options), factory: { name, options: { ...options } } };
  };
}

/** Binary metrics threshold probabilities at 0.5, or logits at 0 (= sigmoid⁻¹(0.5)) when the loss takes logits. */
const binaryThreshold = (loss: Loss) => (loss.fromLogits ? 0 : 0.5);

const sparseOnly = (name: string, loss: Loss) => {
  if (!loss.sparse) throw new KilnError(`compile: metric "${name}" needs int32 class labels, but loss ${loss.name} takes labels shaped like the predictions; use "topKCategoricalAccuracy".`);
};
const denseOnly = (name: string, loss: Loss) => {
  if (loss.sparse) throw new KilnError(`compile: metric "${name}" needs labels shaped like the predictions, but loss ${loss.name} takes int32 class labels.`);
};

/**
 * Names `compile({ metrics })` accepts: kiln/TensorFlow.js camelCase names plus a few
 * Keras snake_case ones (top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)
 * and class names (Precision, Recall). Named top-k metrics use k = 5.
 */
const metricsByName: Record<string, (loss: Loss) => Metric> = {
  // 'accuracy' picks its kind from the loss, as Keras does
  accuracy: (loss) => (loss.sparse ? metricsByName.sparseCategoricalAccuracy! : loss.name === 'binaryCrossentropy' ? metricsByName.binaryAccuracy! : metricsByName.categoricalAccuracy!)(loss),
  sparseCategoricalAccuracy: () => meanMetric('accuracy', (y, p) => F.cast(F.eq(F.argmax(p, -1), y), 'float32')),
  categoricalAccuracy: () => meanMetric('accuracy', (y, p) => F.cast(F.eq(F.argmax(p, -1), F.argmax(y, -1)), 'float32')),
  binaryAccuracy: (loss) => meanMetric('accuracy', (y, p) => perExampleMean(F.cast(F.eq(F.gt(p, binaryThreshold(loss)), F.gt(y, 0.5)), 'float32'))),
  mse: (loss) => (denseOnly('mse', loss), meanMetric('mse', (y, p) => perExampleMean(F.square(F.sub(p, y))))),
  mae: (loss) => (denseOnly('mae', loss), meanMetric('mae', (y, p) => perExampleMean(F.abs(F.sub(p, y))))),
  topKCategoricalAccuracy: () => metrics.topKCategoricalAccuracy(),
  sparseTopKCategoricalAccuracy: (loss) => (sparseOnly('sparseTopKCategoricalAccuracy', loss), metrics.sparseTopKCategoricalAccuracy()),
  precision: (loss) => (denseOnly('precision', loss), metrics.precision({ threshold: binaryThreshold(loss) })),
  recall: (loss) => (denseOnly('recall', loss), metrics.recall({ threshold: binaryThreshold(loss) })),
  auc: (loss) => (denseOnly('auc', loss), metrics.auc({ fromLogits: loss.fromLogits })),
};
metricsByName.AUC = metricsByName.auc!;
metricsByName.acc = metricsByName.accuracy!;
metricsByName.meanSquaredError = metricsByName.mse!;
metricsByName.meanAbsoluteError = metricsByName.mae!;
metricsByName.top_k_categorical_accuracy = metricsByName.topKCategoricalAccuracy!;
metricsByName.sparse_top_k_categorical_accuracy = metricsByName.sparseTopKCategoricalAccuracy!;
metricsByName.Precision = metricsByName.precision!;
metricsByName.Recall = metricsByName.recall!;

/** A metric by name (built for `loss`), or a metric object made with `metrics.<name>(options)` as is. */
export function getMetric(name: string | Metric, loss: Loss): Metric {
  if (typeof name !== 'string') return name;
  const make = Object.hasOwn(metricsByName, name) ? metricsByName[name] : undefined;
  if (!make) throw new KilnError(`compile: unknown metric "${name}"; expected one of ${Object.keys(metricsByName).join(', ')}.`);
  return make(loss);
}
