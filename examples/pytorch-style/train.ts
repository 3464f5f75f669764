/**
 * Fashion-MNIST CNN, trained PyTorch-style with the literal loop:
 *   optimizer.zeroGrad(); const out = model.forward(x); const loss = lossFn(out, y); loss.backward(); optimizer.step();
 * kiln records the ops lazily and runs each step as one compiled module call
 * (compiled at the second step, then reused). `--bench` compares the steady-state
 * step time with Keras-style `fit` on the same model and batch.
 *
 *   npx tsc -p examples/pytorch-style && node dist/examples/pytorch-style/train.js [--epochs 1] [--bench]
 */
import * as kiln from '../../src/index.js';
import { kerasNet, Net } from './net.js';

const { nn, optim } = kiln;


const args = process.argv.slice(2);
const epochs = Number(args[args.indexOf('--epochs') + 1] ?? 1) || 1;
const batchSize = 64;

const { train, test } = await kiln.datasets.fashionMnist.load();
const asNchw = (images: kiln.Tensor) => images.reshape([images.shape[0] as number, 1, 28, 28]); // [N, 28, 28, 1] → [N, 1, 28, 28]: one channel
const loader = new kiln.utils.data.DataLoader(new kiln.utils.data.TensorDataset(asNchw(train.images), train.labels), { batchSize, shuffle: true, seed: 0, dropLast: true });

const model = new Net();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
const lossFn = new nn.CrossEntropyLoss();

const stepTimes: number[] = [];
for (let epoch = 0; epoch < epochs; epoch++) {
  model.train();
  let total = 0;
  let batches = 0;
  for (const [x, y] of loader) {
    const t0 = performance.now();
    optimizer.zeroGrad();
    const out = model.forward(x!);
    const loss = lossFn.forward(out, y!);
    loss.backward();
    await optimizer.step();
    stepTimes.push(performance.now() - t0);
    total += await loss.item();
    if (++batches % 25 === 0) console.log(`epoch ${epoch + 1} batch ${batches}/${loader.length}: loss ${(total / batches).toFixed(4)}`);
  }
}

model.eval();
let correct = 0;
const testLoader = new kiln.utils.data.DataLoader(new kiln.utils.data.TensorDataset(asNchw(test.images), test.labels), { batchSize: 500 });
for (const [x, y] of testLoader) {
  const predicted = kiln.noGrad(() => model.forward(x!).argmax(1));
  correct += (await predicted.eq(y!).cast('int32').sum().item());
}
const steady = stepTimes.slice(5).sort((a, b) => a - b)[Math.floor((stepTimes.length - 5) / 2)]!;
console.log(`test accuracy ${(100 * correct / (test.labels.shape[0] as number)).toFixed(1)}%; median steady-state step ${steady.toFixed(1)} ms; ${JSON.stringify(kiln.cacheStats())}`);

if (args.includes('--bench')) {
  const keras = kerasNet();
  const n = 64 * 60;
  const xs = kiln.tensor(train.images.dataSync().slice(0, n * 784), [n, 28, 28, 1]);
  const ys = kiln.tensor(train.labels.dataSync().slice(0, n), [n], 'int32');
  await keras.fit(xs, ys, { epochs: 1, batchSize, verbose: 0 }); // compile and warm up
  const t0 = performance.now();
  await keras.fit(xs, ys, { epochs: 1, batchSize, verbose: 0, shuffle: false });
  const fitStep = (performance.now() - t0) / 60;
  console.log(`fit: ${fitStep.toFixed(1)} ms per step; literal loop: ${steady.toFixed(1)} ms per step (${((steady / fitStep - 1) * 100).toFixed(1)}% vs fit)`);
}
