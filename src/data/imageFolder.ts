/**
 * `kiln.utils.imageDatasetFromDirectory`, as Keras's: one subfolder per class,
 * images (PNG, JPEG) found recursively, shuffled and split by seed, decoded and
 * resized as they are read (in parallel, ahead of the training step), batched as
 * [images, labels]. Node only (it reads a folder).
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { checkOptions } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import * as image from '../../compiler/functions/image.js';
import { nextSeed, uniformAt } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';
import { sharedDecodePool } from '../io/decodePool.js';
import { decodePixels } from '../io/pixels.js';
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
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: 'bilinear' | 'nearest';
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

function listImages(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listImages(path));
    else if (EXTENSIONS.test(entry.name)) out.push(path);
  }
  return out;
}

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
  let stats;
  try {
    stats = statSync(directory);
  } catch (e) {
    throw new KilnError(`${subject}: cannot read "${directory}": ${(e as NodeJS.ErrnoException).code}.`);
  }
  if (!stats.isDirectory()) throw new KilnError(`${subject}: expected a folder of class subfolders, got the file "${directory}".`);
  if (![null, 'int', 'categorical', 'binary'].includes(labelMode)) throw new KilnError(`${subject}: expected labelMode 'int', 'categorical', 'binary' or null, got ${JSON.stringify(labelMode)}.`);
  if (!['rgb', 'grayscale', 'rgba'].includes(colorMode)) throw new KilnError(`${subject}: expected colorMode 'rgb', 'grayscale' or 'rgba', got ${JSON.stringify(colorMode)}.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new KilnError(`${subject}: expected batchSize to be a positive integer, got ${JSON.stringify(batchSize)}.`);
  if (!Array.isArray(imageSize) || imageSize.length !== 2 || !imageSize.every((d) => Number.isInteger(d) && d > 0)) throw new KilnError(`${subject}: expected imageSize [height, width] of positive integers, got ${JSON.stringify(imageSize)}.`);
  if ((validationSplit === undefined) !== (subset === undefined)) throw new KilnError(`${subject}: validationSplit and subset go together (got ${validationSplit === undefined ? 'only subset' : 'only validationSplit'}).`);
  if (validationSplit !== undefined && !(validationSplit > 0 && validationSplit < 1)) throw new KilnError(`${subject}: expected validationSplit in (0, 1), got ${validationSplit}.`);
  if (subset !== undefined && !['training', 'validation', 'both'].includes(subset)) throw new KilnError(`${subject}: expected subset 'training', 'validation' or 'both', got ${JSON.stringify(subset)}.`);

  const folders = readdirSync(directory, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const classNames = options.classNames ? [...options.classNames] : folders;
  for (const c of classNames) if (!folders.includes(c)) throw new KilnError(`${subject}: classNames names "${c}", which is not a subfolder of "${directory}" (subfolders: ${folders.join(', ') || 'none'}).`);
  if (classNames.length === 0) throw new KilnError(`${subject}: "${directory}" has no class subfolders.`);
  if (labelMode === 'binary' && classNames.length !== 2) throw new KilnError(`${subject}: labelMode 'binary' needs exactly 2 classes, got ${classNames.length} (${classNames.join(', ')}).`);
  let samples: [string, number][] = [];
  classNames.forEach((c, label) => {
    const files = listImages(join(directory, c));
    if (files.length === 0) throw new KilnError(`${subject}: the class folder "${join(directory, c)}" has no PNG or JPEG images.`);
    samples.push(...files.map((f): [string, number] => [f, label]));
  });
  if (shuffle || validationSplit !== undefined) { // Keras shuffles the file list with the seed before splitting
    const order = samples.map((_, i) => [uniformAt(seed >>> 0, i), i] as const).sort((a, b) => a[0] - b[0]);
    samples = order.map(([, i]) => samples[i]!);
  }
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
  const labelsOf = (labels: number[]): Tensor => {
    if (labelMode === 'int') return Tensor.concrete({ dtype: 'int32', shape: [labels.length], data: Int32Array.from(labels) });
    if (labelMode === 'binary') return Tensor.concrete({ dtype: 'float32', shape: [labels.length, 1], data: Float32Array.from(labels) });
    const onehot = new Float32Array(labels.length * classNames.length);
    labels.forEach((l, i) => (onehot[i * classNames.length + l] = 1));
    return Tensor.concrete({ dtype: 'float32', shape: [labels.length, classNames.length], data: onehot });
  };
  const make = (files: [string, number][]): ImageDataset => {
    let ds = fromArray(files);
    if (shuffle) ds = ds.shuffle(Math.max(1, files.length), { seed });
    // with decode workers, two batches of files in flight: the workers decode them while the training step holds this thread
    const loaded = ds.map(load, { numParallelCalls: pool ? 2 * batchSize : AUTOTUNE }).filter((e) => e !== undefined) as Dataset<[Tensor, number]>;
    const batches = loaded.batch(batchSize)
      .map((b) => (labelMode === null ? b[0] : [b[0], labelsOf(Array.from(b[1].dataSync()))]) as [Tensor, Tensor] | Tensor);
    const sized = new Dataset(() => batches[Symbol.asyncIterator](), ignoreErrors ? undefined : Math.ceil(files.length / batchSize));
    return Object.assign(sized, { classNames, filePaths: files.map(([f]) => f) });
  };
  if (validationSplit === undefined) return make(samples);
  const held = Math.floor(validationSplit * samples.length);
  const training = make(samples.slice(0, samples.length - held));
  const validation = make(samples.slice(samples.length - held));
  return subset === 'both' ? [training, validation] : subset === 'training' ? training : validation;
}
