/**
 * Loss objects for `model.compile({ loss })`, by TensorFlow.js name or made with
 * `kiln.losses.<name>(options)`: each maps (labels, predictions) to the batch mean.
 */
import * as F from '../../compiler/functions/index.js';
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';

export interface Loss {
  readonly name: string;
  /** Labels are int32 class indices (sparse) rather than tensors shaped like the predictions. */
  readonly sparse: boolean;
  readonly fromLogits: boolean;
  /** The mean loss over the batch. */
  readonly fn: (labels: Tensor, predictions: Tensor) => Tensor;
  /** Each example's loss, shape [batch] (reduction 'none'): lets `fit` weight examples (`classWeight`). */
  readonly perExample?: (labels: Tensor, predictions: Tensor) => Tensor;
}

type LossFn = (labels: Tensor, predictions: Tensor, options: { reduction?: 'mean' | 'none' }) => Tensor;
const make = (name: string, sparse: boolean, fromLogits: boolean, f: LossFn): Loss => ({
  name, sparse, fromLogits,
  fn: (y, p) => f(y, p, {}),
  perExample: (y, p) => f(y, p, { reduction: 'none' }),
});

/** @example model.compile({ loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), … }) */
export const losses = {
  sparseCategoricalCrossentropy: ({ fromLogits = false } = {}) => make('sparseCategoricalCrossentropy', true, fromLogits, (y, p, o) => F.sparseCategoricalCrossentropy(y, p, { fromLogits, ...o })),
  categoricalCrossentropy: ({ fromLogits = false } = {}) => make('categoricalCrossentropy', false, fromLogits, (y, p, o) => F.categoricalCrossentropy(y, p, { fromLogits, ...o })),
  binaryCrossentropy: ({ fromLogits = false } = {}) => make('binaryCrossentropy', false, fromLogits, (y, p, o) => F.binaryCrossentropy(y, p, { fromLogits, ...o })),
  meanSquaredError: () => make('meanSquaredError', false, false, (y, p, o) => F.meanSquaredError(y, p, o)),
  meanAbsoluteError: () => make('meanAbsoluteError', false, false, (y, p, o) => F.meanAbsoluteError(y, p, o)),
  huber: ({ delta = 1 } = {}) => make('huber', false, false, (y, p, o) => F.huber(y, p, { delta, ...o })),
};

const aliases: Record<string, () => Loss> = {
  sparseCategoricalCrossentropy: () => losses.sparseCategoricalCrossentropy(),
  categoricalCrossentropy: () => losses.categoricalCrossentropy(),
  binaryCrossentropy: () => losses.binaryCrossentropy(),
  meanSquaredError: () => losses.meanSquaredError(),
  mse: () => losses.meanSquaredError(),
  meanAbsoluteError: () => losses.meanAbsoluteError(),
  mae: () => losses.meanAbsoluteError(),
  huber: () => losses.huber(),
};

export function getLoss(loss: string | Loss): Loss {
  if (typeof loss !== 'string') return loss;
  const found = Object.hasOwn(aliases, loss) ? aliases[loss] : undefined;
  if (!found) throw new KilnError(`compile: unknown loss "${loss}"; expected one of ${Object.keys(aliases).join(', ')}, or a kiln.losses object.`);
  return found();
}
