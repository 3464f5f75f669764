/**
 * `kiln.preprocessing.imageDataGenerator`, Keras's ImageDataGenerator: random
 * rotations, shifts, shears, zooms and flips applied on the host to each image
 * as batches are drawn (`flow` over tensors, `flowFromDirectory` over a class
 * folder), then `rescale`. Seeded: a seed gives the same transforms for the same
 * epoch, and each epoch new ones. For augmentation inside the compiled step,
 * use the random* layers instead.
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import { mul } from '../../compiler/functions/elementwise.js';
import * as image from '../../compiler/functions/image.js';
import { nextSeed, stepStream, uniformAt } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';
import { affineMatrix, resample, type AffineParams, type FillMode } from './affine.js';
import { Dataset } from './dataset.js';
import { imageDatasetFromDirectory, type ImageDataset } from './imageFolder.js';

export interface ImageDataGeneratorOptions {
  /** Degrees: rotations drawn from [−r, r]. */
  rotationRange?: number;
  /** A fraction of the width (< 1) or pixels (≥ 1): shifts drawn from [−s, s]. */
  widthShiftRange?: number;
  /** A fraction of the height (< 1) or pixels (≥ 1). */
  heightShiftRange?: number;
  /** Degrees: shear angles drawn from [−s, s]. */
  shearRange?: number;
  /** z for zooms in [1 − z, 1 + z] (per axis), or [lo, hi]. */
  zoomRange?: number | [number, number];
  /** Flip half the images left to right / top to bottom. */
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  /** Multiplies every value after the transforms (e.g. 1/255). */
  rescale?: number;
  /** Outside the image: 'nearest' (default) or 'constant' (cval). */
  fillMode?: FillMode;
  cval?: number;
}

export interface FlowOptions {
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
}

export interface FlowFromDirectoryOptions extends FlowOptions {
  /** [height, width] (default [256, 256]). */
  targetSize?: [number, number];
  colorMode?: 'rgb' | 'grayscale' | 'rgba';
  /** 'categorical' (default, one-hot), 'sparse' (int32), 'binary', or null (images only). */
  classMode?: 'categorical' | 'sparse' | 'binary' | null;
  classes?: string[];
  interpolation?: 'bilinear' | 'nearest';
}

/** The random transform of one image, as Keras's get_random_transform draws it. */
export interface RandomTransform extends AffineParams {
  flipHorizontal: boolean;
  flipVertical: boolean;
}

const KEYS = optionKeys<ImageDataGeneratorOptions>({ rotationRange: true, widthShiftRange: true, heightShiftRange: true, shearRange: true, zoomRange: true, horizontalFlip: true, verticalFlip: true, rescale: true, fillMode: true, cval: true });

/**
 * Random image augmentation on the host, as Keras's ImageDataGenerator.
 * @example
 * const gen = kiln.preprocessing.imageDataGenerator({ rotationRange: 15, widthShiftRange: 0.1, horizontalFlip: true, rescale: 1 / 255 });
 * await model.fit(gen.flow(xTrain, yTrain, { batchSize: 32, seed: 1 }), { epochs: 10 });
 */
export class ImageDataGenerator {
  readonly options: Readonly<Required<Omit<ImageDataGeneratorOptions, 'zoomRange'>>> & { zoomRange: [number, number] };

  constructor(options: ImageDataGeneratorOptions = {}) {
    checkOptions('imageDataGenerator', options, KEYS);
    const { rotationRange = 0, widthShiftRange = 0, heightShiftRange = 0, shearRange = 0, zoomRange = 0, horizontalFlip = false, verticalFlip = false, rescale = 1, fillMode = 'nearest', cval = 0 } = options;
    for (const [what, v] of Object.entries({ rotationRange, widthShiftRange, heightShiftRange, shearRange, cval })) {
      if (typeof v !== 'number' || !Number.isFinite(v) || (what !== 'cval' && v < 0)) throw new KilnError(`imageDataGenerator: expected ${what} to be a finite number${what !== 'cval' ? ' >= 0' : ''}, got ${JSON.stringify(v)}.`);
    }
    const zoom: [number, number] = typeof zoomRange === 'number' ? [1 - zoomRange, 1 + zoomRange] : Array.isArray(zoomRange) && zoomRange.length === 2 ? [zoomRange[0], zoomRange[1]] : [NaN, NaN];
    if (!(zoom[0] > 0 && zoom[1] >= zoom[0])) throw new KilnError(`imageDataGenerator: expected zoomRange z in [0, 1) or [lo, hi] with 0 < lo <= hi, got ${JSON.stringify(zoomRange)}.`);
    if (typeof rescale !== 'number' || !Number.isFinite(rescale)) throw new KilnError(`imageDataGenerator: expected rescale to be a finite number, got ${JSON.stringify(rescale)}.`);
    if (fillMode !== 'nearest' && fillMode !== 'constant') throw new KilnError(`imageDataGenerator: expected fillMode 'nearest' or 'constant', got ${JSON.stringify(fillMode)}.`);
    this.options = { rotationRange, widthShiftRange, heightShiftRange, shearRange, zoomRange: zoom, horizontalFlip, verticalFlip, rescale, fillMode, cval };
  }

  /** The transform for an h × w image from draws of stream `stream` (Keras's draw order). */
  getRandomTransform(h: number, w: number, stream: number): RandomTransform {
    const o = this.options;
    let draw = 0;
    const u = (lo: number, hi: number) => lo + (hi - lo) * uniformAt(stream, draw++);
    const shift = (range: number, size: number) => (range ? u(-range, range) * (range < 1 ? size : 1) : 0);
    const zoomed = o.zoomRange[0] !== 1 || o.zoomRange[1] !== 1;
    return {
      theta: o.rotationRange ? u(-o.rotationRange, o.rotationRange) : 0,
      tx: shift(o.heightShiftRange, h),
      ty: shift(o.widthShiftRange, w),
      shear: o.shearRange ? u(-o.shearRange, o.shearRange) : 0,
      zx: zoomed ? u(o.zoomRange[0], o.zoomRange[1]) : 1,
      zy: zoomed ? u(o.zoomRange[0], o.zoomRange[1]) : 1,
      flipHorizontal: o.horizontalFlip && uniformAt(stream, draw++) < 0.5,
      flipVertical: o.verticalFlip && uniformAt(stream, draw++) < 0.5,
    };
  }

  /** One [h, w, c] image through a transform (affine resampling, then flips); no rescale. */
  applyTransform(x: Tensor, t: RandomTransform): Tensor {
    if (!(x instanceof Tensor) || !x.value || x.rank !== 3) throw new KilnError(`imageDataGenerator.applyTransform: expected one concrete image [height, width, channels], got ${x instanceof Tensor ? String(x.type.shape) : typeof x}.`);
    const [h, w, c] = x.shape as number[];
    const m = affineMatrix(t, h!, w!);
    let out = m ? Tensor.concrete({ dtype: 'float32', shape: [h!, w!, c!], data: resample(Float32Array.from(x.value.data), h!, w!, c!, m, this.options.fillMode, this.options.cval) }) : x;
    if (t.flipHorizontal) out = image.flipLeftRight(out);
    if (t.flipVertical) out = image.flipUpDown(out);
    return out;
  }

  /** The image augmented by a random transform (of `seed`, or a fresh one), then rescaled. */
  randomTransform(x: Tensor, seed = nextSeed()): Tensor {
    return this.standardize(this.applyTransform(x, this.getRandomTransform(x.shape[0] as number, x.shape[1] as number, seed >>> 0)));
  }

  /** `rescale` applied. */
  standardize(x: Tensor): Tensor {
    return this.options.rescale === 1 ? x : mul(x, this.options.rescale);
  }

  /**
   * Batches of augmented images (and their labels) from tensors [n, h, w, c]: one
   * pass per iteration (an epoch), shuffled and transformed anew each time.
   */
  flow(x: Tensor, y?: Tensor, options: FlowOptions = {}): Dataset<[Tensor, Tensor] | Tensor> {
    checkOptions('imageDataGenerator.flow', options, ['batchSize', 'shuffle', 'seed']);
    if (!(x instanceof Tensor) || !x.value || x.rank !== 4) throw new KilnError(`imageDataGenerator.flow: expected images x [n, height, width, channels], got ${x instanceof Tensor ? `shape [${x.shape.join(',')}]` : typeof x}.`);
    const n = x.shape[0] as number;
    if (y !== undefined && (!(y instanceof Tensor) || y.shape[0] !== n)) throw new KilnError(`imageDataGenerator.flow: expected y to be a Tensor with ${n} rows (one per image), got ${y instanceof Tensor ? `shape [${y.shape.join(',')}]` : typeof y}.`);
    const { batchSize = 32, shuffle = true, seed = nextSeed() } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new KilnError(`imageDataGenerator.flow: expected batchSize to be a positive integer, got ${JSON.stringify(batchSize)}.`);
    const self = this;
    let epoch = 0;
    return new Dataset(function* () {
      const stream = stepStream(seed >>> 0, epoch++);
      const order = Array.from({ length: n }, (_, i) => i);
      if (shuffle) order.map((i) => [uniformAt(stream ^ 0x5bd1e995, i), i] as const).sort((a, b) => a[0] - b[0]).forEach(([, i], k) => (order[k] = i));
      for (let start = 0; start < n; start += batchSize) {
        const picked = order.slice(start, start + batchSize);
        const images = picked.map((i) => self.randomTransform(x.slice([i, 0, 0, 0], [1, -1, -1, -1]).reshape(x.shape.slice(1) as number[]), stepStream(stream, i)));
        const batch = Tensor.concrete({ dtype: 'float32', shape: [picked.length, ...(x.shape.slice(1) as number[])], data: concat(images) });
        yield y === undefined ? batch : [batch, y.gather(Tensor.concrete({ dtype: 'int32', shape: [picked.length], data: Int32Array.from(picked) }))] as [Tensor, Tensor];
      }
    }, Math.ceil(n / batchSize));
  }

  /** Batches of augmented images from a folder of class subfolders (see imageDatasetFromDirectory). */
  async flowFromDirectory(directory: string, options: FlowFromDirectoryOptions = {}): Promise<ImageDataset> {
    checkOptions('imageDataGenerator.flowFromDirectory', options, ['batchSize', 'shuffle', 'seed', 'targetSize', 'colorMode', 'classMode', 'classes', 'interpolation']);
    const { targetSize = [256, 256], colorMode = 'rgb', classMode = 'categorical', classes, interpolation = 'bilinear', batchSize = 32, shuffle = true, seed = nextSeed() } = options;
    const labelMode = classMode === 'categorical' ? 'categorical' : classMode === 'sparse' ? 'int' : classMode === 'binary' ? 'binary' : classMode === null ? null : undefined;
    if (labelMode === undefined) throw new KilnError(`imageDataGenerator.flowFromDirectory: expected classMode 'categorical', 'sparse', 'binary' or null, got ${JSON.stringify(classMode)}.`);
    const folder = (await imageDatasetFromDirectory(directory, { imageSize: targetSize, colorMode, labelMode, ...(classes ? { classNames: classes } : {}), interpolation, batchSize, shuffle, seed })) as ImageDataset;
    let epoch = 0;
    let drawn = 0;
    const self = this;
    const augmented = new Dataset(async function* () {
      const stream = stepStream(seed >>> 0, epoch++);
      drawn = 0;
      for await (const b of folder) {
        const [xb, yb] = labelMode === null ? [b as Tensor, undefined] : (b as [Tensor, Tensor]);
        const rows = xb.shape[0] as number;
        const images = Array.from({ length: rows }, (_, i) => self.randomTransform(xb.slice([i, 0, 0, 0], [1, -1, -1, -1]).reshape(xb.shape.slice(1) as number[]), stepStream(stream, drawn++)));
        const out = Tensor.concrete({ dtype: 'float32', shape: [...(xb.shape as number[])], data: concat(images) });
        yield (yb ? [out, yb] : out) as [Tensor, Tensor] | Tensor;
      }
    }, folder.size);
    return Object.assign(augmented, { classNames: folder.classNames, filePaths: folder.filePaths });
  }
}

function concat(images: readonly Tensor[]): Float32Array {
  const width = images[0]?.size ?? 0;
  const out = new Float32Array(images.length * width);
  images.forEach((t, i) => out.set(t.dataSync() as Float32Array, i * width));
  return out;
}

/** @example kiln.preprocessing.imageDataGenerator({ rotationRange: 10, zoomRange: 0.1, rescale: 1 / 255 }) */
export const imageDataGenerator = (options?: ImageDataGeneratorOptions): ImageDataGenerator => new ImageDataGenerator(options);
