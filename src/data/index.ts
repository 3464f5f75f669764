/** `kiln.data`: tf.data-style input pipelines (`fromTensors(...).shuffle(...).batch(...)`) for `model.fit` and `model.evaluate`. */
export { AUTOTUNE, Dataset, fromTensors, fromArray, generator, zip, type Batched, type InterleaveOptions, type PaddedBatchOptions, type PaddedShape, type Size, type Unbatched } from './dataset.js';
