/**
 * A model used as a layer of another model (Keras' nesting): `sequential.add(model)`,
 * `model.apply(symbolicTensor)`, or `this.track(model.asLayer())` in a subclassed
 * model. The layer's weights are the inner model's, named `<inner layer>/<weight>`
 * (so `<outer name>/<inner layer>/<weight>` in the outer model), starting from the
 * inner model's current values — a trained model nests with its training. The
 * outer model trains its own copy: the inner model object keeps its values.
 */
import type { Tensor } from '../../compiler/tensor.js';
import { Layer, type CallContext, type Shape, type WeightSpec } from '../layers/layer.js';
import type { LayersModel } from './model.js';

export class ModelLayer extends Layer {
  readonly className: string;

  constructor(readonly model: LayersModel) {
    const { inputs, outputs } = model.nestingShapes();
    super(model.toConfig().className, { name: model.name, inputShape: [...inputs[0]!] });
    this.className = model.toConfig().className;
    if (inputs.length !== 1 || outputs.length !== 1) this.fail(`a nested model must have one input and one output, got ${inputs.length} and ${outputs.length}`);
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return this.model.nestedWeights().map((w) => ({ ...w, trainable: w.trainable && this.trainable }));
  }

  computeOutputShape(inputShape: Shape): Shape {
    const { inputs, outputs } = this.model.nestingShapes();
    const want = inputs[0]!;
    if (inputShape.length !== want.length || want.some((d, i) => d !== inputShape[i])) this.fail(`expected an input of shape [null,${want.join(',')}], got [null,${inputShape.join(',')}]`);
    return outputs[0]!;
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    return this.model.nestedCall(x, weights, ctx?.training ?? false);
  }

  override getConfig(): object {
    return { ...this.model.toConfig().config, trainable: this.trainable };
  }
}
