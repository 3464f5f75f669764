/**
 * Host overhead of the literal loop on a small model, where the compiled step
 * itself is cheap: an MLP 32 → 64 → 10, batch 32, Adam. Prints the steady-state
 * time per iteration, the part spent inside the compiled module
 * (`kiln.cacheStats().runMs`), the rest (recording ops, the structural key,
 * binding inputs, reading the loss) split by phase, and Keras-style `fit` on
 * the same model and batch.
 *
 *   npx tsc -p examples/pytorch-style && node dist/examples/pytorch-style/overhead.js [--iterations 2000]
 */
import * as kiln from '../../src/index.js';

const { nn, optim } = kiln;
const F = nn.functional;
const args = process.argv.slice(2);
const iterations = Number(args[args.indexOf('--iterations') + 1] ?? 2000) || 2000;
const [batch, features, hidden, classes] = [32, 32, 64, 10];

const x = kiln.randn([batch, features], { seed: 1 });
const y = kiln.randint(0, classes, [batch], { seed: 2 });
const model = new nn.Sequential(new nn.Linear(features, hidden, { seed: 3 }), new nn.ReLU(), new nn.Linear(hidden, classes, { seed: 4 }));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });

const phases = { record: 0, step: 0, read: 0 };
async function iteration(timed: boolean): Promise<void> {
  const t0 = performance.now();
  opt.zeroGrad();
  const loss = F.crossEntropy(model.forward(x), y);
  loss.backward();
  const t1 = performance.now();
  await opt.step();
  const t2 = performance.now();
  await loss.item();
  if (timed) {
    phases.record += t1 - t0;
    phases.step += t2 - t1;
    phases.read += performance.now() - t2;
  }
}

for (let i = 0; i < 50; i++) await iteration(false); // compiles at the second step; warm up the JIT
const before = kiln.cacheStats();
const t0 = performance.now();
for (let i = 0; i < iterations; i++) await iteration(true);
const perIteration = (performance.now() - t0) / iterations;
const after = kiln.cacheStats();
const inModule = (after.runMs - before.runMs) / iterations;
const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
console.log(`literal loop (MLP ${features}-${hidden}-${classes}, batch ${batch}, Adam): ${fmt(perIteration)} per iteration over ${iterations}; ` +
  `in the compiled module ${fmt(inModule)}, host overhead ${fmt(perIteration - inModule)} ` +
  `(record zeroGrad/forward/loss/backward ${fmt(phases.record / iterations)}, step ${fmt(phases.step / iterations)} incl. the run, item ${fmt(phases.read / iterations)}); ` +
  `compiles during the timed loop: ${after.compiles - before.compiles}, plans built: ${after.plansBuilt - before.plansBuilt}`);

const keras = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [features], units: hidden, activation: 'relu' }), kiln.layers.dense({ units: classes })] });
keras.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
const n = batch * 200;
const xs = kiln.randn([n, features], { seed: 5 });
const ys = kiln.randint(0, classes, [n], { seed: 6 });
await keras.fit(xs, ys, { epochs: 1, batchSize: batch, verbose: 0 });
const t1 = performance.now();
await keras.fit(xs, ys, { epochs: 3, batchSize: batch, verbose: 0, shuffle: false });
const fitStep = (performance.now() - t1) / (3 * 200);
console.log(`fit on the same model and batch: ${fmt(fitStep)} per step; literal loop / fit = ${(perIteration / fitStep).toFixed(2)}`);
