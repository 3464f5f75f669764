/**
 * Loss objects for `model.compile({ loss })`, by TensorFlow.js name or made with
 * `kiln.losses.<name>(options)`: each maps (labels, predictions) to the batch mean.
 */
import * as F from '../../compiler/functions/index.js';
import { checkOptions } from '../../compiler/check.js';
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
  /** The options of a `kiln.losses` factory (`losses[name](config)` makes it again), for saving. */
  readonly config?: Readonly<Record<string, unknown>>;
}

type LossFn = (labels: Tensor, predictions: Tensor, options: { reduction?: 'mean' | 'none' }) => Tensor;
const make = (name: string, sparse: boolean, fromLogits: boolean, f: LossFn, config: Record<string, unknown> = {}): Loss => ({
  name, sparse, fromLogits, config,
  fn: (y, p) => f(y, p, {}),
  perExample: (y, p) => f(y, p, { reduction: 'none' }),
});

/**
 * Loss factories. Formulas (per example; `fn` is the batch mean, `perExample` the [batch] values):
 * - categoricalCrossentropy: −Σ_c y'_c·log p_c, y' = y·(1 − ls) + ls/numClasses (ls = labelSmoothing)
 * - sparseCategoricalCrossentropy: the same with y = oneHot(label), smoothed the same way
 * - binaryCrossentropy: mean over the last axis of −[y'·log p + (1 − y')·log(1 − p)], y' = y·(1 − ls) + 0.5·ls
 * - kullbackLeiblerDivergence: Σ y·log(y/p), y and p clipped to [1e-7, 1]
 * - cosineSimilarity: −Σ_axis (y/‖y‖)·(p/‖p‖) — NEGATIVE, as Keras' loss (−1 when aligned)
 * - meanSquaredError, meanAbsoluteError, huber: means over the last axis
 * @example model.compile({ loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), … })
 */
export const losses = {
  sparseCategoricalCrossentropy: ({ fromLogits = false, labelSmoothing = 0 } = {}) => make('sparseCategoricalCrossentropy', true, fromLogits, (y, p, o) => F.sparseCategoricalCrossentropy(y, p, { fromLogits, labelSmoothing, ...o }), { fromLogits, labelSmoothing }),
  categoricalCrossentropy: ({ fromLogits = false, labelSmoothing = 0 } = {}) => make('categoricalCrossentropy', false, fromLogits, (y, p, o) => F.categoricalCrossentropy(y, p, { fromLogits, labelSmoothing, ...o }), { fromLogits, labelSmoothing }),
  binaryCrossentropy: ({ fromLogits = false, labelSmoothing = 0 } = {}) => make('binaryCrossentropy', false, fromLogits, (y, p, o) => F.binaryCrossentropy(y, p, { fromLogits, labelSmoothing, ...o }), { fromLogits, labelSmoothing }),
  meanSquaredError: () => make('meanSquaredError', false, false, (y, p, o) => F.meanSquaredError(y, p, o)),
  meanAbsoluteError: () => make('meanAbsoluteError', false, false, (y, p, o) => F.meanAbsoluteError(y, p, o)),
  huber: ({ delta = 1 } = {}) => make('huber', false, false, (y, p, o) => F.huber(y, p, { delta, ...o }), { delta }),
  kullbackLeiblerDivergence: () => make('kullbackLeiblerDivergence', false, false, (y, p, o) => F.kullbackLeiblerDivergence(y, p, o)),
  cosineSimilarity: ({ axis = -1 } = {}) => make('cosineSimilarity', false, false, (y, p, o) => F.cosineSimilarity(y, p, { axis, ...o }), { axis }),
};

/** The options each loss factory takes; others are refused (as Keras refuses unknown kwargs). */
const lossOptionKeys: { readonly [K in keyof typeof losses]: readonly string[] } = {
  sparseCategoricalCrossentropy: ['fromLogits', 'labelSmoothing'],
  categoricalCrossentropy: ['fromLogits', 'labelSmoothing'],
  binaryCrossentropy: ['fromLogits', 'labelSmoothing'],
  meanSquaredError: [],
  meanAbsoluteError: [],
  huber: ['delta'],
  kullbackLeiblerDivergence: [],
  cosineSimilarity: ['axis'],
};
for (const [name, make] of Object.entries(losses) as [keyof typeof losses, (o?: object) => Loss][]) {
  (losses as Record<string, (o?: object) => Loss>)[name] = (options?: object) => {
    checkOptions(`losses.${name}`, options, lossOptionKeys[name]);
    return make(options);
  };
}

/**
 * Names `compile({ loss })` accepts: kiln's camelCase names, TensorFlow.js' aliases
 * (mse/MSE, mae/MAE, kld/KLD, cosineProximity — TF.js' name for the same negative
 * cosine), Keras' class names (KLDivergence, CosineSimilarity, Huber) and a few
 * Keras snake_case function names.
 */
const aliases: Record<string, () => Loss> = {
  sparseCategoricalCrossentropy: () => losses.sparseCategoricalCrossentropy(),
  sparse_categorical_crossentropy: () => losses.sparseCategoricalCrossentropy(),
  categoricalCrossentropy: () => losses.categoricalCrossentropy(),
  categorical_crossentropy: () => losses.categoricalCrossentropy(),
  binaryCrossentropy: () => losses.binaryCrossentropy(),
  binary_crossentropy: () => losses.binaryCrossentropy(),
  meanSquaredError: () => losses.meanSquaredError(),
  mean_squared_error: () => losses.meanSquaredError(),
  mse: () => losses.meanSquaredError(),
  MSE: () => losses.meanSquaredError(),
  meanAbsoluteError: () => losses.meanAbsoluteError(),
  mean_absolute_error: () => losses.meanAbsoluteError(),
  mae: () => losses.meanAbsoluteError(),
  MAE: () => losses.meanAbsoluteError(),
  huber: () => losses.huber(),
  Huber: () => losses.huber(),
  kullbackLeiblerDivergence: () => losses.kullbackLeiblerDivergence(),
  kullback_leibler_divergence: () => losses.kullbackLeiblerDivergence(),
  kl_divergence: () => losses.kullbackLeiblerDivergence(),
  kld: () => losses.kullbackLeiblerDivergence(),
  KLD: () => losses.kullbackLeiblerDivergence(),
  KLDivergence: () => losses.kullbackLeiblerDivergence(),
  cosineSimilarity: () => losses.cosineSimilarity(),
  cosine_similarity: () => losses.cosineSimilarity(),
  CosineSimilarity: () => losses.cosineSimilarity(),
  cosineProximity: () => losses.cosineSimilarity(),
};

export function getLoss(loss: string | Loss): Loss {
  if (typeof loss !== 'string') return loss;
  const found = Object.hasOwn(aliases, loss) ? aliases[loss] : undefined;
  if (!found) throw new KilnError(`compile: unknown loss "${loss}"; expected one of ${Object.keys(aliases).join(', ')}, or a kiln.losses object.`);
  return found();
}
