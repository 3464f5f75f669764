/**
 * An image folder, end to end: the shipped Fashion-MNIST images are written out
 * as PNG files, one folder per class (as a user's photos would be), then read
 * back with imageDatasetFromDirectory (decode + resize in parallel, prefetched),
 * augmented inside the compiled training step (randomFlip, randomContrast) and
 * used to train a small CNN; the same folder also goes through
 * ImageDataGenerator.flowFromDirectory. Prints both test accuracies.
 *
 *   npx tsc -p examples/images && node dist/examples/images/train.js [--per-class 300] [--epochs 4]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import * as kiln from '../../src/index.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => Number(args[args.indexOf(name) + 1] ?? fallback) || fallback;
const perClass = option('--per-class', 300);
const epochs = option('--epochs', 4);

/** Writes up to `perClass` images of each class of a split as PNG files under root/<class>/. */
function writeFolder(root: string, images: kiln.Tensor, labels: kiln.Tensor, classNames: readonly string[]): void {
  const pixels = images.dataSync();
  const ys = labels.dataSync();
  const written = new Array<number>(classNames.length).fill(0);
  const folder = (k: number) => classNames[k]!.replace(/[^A-Za-z0-9-]+/g, '_');
  classNames.forEach((_, k) => mkdirSync(join(root, folder(k)), { recursive: true }));
  for (let i = 0; i < ys.length; i++) {
    const k = ys[i]!;
    if (written[k]! >= perClass) continue;
    const data = Uint8Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
    writeFileSync(join(root, folder(k), `${i}.png`), encode({ width: 28, height: 28, data, channels: 1, depth: 8 }));
    written[k]!++;
  }
}

const { train, test, classNames } = await kiln.datasets.fashionMnist.load();
const root = mkdtempSync(join(tmpdir(), 'kiln-fashion-png-'));
writeFolder(join(root, 'train'), train.images, train.labels, classNames);
writeFolder(join(root, 'test'), test.images, test.labels, classNames);

const net = () => {
  const model = kiln.sequential({ layers: [
    kiln.layers.rescaling({ inputShape: [28, 28, 1], scale: 1 / 255 }),
    kiln.layers.randomFlip({ mode: 'horizontal', seed: 1 }),
    kiln.layers.randomContrast({ factor: 0.2, valueRange: [0, 1], seed: 2 }),
    kiln.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.flatten(),
    kiln.layers.dense({ units: classNames.length }),
  ] });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 2e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return model;
};
type Batches = kiln.data.Dataset<[kiln.Tensor, kiln.Tensor]>;

const started = performance.now();
const folder = (await kiln.utils.imageDatasetFromDirectory(join(root, 'train'), { imageSize: [28, 28], colorMode: 'grayscale', batchSize: 32, seed: 1 })) as kiln.data.ImageDataset;
const testFolder = (await kiln.utils.imageDatasetFromDirectory(join(root, 'test'), { imageSize: [28, 28], colorMode: 'grayscale', batchSize: 64, shuffle: false })) as kiln.data.ImageDataset;
const model = net();
await model.fit(folder.prefetch(2) as Batches, { epochs, verbose: 1 });
const [, accuracy] = (await model.evaluate(testFolder as Batches)) as kiln.Tensor[];
console.log(`imageDatasetFromDirectory: ${folder.filePaths.length} training images in ${folder.classNames.length} classes; test accuracy ${(accuracy!.itemSync() * 100).toFixed(1)}% on ${testFolder.filePaths.length} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

const generator = kiln.preprocessing.imageDataGenerator({ rotationRange: 8, widthShiftRange: 0.08, heightShiftRange: 0.08, zoomRange: 0.05 });
const flowed = await generator.flowFromDirectory(join(root, 'train'), { targetSize: [28, 28], colorMode: 'grayscale', classMode: 'sparse', batchSize: 32, seed: 3 });
const second = net();
await second.fit(flowed.prefetch(2) as Batches, { epochs, verbose: 1 });
const [, accuracy2] = (await second.evaluate(testFolder as Batches)) as kiln.Tensor[];
console.log(`ImageDataGenerator.flowFromDirectory: test accuracy ${(accuracy2!.itemSync() * 100).toFixed(1)}%`);
