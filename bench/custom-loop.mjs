// The Keras custom training loop (model.apply + kiln.variableGrads +
// optimizer.applyGradients, wrapped in kiln.compile) beside trainOnBatch on the
// README's Fashion-MNIST CNN, batch 64, Adam: steady step times, interleaved step
// by step in one process, medians. Run: npm run build && node bench/custom-loop.mjs [steps=30]
import * as kiln from '../dist/src/index.js';
import { readmeCnn } from './readme-cnn.mjs';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const steps = Number(process.argv[2] ?? 30);
const cnn = () => readmeCnn(kiln);
const { train } = await kiln.datasets.fashionMnist.load();
const x = train.images.slice([0, 0, 0, 0], [64, -1, -1, -1]);
const y = train.labels.slice([0], [64]);
const loss = kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true });

const keras = cnn();
keras.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss });
const custom = cnn();
const opt = kiln.optimizers.adam({ learningRate: 1e-3 });
const step = kiln.compile((xb, yb) => {
  const vars = custom.trainableWeights;
  const { value, grads } = kiln.variableGrads(() => loss.fn(yb, custom.apply(xb, { training: true })), vars);
  opt.applyGradients(grads.map((g, i) => [g, vars[i]]));
  return value;
});
await keras.trainOnBatch(x, y); // compile both first
await step(x, y);
const times = { trainOnBatch: [], customLoop: [] };
for (let i = 0; i < steps; i++) {
  let t = performance.now();
  await keras.trainOnBatch(x, y);
  times.trainOnBatch.push(performance.now() - t);
  t = performance.now();
  await step(x, y);
  times.customLoop.push(performance.now() - t);
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const [a, b] = [median(times.trainOnBatch), median(times.customLoop)];
console.log(`CNN batch 64, Adam, ${steps} interleaved steps: trainOnBatch ${a.toFixed(1)} ms, compiled custom loop ${b.toFixed(1)} ms (×${(b / a).toFixed(3)} of trainOnBatch's time)`);
