/**
 * The end-to-end example the README runs: a Keras-style model on the shipped
 * Fashion-MNIST images. `fit` traces the training step (forward, gradients from
 * the autodiff pass, the optimizer's update), evaluation and prediction once, and
 * compiles them into one wasm module whose entries share the weights.
 */
import { KilnError } from '../compiler/errors.js';
import * as F from '../compiler/functions/index.js';
import * as fashionMnist from './datasets/fashionMnist.js';
import * as layers from './layers/index.js';
import { losses, sequential, type Sequential } from './models/index.js';
import * as optimizers from './optimizers/index.js';

export type DemoModel = 'mlp' | 'cnn';

export interface DemoOptions {
  model?: DemoModel;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Where to save the trained model (with its class names as metadata); nothing is saved when left out. */
  save?: string;
  log?: (line: string) => void;
}

export interface DemoResult {
  losses: number[];
  testAccuracy: number;
  model: Sequential;
}

const architectures: Record<DemoModel, { build: () => Sequential; inputShape: number[]; epochs: number }> = {
  mlp: {
    build: () => sequential({ layers: [
      layers.flatten({ inputShape: [28, 28, 1] }),
      layers.dense({ units: 128, activation: 'relu' }),
      layers.dense({ units: 10 }),
    ] }),
    inputShape: [28, 28, 1],
    epochs: 5,
  },
  // two 5×5 convolutions with pooling, as in the data set's own benchmark table
  cnn: {
    build: () => sequential({ layers: [
      layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 10 }),
    ] }),
    inputShape: [28, 28, 1],
    epochs: 2,
  },
};

/** The demo's model (`mlp` or `cnn`), compiled with Adam and sparse categorical cross-entropy on logits. */
export function demoModel(name: DemoModel = 'cnn', learningRate = 1e-3): Sequential {
  const arch = Object.hasOwn(architectures, name) ? architectures[name] : undefined;
  if (!arch) throw new KilnError(`demo: unknown model "${String(name)}"; expected mlp or cnn.`);
  const model = arch.build();
  model.compile({
    optimizer: optimizers.adam({ learningRate }),
    loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }),
    metrics: ['accuracy'],
  });
  return model;
}

export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const name = options.model ?? 'cnn';
  const arch = Object.hasOwn(architectures, name) ? architectures[name] : undefined;
  if (!arch) throw new KilnError(`demo: unknown model "${String(name)}"; expected mlp or cnn.`);
  const log = options.log ?? ((line: string) => console.log(line));
  const data = await fashionMnist.load();
  log(`Fashion-MNIST (shipped): ${data.train.labels.shape[0]} training and ${data.test.labels.shape[0]} test images; model: ${name}`);

  const model = demoModel(name, options.learningRate ?? 1e-3);
  model.summary(log);
  // on the console: Keras' progress bar; with a custom log: one line per epoch
  const history = await model.fit(data.train.images, data.train.labels, {
    epochs: options.epochs ?? arch.epochs, batchSize: options.batchSize ?? 64, validationSplit: 0.1, seed: options.seed ?? 0,
    verbose: options.log ? 0 : 1,
    callbacks: options.log ? { onEpochEnd: (epoch, logs) => log(`epoch ${epoch + 1}: ${Object.entries(logs).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`) } : [],
  });
  const [, accuracy] = (await model.evaluate(data.test.images, data.test.labels)) as F.Tensor[];
  const testAccuracy = accuracy!.itemSync();
  log(`test accuracy: ${(testAccuracy * 100).toFixed(1)}%`);

  const sample = F.slice(data.test.images, [0, 0, 0, 0], [6, -1, -1, -1]);
  const predicted = F.argmax(model.predict(sample), -1).dataSync();
  const labels = data.test.labels.dataSync();
  log('predictions on the first test images:');
  predicted.forEach((p, i) => log(`  ${p === labels[i] ? '✓' : '✗'} predicted ${data.classNames[p]}, label ${data.classNames[labels[i]!]}`));
  if (options.save) {
    await model.save(options.save, { metadata: { classNames: JSON.stringify(data.classNames), dataset: 'fashion-mnist' } });
    const { size } = await (await import('node:fs/promises')).stat(options.save);
    log(`saved the model (architecture, weights, optimizer state) to ${options.save} (${(size / 1024).toFixed(0)} KB); kiln.loadModel(path) restores it`);
  }
  return { losses: history.history.loss!, testAccuracy, model };
}
