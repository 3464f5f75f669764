/**
 * @file Convolution layers, as TensorFlow.js': conv2d on NHWC inputs with an
 * HWIO kernel [kernelH, kernelW, inChannels, filters]; conv1d on [batch, steps,
 * channels] with a kernel [kernelSize, inChannels, filters]; depthwiseConv2d on
 * NHWC with a `depthwise_kernel` [kh, kw, inChannels, depthMultiplier]; and
 * conv2dTranspose on NHWC with a kernel [kh, kw, filters, inChannels].
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { fail } from '../../compiler/functions/util.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import type * as constraints from './constraints.js';
import { checkInputShape, KERNEL_KEYS, kernelConfig, KernelLayer, kernelWeights, parseKernelArgs, positiveInt, type InitializerIdentifier, type KernelArgs } from './core.js';
import type * as regularizers from './regularizers.js';
import { type CallContext, type Initializer, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';

export type Pair = readonly [number, number];
export type PaddingMode = 'valid' | 'same';

/** A number or [h, w] as a pair of positive integers, or a KilnError naming the layer. */
export function toPair(subject: string, what: string, v: unknown): Pair {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d > 0)) {
    fail(subject, `expected ${what} to be a positive integer or [height, width], got ${JSON.stringify(v) ?? String(v)}`);
  }
  return [p[0], p[1]];
}

export function checkPadding(subject: string, padding: unknown): PaddingMode {
  if (padding === 'valid' || padding === 'same') return padding;
  return fail(subject, `expected padding 'valid' or 'same', got ${JSON.stringify(padding) ?? String(padding)}`);
}

export function checkDataFormat(subject: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') fail(subject, `expected dataFormat 'channelsLast' (NHWC, the only layout kiln supports), got ${JSON.stringify(dataFormat)}`);
}

/** Keras' `conv_output_length`: 'same' gives ceil(n / stride); 'valid' floor((n − span) / stride) + 1. */
export function convOutputLength(n: number, kernel: number, padding: PaddingMode, stride: number, dilation = 1): number {
  const span = (kernel - 1) * dilation + 1;
  return padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - span) / stride) + 1;
}

/** The window options every convolution layer takes (sizes: a number, or one per spatial axis), as given: `parseWindow` checks them. */
export interface WindowArgs {
  kernelSize?: unknown;
  strides?: unknown;
  padding?: unknown;
  dataFormat?: unknown;
  dilationRate?: unknown;
}

/** The parsed window of a convolution layer: `D` is a number (1-D) or a Pair (2-D). */
export interface Window<D> {
  readonly kernelSize: D;
  readonly strides: D;
  readonly padding: PaddingMode;
  readonly dilationRate: D;
}

/** Checks and fills a convolution layer's window options (strides and dilation default to 1, padding to 'valid'); `dims` reads one option. */
export function parseWindow<D>(subject: string, args: WindowArgs | undefined, dims: (subject: string, what: string, v: unknown) => D): Window<D> {
  const window = {
    kernelSize: dims(subject, 'kernelSize', args?.kernelSize),
    strides: dims(subject, 'strides', args?.strides ?? 1),
    padding: checkPadding(subject, args?.padding ?? 'valid'),
    dilationRate: dims(subject, 'dilationRate', args?.dilationRate ?? 1),
  };
  checkDataFormat(subject, args?.dataFormat);
  return window;
}

/** The window as getConfig writes it (Keras: each size a list, one entry per spatial axis). */
export function windowConfig(w: Window<number | Pair>): object {
  const list = (d: number | Pair) => (typeof d === 'number' ? [d] : [...d]);
  return { kernelSize: list(w.kernelSize), strides: list(w.strides), padding: w.padding, dataFormat: 'channelsLast', dilationRate: list(w.dilationRate) };
}

/** [height, width] of a 2-D window's output, or a KilnError naming the layer when the input is smaller than the dilated kernel. */
export function windowOutput2d(subject: string, inputShape: Shape, w: Window<Pair>): [number, number] {
  const [h, wd] = [0, 1].map((a) => convOutputLength(inputShape[a]!, w.kernelSize[a]!, w.padding, w.strides[a]!, w.dilationRate[a]!)) as [number, number];
  if (h <= 0 || wd <= 0) {
    fail(subject, `expected an input of at least the dilated kernel's ${[0, 1].map((a) => (w.kernelSize[a]! - 1) * w.dilationRate[a]! + 1).join('x')} with padding 'valid', got ${inputShape[0]}x${inputShape[1]}`);
  }
  return [h, wd];
}

export interface Conv2DArgs extends LayerArgs, KernelArgs {
  filters: number;
  kernelSize: number | Pair;
  strides?: number | Pair;
  padding?: PaddingMode;
  dataFormat?: 'channelsLast';
  dilationRate?: number | Pair;
}

/** `activation(conv2d(x, kernel) + bias)`: x [batch, H, W, C], kernel [kh, kw, C, filters], bias [filters]. */
export class Conv2D extends KernelLayer {
  static override readonly optionKeys = optionKeys<Conv2DArgs>({ filters: true, kernelSize: true, strides: true, padding: true, dataFormat: true, dilationRate: true, ...KERNEL_KEYS, ...LAYER_KEYS });
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: Pair;
  readonly strides: Pair;
  readonly padding: PaddingMode;
  readonly dilationRate: Pair;

  constructor(args: Conv2DArgs) {
    super('Conv2D', args);
    const s = this.subject;
    this.filters = positiveInt(s, 'filters', args?.filters);
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } = parseWindow(s, args, toPair));
    this.kernelOptions = parseKernelArgs(args, s);
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return kernelWeights(this.kernelOptions, [...this.kernelSize, inputShape[2]!, this.filters], [this.filters], this.trainable);
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    return [...windowOutput2d(this.subject, inputShape, this), this.filters];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    const kernel = this.weight(weights, 'kernel');
    if (x.rank !== 4 || x.type.shape[3] !== kernel.type.shape[2]) this.fail(`expected an input [batch, height, width, ${kernel.type.shape[2]}], got ${formatType(x.type)}`);
    return this.finish(F.conv2d(x, kernel, { strides: this.strides, padding: this.padding, dilations: this.dilationRate }), weights);
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...windowConfig(this),
      ...kernelConfig(this.kernelOptions),
    };
  }
}

export const conv2d = (args: Conv2DArgs): Conv2D => new Conv2D(args);

/** A positive integer or a one-element array of one, as TensorFlow.js' 1-D `kernelSize`, `strides` and `dilationRate`. */
export function toSingle(subject: string, what: string, v: unknown): number {
  const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) fail(subject, `expected ${what} to be a positive integer or [${what}], got ${JSON.stringify(v) ?? String(v)}`);
  return n as number;
}

// ---- Conv1D -----------------------------------------------------------------------

export interface Conv1DArgs extends LayerArgs, KernelArgs {
  filters: number;
  kernelSize: number | [number];
  strides?: number | [number];
  /** 'valid', 'same', or 'causal' (Keras's: zeros before the sequence, so step t sees steps ≤ t only). */
  padding?: PaddingMode | 'causal';
  dataFormat?: 'channelsLast';
  dilationRate?: number | [number];
}

/** `activation(conv1d(x, kernel) + bias)`: x [batch, steps, C], kernel [kernelSize, C, filters], bias [filters]. */
export class Conv1D extends KernelLayer {
  static override readonly optionKeys = optionKeys<Conv1DArgs>({ filters: true, kernelSize: true, strides: true, padding: true, dataFormat: true, dilationRate: true, ...KERNEL_KEYS, ...LAYER_KEYS });
  readonly className = 'Conv1D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: PaddingMode;
  readonly dilationRate: number;
  /** 'causal' padding: (kernelSize − 1) · dilationRate zeros before the steps, then a 'valid' convolution. */
  readonly causal: boolean;

  constructor(args: Conv1DArgs) {
    super('Conv1D', args);
    const s = this.subject;
    this.filters = positiveInt(s, 'filters', args?.filters);
    this.causal = args?.padding === 'causal';
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } = parseWindow(s, this.causal ? { ...args, padding: 'valid' } : args, toSingle));
    this.kernelOptions = parseKernelArgs(args, s);
  }

  private get causalPad(): number {
    return this.causal ? (this.kernelSize - 1) * this.dilationRate : 0;
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return kernelWeights(this.kernelOptions, [this.kernelSize, inputShape[1]!, this.filters], [this.filters], this.trainable);
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 2, '[batch, steps, channels] ');
    const steps = convOutputLength(inputShape[0]! + this.causalPad, this.kernelSize, this.padding, this.strides, this.dilationRate);
    if (steps <= 0) this.fail(`expected an input of at least the dilated kernel's ${(this.kernelSize - 1) * this.dilationRate + 1} steps with padding 'valid', got ${inputShape[0]}`);
    return [steps, this.filters];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    const kernel = this.weight(weights, 'kernel');
    if (x.rank !== 3 || x.type.shape[2] !== kernel.type.shape[1]) this.fail(`expected an input [batch, steps, ${kernel.type.shape[1]}], got ${formatType(x.type)}`);
    const padded = this.causal ? F.pad(x, [[0, 0], [this.causalPad, 0], [0, 0]]) : x;
    return this.finish(F.conv1d(padded, kernel, { stride: this.strides, padding: this.padding, dilation: this.dilationRate }), weights);
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...windowConfig(this),
      ...(this.causal ? { padding: 'causal' } : {}),
      ...kernelConfig(this.kernelOptions),
    };
  }
}

// ---- DepthwiseConv2D --------------------------------------------------------------

export interface DepthwiseConv2DArgs extends LayerArgs, Omit<KernelArgs, 'kernelInitializer'> {
  kernelSize: number | Pair;
  depthMultiplier?: number;
  strides?: number | Pair;
  padding?: PaddingMode;
  dataFormat?: 'channelsLast';
  dilationRate?: number | Pair;
  depthwiseInitializer?: InitializerIdentifier;
  /** Keras' name for the kernel's regularizer (`kernelRegularizer` is also accepted). */
  depthwiseRegularizer?: regularizers.RegularizerIdentifier;
  /** Keras' name for the kernel's constraint (`kernelConstraint` is also accepted). */
  depthwiseConstraint?: constraints.ConstraintIdentifier;
}

/**
 * Each input channel convolved with its own `depthMultiplier` filters:
 * x [batch, H, W, C], depthwise_kernel [kh, kw, C, depthMultiplier], bias
 * [C · depthMultiplier]; output channel c · depthMultiplier + m reads channel c.
 */
export class DepthwiseConv2D extends KernelLayer {
  static override readonly optionKeys = optionKeys<DepthwiseConv2DArgs>({
    kernelSize: true, depthMultiplier: true, strides: true, padding: true, dataFormat: true, dilationRate: true,
    depthwiseInitializer: true, depthwiseRegularizer: true, depthwiseConstraint: true, activation: true, useBias: true, biasInitializer: true,
    kernelRegularizer: true, biasRegularizer: true, kernelConstraint: true, biasConstraint: true, ...LAYER_KEYS,
  });
  readonly className = 'DepthwiseConv2D';
  readonly kernelSize: Pair;
  readonly depthMultiplier: number;
  readonly strides: Pair;
  readonly padding: PaddingMode;
  readonly dilationRate: Pair;

  constructor(args: DepthwiseConv2DArgs) {
    super('DepthwiseConv2D', args);
    const s = this.subject;
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } = parseWindow(s, args, toPair));
    this.depthMultiplier = positiveInt(s, 'depthMultiplier', args.depthMultiplier ?? 1);
    this.kernelOptions = parseKernelArgs(
      { ...args, kernelInitializer: args.depthwiseInitializer, kernelRegularizer: args.depthwiseRegularizer ?? args.kernelRegularizer, kernelConstraint: args.depthwiseConstraint ?? args.kernelConstraint },
      s,
    );
  }

  /** Keras' names for the kernel's initializer, regularizer and constraint. */
  get depthwiseInitializer(): Initializer { return this.kernelOptions.kernelInitializer; }
  get depthwiseRegularizer(): regularizers.Regularizer | undefined { return this.kernelOptions.kernelRegularizer; }
  get depthwiseConstraint(): constraints.Constraint | undefined { return this.kernelOptions.kernelConstraint; }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    const cin = inputShape[2]!;
    return kernelWeights(this.kernelOptions, [...this.kernelSize, cin, this.depthMultiplier], [cin * this.depthMultiplier], this.trainable, 'depthwise_kernel');
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    return [...windowOutput2d(this.subject, inputShape, this), inputShape[2]! * this.depthMultiplier];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    const kernel = this.weight(weights, 'depthwise_kernel');
    if (x.rank !== 4 || x.type.shape[3] !== kernel.type.shape[2]) this.fail(`expected an input [batch, height, width, ${kernel.type.shape[2]}], got ${formatType(x.type)}`);
    return this.finish(F.depthwiseConv2d(x, kernel, { strides: this.strides, padding: this.padding, dilations: this.dilationRate }), weights);
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      ...windowConfig(this),
      depthMultiplier: this.depthMultiplier,
      ...kernelConfig(this.kernelOptions, 'depthwise'),
    };
  }
}

// ---- Conv2DTranspose --------------------------------------------------------------

export interface Conv2DTransposeArgs extends LayerArgs, KernelArgs {
  filters: number;
  kernelSize: number | Pair;
  strides?: number | Pair;
  padding?: PaddingMode;
  dataFormat?: 'channelsLast';
  /** Only 1 (Keras' default): a dilated transposed convolution is not supported. */
  dilationRate?: number | Pair;
}

/** Keras' `deconv_output_length` without output padding or dilation: 'same' n·s, 'valid' n·s + max(k − s, 0). */
export const deconvOutputLength = (n: number, kernel: number, padding: PaddingMode, stride: number): number =>
  padding === 'same' ? n * stride : n * stride + Math.max(kernel - stride, 0);

/**
 * The transpose of conv2d (its input gradient), as TensorFlow.js' conv2dTranspose:
 * x [batch, H, W, C], kernel [kh, kw, filters, C], bias [filters]; the output is
 * [batch, H', W', filters] with H' = H·s ('same') or H·s + max(kh − s, 0) ('valid').
 */
export class Conv2DTranspose extends KernelLayer {
  static override readonly optionKeys = optionKeys<Conv2DTransposeArgs>({ filters: true, kernelSize: true, strides: true, padding: true, dataFormat: true, dilationRate: true, ...KERNEL_KEYS, ...LAYER_KEYS });
  readonly className = 'Conv2DTranspose';
  readonly filters: number;
  readonly kernelSize: Pair;
  readonly strides: Pair;
  readonly padding: PaddingMode;
  readonly dilationRate: Pair;

  constructor(args: Conv2DTransposeArgs) {
    super('Conv2DTranspose', args);
    const s = this.subject;
    this.filters = positiveInt(s, 'filters', args?.filters);
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } = parseWindow(s, args, toPair));
    if (this.dilationRate.some((d) => d !== 1)) this.fail(`expected dilationRate 1 (a dilated transposed convolution is not supported), got [${this.dilationRate.join(',')}]`);
    this.kernelOptions = parseKernelArgs(args, s);
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return kernelWeights(this.kernelOptions, [...this.kernelSize, this.filters, inputShape[2]!], [this.filters], this.trainable);
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    const [h, w] = [0, 1].map((a) => deconvOutputLength(inputShape[a]!, this.kernelSize[a]!, this.padding, this.strides[a]!));
    return [h!, w!, this.filters];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    const kernel = this.weight(weights, 'kernel');
    if (x.rank !== 4 || x.type.shape[3] !== kernel.type.shape[3]) this.fail(`expected an input [batch, height, width, ${kernel.type.shape[3]}], got ${formatType(x.type)}`);
    const size = [1, 2].map((a) => deconvOutputLength(x.type.shape[a] as number, this.kernelSize[a - 1]!, this.padding, this.strides[a - 1]!)) as unknown as Pair;
    return this.finish(F.conv2dTranspose(x, kernel, size, { strides: this.strides, padding: this.padding }), weights);
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...windowConfig(this),
      ...kernelConfig(this.kernelOptions),
    };
  }
}

export const conv1d = (args: Conv1DArgs): Conv1D => new Conv1D(args);
export const depthwiseConv2d = (args: DepthwiseConv2DArgs): DepthwiseConv2D => new DepthwiseConv2D(args);
export const conv2dTranspose = (args: Conv2DTransposeArgs): Conv2DTranspose => new Conv2DTranspose(args);
