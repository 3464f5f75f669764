// The cost of the in-module finiteness check that gates every training step's
// update (optimizer.applyGradients' skipNonFinite, on by default; fit and
// trainOnBatch always use it): the same compiled custom training step with the
// check and without it, interleaved step by step in one process, medians over
// rounds, for the README's Fashion-MNIST CNN and an MLP (784-256-128-10), batch 64, Adam.
// Run: npm run build && node bench/nonfinite-check.mjs [steps=40] [rounds=3]
import * as kiln from '../dist/src/index.js';
import { readmeCnn } from './readme-cnn.mjs';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const steps = Number(process.argv[2] ?? 40);
const rounds = Number(process.argv[3] ?? 3);
const models = {
  cnn: () => readmeCnn(kiln),
  mlp: () => kiln.sequential({ layers: [
    kiln.layers.flatten({ inputShape: [28, 28, 1] }),
    kiln.layers.dense({ units: 256, activation: 'relu' }),
    kiln.layers.dense({ units: 128, activation: 'relu' }),
    kiln.layers.dense({ units: 10 }),
  ] }),
};
const { train } = await kiln.datasets.fashionMnist.load();
const x = train.images.slice([0, 0, 0, 0], [64, -1, -1, -1]);
const y = train.labels.slice([0], [64]);
const loss = kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true });
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

for (const [name, make] of Object.entries(models).filter(([n]) => !process.env.ONLY || n === process.env.ONLY)) {
  const stepFor = (skipNonFinite) => {
    const model = make();
    const opt = kiln.optimizers.adam({ learningRate: 1e-3 });
    return kiln.compile((xb, yb) => {
      const vars = model.trainableWeights;
      const { value, grads } = kiln.variableGrads(() => loss.fn(yb, model.apply(xb, { training: true })), vars);
      opt.applyGradients(grads.map((g, i) => [g, vars[i]]), { skipNonFinite, loss: value });
      return value;
    });
  };
  const checked = stepFor(true);
  const plain = stepFor(false);
  await checked(x, y); await plain(x, y); // compile both first
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const times = { checked: [], plain: [] };
    for (let i = 0; i < steps; i++) {
      let t = performance.now();
      await plain(x, y);
      times.plain.push(performance.now() - t);
      t = performance.now();
      await checked(x, y);
      times.checked.push(performance.now() - t);
    }
    const [a, b] = [median(times.plain), median(times.checked)];
    ratios.push(b / a);
    console.log(`${name} batch 64, Adam, ${steps} interleaved steps: without the check ${a.toFixed(2)} ms, with it ${b.toFixed(2)} ms (${((b / a - 1) * 100).toFixed(2)}%)`);
  }
  console.log(`${name}: median cost of the check over ${rounds} rounds ${((median(ratios) - 1) * 100).toFixed(2)}%`);
}
