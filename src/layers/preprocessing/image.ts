/**
 * @file Image preprocessing and augmentation layers, as Keras's: Resizing and
 * CenterCrop always apply; RandomFlip, RandomBrightness and RandomContrast draw
 * per image in training — inside the compiled step, from the counter-based
 * generator with the layer's seed and a step counter, like Dropout — and are the
 * identity at inference. They take NHWC images [batch, height, width, channels].
 */
import { optionKeys } from '../../../compiler/check.js';
import * as F from '../../../compiler/functions/index.js';
import * as image from '../../../compiler/functions/image.js';
import { nextSeed } from '../../../compiler/random.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { assign } from '../../../compiler/trace.js';
import { checkInputShape } from '../core.js';
import * as initializers from '../initializers.js';
import { Layer, LAYER_KEYS, type CallContext, type LayerArgs, type Shape, type WeightSpec } from '../layer.js';

export abstract class ImageLayer extends Layer {
  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    return [...inputShape];
  }
}

export interface ResizingArgs extends LayerArgs {
  height: number;
  width: number;
  /** 'bilinear' (default), 'nearest', 'bicubic' or 'area', TF2's half-pixel centres. */
  interpolation?: image.ResizeMethod;
  /** Widen bilinear/bicubic kernels when downscaling (default false), as Keras's antialias. */
  antialias?: boolean;
  /** Crop the largest central window of the target's aspect ratio first, so nothing is stretched. */
  cropToAspectRatio?: boolean;
}

/** Resizes images to height × width. @example kiln.layers.resizing({ height: 64, width: 64 }) */
export class Resizing extends ImageLayer {
  readonly className = 'Resizing';
  static override readonly optionKeys = optionKeys<ResizingArgs>({ height: true, width: true, interpolation: true, antialias: true, cropToAspectRatio: true, ...LAYER_KEYS });
  readonly height: number;
  readonly width: number;
  readonly interpolation: image.ResizeMethod;
  readonly cropToAspectRatio: boolean;
  readonly antialias: boolean;

  constructor(args: ResizingArgs) {
    super('Resizing', args ?? ({} as ResizingArgs));
    const { height, width, interpolation = 'bilinear', cropToAspectRatio = false, antialias = false } = args ?? {};
    if (!Number.isInteger(height) || height < 1 || !Number.isInteger(width) || width < 1) this.fail(`expected height and width to be positive integers, got ${JSON.stringify(height)} and ${JSON.stringify(width)}`);
    if (!image.RESIZE_METHODS.includes(interpolation)) this.fail(`expected interpolation ${image.RESIZE_METHODS.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(interpolation)}`);
    if (typeof antialias !== 'boolean') this.fail(`expected antialias to be a boolean, got ${JSON.stringify(antialias)}`);
    this.antialias = antialias;
    this.height = height;
    this.width = width;
    this.interpolation = interpolation;
    this.cropToAspectRatio = cropToAspectRatio;
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }

  override computeOutputShape(inputShape: Shape): Shape {
    super.computeOutputShape(inputShape);
    return [this.height, this.width, inputShape[2]!];
  }

  call(x: Tensor): Tensor {
    let input = x;
    if (this.cropToAspectRatio) {
      const [h, w] = [x.type.shape[1] as number, x.type.shape[2] as number];
      const [ch, cw] = h * this.width > w * this.height ? [Math.round((w * this.height) / this.width), w] : [h, Math.round((h * this.width) / this.height)];
      input = image.cropToBoundingBox(x, Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), ch, cw);
    }
    return image.resize(input, [this.height, this.width], { method: this.interpolation, antialias: this.antialias });
  }

  override getConfig(): object {
    return { ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation, antialias: this.antialias, cropToAspectRatio: this.cropToAspectRatio };
  }
}

export interface CenterCropArgs extends LayerArgs {
  height: number;
  width: number;
}

/** The central height × width window of each image. @example kiln.layers.centerCrop({ height: 24, width: 24 }) */
export class CenterCrop extends ImageLayer {
  readonly className = 'CenterCrop';
  static override readonly optionKeys = optionKeys<CenterCropArgs>({ height: true, width: true, ...LAYER_KEYS });
  readonly height: number;
  readonly width: number;

  constructor(args: CenterCropArgs) {
    super('CenterCrop', args ?? ({} as CenterCropArgs));
    const { height, width } = args ?? {};
    if (!Number.isInteger(height) || height < 1 || !Number.isInteger(width) || width < 1) this.fail(`expected height and width to be positive integers, got ${JSON.stringify(height)} and ${JSON.stringify(width)}`);
    this.height = height;
    this.width = width;
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }

  override computeOutputShape(inputShape: Shape): Shape {
    super.computeOutputShape(inputShape);
    if (inputShape[0]! < this.height || inputShape[1]! < this.width) this.fail(`expected images of at least ${this.height}×${this.width}, got ${inputShape[0]}×${inputShape[1]}`);
    return [this.height, this.width, inputShape[2]!];
  }

  call(x: Tensor): Tensor {
    const [h, w] = [x.type.shape[1] as number, x.type.shape[2] as number];
    return image.cropToBoundingBox(x, Math.floor((h - this.height) / 2), Math.floor((w - this.width) / 2), this.height, this.width);
  }

  override getConfig(): object {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}

/** A random layer: a seed, a step counter advanced by each training step, the identity at inference. */
export abstract class RandomImageLayer extends ImageLayer {
  readonly seed: number;

  protected constructor(className: string, args: LayerArgs & { seed?: number }) {
    super(className, args);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) this.fail(`expected an integer seed, got ${JSON.stringify(args.seed)}`);
    this.seed = (args.seed ?? nextSeed()) >>> 0;
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [{ name: 'step', shape: [], initializer: initializers.zeros(), trainable: false, internal: true }];
  }

  /** One uniform draw in [0, 1) per image (stream `k` of the layer's seed), shaped to broadcast over it. */
  protected perImage(x: Tensor, step: Tensor, k: number): Tensor {
    const batch = x.type.shape[0];
    return F.randomUniformOp([typeof batch === 'number' ? batch : null, 1, 1, 1], (this.seed + k * 0x9e3779b9) >>> 0, step);
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    if (!ctx?.training) return x;
    const step = this.weight(weights, 'step');
    if (step.isSymbolic) assign(step, F.add(step, 1));
    return this.augment(x, step);
  }

  protected abstract augment(x: Tensor, step: Tensor): Tensor;

  /** A factor or range option as [lo, hi] (a number f: [−f, f]), within ±bound when given. */
  protected bounds(value: unknown, what: string, bound?: number): [number, number] {
    const [lo, hi] = typeof value === 'number' ? [-value, value] : Array.isArray(value) && value.length === 2 ? value : [NaN, NaN];
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi || (bound !== undefined && (Math.abs(lo) > bound || Math.abs(hi) > bound))) {
      this.fail(`expected ${what} to be a number or [lo, hi]${bound !== undefined ? ` within [−${bound}, ${bound}]` : ''}, got ${JSON.stringify(value)}`);
    }
    return [lo, hi];
  }

  override getConfig(): object {
    return { ...super.getConfig(), seed: this.seed };
  }
}

export interface RandomFlipArgs extends LayerArgs {
  /** 'horizontal', 'vertical' or 'horizontal_and_vertical' (default). */
  mode?: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
  seed?: number;
}

/** Flips each training image with probability ½ (per direction). @example kiln.layers.randomFlip({ mode: 'horizontal', seed: 1 }) */
export class RandomFlip extends RandomImageLayer {
  readonly className = 'RandomFlip';
  static override readonly optionKeys = optionKeys<RandomFlipArgs>({ mode: true, seed: true, ...LAYER_KEYS });
  readonly mode: 'horizontal' | 'vertical' | 'horizontal_and_vertical';

  constructor(args: RandomFlipArgs = {}) {
    super('RandomFlip', args);
    const { mode = 'horizontal_and_vertical' } = args;
    if (!['horizontal', 'vertical', 'horizontal_and_vertical'].includes(mode)) this.fail(`expected mode 'horizontal', 'vertical' or 'horizontal_and_vertical', got ${JSON.stringify(mode)}`);
    this.mode = mode;
  }

  protected augment(x: Tensor, step: Tensor): Tensor {
    let out = x;
    if (this.mode !== 'vertical') out = F.where(F.lt(this.perImage(x, step, 0), 0.5), image.flipLeftRight(out), out);
    if (this.mode !== 'horizontal') out = F.where(F.lt(this.perImage(x, step, 1), 0.5), image.flipUpDown(out), out);
    return out;
  }

  override getConfig(): object {
    return { ...super.getConfig(), mode: this.mode };
  }
}

export interface RandomBrightnessArgs extends LayerArgs {
  /** The shift as a fraction of the value range: f for [−f, f], or [lo, hi] (each in [−1, 1]). */
  factor: number | [number, number];
  /** The values' range, which outputs are clipped to (default [0, 255]). */
  valueRange?: [number, number];
  seed?: number;
}

/** Shifts each training image's values by a random fraction of the value range. @example kiln.layers.randomBrightness({ factor: 0.2 }) */
export class RandomBrightness extends RandomImageLayer {
  readonly className = 'RandomBrightness';
  static override readonly optionKeys = optionKeys<RandomBrightnessArgs>({ factor: true, valueRange: true, seed: true, ...LAYER_KEYS });
  readonly factor: [number, number];
  readonly valueRange: [number, number];

  constructor(args: RandomBrightnessArgs) {
    super('RandomBrightness', args ?? ({} as RandomBrightnessArgs));
    this.factor = this.bounds(args?.factor, 'factor', 1);
    this.valueRange = this.bounds(args?.valueRange ?? [0, 255], 'valueRange');
  }

  protected augment(x: Tensor, step: Tensor): Tensor {
    const [lo, hi] = this.factor;
    const [min, max] = this.valueRange;
    const delta = F.mul(F.add(F.mul(this.perImage(x, step, 0), hi - lo), lo), max - min);
    return F.clip(F.add(x, delta), min, max);
  }

  override getConfig(): object {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange };
  }
}

export interface RandomContrastArgs extends LayerArgs {
  /** Contrast factors drawn from [1 − f, 1 + f] (or [1 − lo, 1 + hi]). */
  factor: number | [number, number];
  /** Outputs are clipped to it (default [0, 255]). */
  valueRange?: [number, number];
  seed?: number;
}

/** Scales each training image's distance from its per-channel mean by a random factor. @example kiln.layers.randomContrast({ factor: 0.3 }) */
export class RandomContrast extends RandomImageLayer {
  readonly className = 'RandomContrast';
  static override readonly optionKeys = optionKeys<RandomContrastArgs>({ factor: true, valueRange: true, seed: true, ...LAYER_KEYS });
  readonly factor: [number, number];
  readonly valueRange: [number, number];

  constructor(args: RandomContrastArgs) {
    super('RandomContrast', args ?? ({} as RandomContrastArgs));
    const f = args?.factor;
    const [lo, hi] = typeof f === 'number' ? [f, f] : Array.isArray(f) && f.length === 2 ? f : [NaN, NaN];
    if (!(lo >= 0 && lo <= 1 && hi >= 0)) this.fail(`expected factor f (or [lo, hi]) with contrast in [1 − lo, 1 + hi], lo in [0, 1], got ${JSON.stringify(f)}`);
    this.factor = [lo, hi];
    this.valueRange = this.bounds(args?.valueRange ?? [0, 255], 'valueRange');
  }

  protected augment(x: Tensor, step: Tensor): Tensor {
    const [lo, hi] = this.factor;
    const contrast = F.add(F.mul(this.perImage(x, step, 0), lo + hi), 1 - lo);
    const mean = F.mean(x, [1, 2], true);
    return F.clip(F.add(F.mul(F.sub(x, mean), contrast), mean), this.valueRange[0], this.valueRange[1]);
  }

  override getConfig(): object {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange };
  }
}

/** @example kiln.layers.resizing({ height: 32, width: 32 }) */
export const resizing = (args: ResizingArgs): Resizing => new Resizing(args);
/** @example kiln.layers.centerCrop({ height: 24, width: 24 }) */
export const centerCrop = (args: CenterCropArgs): CenterCrop => new CenterCrop(args);
/** @example kiln.layers.randomFlip({ mode: 'horizontal' }) */
export const randomFlip = (args?: RandomFlipArgs): RandomFlip => new RandomFlip(args);
/** @example kiln.layers.randomBrightness({ factor: 0.1, valueRange: [0, 1] }) */
export const randomBrightness = (args: RandomBrightnessArgs): RandomBrightness => new RandomBrightness(args);
/** @example kiln.layers.randomContrast({ factor: 0.2, valueRange: [0, 1] }) */
export const randomContrast = (args: RandomContrastArgs): RandomContrast => new RandomContrast(args);
