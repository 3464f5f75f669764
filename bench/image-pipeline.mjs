// The image-folder pipeline beside in-memory tensors, on Fashion-MNIST written
// out as PNG files (600 per class, 6,000 in all): (1) the pipeline alone —
// imageDatasetFromDirectory reading, decoding, resizing and batching, with
// prefetch — in images per second, at 28×28 (no resize) and 56×56 (bilinear
// resize); (2) one epoch of fit on the README's CNN (batch 64, Adam) fed by the
// pipeline vs by the same images as in-memory tensors, alternated, medians of the
// per-step times. Run: npm run build && node bench/image-pipeline.mjs [rounds=3]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import * as kiln from '../dist/src/index.js';
import { readmeCnn } from './readme-cnn.mjs';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const rounds = Number(process.argv[2] ?? 3);
const perClass = 600;
const { train, classNames } = await kiln.datasets.fashionMnist.load();
const root = mkdtempSync(join(tmpdir(), 'kiln-pipeline-'));
const pixels = train.images.dataSync();
const labels = train.labels.dataSync();
const written = new Array(10).fill(0);
const kept = [];
for (let i = 0; i < labels.length && kept.length < perClass * 10; i++) {
  const k = labels[i];
  if (written[k] >= perClass) continue;
  const dir = join(root, String(k).padStart(2, '0'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${i}.png`), encode({ width: 28, height: 28, data: Uint8Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)), channels: 1, depth: 8 }));
  written[k]++;
  kept.push(i);
}
const n = kept.length;
const folder = (size) => kiln.utils.imageDatasetFromDirectory(root, { imageSize: [size, size], colorMode: 'grayscale', batchSize: 64, seed: 1 });
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

for (const size of [28, 56]) {
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const ds = (await folder(size)).prefetch(2);
    const t = performance.now();
    let seen = 0;
    for await (const [x] of ds) seen += x.shape[0];
    rates.push(seen / ((performance.now() - t) / 1000));
  }
  console.log(`pipeline alone, ${size}×${size}: ${Math.round(median(rates))} images/s (median of ${rounds}; ${classNames.length} classes, ${n} PNG files)`);
}

// the same images in memory, scaled 0–255 as the folder gives them
const xs = kiln.tensor(Float32Array.from(kept.flatMap((i) => Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)))), [n, 28, 28, 1]);
const ys = kiln.tensor(Int32Array.from(kept, (i) => labels[i]), [n], 'int32');
const cnn = () => {
  const m = readmeCnn(kiln, [kiln.layers.rescaling({ inputShape: [28, 28, 1], scale: 1 / 255 })]);
  m.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  return m;
};
const fromFolder = cnn();
const fromMemory = cnn();
await fromFolder.ready(64);
await fromMemory.ready(64);
const steps = Math.ceil(n / 64);
const times = { folder: [], memory: [] };
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  await fromMemory.fit(xs, ys, { epochs: 1, batchSize: 64, verbose: 0 });
  times.memory.push((performance.now() - t) / steps);
  const ds = (await folder(28)).prefetch(2);
  t = performance.now();
  await fromFolder.fit(ds, { epochs: 1, verbose: 0 });
  times.folder.push((performance.now() - t) / steps);
}
const [a, b] = [median(times.memory), median(times.folder)];
console.log(`fit, README CNN, batch 64, one epoch of ${n} images: in-memory tensors ${a.toFixed(1)} ms/step, image folder + prefetch ${b.toFixed(1)} ms/step (×${(b / a).toFixed(3)})`);
rmSync(root, { recursive: true, force: true });
