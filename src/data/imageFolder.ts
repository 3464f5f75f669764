/**
 * `kiln.utils.imageDatasetFromDirectory`, as Keras's: one subfolder per class,
 * images (PNG, JPEG) found recursively, shuffled and split by seed, decoded and
 * resized as they are read (in parallel, ahead of the training step), batched as
 * [images, labels]. Node only (it reads a folder).
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { checkOptions } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import * as image from '../../compiler/functions/image.js';
import { nextSeed } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';
import { sharedDecodePool } from '../io/decodePool.js';
import { decodePixels } from '../io/pixels.js';
import { classFolderSamples, labelsOf } from './classFolders.js';
import { AUTOTUNE, Dataset, fromArray } from './dataset.js';

export interface ImageDatasetOptions {
  /** 'int' (default: int32 class indices), 'categorical' (one-hot float32), 'binary' (float32 0/1, two classes), or null (images only). */
  labelMode?: 'int' | 'categorical' | 'binary' | null;
  /** The classes, in index order (default: the subfolders' names, sorted); only these folders are read. */
  classNames?: readonly string[];
  /** 'rgb' (default), 'grayscale' or 'rgba'. */
  colorMode?: 'rgb' | 'grayscale' | 'rgba';
  /** Images per batch (default 32). */
  batchSize?: number;
  /** [height, width] every image is resized to (default [256, 256]). */
  imageSize?: [number, number];
  /** Shuffle the files (each epoch anew; default true). */
  shuffle?: boolean;
  /** The shuffle's and split's seed. */
  seed?: number;
  /** The fraction of files held out (needs `subset`). */
  validationSplit?: number;
  /** 'training', 'validation', or 'both' (then the result is [training, validation]). */
  subset?: 'training' | 'validation' | 'both';
  /** 'bilinear' (default), 'nearest', 'bicubic' or 'area', as kiln.image.resize. */
  interpolation?: image.ResizeMethod;
  /** Crop the central window of imageSize's aspect ratio first, so nothing is stretched. */
  cropToAspectRatio?: boolean;
  /** Skip files that cannot be decoded instead of failing; `onSkip` hears of each. */
  ignoreErrors?: boolean;
  onSkip?: (reason: string) => void;
}

/** A dataset of [images, labels] batches (or images alone) with the classes it found and its files. */
export type ImageDataset = Dataset<[Tensor, Tensor] | Tensor> & { readonly classNames: readonly string[]; readonly filePaths: readonly string[] };

const EXTENSIONS = /\.(png|jpe?g)$/i;
const OPTION_KEYS = ['labelMode', 'classNames', 'colorMode', 'batchSize', 'imageSize', 'shuffle', 'seed', 'validationSplit', 'subset', 'interpolation', 'cropToAspectRatio', 'ignoreErrors', 'onSkip'];

/**
 * Images in class subfolders as a dataset of [images, labels] batches.
 * @example
 * const [train, val] = await kiln.utils.imageDatasetFromDirectory('photos/', { imageSize: [64, 64], validationSplit: 0.2, subset: 'both', seed: 1 }) as kiln.data.ImageDataset[];
 * await model.fit(train, { epochs: 5, validationData: val });
 */
export async function imageDatasetFromDirectory(directory: string, options: ImageDatasetOptions = {}): Promise<ImageDataset | [ImageDataset, ImageDataset]> {
  const subject = 'imageDatasetFromDirectory';
  checkOptions(subject, options, OPTION_KEYS);
  const { labelMode = 'int', colorMode = 'rgb', batchSize = 32, imageSize = [256, 256], shuffle = true, seed = nextSeed(), validationSplit, subset, interpolation = 'bilinear', cropToAspectRatio = false, ignoreErrors = false, onSkip } = options;
  if (!['rgb', 'grayscale', 'rgba'].includes(colorMode)) throw new KilnError(`${subject}: expected colorMode 'rgb', 'grayscale' or 'rgba', got ${JSON.stringify(colorMode)}.`);
  if (!Array.isArray(imageSize) || imageSize.length !== 2 || !imageSize.every((d) => Number.isInteger(d) && d > 0)) throw new KilnError(`${subject}: expected imageSize [height, width] of positive integers, got ${JSON.stringify(imageSize)}.`);
  const { classNames, subsets, both } = classFolderSamples(subject, directory, { labelMode, classNames: options.classNames, batchSize, shuffle, seed, validationSplit, subset }, EXTENSIONS, 'PNG or JPEG images');
  const channels = colorMode === 'grayscale' ? 1 : colorMode === 'rgba' ? 4 : 3;
  const pool = sharedDecodePool();
  const load = async ([path, label]: [string, number]): Promise<[Tensor, number] | undefined> => {
    let img: Tensor;
    const name = relative(directory, path) || path;
    try {
      // read and decoded by a worker where there is one (decoding overlaps the training step), else here
      const pixels = pool ? await pool.decode(path, { channels, name, subject }) : decodePixels(await readFile(path), { channels, name });
      img = Tensor.concrete({ dtype: 'float32', shape: [pixels.height, pixels.width, pixels.channels], data: pixels.data });
    } catch (e) {
      const reason = e instanceof KilnError ? e.message : `${subject}: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`;
      if (!ignoreErrors) throw new KilnError(reason);
      onSkip?.(reason);
      return undefined;
    }
    if (cropToAspectRatio) {
      const [h, w] = img.shape as number[];
      const [ch, cw] = h! * imageSize[1] > w! * imageSize[0] ? [Math.round((w! * imageSize[0]) / imageSize[1]), w!] : [h!, Math.round((h! * imageSize[1]) / imageSize[0])];
      img = image.cropToBoundingBox(img, Math.floor((h! - ch) / 2), Math.floor((w! - cw) / 2), ch, cw);
    }
    return [image.resize(img, imageSize, { method: interpolation }), label];
  };
  const make = (files: [string, number][]): ImageDataset => {
    let ds = fromArray(files);
    if (shuffle) ds = ds.shuffle(Math.max(1, files.length), { seed });
    // with decode workers, two batches of files in flight: the workers decode them while the training step holds this thread
    const loaded = ds.map(load, { numParallelCalls: pool ? 2 * batchSize : AUTOTUNE }).filter((e) => e !== undefined) as Dataset<[Tensor, number]>;
    const batches = loaded.batch(batchSize)
      .map((b) => (labelMode === null ? b[0] : [b[0], labelsOf(Array.from(b[1].dataSync()), labelMode, classNames.length)]) as [Tensor, Tensor] | Tensor);
    const sized = new Dataset(() => batches[Symbol.asyncIterator](), ignoreErrors ? undefined : Math.ceil(files.length / batchSize));
    return Object.assign(sized, { classNames, filePaths: files.map(([f]) => f) });
  };
  const made = subsets.map(make);
  return both ? [made[0]!, made[1]!] : made[0]!;
}
