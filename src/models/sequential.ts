/**
 * `kiln.sequential`: a Keras-style stack of layers. Everything but the stack —
 * compile, fit, evaluate, predict, weights, summary, the compiled module — is
 * `LayersModel`'s (./model.ts).
 */
import { checkOptions } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { Layer, Shape } from '../layers/layer.js';
import { tracedMasks } from '../layers/symbolic.js';
import { LayersModel, layerWeights, type Topology } from './model.js';

export type { CompileArgs, Logs, TrainingParams, Callback, FitArgs, History } from './model.js';

export class Sequential extends LayersModel<Tensor> {
  readonly layers: Layer[] = [];
  protected readonly kind = 'Sequential';

  constructor(args: { layers?: readonly (Layer | LayersModel)[]; name?: string } = {}) {
    checkOptions('sequential', args, ['layers', 'name']);
    super(args.name ?? 'sequential');
    for (const layer of args.layers ?? []) this.add(layer);
  }

  /** Appends a layer, or a model (nested as one layer); the first must give `inputShape`. */
  add(layerOrModel: Layer | LayersModel): void {
    const layer = layerOrModel instanceof LayersModel ? layerOrModel.asLayer() : layerOrModel;
    if (this.layers.length === 0 && !layer.inputShape) throw new KilnError(`Sequential "${this.name}": the first layer ("${layer.name}") needs an inputShape.`);
    if (this.layers.some((l) => l.name === layer.name)) throw new KilnError(`Sequential "${this.name}": a layer named "${layer.name}" is already in the model.`);
    this.layers.push(layer);
    this.invalidate();
  }

  get inputShape(): Shape {
    const first = this.layers[0];
    if (!first) throw new KilnError(`Sequential "${this.name}": the model has no layers.`);
    return first.inputShape!;
  }

  get outputShape(): Shape {
    const layers = this.topology().layers;
    return layers[layers.length - 1]!.outputShape;
  }

  protected topology(): Topology {
    let shape = this.inputShape;
    const batch = this.layers[0]!.batchSize;
    const layers = this.layers.map((layer) => {
      if (batch !== undefined) layer.adoptBatchSize(batch); // a stateful layer sizes its states by it
      if (layer.outputCount > 1) throw new KilnError(`Sequential "${this.name}": ${layer.className} "${layer.name}" gives ${layer.outputCount} outputs (returnState, or mergeMode null), but a Sequential model passes one tensor between layers; use the functional API (kiln.model) for several outputs.`);
      const inputShape = shape;
      shape = layer.computeOutputShape(shape);
      return { layer, inputShape, outputShape: shape };
    });
    return { layers, inputs: [{ shape: this.inputShape, dtype: 'float32', batchSize: batch }], outputs: [shape] };
  }

  /** `{ className: 'Sequential', config: { name, layers: [{ className, config }, …] } }`. */
  toConfig(): { className: string; config: Record<string, unknown> } {
    return { className: 'Sequential', config: { name: this.name, layers: this.layers.map((l) => ({ className: l.className, config: l.getConfig() })) } };
  }

  /** The last layer's name, as Keras names a Sequential model's output. */
  protected override outputNames(): string[] {
    const last = this.layers[this.layers.length - 1];
    if (!last) throw new KilnError(`Sequential "${this.name}": the model has no layers.`);
    return [last.name];
  }

  protected forward(inputs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, training: boolean): Tensor[] {
    // Keras' mask travels beside the tensor: each layer reads its input's and computes its output's
    let h = inputs[0]!;
    let mask: Tensor | undefined;
    for (const layer of this.layers) {
      const out = layer.call(h, layerWeights(layer, weights), { training, mask });
      mask = layer.computeMask(h, mask);
      h = out;
    }
    if (mask) tracedMasks.set(h, mask); // the output's mask, which the loss reads (Keras's _keras_mask)
    return [h];
  }
}

/**
 * A stack of layers.
 * @example const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [784], units: 10 })] });
 */
export function sequential(args: { layers?: readonly (Layer | LayersModel)[]; name?: string } = {}): Sequential {
  return new Sequential(args);
}
