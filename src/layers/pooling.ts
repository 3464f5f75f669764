/**
 * @file Pooling layers, as TensorFlow.js': max and average pooling over NHWC
 * windows and over the steps of [batch, steps, channels]; global average and max
 * pooling over height and width, global average pooling over the steps.
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { checkDataFormat, checkPadding, convOutputLength, toPair, toSingle, type Pair, type PaddingMode } from './conv.js';
import { checkInputShape } from './core.js';
import { Layer, type CallContext, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';
import { maskWeights, readMask } from './masking.js';

export interface Pooling2DArgs extends LayerArgs {
  /** Default 2. */
  poolSize?: number | Pair;
  /** Default: poolSize. */
  strides?: number | Pair;
  padding?: PaddingMode;
  dataFormat?: 'channelsLast';
}

abstract class Pooling2D extends Layer {
  static override readonly optionKeys = optionKeys<Pooling2DArgs>({ poolSize: true, strides: true, padding: true, dataFormat: true, ...LAYER_KEYS });
  readonly poolSize: Pair;
  readonly strides: Pair;
  readonly padding: PaddingMode;

  protected constructor(className: string, args: Pooling2DArgs) {
    super(className, args ?? {});
    const s = `${className} "${this.name}"`;
    this.poolSize = toPair(s, 'poolSize', args?.poolSize ?? 2);
    this.strides = toPair(s, 'strides', args?.strides ?? this.poolSize);
    this.padding = checkPadding(s, args?.padding ?? 'valid');
    checkDataFormat(s, args?.dataFormat);
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    const [h, w] = [0, 1].map((a) => convOutputLength(inputShape[a]!, this.poolSize[a]!, this.padding, this.strides[a]!));
    if (h! <= 0 || w! <= 0) this.fail(`expected an input of at least the pool size ${this.poolSize.join('x')} with padding 'valid', got ${inputShape[0]}x${inputShape[1]}`);
    return [h!, w!, inputShape[2]!];
  }

  protected checkCallInput(x: Tensor): void {
    if (x.rank !== 4) this.fail(`expected an input [batch, height, width, channels], got ${formatType(x.type)}`);
  }

  /** The kiln op this layer applies (max or average). */
  protected abstract readonly pool: (x: Tensor, options: { poolSize: Pair; strides: Pair; padding: PaddingMode }) => Tensor;

  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    this.checkCallInput(x);
    return this.pool(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }

  override getConfig(): object {
    return { ...super.getConfig(), poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding, dataFormat: 'channelsLast' };
  }
}

/** The maximum of each poolSize window. */
export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super('MaxPooling2D', args);
  }
  protected readonly pool = F.maxPool2d;
}

/** The mean of each poolSize window (cells in 'same' padding are not counted). */
export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super('AveragePooling2D', args);
  }
  protected readonly pool = F.avgPool2d;
}

export interface GlobalPooling2DArgs extends LayerArgs {
  dataFormat?: 'channelsLast';
}

/**
 * Global pooling: one reduction over every spatial axis, [batch, ...spatial, C]
 * to [batch, C]. Subclasses give the number of spatial axes and the reduction.
 */
export abstract class GlobalPooling extends Layer {
  static override readonly optionKeys = optionKeys<GlobalPooling2DArgs>({ dataFormat: true, ...LAYER_KEYS });
  /** 1: [batch, steps, channels]; 2: [batch, height, width, channels]. */
  protected abstract readonly spatialAxes: 1 | 2;
  /** The kiln reduction over the spatial axes (mean or max). */
  protected abstract readonly reduce: (x: Tensor, axes: number[]) => Tensor;

  protected constructor(className: string, args: GlobalPooling2DArgs) {
    super(className, args);
    checkDataFormat(this.subject, args.dataFormat);
  }

  private get layout(): string {
    return this.spatialAxes === 2 ? '[batch, height, width, channels]' : '[batch, steps, channels]';
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, this.spatialAxes + 1, `${this.layout} `);
    return [inputShape[this.spatialAxes]!];
  }

  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.rank !== this.spatialAxes + 2) this.fail(`expected an input ${this.layout}, got ${formatType(x.type)}`);
    return this.reduce(x, this.spatialAxes === 2 ? [1, 2] : [1]);
  }

  /** TensorFlow.js writes dataFormat for the 2-D layers only. */
  override getConfig(): object {
    return this.spatialAxes === 2 ? { ...super.getConfig(), dataFormat: 'channelsLast' } : super.getConfig();
  }
}

/** The mean over height and width: [batch, H, W, C] to [batch, C]. */
export class GlobalAveragePooling2D extends GlobalPooling {
  readonly className = 'GlobalAveragePooling2D';
  protected readonly spatialAxes = 2;
  protected readonly reduce = (x: Tensor, axes: number[]) => F.mean(x, axes);
  constructor(args: GlobalPooling2DArgs = {}) {
    super('GlobalAveragePooling2D', args);
  }
}

export const maxPooling2d = (args: Pooling2DArgs = {}): MaxPooling2D => new MaxPooling2D(args);
export const averagePooling2d = (args: Pooling2DArgs = {}): AveragePooling2D => new AveragePooling2D(args);
export const globalAveragePooling2d = (args: GlobalPooling2DArgs = {}): GlobalAveragePooling2D => new GlobalAveragePooling2D(args);

export interface Pooling1DArgs extends LayerArgs {
  /** Default 2. */
  poolSize?: number | [number];
  /** Default: poolSize. */
  strides?: number | [number];
  padding?: PaddingMode;
}

abstract class Pooling1D extends Layer {
  static override readonly optionKeys = optionKeys<Pooling1DArgs>({ poolSize: true, strides: true, padding: true, ...LAYER_KEYS });
  readonly poolSize: number;
  readonly strides: number;
  readonly padding: PaddingMode;

  protected constructor(className: string, args: Pooling1DArgs) {
    super(className, args ?? {});
    const s = `${className} "${this.name}"`;
    this.poolSize = toSingle(s, 'poolSize', args?.poolSize ?? 2);
    this.strides = toSingle(s, 'strides', args?.strides ?? this.poolSize);
    this.padding = checkPadding(s, args?.padding ?? 'valid');
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 2, '[batch, steps, channels] ');
    const steps = convOutputLength(inputShape[0]!, this.poolSize, this.padding, this.strides);
    if (steps <= 0) this.fail(`expected an input of at least the pool size ${this.poolSize} with padding 'valid', got ${inputShape[0]} steps`);
    return [steps, inputShape[1]!];
  }

  protected checkCallInput(x: Tensor): void {
    if (x.rank !== 3) this.fail(`expected an input [batch, steps, channels], got ${formatType(x.type)}`);
  }

  /** The kiln op this layer applies (max or average). */
  protected abstract readonly pool: (x: Tensor, options: { poolSize: number; strides: number; padding: PaddingMode }) => Tensor;

  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    this.checkCallInput(x);
    return this.pool(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }

  override getConfig(): object {
    return { ...super.getConfig(), poolSize: [this.poolSize], strides: [this.strides], padding: this.padding };
  }
}

/** The maximum of each poolSize window of steps. */
export class MaxPooling1D extends Pooling1D {
  readonly className = 'MaxPooling1D';
  constructor(args: Pooling1DArgs = {}) {
    super('MaxPooling1D', args);
  }
  protected readonly pool = F.maxPool1d;
}

/** The mean of each poolSize window of steps (cells in 'same' padding are not counted). */
export class AveragePooling1D extends Pooling1D {
  readonly className = 'AveragePooling1D';
  constructor(args: Pooling1DArgs = {}) {
    super('AveragePooling1D', args);
  }
  protected readonly pool = F.avgPool1d;
}

export type GlobalPoolingArgs = GlobalPooling2DArgs;

/**
 * The mean over the steps: [batch, steps, C] to [batch, C]. With a mask (from
 * an embedding with maskZero or a masking layer), the mean over the real steps
 * only, as Keras's; a row with no real step gives 0 (Keras's gives NaN).
 */
export class GlobalAveragePooling1D extends GlobalPooling {
  readonly className = 'GlobalAveragePooling1D';
  protected readonly spatialAxes = 1;
  protected readonly reduce = (x: Tensor, axes: number[]) => F.mean(x, axes);
  constructor(args: GlobalPoolingArgs = {}) {
    super('GlobalAveragePooling1D', args);
  }

  override call(x: Tensor, weights?: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    const mask = readMask(this.subject, ctx?.mask, x);
    if (!mask) return super.call(x, weights, ctx);
    const m = maskWeights(mask); // [batch, steps, 1]
    return F.div(F.sum(F.mul(x, m), 1), F.maximum(F.sum(m, 1), 1));
  }
}

/**
 * The maximum over the steps: [batch, steps, C] to [batch, C]. With a mask,
 * the maximum over the real steps only; a row with no real step gives 0.
 */
export class GlobalMaxPooling1D extends GlobalPooling {
  readonly className = 'GlobalMaxPooling1D';
  protected readonly spatialAxes = 1;
  protected readonly reduce = (x: Tensor, axes: number[]) => F.max(x, axes);
  constructor(args: GlobalPoolingArgs = {}) {
    super('GlobalMaxPooling1D', args);
  }

  override call(x: Tensor, weights?: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    const mask = readMask(this.subject, ctx?.mask, x);
    if (!mask) return super.call(x, weights, ctx);
    const keep = F.expandDims(mask, -1);
    const top = F.max(F.where(keep, x, -3.4e38), 1);
    return F.where(F.gt(F.max(F.cast(mask, 'float32'), 1, true), 0), top, 0);
  }
}

/** The maximum over height and width: [batch, H, W, C] to [batch, C]. */
export class GlobalMaxPooling2D extends GlobalPooling {
  readonly className = 'GlobalMaxPooling2D';
  protected readonly spatialAxes = 2;
  protected readonly reduce = (x: Tensor, axes: number[]) => F.max(x, axes);
  constructor(args: GlobalPoolingArgs = {}) {
    super('GlobalMaxPooling2D', args);
  }
}

export const maxPooling1d = (args: Pooling1DArgs = {}): MaxPooling1D => new MaxPooling1D(args);
export const averagePooling1d = (args: Pooling1DArgs = {}): AveragePooling1D => new AveragePooling1D(args);
export const globalAveragePooling1d = (args: GlobalPoolingArgs = {}): GlobalAveragePooling1D => new GlobalAveragePooling1D(args);
export const globalMaxPooling2d = (args: GlobalPoolingArgs = {}): GlobalMaxPooling2D => new GlobalMaxPooling2D(args);
export const globalMaxPooling1d = (args: GlobalPoolingArgs = {}): GlobalMaxPooling1D => new GlobalMaxPooling1D(args);
