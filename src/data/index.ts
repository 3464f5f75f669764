/** `kiln.data`: tf.data-style input pipelines (`fromTensors(...).shuffle(...).batch(...)`) for `model.fit` and `model.evaluate`. */
export { Dataset, fromTensors, fromArray, generator, type Batched, type Size } from './dataset.js';
