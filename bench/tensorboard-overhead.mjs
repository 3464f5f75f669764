// The logging overhead target of issue 15: fit on the Fashion-MNIST MLP with and without
// tensorBoard({ updateFreq: 'batch', histogramFreq: 1 }), side by side in one process,
// alternating, the median epoch time of each. Run after `npm run build`:
//   node bench/tensorboard-overhead.mjs [rounds=5] [epochsPerFit=2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as kiln from '../dist/src/index.js';

const rounds = Number(process.argv[2] ?? 5);
const epochs = Number(process.argv[3] ?? 2);
const { train } = await kiln.datasets.fashionMnist.load();
const model = kiln.sequential({ name: 'fashion_mlp', layers: [
  kiln.layers.flatten({ inputShape: [28, 28, 1] }),
  kiln.layers.dense({ units: 256, activation: 'relu' }),
  kiln.layers.dropout({ rate: 0.2, seed: 1 }),
  kiln.layers.dense({ units: 128, activation: 'relu' }),
  kiln.layers.dropout({ rate: 0.2, seed: 2 }),
  kiln.layers.dense({ units: 10 }),
] });
model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
const args = { epochs, batchSize: 64, validationSplit: 0.1, verbose: 0 };
await model.fit(train.images, train.labels, { ...args, epochs: 1 }); // compile and warm up

const logRoot = mkdtempSync(join(tmpdir(), 'kiln-tb-bench-'));
const times = { without: [], with: [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of r % 2 ? ['with', 'without'] : ['without', 'with']) {
    const callbacks = kind === 'with' ? [kiln.callbacks.tensorBoard({ logDir: join(logRoot, `r${r}`), updateFreq: 'batch', histogramFreq: 1 })] : [];
    const t0 = performance.now();
    await model.fit(train.images, train.labels, { ...args, callbacks });
    times[kind].push((performance.now() - t0) / epochs);
  }
}
rmSync(logRoot, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [a, b] = [median(times.without), median(times.with)];
console.log(`steps/epoch: ${Math.ceil(train.images.shape[0] * 0.9 / 64)}; epoch time, median of ${rounds} fits × ${epochs} epochs:`);
console.log(`  without tensorBoard: ${a.toFixed(1)} ms   (all: ${times.without.map((t) => t.toFixed(0)).join(', ')})`);
console.log(`  with tensorBoard({ updateFreq: 'batch', histogramFreq: 1 }): ${b.toFixed(1)} ms   (all: ${times.with.map((t) => t.toFixed(0)).join(', ')})`);
console.log(`  overhead: ${(((b - a) / a) * 100).toFixed(1)}%`);
