/**
 * Metrics for `model.compile({ metrics })`. Most give the batch SUM of a
 * per-example value, so an epoch's metric is the total over its examples divided
 * by their number, whatever the size of the last batch.
 *
 * Ratio metrics (precision, recall) are not means of per-example values: they
 * give `parts`, batch sums of counts (true positives, …) that the training loop
 * totals over the epoch, then `combine` turns the totals into the metric.
 */
import * as F from '../../compiler/functions/index.js';
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { Loss } from './losses.js';

/** One count a ratio metric needs: its batch sum (a float32 scalar). */
export interface MetricPart {
  readonly name: string;
  readonly sum: (labels: Tensor, predictions: Tensor) => Tensor;
}

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
  readonly combine?: (totals: Readonly<Record<string, number>>) => number;
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

function ratioMetric(name: string, parts: MetricPart[], combine: (t: Readonly<Record<string, number>>) => number): Metric {
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

/**
 * Metric factories, for options the names don't carry.
 * - topKCategoricalAccuracy({ k = 5 }): one-hot labels; Σ_batch [ #{c : p_c > p_argmax(y)} < k ]
 * - sparseTopKCategoricalAccuracy({ k = 5 }): int32 labels; Σ_batch [ #{c : p_c > p_label} < k ]
 * - precision({ threshold = 0.5 }): TP / (TP + FP) over the epoch (0 when TP + FP = 0)
 * - recall({ threshold = 0.5 }): TP / (TP + FN) over the epoch (0 when TP + FN = 0)
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
      (t) => ratio(t.truePositives!, t.truePositives! + t.falsePositives!));
  },
  recall: ({ threshold = 0.5 } = {}): Metric => {
    checkThreshold('recall', threshold);
    const c = confusion(threshold);
    return ratioMetric('recall', [{ name: 'truePositives', sum: c.truePositives }, { name: 'falseNegatives', sum: c.falseNegatives }],
      (t) => ratio(t.truePositives!, t.truePositives! + t.falseNegatives!));
  },
};

/** Binary metrics threshold probabilities at 0.5, or logits at 0 (= sigmoid⁻¹(0.5)) when the loss takes logits. */
const binaryThreshold = (loss: Loss) => (loss.fromLogits ? 0 : 0.5);

const sparseOnly = (name: string, loss: Loss) => {
  if (!loss.sparse) throw new KilnError(`compile: metric "${name}" needs int32 class labels, but loss ${loss.name} takes labels shaped like the predictions; use "topKCategoricalAccuracy".`);
};
const denseOnly = (name: string, loss: Loss) => {
  if (loss.sparse) throw new KilnError(`compile: metric "${name}" needs binary labels shaped like the predictions, but loss ${loss.name} takes int32 class labels.`);
};

/**
 * Names `compile({ metrics })` accepts: kiln/TensorFlow.js camelCase names plus a few
 * Keras snake_case ones (top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)
 * and class names (Precision, Recall). Named top-k metrics use k = 5.
 */
const metricsByName: Record<string, (loss: Loss) => Metric> = {
  // 'accuracy' picks its kind from the loss, as Keras does
  accuracy: (loss) => (loss.sparse ? metricsByName.sparseCategoricalAccuracy! : loss.name === 'binaryCrossentropy' ? metricsByName.binaryAccuracy! : metricsByName.categoricalAccuracy!)(loss),
  sparseCategoricalAccuracy: () => ({ name: 'accuracy', sum: (y, p) => correct(F.eq(F.argmax(p, -1), y)) }),
  categoricalAccuracy: () => ({ name: 'accuracy', sum: (y, p) => correct(F.eq(F.argmax(p, -1), F.argmax(y, -1))) }),
  binaryAccuracy: (loss) => ({ name: 'accuracy', sum: (y, p) => F.sum(perExampleMean(F.cast(F.eq(F.gt(p, binaryThreshold(loss)), F.gt(y, 0.5)), 'float32'))) }),
  mse: () => ({ name: 'mse', sum: (y, p) => F.sum(perExampleMean(F.square(F.sub(p, y)))) }),
  mae: () => ({ name: 'mae', sum: (y, p) => F.sum(perExampleMean(F.abs(F.sub(p, y)))) }),
  topKCategoricalAccuracy: () => metrics.topKCategoricalAccuracy(),
  sparseTopKCategoricalAccuracy: (loss) => (sparseOnly('sparseTopKCategoricalAccuracy', loss), metrics.sparseTopKCategoricalAccuracy()),
  precision: (loss) => (denseOnly('precision', loss), metrics.precision({ threshold: binaryThreshold(loss) })),
  recall: (loss) => (denseOnly('recall', loss), metrics.recall({ threshold: binaryThreshold(loss) })),
};
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
