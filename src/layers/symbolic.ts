/**
 * @file The functional API's symbolic tensors and `Layer.apply`. A
 * `SymbolicTensor` holds no data: it is the output of one layer call (the
 * layer and the symbolic tensors it was applied to) with its shape without the
 * batch dimension. `kiln.model({ inputs, outputs })` replays those calls.
 * Inside a subclassed `kiln.Model`'s `call`, `layer.apply(tensor)` applies the
 * layer to a traced Tensor with the model's weights for that layer bound.
 */
import { KilnError } from '../../compiler/errors.js';
import { Tensor } from '../../compiler/tensor.js';
import type { DType } from '../../compiler/types.js';
import { checkedWeights, type CallContext, type Layer, type Shape } from './layer.js';

/** A layer applied to a list of inputs (the merge layers): `apply([a, b])`. */
export interface MultiInputLayer {
  callMany(xs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor;
  computeOutputShapeMany(shapes: readonly Shape[]): Shape;
  /** Takes one input or a list (an op layer: `kiln.mul(x, 2)` and `kiln.concat([a, b])`); merge layers take only lists. */
  readonly acceptsOne?: boolean;
  /** The output dtype for inputs of these shapes and dtypes (float32 when absent). */
  outputDtypeMany?(shapes: readonly Shape[], dtypes: readonly DType[]): DType;
}

export const isMultiInput = (layer: Layer): layer is Layer & MultiInputLayer => typeof (layer as Partial<MultiInputLayer>).callMany === 'function';

const show = (shape: Shape) => `[null,${shape.join(',')}]`;

let symbolicCount = 0;

/** The output of a layer call in a functional model: no data, a shape without the batch dimension. */
export class SymbolicTensor {
  /** Unique per symbolic tensor: 'dense/0', … */
  readonly name: string;
  constructor(
    /** Without the batch dimension. */
    readonly shape: Shape,
    readonly dtype: DType,
    /** The layer whose call produced it (an InputLayer for `kiln.input`). */
    readonly layer: Layer,
    /** What that layer was applied to (none for an input). */
    readonly inputs: readonly SymbolicTensor[],
  ) {
    this.name = `${layer.name}/${symbolicCount++}`;
  }

  get rank(): number {
    return this.shape.length + 1;
  }

  toString(): string {
    return `SymbolicTensor ${show(this.shape)} from ${layer(this)}`;
  }

  /** `console.log` in Node shows what `String(t)` shows. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

const layer = (t: SymbolicTensor) => `${t.layer.className} "${t.layer.name}"`;

/** Applies `layer` to traced tensors with its weights bound: set by a subclassed model while its `call` runs. */
export type TensorApplier = (layer: Layer, xs: readonly Tensor[]) => Tensor;
let tensorApplier: TensorApplier | undefined;

/** Applies a layer to concrete tensors outside any model (set by src/models, which layers cannot import). */
export type EagerRunner = (layer: Layer, xs: readonly Tensor[], asList: boolean) => Tensor;
let eagerRunner: EagerRunner | undefined;

/** Sets how `layer.apply(tensor)` runs outside a model's call. */
export function setEagerRunner(runner: EagerRunner): void {
  eagerRunner = runner;
}

/** Runs `body` with `layer.apply(tensor)` bound to `applier` (nests: restores the previous one). */
export function withTensorApplier<T>(applier: TensorApplier, body: () => T): T {
  const previous = tensorApplier;
  tensorApplier = applier;
  try {
    return body();
  } finally {
    tensorApplier = previous;
  }
}

/** Calls `layer` on `xs` with `weights` bound: `callMany` for merge layers, `call` for the others (one input). */
export function invokeLayer(layer: Layer, xs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor {
  if (isMultiInput(layer)) return layer.callMany(xs, weights, ctx);
  if (xs.length !== 1) throw new KilnError(`${layer.className} "${layer.name}": expected one input, got a list of ${xs.length}.`);
  return layer.call(xs[0]!, weights, ctx);
}

/** The input shape each layer's weights were made for: the first application's (the first input's shape for merge layers). */
const weightShapes = new WeakMap<Layer, Shape>();

/** The output shape of `layer` on inputs of `shapes`; throws a KilnError naming the layer. */
export function outputShapeOf(layer: Layer, shapes: readonly Shape[]): Shape {
  const subject = `${layer.className} "${layer.name}"`;
  if (isMultiInput(layer)) return layer.computeOutputShapeMany(shapes);
  if (shapes.length !== 1) throw new KilnError(`${subject}: expected one input, got a list of ${shapes.length}.`);
  const shape = shapes[0]!;
  const fixed = layer.inputShape;
  if (fixed && (fixed.length !== shape.length || fixed.some((d, i) => d !== shape[i]))) {
    throw new KilnError(`${subject}: expected an input of shape ${show(fixed)} (its inputShape), got ${show(shape)}.`);
  }
  const out = layer.computeOutputShape(shape);
  const first = weightShapes.get(layer);
  if (first) {
    // a shared layer: its weights must fit this input too
    const want = layer.weights(first).map((w) => w.shape.join(','));
    const got = layer.weights(shape).map((w) => w.shape.join(','));
    if (want.join(';') !== got.join(';')) throw new KilnError(`${subject}: the layer was first applied to ${show(first)}; applying it again (shared weights) to ${show(shape)} needs weights of other shapes.`);
  } else {
    checkedWeights(layer, shape); // validates the shape and the weights' sizes
    weightShapes.set(layer, shape);
  }
  return out;
}

/** `layer.apply`: records a call on symbolic tensors, or applies the layer to traced tensors inside a subclassed model's `call`. */
export function applyLayer(layer: Layer, inputs: unknown): SymbolicTensor | Tensor {
  const list: readonly unknown[] = Array.isArray(inputs) ? inputs : [inputs];
  const subject = `${layer.className} "${layer.name}"`;
  if (list.length === 0) throw new KilnError(`${subject}: apply expected a SymbolicTensor, a Tensor or a list of them, got an empty list.`);
  if (list.every((t) => t instanceof SymbolicTensor)) {
    const xs = list as readonly SymbolicTensor[];
    if (!Array.isArray(inputs) && isMultiInput(layer) && !layer.acceptsOne) throw new KilnError(`${subject}: expected a list of inputs, got one.`);
    const shape = outputShapeOf(layer, xs.map((x) => x.shape));
    const dtype = isMultiInput(layer) && layer.outputDtypeMany ? layer.outputDtypeMany(xs.map((x) => x.shape), xs.map((x) => x.dtype)) : 'float32';
    return new SymbolicTensor(shape, dtype, layer, xs);
  }
  if (list.every((t) => t instanceof Tensor)) {
    if (tensorApplier) return tensorApplier(layer, list as readonly Tensor[]);
    if (!eagerRunner) throw new KilnError(`${subject}: apply on a Tensor outside a model needs kiln's models loaded.`);
    return eagerRunner(layer, list as readonly Tensor[], Array.isArray(inputs));
  }
  throw new KilnError(`${subject}: apply expected a SymbolicTensor (from kiln.input or another apply), a Tensor inside a kiln.Model's call, or a list of one kind, got ${list.map((t) => (t === null ? 'null' : typeof t === 'object' ? (t as object).constructor?.name ?? 'object' : typeof t)).join(', ')}.`);
}
