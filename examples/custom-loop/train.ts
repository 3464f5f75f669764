/**
 * The third way to train, Keras's custom training loop (TF2's GradientTape loop)
 * in kiln: the model is applied to batches, kiln.variableGrads takes the
 * gradients of the loss with respect to model.trainableWeights, and the optimizer
 * applies them. The step body is wrapped in kiln.compile, so each step runs as
 * one compiled module call; the trained model then evaluates and saves as usual.
 *
 *   npx tsc -p examples/custom-loop && node dist/examples/custom-loop/train.js [--epochs 2]
 */
import * as kiln from '../../src/index.js';

const args = process.argv.slice(2);
const epochs = Number(args[args.indexOf('--epochs') + 1] ?? 2) || 2;
kiln.manualSeed(0);

const { train, test } = await kiln.datasets.fashionMnist.load();
const model = kiln.sequential({ layers: [
  kiln.layers.flatten({ inputShape: [28, 28, 1] }),
  kiln.layers.dense({ units: 128, activation: 'relu' }),
  kiln.layers.dense({ units: 10 }),
] });
const lossFn = kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true });
const optimizer = kiln.optimizers.adam({ learningRate: 1e-3 });

// one training step: forward, loss, gradients, update — traced once, compiled, then run per batch
const trainStep = kiln.compile((x, y) => {
  const weights = model.trainableWeights;
  const { value, grads } = kiln.variableGrads(() => lossFn.fn(y!, model.apply(x!, { training: true }) as kiln.Tensor), weights);
  optimizer.applyGradients(grads.map((g, i) => [g, weights[i]!] as const));
  return value;
});

const batches = kiln.data.fromTensors([train.images, train.labels]).shuffle(8000, { seed: 0 }).batch(64);
for (let epoch = 0; epoch < epochs; epoch++) {
  const started = performance.now();
  let total = 0;
  let steps = 0;
  for await (const [x, y] of batches) {
    total += ((await trainStep(x, y)) as kiln.Tensor).itemSync();
    steps++;
  }
  console.log(`epoch ${epoch + 1}: mean loss ${(total / steps).toFixed(4)} over ${steps} steps, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// the loop trained the model itself: Keras's evaluate sees the new weights
model.compile({ optimizer, loss: lossFn, metrics: ['accuracy'] });
const [loss, accuracy] = (await model.evaluate(test.images, test.labels)) as kiln.Tensor[];
console.log(`test loss ${loss!.itemSync().toFixed(4)}, accuracy ${(accuracy!.itemSync() * 100).toFixed(1)}%`);
