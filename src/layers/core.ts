/**
 * @file Core layers, as TensorFlow.js': dense, flatten, reshape, activation.
 */
import * as F from '../../compiler/functions/index.js';
import { fail } from '../../compiler/functions/util.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import * as activations from './activations.js';
import * as constraints from './constraints.js';
import * as initializers from './initializers.js';
import * as regularizers from './regularizers.js';
import { optionKeys } from '../../compiler/check.js';
import { formatShape, Layer, LAYER_KEYS, type CallContext, type Initializer, type LayerArgs, type Shape, type WeightSpec } from './layer.js';

/** An initializer by name or object, as the layers' `kernelInitializer` and `biasInitializer` options. */
export type InitializerIdentifier = initializers.InitializerName | Initializer;

export const initializerConfig = (init: Initializer): object => ({ className: init.className, config: init.config });

/** A weight's regularizer and constraint options (names or objects), as Keras' layers take them. */
export interface WeightPenaltyArgs {
  /** Adds its penalty of the kernel to the training loss. */
  kernelRegularizer?: regularizers.RegularizerIdentifier;
  biasRegularizer?: regularizers.RegularizerIdentifier;
  /** Projects the kernel after each optimizer step. */
  kernelConstraint?: constraints.ConstraintIdentifier;
  biasConstraint?: constraints.ConstraintIdentifier;
}

/** A regularizer from a layer's option (undefined or null: none). */
export const regularizerOf = (id: regularizers.RegularizerIdentifier | null | undefined, subject: string): regularizers.Regularizer | undefined =>
  (id === undefined || id === null ? undefined : regularizers.get(id, subject));

/** A constraint from a layer's option (undefined or null: none). */
export const constraintOf = (id: constraints.ConstraintIdentifier | null | undefined, subject: string): constraints.Constraint | undefined =>
  (id === undefined || id === null ? undefined : constraints.get(id, subject));

/** A regularizer or constraint for getConfig: `{ className, config }`, or undefined when none (left out of JSON; Keras writes null). */
export const penaltyConfig = (x: regularizers.Regularizer | constraints.Constraint | undefined): object | undefined => (x ? { className: x.className, config: x.config } : undefined);

/** Throws `<subject>: expected <what> to be a positive integer, got <v>`. */
export function positiveInt(layer: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(layer, `expected ${what} to be a positive integer, got ${JSON.stringify(v) ?? String(v)}`);
  return v as number;
}

export function checkInputShape(subject: string, inputShape: Shape, rank?: number, what = ''): void {
  const ok = Array.isArray(inputShape) && inputShape.every((d) => Number.isInteger(d) && d > 0);
  if (!ok) fail(subject, `expected an input shape (without the batch dimension) of positive integers, got ${Array.isArray(inputShape) ? formatShape(inputShape) : JSON.stringify(inputShape)}`);
  if (rank !== undefined && inputShape.length !== rank) fail(subject, `expected an input of rank ${rank + 1} ${what}(with the batch dimension), got shape ${formatShape([null, ...inputShape])}`);
}

// ---- Kernel + bias layers: the options, weights, bias-add + activation and config they share ----

/** The options of a layer with a kernel and an optional bias (Dense, Conv1D, Conv2D, DepthwiseConv2D, Conv2DTranspose). */
export interface KernelArgs extends WeightPenaltyArgs {
  activation?: activations.ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
}

/**
 * The option keys of {@link KernelArgs}, for the layers' `optionKeys`.
 * @example optionKeys<Conv2DArgs>({ filters: true, kernelSize: true, strides: true, padding: true, dataFormat: true, dilationRate: true, ...KERNEL_KEYS, ...LAYER_KEYS })
 */
export const KERNEL_KEYS = {
  activation: true, useBias: true, kernelInitializer: true, biasInitializer: true,
  kernelRegularizer: true, biasRegularizer: true, kernelConstraint: true, biasConstraint: true,
} as const;

/** {@link KernelArgs} checked and resolved. */
export interface KernelOptions {
  readonly activation: activations.ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer?: regularizers.Regularizer;
  readonly biasRegularizer?: regularizers.Regularizer;
  readonly kernelConstraint?: constraints.Constraint;
  readonly biasConstraint?: constraints.Constraint;
}

/** The defaults of {@link parseKernelArgs}, as Keras': a bias, Glorot-uniform kernel, zero bias. */
export const KERNEL_DEFAULTS = Object.freeze({ useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' } as const);

/** Checks and resolves a layer's kernel options (errors name `subject`), in the order activation, useBias, initializers, regularizers, constraints. */
export function parseKernelArgs(args: KernelArgs, subject: string, defaults: { useBias: boolean; kernelInitializer: InitializerIdentifier; biasInitializer: InitializerIdentifier } = KERNEL_DEFAULTS): KernelOptions {
  return Object.freeze({
    activation: activations.checkName(args.activation, subject),
    useBias: args.useBias ?? defaults.useBias,
    kernelInitializer: initializers.get(args.kernelInitializer ?? defaults.kernelInitializer, subject),
    biasInitializer: initializers.get(args.biasInitializer ?? defaults.biasInitializer, subject),
    kernelRegularizer: regularizerOf(args.kernelRegularizer, subject),
    biasRegularizer: regularizerOf(args.biasRegularizer, subject),
    kernelConstraint: constraintOf(args.kernelConstraint, subject),
    biasConstraint: constraintOf(args.biasConstraint, subject),
  });
}

/** One weight's spec from its initializer, regularizer and constraint. */
export const weightSpec = (name: string, shape: Shape, trainable: boolean, initializer: Initializer, regularizer?: regularizers.Regularizer, constraint?: constraints.Constraint): WeightSpec =>
  ({ name, shape, initializer, trainable, regularizer, constraint });

/** The kernel (named `kernelName`) and, with `useBias`, the 'bias' weight specs. */
export function kernelWeights(options: KernelOptions, kernelShape: Shape, biasShape: Shape, trainable: boolean, kernelName = 'kernel'): WeightSpec[] {
  const specs = [weightSpec(kernelName, kernelShape, trainable, options.kernelInitializer, options.kernelRegularizer, options.kernelConstraint)];
  if (options.useBias) specs.push(weightSpec('bias', biasShape, trainable, options.biasInitializer, options.biasRegularizer, options.biasConstraint));
  return specs;
}

/** The getConfig entries of the kernel options; the kernel's keys start with `prefix` (Keras' 'depthwise' for DepthwiseConv2D). */
export const kernelConfig = (options: KernelOptions, prefix = 'kernel'): object => ({
  activation: options.activation,
  useBias: options.useBias,
  [`${prefix}Initializer`]: initializerConfig(options.kernelInitializer),
  biasInitializer: initializerConfig(options.biasInitializer),
  [`${prefix}Regularizer`]: penaltyConfig(options.kernelRegularizer),
  biasRegularizer: penaltyConfig(options.biasRegularizer),
  [`${prefix}Constraint`]: penaltyConfig(options.kernelConstraint),
  biasConstraint: penaltyConfig(options.biasConstraint),
});

/**
 * A layer computing `activation(f(x, kernel) + bias)`: its constructor parses
 * the options with {@link parseKernelArgs} into `kernelOptions` (exposed as the fields
 * `activation`, `useBias`, `kernelInitializer`, …) and ends `call` with
 * {@link KernelLayer.finish}. Each layer keeps its own shape logic.
 */
export abstract class KernelLayer extends Layer {
  /** Set by the subclass's constructor (with {@link parseKernelArgs}) where it checks these options. */
  protected kernelOptions!: KernelOptions;

  get activation(): activations.ActivationName { return this.kernelOptions.activation; }
  get useBias(): boolean { return this.kernelOptions.useBias; }
  get kernelInitializer(): Initializer { return this.kernelOptions.kernelInitializer; }
  get biasInitializer(): Initializer { return this.kernelOptions.biasInitializer; }
  get kernelRegularizer(): regularizers.Regularizer | undefined { return this.kernelOptions.kernelRegularizer; }
  get biasRegularizer(): regularizers.Regularizer | undefined { return this.kernelOptions.biasRegularizer; }
  get kernelConstraint(): constraints.Constraint | undefined { return this.kernelOptions.kernelConstraint; }
  get biasConstraint(): constraints.Constraint | undefined { return this.kernelOptions.biasConstraint; }

  /** The bias add (with `useBias`) then the activation. */
  protected finish(y: Tensor, weights: Readonly<Record<string, Tensor>>): Tensor {
    const z = this.kernelOptions.useBias ? F.add(y, this.weight(weights, 'bias')) : y;
    return activations.get(this.kernelOptions.activation)(z);
  }
}

// ---- Dense ------------------------------------------------------------------------

export interface DenseArgs extends LayerArgs, KernelArgs {
  units: number;
}

/**
 * `activation(x · kernel + bias)` over the last axis: kernel [inputDim, units],
 * bias [units]. Inputs of rank > 2 ([batch, ..., inputDim]) use matmul's
 * broadcasting over the leading dimensions.
 */
export class Dense extends KernelLayer {
  /** Passes its input's mask on (Keras' supports_masking). */
  override get supportsMasking(): boolean {
    return true;
  }

  static override readonly optionKeys = optionKeys<DenseArgs>({ units: true, ...KERNEL_KEYS, ...LAYER_KEYS });
  readonly className = 'Dense';
  readonly units: number;

  constructor(args: DenseArgs) {
    super('Dense', args);
    this.units = positiveInt(this.subject, 'units', args?.units);
    this.kernelOptions = parseKernelArgs(args, this.subject);
  }

  private inputDim(inputShape: Shape): number {
    checkInputShape(this.subject, inputShape);
    if (inputShape.length < 1) this.fail(`expected an input of rank >= 2 (with the batch dimension), got shape ${formatShape([null, ...inputShape])}`);
    return inputShape[inputShape.length - 1]!;
  }

  weights(inputShape: Shape): WeightSpec[] {
    const inputDim = this.inputDim(inputShape);
    return kernelWeights(this.kernelOptions, [inputDim, this.units], [this.units], this.trainable);
  }

  computeOutputShape(inputShape: Shape): Shape {
    this.inputDim(inputShape);
    return [...inputShape.slice(0, -1), this.units];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    const kernel = this.weight(weights, 'kernel');
    const inputDim = kernel.type.shape[0];
    if (x.rank < 2 || x.type.shape[x.rank - 1] !== inputDim) this.fail(`expected an input of rank >= 2 whose last dimension is ${inputDim}, got ${formatType(x.type)}`);
    return this.finish(F.matmul(x, kernel), weights);
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      units: this.units,
      ...kernelConfig(this.kernelOptions),
    };
  }
}

// ---- Flatten ----------------------------------------------------------------------

/** [batch, d1, d2, …] to [batch, d1·d2·…]. */
export class Flatten extends Layer {
  static override readonly optionKeys = optionKeys<LayerArgs>(LAYER_KEYS);
  readonly className = 'Flatten';
  constructor(args: LayerArgs = {}) {
    super('Flatten', args);
  }
  weights(inputShape: Shape): WeightSpec[] {
    checkInputShape(this.subject, inputShape);
    return [];
  }
  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    return [inputShape.reduce((a, b) => a * b, 1)];
  }
  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.rank < 1) this.fail(`expected an input with a batch dimension, got ${formatType(x.type)}`);
    return x.rank === 2 ? x : F.flatten(x);
  }
}

// ---- Reshape ----------------------------------------------------------------------

export interface ReshapeArgs extends LayerArgs {
  /** The shape without the batch dimension; one entry may be -1 (inferred). */
  targetShape: number[];
}

/** Reshapes each example to `targetShape` (the batch dimension is kept). */
export class Reshape extends Layer {
  static override readonly optionKeys = optionKeys<ReshapeArgs>({ targetShape: true, ...LAYER_KEYS });
  readonly className = 'Reshape';
  readonly targetShape: readonly number[];
  constructor(args: ReshapeArgs) {
    super('Reshape', args);
    const t = args?.targetShape;
    const ok = Array.isArray(t) && t.every((d) => d === -1 || (Number.isInteger(d) && d > 0)) && t.filter((d) => d === -1).length <= 1;
    if (!ok) this.fail(`expected targetShape of positive integers with at most one -1, got ${Array.isArray(t) ? formatShape(t) : JSON.stringify(t)}`);
    this.targetShape = [...t];
  }
  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }
  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    const n = inputShape.reduce((a, b) => a * b, 1);
    const known = this.targetShape.reduce((a, d) => (d === -1 ? a : a * d), 1);
    const bad = () => this.fail(`cannot reshape an input of shape ${formatShape(inputShape)} (${n} values) to ${formatShape(this.targetShape)}`);
    if (this.targetShape.includes(-1)) {
      if (n % known !== 0) bad();
      return this.targetShape.map((d) => (d === -1 ? n / known : d));
    }
    if (known !== n) bad();
    return [...this.targetShape];
  }
  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.rank < 1) this.fail(`expected an input with a batch dimension, got ${formatType(x.type)}`);
    const rest = x.type.shape.slice(1);
    if (rest.some((d) => typeof d !== 'number')) this.fail(`expected only the first dimension to be dynamic, got ${formatType(x.type)}`);
    return F.reshapeTo(x, [x.type.shape[0]!, ...this.computeOutputShape(rest as number[])]);
  }
  override getConfig(): object {
    return { ...super.getConfig(), targetShape: [...this.targetShape] };
  }
}

// ---- Activation -------------------------------------------------------------------

export interface ActivationArgs extends LayerArgs {
  activation: activations.ActivationName;
}

/** Applies a named activation elementwise (softmax over the last axis). */
export class Activation extends Layer {
  /** Passes its input's mask on (Keras' supports_masking). */
  override get supportsMasking(): boolean {
    return true;
  }

  static override readonly optionKeys = optionKeys<ActivationArgs>({ activation: true, ...LAYER_KEYS });
  readonly className = 'Activation';
  readonly activation: activations.ActivationName;
  constructor(args: ActivationArgs) {
    super('Activation', args);
    this.activation = activations.checkName(args?.activation, this.subject);
  }
  weights(inputShape: Shape): WeightSpec[] {
    checkInputShape(this.subject, inputShape);
    return [];
  }
  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    return [...inputShape];
  }
  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    return activations.get(this.activation)(x);
  }
  override getConfig(): object {
    return { ...super.getConfig(), activation: this.activation };
  }
}

export const dense = (args: DenseArgs): Dense => new Dense(args);
export const flatten = (args: LayerArgs = {}): Flatten => new Flatten(args);
export const reshape = (args: ReshapeArgs): Reshape => new Reshape(args);
export const activation = (args: ActivationArgs): Activation => new Activation(args);
