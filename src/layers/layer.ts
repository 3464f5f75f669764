/**
 * @file The layer contract shared by the layer families and the models that
 * hold them. A layer owns no tensors: it describes its weights (`weights`) and,
 * inside a trace, applies itself to an input with those weights bound (`call`).
 */
import type { Tensor } from '../../compiler/tensor.js';
import { checkOptions, checkSize, describe } from '../../compiler/check.js';
import { fail } from '../../compiler/functions/util.js';
import type { Constraint } from './constraints.js';
import type { Regularizer } from './regularizers.js';
import { applyLayer, type ApplyOptions, type SymbolicTensor } from './symbolic.js';

/** A shape without the batch dimension. */
export type Shape = readonly number[];

export interface Initializer {
  readonly className: string;
  readonly config: object;
  /** values for a weight of `shape`, seeded */
  init(shape: Shape, seed: number): Float32Array;
}

export interface WeightSpec {
  readonly name: string;
  readonly shape: Shape;
  readonly initializer: Initializer;
  readonly trainable: boolean;
  /** Its penalty is added to the training loss (Keras' regularization losses). */
  readonly regularizer?: Regularizer;
  /** Applied to the weight's new value after each optimizer step. */
  readonly constraint?: Constraint;
  /**
   * Bookkeeping state rather than a weight in Keras' sense (dropout's step
   * counter): summary, countParams, getWeights and setWeights leave it out;
   * saving keeps it, so training resumes exactly.
   */
  readonly internal?: boolean;
  /** A stateful layer's carried state (zeroed by resetStates); every entry may update it. */
  readonly state?: boolean;
}

export interface CallContext {
  readonly training: boolean;
  /**
   * Keras' mask: which steps of the input are real ([batch, steps], bool or
   * 0/1), from an embedding with maskZero, a masking layer, or given with
   * `apply(x, { mask })`. Layers that do not read masks ignore it.
   */
  readonly mask?: Tensor;
  /** A recurrent layer's initial states (`apply(x, { initialState })`): [batch, units] each. */
  readonly initialState?: readonly Tensor[];
  /** A layer applied to a list (attention): each input's mask (given, or propagated from the layer that made it), undefined for none. */
  readonly masks?: readonly (Tensor | undefined)[];
  /** multiHeadAttention's explicit attention mask [batch, querySteps, valueSteps]. */
  readonly attentionMask?: Tensor;
}

export interface LayerArgs {
  name?: string;
  inputShape?: (number | null)[];
  /** A fixed batch size for the model's input (Keras's `batch_size`; what a stateful recurrent layer needs). */
  batchSize?: number;
  /** `[batchSize, ...inputShape]` at once (Keras's `batch_input_shape`; a leading null leaves the batch free). */
  batchInputShape?: (number | null)[];
  trainable?: boolean;
}

/** Keras' `to_snake_case`: 'Dense' → 'dense', 'MaxPooling2D' → 'max_pooling2d'. */
export function snakeCase(className: string): string {
  return className.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

const nameCounters = new Map<string, number>();

/** 'dense', then 'dense_1', 'dense_2', … (one counter per class name, for the process). */
export function uniqueLayerName(className: string): string {
  const prefix = snakeCase(className);
  const n = nameCounters.get(prefix) ?? 0;
  nameCounters.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/** Restarts the default names ('dense', 'dense_1', …), as Keras' `clear_session`. */
export function resetLayerNames(): void {
  nameCounters.clear();
}

/**
 * The option keys every layer takes (see `optionKeys` in compiler/check.ts).
 * @example static override readonly optionKeys = optionKeys<DenseArgs>({ units: true, ...KERNEL_KEYS, ...LAYER_KEYS });
 */
export const LAYER_KEYS = { name: true, inputShape: true, batchSize: true, batchInputShape: true, trainable: true } as const;

/**
 * The factory's name for a layer class, as errors name it.
 * @example factoryName('Conv2DTranspose') // 'conv2dTranspose'
 */
export const factoryName = (className: string): string => {
  // an all-capitals name is an acronym: LSTM → lstm, GRU → gru (SimpleRNN → simpleRNN keeps its tail)
  const name = /^[A-Z]+$/.test(className) ? className.toLowerCase() : className[0]!.toLowerCase() + className.slice(1);
  return name.replace(/(\d)D/g, '$1d');
};

/** A batch size given to a layer, checked: a positive integer. */
function batchSizeOf(subject: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(subject, `expected ${what} to be a positive integer, got ${JSON.stringify(v) ?? String(v)}`);
  return v as number;
}

export const formatShape = (shape: readonly (number | null)[]): string => `[${shape.map((d) => (d === null ? 'null' : d)).join(',')}]`;

export abstract class Layer {
  readonly name: string;
  trainable: boolean;
  readonly inputShape?: Shape;
  /** The fixed batch size given with batchSize or batchInputShape (undefined: any batch). */
  readonly batchSize?: number;
  abstract readonly className: string;

  /** The option keys the constructor accepts, listed once per class with `optionKeys`; the constructor refuses others. */
  static readonly optionKeys?: readonly string[];

  protected constructor(className: string, args: LayerArgs) {
    const keys = (new.target as unknown as { optionKeys?: readonly string[] }).optionKeys;
    if (args === undefined || args === null || typeof args !== 'object' || Array.isArray(args)) fail(factoryName(className), `expected an options object, got ${args === null ? 'null' : describe(args)}`);
    if (keys) checkOptions(factoryName(className), args, keys);
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name === '')) fail(className, `expected name to be a non-empty string, got ${JSON.stringify(args.name)}`);
    this.name = args.name ?? uniqueLayerName(className);
    this.trainable = args.trainable ?? true;
    const subject = () => `${className} "${this.name}"`;
    let inputShape = args.inputShape;
    if (args.batchInputShape !== undefined) {
      const b = args.batchInputShape;
      if (!Array.isArray(b) || b.length < 2) fail(subject(), `expected batchInputShape to be [batchSize or null, ...inputShape], got ${JSON.stringify(b)}`);
      if (inputShape !== undefined) fail(subject(), `expected inputShape or batchInputShape, got both (${formatShape(inputShape)} and ${formatShape(b)})`);
      inputShape = b.slice(1);
      if (b[0] !== null) this.batchSize = batchSizeOf(subject(), 'batchInputShape[0]', b[0]);
    }
    if (args.batchSize !== undefined) {
      if (this.batchSize !== undefined && this.batchSize !== args.batchSize) fail(subject(), `expected one batch size, got batchSize ${JSON.stringify(args.batchSize)} and batchInputShape[0] ${this.batchSize}`);
      this.batchSize = batchSizeOf(subject(), 'batchSize', args.batchSize);
    }
    if (inputShape !== undefined) {
      const s = inputShape;
      if (!Array.isArray(s) || s.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d <= 0)) {
        fail(`${className} "${this.name}"`, `expected inputShape (without the batch dimension) of positive integers, got ${Array.isArray(s) ? formatShape(s) : JSON.stringify(s)}`);
      }
      this.inputShape = [...(s as number[])];
    }
  }

  /** The layer's weights for an input of `inputShape` (no batch dim); throws a KilnError naming the layer on a bad shape. */
  abstract weights(inputShape: Shape): WeightSpec[];
  abstract computeOutputShape(inputShape: Shape): Shape;
  /** Inside a trace: applies the layer to x ([batch, ...inputShape], batch may be dynamic) with its weights bound by WeightSpec name. */
  abstract call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor;

  /** Keras' supports_masking: the layer passes its input's mask on to its output unchanged (dense, dropout, …). */
  get supportsMasking(): boolean {
    return false;
  }

  /**
   * Keras' compute_mask: the mask of this layer's (main) output, computed in the
   * trace from its input `x` and the input's mask; `undefined` for none. By
   * default the input's mask passes through when `supportsMasking`, and stops
   * otherwise.
   */
  computeMask(_x: Tensor, mask: Tensor | undefined): Tensor | undefined {
    return this.supportsMasking ? mask : undefined;
  }

  /** The batch size this layer fixes for its model (a stateful recurrent layer's), or undefined. */
  get fixedBatchSize(): number | undefined {
    return undefined;
  }

  /** Told the fixed batch size of the model input it is applied to (a stateful layer takes it). */
  adoptBatchSize(_batch: number): void {}

  /** How many tensors one call gives (a recurrent layer with returnState: the output and its states). */
  get outputCount(): number {
    return 1;
  }

  /** The shapes of every output of one call, the main output first. */
  computeOutputShapes(inputShape: Shape): Shape[] {
    return [this.computeOutputShape(inputShape)];
  }

  /** `call` for a layer with several outputs: every output, the main one first. */
  callOutputs(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor[] {
    return [this.call(x, weights, ctx)];
  }

  /** Checks `apply(x, { initialState })`'s state shapes (no batch dimension); only recurrent layers take initial states. */
  checkInitialState(_inputShape: Shape, _stateShapes: readonly Shape[]): void {
    this.fail('expected no initialState: only the recurrent layers (simpleRNN, lstm, gru, bidirectional) take initial states');
  }

  /**
   * Functional API: records this layer's call on symbolic tensors (from
   * `kiln.input` or another `apply`) and returns its output's SymbolicTensor;
   * merge layers take a list. Inside a subclassed `kiln.Model`'s `call`, applies
   * the layer to traced Tensors with the model's weights for it bound.
   */
  apply(inputs: SymbolicTensor | readonly SymbolicTensor[], options?: ApplyOptions<SymbolicTensor>): SymbolicTensor;
  apply(inputs: Tensor | readonly Tensor[], options?: ApplyOptions<Tensor>): Tensor;
  /**
   * A layer with several outputs (a recurrent layer with `returnState`, a
   * bidirectional with mergeMode null) gives a list: `[output, ...states]`.
   * @example const [out, h, c] = kiln.layers.lstm({ units: 8, returnState: true }).applyAll(x);
   */
  apply(inputs: SymbolicTensor | Tensor | readonly (SymbolicTensor | Tensor)[], options?: ApplyOptions<SymbolicTensor | Tensor>): SymbolicTensor | Tensor | SymbolicTensor[] | Tensor[];
  apply(inputs: SymbolicTensor | Tensor | readonly (SymbolicTensor | Tensor)[], options?: ApplyOptions<SymbolicTensor | Tensor>): SymbolicTensor | Tensor | SymbolicTensor[] | Tensor[] {
    return applyLayer(this, inputs, options);
  }

  /**
   * `apply` that always gives the list of the call's outputs (one for most
   * layers; `[output, ...states]` for a recurrent layer with returnState).
   * @example const [seq, h] = kiln.layers.gru({ units: 8, returnSequences: true, returnState: true }).applyAll(x);
   */
  applyAll(inputs: SymbolicTensor | readonly SymbolicTensor[], options?: ApplyOptions<SymbolicTensor>): SymbolicTensor[];
  applyAll(inputs: Tensor | readonly Tensor[], options?: ApplyOptions<Tensor>): Tensor[];
  applyAll(inputs: SymbolicTensor | Tensor | readonly (SymbolicTensor | Tensor)[], options?: ApplyOptions<SymbolicTensor | Tensor>): SymbolicTensor[] | Tensor[] {
    const out = applyLayer(this, inputs, options);
    return (Array.isArray(out) && this.outputCount > 1 ? out : [out]) as SymbolicTensor[] | Tensor[];
  }

  /** Keras-like config: name, trainable, batchInputShape when an inputShape was given, and the layer's own options. */
  getConfig(): object {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.inputShape) config.batchInputShape = [this.batchSize ?? null, ...this.inputShape];
    else if (this.batchSize !== undefined) config.batchSize = this.batchSize;
    return config;
  }

  /** `Dense "dense_1"`: the subject of this layer's errors. */
  protected get subject(): string {
    return `${this.className} "${this.name}"`;
  }

  /** Throws a KilnError `<Class> "<name>": <message>`. */
  protected fail(message: string): never {
    return fail(this.subject, message);
  }

  /** The weight `name` from `weights`, or a KilnError saying which is missing. */
  protected weight(weights: Readonly<Record<string, Tensor>>, name: string): Tensor {
    // call(x, weights, ctx) is what a model runs inside its trace; a user with a tensor wants apply(x)
    if (weights === undefined || weights === null) this.fail(`call(x) needs the layer's weights (call(x, weights, ctx) is what a model runs while tracing); to run the layer on a tensor, use layer.apply(x)`);
    const w = weights[name];
    if (!w) this.fail(`expected a bound weight '${name}', got ${Object.keys(weights).length ? `only ${Object.keys(weights).map((k) => `'${k}'`).join(', ')}` : 'none'}`);
    return w!;
  }
}

/**
 * The layer's weight specs for an input of `inputShape`, each refused with a
 * KilnError naming the layer when it exceeds the engine's size limit (before
 * anything is allocated).
 * @example checkedWeights(kiln.layers.dense({ units: 10 }), [784]) // kernel [784,10], bias [10]
 */
export function checkedWeights(layer: Layer, inputShape: Shape): WeightSpec[] {
  const specs = layer.weights(inputShape);
  for (const w of specs) checkSize(`${layer.className} "${layer.name}"`, `weight '${w.name}'`, w.shape);
  return specs;
}
