// The Fashion-MNIST multilayer perceptron, for `kiln train`:
//   node dist/src/cli.js train examples/fashion-mnist/mlp.mjs --data fashion-mnist --path <folder of the IDX files> --epochs 20
import * as kiln from 'kiln';

const { layers } = kiln;
export default () => {
  const model = kiln.sequential({ name: 'fashion_mlp', layers: [
    layers.flatten({ inputShape: [28, 28, 1] }),
    layers.dense({ units: 256, activation: 'relu' }),
    layers.dropout({ rate: 0.2, seed: 1 }),
    layers.dense({ units: 128, activation: 'relu' }),
    layers.dropout({ rate: 0.2, seed: 2 }),
    layers.dense({ units: 10 }),
  ] });
  model.compile({
    optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }),
    loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }),
    metrics: ['accuracy'],
  });
  return model;
};
