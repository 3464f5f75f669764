/**
 * @file Geometric augmentation layers, as Keras 3's: RandomRotation, RandomZoom,
 * RandomTranslation (a random affine transform per image through
 * `kiln.image.transform`) and RandomCrop. In training they draw per image inside
 * the compiled step from the counter-based generator (the layer's seed and step
 * counter, as RandomFlip); at inference rotation, zoom and translation are the
 * identity and RandomCrop centre-crops to the target's aspect ratio and resizes.
 */
import { optionKeys } from '../../../compiler/check.js';
import * as F from '../../../compiler/functions/index.js';
import * as image from '../../../compiler/functions/image.js';
import { FILL_MODES, rotationTransforms, translationTransforms, zoomTransforms, type FillMode, type Interpolation } from '../../../compiler/functions/image/geometry.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { LAYER_KEYS, type CallContext, type LayerArgs, type Shape } from '../layer.js';
import { RandomImageLayer, Resizing } from './image.js';

type Range = number | [number, number];

/** How the affine layers sample. @example kiln.layers.randomZoom({ heightFactor: 0.1, fillMode: 'constant', fillValue: 0 }) */
export interface SamplingArgs extends LayerArgs {
  /** 'reflect' (default), 'wrap', 'constant' or 'nearest', as Keras. */
  fillMode?: FillMode;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** The value outside the image in 'constant' mode (default 0). */
  fillValue?: number;
  seed?: number;
}

/** A random affine layer: fill mode, interpolation and fill value checked once, a transform per image in training. */
abstract class RandomAffineLayer extends RandomImageLayer {
  fillMode: FillMode = 'reflect';
  interpolation: Interpolation = 'bilinear';
  fillValue = 0;

  /** Checks and keeps the sampling options (called by subclasses once their className is set, so errors name them). */
  protected sampling(args: SamplingArgs): void {
    const { fillMode = 'reflect', interpolation = 'bilinear', fillValue = 0 } = args ?? {};
    if (!FILL_MODES.includes(fillMode)) this.fail(`expected fillMode ${FILL_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(fillMode)}`);
    if (interpolation !== 'bilinear' && interpolation !== 'nearest') this.fail(`expected interpolation 'bilinear' or 'nearest', got ${JSON.stringify(interpolation)}`);
    if (typeof fillValue !== 'number' || !Number.isFinite(fillValue)) this.fail(`expected a finite fillValue, got ${JSON.stringify(fillValue)}`);
    this.fillMode = fillMode;
    this.interpolation = interpolation;
    this.fillValue = fillValue;
  }

  /** Draws in [lo, hi) per image as a [batch, 1] column (stream k). */
  protected draw(x: Tensor, step: Tensor, k: number, [lo, hi]: [number, number]): Tensor {
    return F.reshape(F.add(F.mul(this.perImage(x, step, k), hi - lo), lo), [-1, 1]);
  }

  protected augment(x: Tensor, step: Tensor): Tensor {
    const [h, w] = [x.type.shape[1] as number, x.type.shape[2] as number];
    return image.transform(x, this.transforms(x, step, h, w), { fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue });
  }

  protected abstract transforms(x: Tensor, step: Tensor, h: number, w: number): Tensor;

  override getConfig(): object {
    return { ...super.getConfig(), fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue };
  }
}

const SAMPLING_KEYS = { fillMode: true, interpolation: true, fillValue: true, seed: true } as const;

export interface RandomRotationArgs extends SamplingArgs {
  /** The angle as a fraction of a full turn (2π): f for [−f, f], or [lo, hi]; positive turns counter-clockwise. */
  factor: Range;
}

/**
 * Rotates each training image by a random angle about its centre.
 * @example kiln.layers.randomRotation({ factor: 0.1, fillMode: 'constant', seed: 1 }) // up to ±36°
 */
export class RandomRotation extends RandomAffineLayer {
  readonly className = 'RandomRotation';
  static override readonly optionKeys = optionKeys<RandomRotationArgs>({ factor: true, ...SAMPLING_KEYS, ...LAYER_KEYS });
  readonly factor: [number, number];

  constructor(args: RandomRotationArgs) {
    super('RandomRotation', args ?? ({} as RandomRotationArgs));
    this.sampling(args);
    this.factor = this.bounds(args?.factor, 'factor');
  }

  protected transforms(x: Tensor, step: Tensor, h: number, w: number): Tensor {
    const [lo, hi] = this.factor;
    return rotationTransforms(this.draw(x, step, 0, [lo * 2 * Math.PI, hi * 2 * Math.PI]), h, w);
  }

  override getConfig(): object {
    return { ...super.getConfig(), factor: this.factor };
  }
}

export interface RandomZoomArgs extends SamplingArgs {
  /** Vertical zoom as a fraction: f for [−f, f], or [lo, hi], each ≥ −1; positive zooms out, negative in. */
  heightFactor: Range;
  /** Horizontal zoom likewise; when left out, each image keeps its aspect ratio (the height's draw). */
  widthFactor?: Range;
}

/**
 * Zooms each training image in or out by a random factor about its centre.
 * @example kiln.layers.randomZoom({ heightFactor: 0.2, seed: 1 }) // zoom by 1 ± 0.2
 */
export class RandomZoom extends RandomAffineLayer {
  readonly className = 'RandomZoom';
  static override readonly optionKeys = optionKeys<RandomZoomArgs>({ heightFactor: true, widthFactor: true, ...SAMPLING_KEYS, ...LAYER_KEYS });
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number] | undefined;

  constructor(args: RandomZoomArgs) {
    super('RandomZoom', args ?? ({} as RandomZoomArgs));
    this.sampling(args);
    this.heightFactor = this.zoomRange(args?.heightFactor, 'heightFactor');
    this.widthFactor = args?.widthFactor === undefined ? undefined : this.zoomRange(args.widthFactor, 'widthFactor');
  }

  private zoomRange(value: unknown, what: string): [number, number] {
    const range = this.bounds(value, what);
    if (range[0] < -1) this.fail(`expected ${what} with a lower bound of at least −1 (zoom 1 + factor > 0), got ${JSON.stringify(value)}`);
    return range;
  }

  protected transforms(x: Tensor, step: Tensor, h: number, w: number): Tensor {
    const [hl, hh] = this.heightFactor;
    const zy = this.draw(x, step, 0, [1 + hl, 1 + hh]);
    const zx = this.widthFactor ? this.draw(x, step, 1, [1 + this.widthFactor[0], 1 + this.widthFactor[1]]) : zy;
    return zoomTransforms(zx, zy, h, w);
  }

  override getConfig(): object {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

export interface RandomTranslationArgs extends SamplingArgs {
  /** Vertical shift as a fraction of the height: f for [−f, f], or [lo, hi], within [−1, 1]; positive moves down. */
  heightFactor: Range;
  /** Horizontal shift as a fraction of the width, likewise; positive moves right. */
  widthFactor: Range;
}

/**
 * Shifts each training image by a random fraction of its size.
 * @example kiln.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, seed: 1 })
 */
export class RandomTranslation extends RandomAffineLayer {
  readonly className = 'RandomTranslation';
  static override readonly optionKeys = optionKeys<RandomTranslationArgs>({ heightFactor: true, widthFactor: true, ...SAMPLING_KEYS, ...LAYER_KEYS });
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];

  constructor(args: RandomTranslationArgs) {
    super('RandomTranslation', args ?? ({} as RandomTranslationArgs));
    this.sampling(args);
    this.heightFactor = this.bounds(args?.heightFactor, 'heightFactor', 1);
    this.widthFactor = this.bounds(args?.widthFactor, 'widthFactor', 1);
  }

  protected transforms(x: Tensor, step: Tensor, h: number, w: number): Tensor {
    const dy = this.draw(x, step, 0, [this.heightFactor[0] * h, this.heightFactor[1] * h]);
    const dx = this.draw(x, step, 1, [this.widthFactor[0] * w, this.widthFactor[1] * w]);
    return translationTransforms(dx, dy);
  }

  override getConfig(): object {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

export interface RandomCropArgs extends LayerArgs {
  height: number;
  width: number;
  seed?: number;
}

/**
 * A random height × width window of each training image; at inference (and for
 * images smaller than the window) the largest central window of the target's
 * aspect ratio, resized, as Keras's RandomCrop.
 * @example kiln.layers.randomCrop({ height: 24, width: 24, seed: 1 })
 */
export class RandomCrop extends RandomImageLayer {
  readonly className = 'RandomCrop';
  static override readonly optionKeys = optionKeys<RandomCropArgs>({ height: true, width: true, seed: true, ...LAYER_KEYS });
  readonly height: number;
  readonly width: number;
  private readonly resize: Resizing;

  constructor(args: RandomCropArgs) {
    super('RandomCrop', args ?? ({} as RandomCropArgs));
    const { height, width } = args ?? {};
    if (!Number.isInteger(height) || height < 1 || !Number.isInteger(width) || width < 1) this.fail(`expected height and width to be positive integers, got ${JSON.stringify(height)} and ${JSON.stringify(width)}`);
    this.height = height;
    this.width = width;
    this.resize = new Resizing({ height, width, cropToAspectRatio: true });
  }

  override computeOutputShape(inputShape: Shape): Shape {
    super.computeOutputShape(inputShape);
    return [this.height, this.width, inputShape[2]!];
  }

  override call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    const [h, w] = [x.type.shape[1] as number, x.type.shape[2] as number];
    if (!ctx?.training || h < this.height || w < this.width) return this.resize.call(x);
    return super.call(x, weights, ctx);
  }

  protected augment(x: Tensor, step: Tensor): Tensor {
    const [h, w] = [x.type.shape[1] as number, x.type.shape[2] as number];
    // whole-pixel offsets in [0, h − height] and [0, w − width], each equally likely
    const top = F.floor(F.reshape(F.mul(this.perImage(x, step, 0), h - this.height + 1), [-1, 1]));
    const left = F.floor(F.reshape(F.mul(this.perImage(x, step, 1), w - this.width + 1), [-1, 1]));
    return image.transform(x, translationTransforms(F.neg(left), F.neg(top)), { interpolation: 'nearest', outputShape: [this.height, this.width] });
  }

  override getConfig(): object {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}

/** @example kiln.layers.randomRotation({ factor: 0.05 }) */
export const randomRotation = (args: RandomRotationArgs): RandomRotation => new RandomRotation(args);
/** @example kiln.layers.randomZoom({ heightFactor: [-0.2, 0.1] }) */
export const randomZoom = (args: RandomZoomArgs): RandomZoom => new RandomZoom(args);
/** @example kiln.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.2 }) */
export const randomTranslation = (args: RandomTranslationArgs): RandomTranslation => new RandomTranslation(args);
/** @example kiln.layers.randomCrop({ height: 28, width: 28 }) */
export const randomCrop = (args: RandomCropArgs): RandomCrop => new RandomCrop(args);
