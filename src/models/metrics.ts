/**
 * Metrics for `model.compile({ metrics })`. Each gives the batch SUM of a
 * per-example value, so an epoch's metric is the total over its examples divided
 * by their number, whatever the size of the last batch.
 */
import * as F from '../../compiler/functions/index.js';
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { Loss } from './losses.js';

export interface Metric {
  readonly name: string;
  readonly sum: (labels: Tensor, predictions: Tensor) => Tensor;
}

const correct = (hit: Tensor) => F.sum(F.cast(hit, 'float32'));
const perExampleMean = (t: Tensor) => (t.rank > 1 ? F.mean(t, -1) : t);

const metricsByName: Record<string, (loss: Loss) => Metric> = {
  // 'accuracy' picks its kind from the loss, as Keras does
  accuracy: (loss) => (loss.sparse ? metricsByName.sparseCategoricalAccuracy! : loss.name === 'binaryCrossentropy' ? metricsByName.binaryAccuracy! : metricsByName.categoricalAccuracy!)(loss),
  sparseCategoricalAccuracy: () => ({ name: 'accuracy', sum: (y, p) => correct(F.eq(F.argmax(p, -1), y)) }),
  categoricalAccuracy: () => ({ name: 'accuracy', sum: (y, p) => correct(F.eq(F.argmax(p, -1), F.argmax(y, -1))) }),
  binaryAccuracy: (loss) => ({ name: 'accuracy', sum: (y, p) => F.sum(perExampleMean(F.cast(F.eq(F.gt(p, loss.fromLogits ? 0 : 0.5), F.gt(y, 0.5)), 'float32'))) }),
  mse: () => ({ name: 'mse', sum: (y, p) => F.sum(perExampleMean(F.square(F.sub(p, y)))) }),
  mae: () => ({ name: 'mae', sum: (y, p) => F.sum(perExampleMean(F.abs(F.sub(p, y)))) }),
};
metricsByName.acc = metricsByName.accuracy!;
metricsByName.meanSquaredError = metricsByName.mse!;
metricsByName.meanAbsoluteError = metricsByName.mae!;

export function getMetric(name: string, loss: Loss): Metric {
  const make = Object.hasOwn(metricsByName, name) ? metricsByName[name] : undefined;
  if (!make) throw new KilnError(`compile: unknown metric "${name}"; expected one of ${Object.keys(metricsByName).join(', ')}.`);
  return make(loss);
}
