/**
 * Fashion-MNIST: 28×28 grayscale images of 10 kinds of clothing. With no path,
 * the official test set that ships with kiln, split 8,000 / 2,000; with a path,
 * the full set from a folder holding the four IDX files (gzip or raw).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../compiler/errors.js';
import { packagePath } from '../../compiler/packageFiles.js';
import { Tensor } from '../../compiler/tensor.js';
import { readIdx, type IdxArray } from './idx.js';

export const classNames = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

export interface Split {
  /** f32[n,28,28,1], pixel values scaled to [0, 1]. */
  images: Tensor;
  /** i32[n], class indices 0–9. */
  labels: Tensor;
}

export interface FashionMnist {
  train: Split;
  test: Split;
  classNames: readonly string[];
}

/** The folder of the data shipped with kiln (`data/fashion-mnist` in the package, wherever it is installed). */
export function shippedDataDir(): string {
  const dir = packagePath('data', 'fashion-mnist');
  if (existsSync(join(dir, 't10k-images-idx3-ubyte.gz'))) return dir;
  throw new KilnError(`fashionMnist: the shipped data is missing from the kiln package (expected ${dir}/t10k-images-idx3-ubyte.gz); reinstall kiln.`);
}

function findFile(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) if (existsSync(join(dir, name))) return join(dir, name);
  throw new KilnError(`fashionMnist: expected ${base} or ${base}.gz in ${dir}; the folder holds neither.`);
}

function toSplit(images: IdxArray, labels: IdxArray, from: number, to: number, file: string): Split {
  if (images.shape.length !== 3 || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new KilnError(`${file}: expected images of shape [n,28,28], got [${images.shape.join(',')}].`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new KilnError(`${file}: expected ${images.shape[0]} labels for ${images.shape[0]} images, got shape [${labels.shape.join(',')}].`);
  }
  const n = to - from;
  const pixels = new Float32Array(n * 784);
  const src = images.data.subarray(from * 784, to * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = src[i]! / 255;
  const classes = Int32Array.from(labels.data.subarray(from, to));
  const bad = classes.findIndex((c) => c > 9);
  if (bad >= 0) throw new KilnError(`${file}: expected labels 0–9, got ${classes[bad]} at index ${from + bad}.`);
  return {
    images: Tensor.concrete({ dtype: 'float32', shape: [n, 28, 28, 1], data: pixels }),
    labels: Tensor.concrete({ dtype: 'int32', shape: [n], data: classes }),
  };
}

function loadPair(dir: string, prefix: 'train' | 't10k'): [IdxArray, IdxArray, string] {
  const imageFile = findFile(dir, `${prefix}-images-idx3-ubyte`);
  return [readIdx(imageFile), readIdx(findFile(dir, `${prefix}-labels-idx1-ubyte`)), imageFile];
}

/**
 * Loads Fashion-MNIST.
 * @example const { train, test, classNames } = await kiln.datasets.fashionMnist.load();
 * @example await kiln.datasets.fashionMnist.load({ path: '/usr/share/datasets/fashion-mnist' });
 */
export async function load(options: { path?: string; trainSize?: number } = {}): Promise<FashionMnist> {
  if (options.path !== undefined) {
    const [trainImages, trainLabels, trainFile] = loadPair(options.path, 'train');
    const [testImages, testLabels, testFile] = loadPair(options.path, 't10k');
    return {
      train: toSplit(trainImages, trainLabels, 0, trainImages.shape[0]!, trainFile),
      test: toSplit(testImages, testLabels, 0, testImages.shape[0]!, testFile),
      classNames,
    };
  }
  const [images, labels, file] = loadPair(shippedDataDir(), 't10k');
  const total = images.shape[0]!;
  const trainSize = options.trainSize ?? Math.round(total * 0.8);
  if (!Number.isInteger(trainSize) || trainSize < 1 || trainSize >= total) {
    throw new KilnError(`fashionMnist: expected trainSize between 1 and ${total - 1}, got ${trainSize}.`);
  }
  return { train: toSplit(images, labels, 0, trainSize, file), test: toSplit(images, labels, trainSize, total, file), classNames };
}
