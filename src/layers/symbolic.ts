/**
 * @file The functional API's symbolic tensors and `Layer.apply`. A
 * `SymbolicTensor` holds no data: it is the output of one layer call (the
 * layer and the symbolic tensors it was applied to) with its shape without the
 * batch dimension. `kiln.model({ inputs, outputs })` replays those calls.
 * Inside a subclassed `kiln.Model`'s `call`, `layer.apply(tensor)` applies the
 * layer to a traced Tensor with the model's weights for that layer bound.
 */
import { checkOptions } from '../../compiler/check.js';
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
  /**
   * A layer that reads its inputs' masks (attention) checks masks given to
   * `apply([…], { mask: [...], attentionMask })` (shapes without the batch);
   * layers without it take no masks.
   */
  checkCallMasks?(shapes: readonly Shape[], masks: readonly (Shape | undefined)[], attentionMask: Shape | undefined): void;
  /** The output's mask from the inputs' masks (attention: the query's); none when absent. */
  computeMaskMany?(xs: readonly Tensor[], masks: readonly (Tensor | undefined)[]): Tensor | undefined;
}

export const isMultiInput = (layer: Layer): layer is Layer & MultiInputLayer => typeof (layer as Partial<MultiInputLayer>).callMany === 'function';

const show = (shape: Shape) => `[null,${shape.join(',')}]`;

let symbolicCount = 0;

/**
 * Keras' call arguments besides the inputs: `layer.apply(x, { mask, initialState })`.
 * Both are symbolic tensors in the functional API and traced Tensors inside a
 * subclassed model's `call`.
 */
export interface ApplyOptions<T> {
  /**
   * Which steps are real: the input's shape without its last axis ([batch, steps]
   * for [batch, steps, features]); bool, or 0/1 numbers. For an attention layer
   * applied to [query, value(, key)]: a list, one mask (or undefined) per input.
   */
  mask?: T | readonly (T | undefined)[];
  /** A recurrent layer's initial states ([batch, units] each; LSTM: [h, c]; bidirectional: the forward states, then the backward). */
  initialState?: readonly T[];
  /** multiHeadAttention's attention mask [batch, querySteps, valueSteps]: which value steps each query step may attend to (Keras's attention_mask). */
  attentionMask?: T;
}

/**
 * What a call with call arguments or several outputs records (Keras' node): its
 * inputs are the layer's inputs, then the initial states, then the mask.
 */
export interface CallRecord {
  /** How many of the call's inputs, after the layer's own, are initial states. */
  readonly initialState: number;
  /** The call's input after the states is an explicit mask. */
  readonly mask: boolean;
  /** A layer applied to a list: which of its inputs were given a mask (those masks follow, in input order). */
  readonly masks?: readonly boolean[];
  /** The call's last input is an explicit attention mask. */
  readonly attentionMask?: boolean;
  /** Every output of the call, the main one first. */
  readonly outputs: SymbolicTensor[];
}

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
    /** What that layer was applied to (none for an input), then any initial states and mask (see `record`). */
    readonly inputs: readonly SymbolicTensor[],
    /** For a call with initial states, a mask or several outputs: how its inputs split, and all its outputs. */
    readonly record?: CallRecord,
    /** Which of the call's outputs this is (0: the main output). */
    readonly outputIndex = 0,
  ) {
    this.name = `${layer.name}/${symbolicCount++}`;
  }

  get rank(): number {
    return this.shape.length + 1;
  }

  /** The fixed batch size of the model input it comes from (`kiln.input({ batchSize })`), or undefined. */
  get batchSize(): number | undefined {
    return this.inputs.length ? this.inputs[0]!.batchSize : this.layer.batchSize;
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

/** Applies `layer` to traced tensors with its weights bound (every output): set by a subclassed model while its `call` runs. */
export type TensorApplier = (layer: Layer, xs: readonly Tensor[], options: ApplyOptions<Tensor>) => Tensor[];
let tensorApplier: TensorApplier | undefined;

/**
 * The masks of traced tensors inside a subclassed model's `call` (Keras' `_keras_mask`): a layer's output mask, read by the next layer applied to it.
 * @example const mask = tracedMasks.get(embedded); // set when an embedding with maskZero made `embedded`
 */
export const tracedMasks = new WeakMap<Tensor, Tensor>();

/** Applies a layer to concrete tensors outside any model (set by src/models, which layers cannot import). */
export type EagerRunner = (layer: Layer, xs: readonly Tensor[], asList: boolean) => Tensor | Tensor[];
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

/** Calls `layer` on `xs` with `weights` bound, giving every output: `callMany` for merge layers, `call` (or `callOutputs` for several outputs) for the others (one input). */
export function invokeLayer(layer: Layer, xs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor[] {
  if (isMultiInput(layer)) return [layer.callMany(xs, weights, ctx)];
  if (xs.length !== 1) throw new KilnError(`${layer.className} "${layer.name}": expected one input, got a list of ${xs.length}.`);
  return layer.outputCount > 1 ? layer.callOutputs(xs[0]!, weights, ctx) : [layer.call(xs[0]!, weights, ctx)];
}

/**
 * A call's recorded inputs split into the layer's own, the initial states, the
 * mask (or one per input of a list) and the attention mask (see `CallRecord`).
 * @example splitCallInputs({ initialState: 2, mask: true, outputs: [] }, [x, h, c, m]) // { inputs: [x], initialState: [h, c], mask: m }
 */
export function splitCallInputs<T>(record: CallRecord | undefined, xs: readonly T[]): { inputs: T[]; initialState?: T[]; mask?: T; masks?: (T | undefined)[]; attentionMask?: T } {
  if (!record) return { inputs: [...xs] };
  const given = record.masks?.filter((m) => m).length ?? 0;
  let k = xs.length - record.initialState - (record.mask ? 1 : 0) - given - (record.attentionMask ? 1 : 0);
  const inputs = xs.slice(0, k);
  const initialState = record.initialState ? xs.slice(k, (k += record.initialState)) : undefined;
  const mask = record.mask ? xs[k++] : undefined;
  const masks = record.masks?.map((m) => (m ? xs[k++] : undefined));
  const attentionMask = record.attentionMask ? xs[k++] : undefined;
  return { inputs, initialState, mask, masks, attentionMask };
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

const describeValue = (t: unknown) => (t === null ? 'null' : typeof t === 'object' ? (t as object).constructor?.name ?? 'object' : typeof t);

/** `apply`'s options, checked: a mask and initial states of the same kind as the inputs. */
function callArguments<T>(subject: string, options: unknown, Kind: typeof SymbolicTensor | typeof Tensor): ApplyOptions<T> {
  checkOptions(`${subject}.apply`, options, ['mask', 'initialState', 'attentionMask']);
  const o = (options ?? {}) as ApplyOptions<unknown>;
  const kind = Kind === SymbolicTensor ? 'SymbolicTensor' : 'Tensor';
  if (Array.isArray(o.mask)) {
    if (o.mask.some((m) => m !== undefined && m !== null && !(m instanceof Kind))) throw new KilnError(`${subject}: expected the masks to be ${kind}s like the inputs (or undefined), got [${o.mask.map(describeValue).join(', ')}].`);
  } else if (o.mask !== undefined && !(o.mask instanceof Kind)) throw new KilnError(`${subject}: expected the mask to be a ${kind} like the inputs, got ${describeValue(o.mask)}.`);
  if (o.attentionMask !== undefined && !(o.attentionMask instanceof Kind)) throw new KilnError(`${subject}: expected the attentionMask to be a ${kind} like the inputs, got ${describeValue(o.attentionMask)}.`);
  if (o.initialState !== undefined) {
    if (!Array.isArray(o.initialState) || o.initialState.length === 0 || o.initialState.some((s) => !(s instanceof Kind))) {
      throw new KilnError(`${subject}: expected initialState to be a non-empty list of ${kind}s like the inputs, got ${Array.isArray(o.initialState) ? `[${o.initialState.map(describeValue).join(', ')}]` : describeValue(o.initialState)}.`);
    }
  }
  return o as ApplyOptions<T>;
}

/** `apply`'s masks, checked against the layer and its inputs: one mask for a layer of one input, a list (and an attention mask) for a layer that reads masks of a list. */
function callMasks(layer: Layer, xs: readonly SymbolicTensor[], options: ApplyOptions<SymbolicTensor>): { mask?: SymbolicTensor; masks?: (SymbolicTensor | undefined)[] } {
  const subject = `${layer.className} "${layer.name}"`;
  const { mask, attentionMask } = options;
  const list = Array.isArray(mask) ? (mask as readonly (SymbolicTensor | undefined | null)[]).map((m) => m ?? undefined) : undefined;
  if (!isMultiInput(layer)) {
    if (list) throw new KilnError(`${subject}: expected one mask (a SymbolicTensor), got a list of ${list.length}.`);
    if (attentionMask) throw new KilnError(`${subject}: expected no attentionMask (multiHeadAttention takes one), got ${show(attentionMask.shape)}.`);
    const input = xs[0]!.shape;
    const one = mask as SymbolicTensor | undefined;
    if (one && (one.shape.length !== input.length - 1 || one.shape.some((d, i) => d !== input[i]))) {
      throw new KilnError(`${subject}: expected a mask ${show(input.slice(0, -1))} (the input ${show(input)} without its last axis), got ${show(one.shape)}.`);
    }
    return { mask: one };
  }
  if (options.initialState) throw new KilnError(`${subject}: expected no initialState (a layer taking a list of inputs takes none).`);
  if (mask === undefined && !attentionMask) return {};
  if (!layer.checkCallMasks) throw new KilnError(`${subject}: expected no mask or attentionMask (this layer reads no masks; the attention layers do).`);
  if (mask !== undefined && (!list || list.length !== xs.length)) throw new KilnError(`${subject}: expected mask to be a list of ${xs.length} masks (one per input, undefined for none), got ${list ? `a list of ${list.length}` : 'one mask'}.`);
  layer.checkCallMasks(xs.map((x) => x.shape), (list ?? []).map((m) => m?.shape), attentionMask?.shape);
  return { masks: list };
}

/** Records a call on symbolic tensors: its output (or outputs), after checking shapes, the masks and the initial states. */
function applySymbolic(layer: Layer, xs: readonly SymbolicTensor[], asList: boolean, options: ApplyOptions<SymbolicTensor>): SymbolicTensor | SymbolicTensor[] {
  const subject = `${layer.className} "${layer.name}"`;
  if (!asList && isMultiInput(layer) && !layer.acceptsOne) throw new KilnError(`${subject}: expected a list of inputs, got one.`);
  const { initialState, attentionMask } = options;
  const batch = xs[0]?.batchSize;
  if (batch !== undefined) layer.adoptBatchSize(batch); // a stateful layer sizes its states by it
  const { mask, masks } = callMasks(layer, xs, options);
  const shape = outputShapeOf(layer, xs.map((x) => x.shape));
  const dtype = isMultiInput(layer) && layer.outputDtypeMany ? layer.outputDtypeMany(xs.map((x) => x.shape), xs.map((x) => x.dtype)) : 'float32';
  if (!mask && !masks && !initialState && !attentionMask && layer.outputCount === 1) return new SymbolicTensor(shape, dtype, layer, xs);
  if (initialState) layer.checkInitialState(xs[0]!.shape, initialState.map((s) => s.shape));
  const record: CallRecord = {
    initialState: initialState?.length ?? 0, mask: mask !== undefined, outputs: [],
    ...(masks ? { masks: masks.map((m) => m !== undefined) } : {}), ...(attentionMask ? { attentionMask: true } : {}),
  };
  const given = (masks ?? []).filter((m): m is SymbolicTensor => m !== undefined);
  const inputs = [...xs, ...(initialState ?? []), ...(mask ? [mask] : []), ...given, ...(attentionMask ? [attentionMask] : [])];
  const shapes = layer.outputCount > 1 ? layer.computeOutputShapes(xs[0]!.shape) : [shape];
  record.outputs.push(...shapes.map((s, i) => new SymbolicTensor(s, dtype, layer, inputs, record, i)));
  return record.outputs.length > 1 ? [...record.outputs] : record.outputs[0]!;
}

/** `layer.apply`: records a call on symbolic tensors, or applies the layer to traced tensors inside a subclassed model's `call`. */
export function applyLayer(layer: Layer, inputs: unknown, options?: unknown): SymbolicTensor | Tensor | SymbolicTensor[] | Tensor[] {
  const list: readonly unknown[] = Array.isArray(inputs) ? inputs : [inputs];
  const subject = `${layer.className} "${layer.name}"`;
  if (list.length === 0) throw new KilnError(`${subject}: apply expected a SymbolicTensor, a Tensor or a list of them, got an empty list.`);
  if (list.every((t) => t instanceof SymbolicTensor)) {
    return applySymbolic(layer, list as readonly SymbolicTensor[], Array.isArray(inputs), callArguments<SymbolicTensor>(subject, options, SymbolicTensor));
  }
  if (list.every((t) => t instanceof Tensor)) {
    const args = callArguments<Tensor>(subject, options, Tensor);
    if (tensorApplier) {
      const outs = tensorApplier(layer, list as readonly Tensor[], args);
      return outs.length > 1 ? outs : outs[0]!;
    }
    if (args.mask || args.initialState || args.attentionMask) throw new KilnError(`${subject}: apply with a mask, attentionMask or initialState runs inside a model (the functional API or a kiln.Model's call), not on a concrete Tensor.`);
    if (!eagerRunner) throw new KilnError(`${subject}: apply on a Tensor outside a model needs kiln's models loaded.`);
    return eagerRunner(layer, list as readonly Tensor[], Array.isArray(inputs));
  }
  throw new KilnError(`${subject}: apply expected a SymbolicTensor (from kiln.input or another apply), a Tensor inside a kiln.Model's call, or a list of one kind, got ${list.map(describeValue).join(', ')}.`);
}
