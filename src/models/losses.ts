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
}

const make = (name: string, sparse: boolean, fromLogits: boolean, fn: Loss['fn']): Loss => ({ name, sparse, fromLogits, fn });

/** @example model.compile({ loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), … }) */
export const losses = {
  sparseCategoricalCrossentropy: ({ fromLogits = false } = {}) => make('sparseCategoricalCrossentropy', true, fromLogits, (y, p) => F.sparseCategoricalCrossentropy(y, p, { fromLogits })),
  categoricalCrossentropy: ({ fromLogits = false } = {}) => make('categoricalCrossentropy', false, fromLogits, (y, p) => F.categoricalCrossentropy(y, p, { fromLogits })),
  binaryCrossentropy: ({ fromLogits = false } = {}) => make('binaryCrossentropy', false, fromLogits, (y, p) => F.binaryCrossentropy(y, p, { fromLogits })),
  meanSquaredError: () => make('meanSquaredError', false, false, (y, p) => F.meanSquaredError(y, p)),
  meanAbsoluteError: () => make('meanAbsoluteError', false, false, (y, p) => F.meanAbsoluteError(y, p)),
  huber: ({ delta = 1 } = {}) => make('huber', false, false, (y, p) => F.huber(y, p, { delta })),
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
