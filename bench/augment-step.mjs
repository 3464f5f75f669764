// Augmentation compiled into the training step: the README's Fashion-MNIST CNN,
// batch 64, Adam, with randomFlip + randomRotation + randomZoom in front of it
// beside the same model without them. Steady trainOnBatch step times interleaved
// step by step in one process (medians), then one fit epoch of each over the
// same 1,920 images. Run: npm run build && node bench/augment-step.mjs [steps=30]
import * as kiln from '../dist/src/index.js';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const steps = Number(process.argv[2] ?? 30);
const cnn = (augment) => kiln.sequential({ layers: [
  kiln.layers.rescaling({ inputShape: [28, 28, 1], scale: 1 }),
  ...(augment ? [
    kiln.layers.randomFlip({ mode: 'horizontal', seed: 1 }),
    kiln.layers.randomRotation({ factor: 0.1, seed: 2 }),
    kiln.layers.randomZoom({ heightFactor: 0.1, seed: 3 }),
  ] : []),
  kiln.layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
  kiln.layers.maxPooling2d({ poolSize: 2 }),
  kiln.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
  kiln.layers.maxPooling2d({ poolSize: 2 }),
  kiln.layers.flatten(),
  kiln.layers.dense({ units: 10 }),
] });
const { train } = await kiln.datasets.fashionMnist.load();
const x = train.images.slice([0, 0, 0, 0], [64, -1, -1, -1]);
const y = train.labels.slice([0], [64]);
const loss = kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true });
const models = { plain: cnn(false), augmented: cnn(true) };
for (const m of Object.values(models)) {
  m.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss });
  await m.trainOnBatch(x, y); // compile first
}
const times = { plain: [], augmented: [] };
for (let i = 0; i < steps; i++) {
  for (const [name, m] of Object.entries(models)) {
    const t = performance.now();
    await m.trainOnBatch(x, y);
    times[name].push(performance.now() - t);
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const [a, b] = [median(times.plain), median(times.augmented)];
console.log(`CNN batch 64, Adam, ${steps} interleaved trainOnBatch steps: plain ${a.toFixed(1)} ms, with randomFlip + randomRotation + randomZoom ${b.toFixed(1)} ms (×${(b / a).toFixed(3)})`);

const xs = train.images.slice([0, 0, 0, 0], [1920, -1, -1, -1]);
const ys = train.labels.slice([0], [1920]);
const epoch = {};
for (const [name, m] of Object.entries(models)) {
  const t = performance.now();
  await m.fit(xs, ys, { epochs: 1, batchSize: 64, verbose: 0 });
  epoch[name] = performance.now() - t;
}
console.log(`fit, 1 epoch of 1,920 images (30 steps): plain ${epoch.plain.toFixed(0)} ms, augmented ${epoch.augmented.toFixed(0)} ms (×${(epoch.augmented / epoch.plain).toFixed(3)})`);
