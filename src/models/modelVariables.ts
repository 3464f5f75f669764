/**
 * A model's weights as `kiln.Variable`s (TF.js's `model.trainableWeights`), for
 * custom training loops: reading one reads the model's current value (from its
 * compiled module once it has one), writing one writes the model, and their
 * version follows every change the model makes (a fit step, setWeights), so a
 * `kiln.compile`d loop uploads fresh values when the model trained in between.
 */
import { Tensor } from '../../compiler/tensor.js';
import { Variable } from '../variables.js';

/** What a model variable needs of its model. */
export interface WeightStore {
  readWeight(name: string): Float32Array;
  writeWeight(name: string, data: Float32Array): void;
  /** Bumped on every change of the model's weights. */
  readonly weightsVersion: number;
}

export class ModelVariable extends Variable {
  private readonly shape: readonly number[];

  constructor(private readonly store: WeightStore, name: string, shape: readonly number[], trainable: boolean) {
    super(Tensor.concrete({ dtype: 'float32', shape: [...shape], data: new Float32Array(0) as Float32Array }), name, trainable);
    this.shape = shape;
  }

  override get version(): number {
    return this.store.weightsVersion;
  }

  override get value(): Tensor {
    return Tensor.concrete({ dtype: 'float32', shape: [...this.shape], data: this.store.readWeight(this.name) });
  }

  override set value(v: Tensor) {
    this.check(v);
    this.store.writeWeight(this.name, Float32Array.from(v.dataSync()));
  }
}
