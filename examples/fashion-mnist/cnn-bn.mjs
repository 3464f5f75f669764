// The Fashion-MNIST CNN with batch normalization, for `kiln train`:
//   node dist/src/cli.js train examples/fashion-mnist/cnn-bn.mjs --data fashion-mnist --path <folder of the IDX files> --epochs 12
import * as kiln from 'kiln';

const { layers } = kiln;
export default () => {
  const model = kiln.sequential({ name: 'fashion_cnn_bn', layers: [
    layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, padding: 'same', useBias: false }),
    layers.batchNormalization({}),
    layers.activation({ activation: 'relu' }),
    layers.maxPooling2d({ poolSize: 2 }),
    layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', useBias: false }),
    layers.batchNormalization({}),
    layers.activation({ activation: 'relu' }),
    layers.maxPooling2d({ poolSize: 2 }),
    layers.flatten(),
    layers.dropout({ rate: 0.4, seed: 1 }),
    layers.dense({ units: 256, activation: 'relu' }),
    layers.dropout({ rate: 0.4, seed: 2 }),
    layers.dense({ units: 10 }),
  ] });
  model.compile({
    optimizer: kiln.optimizers.adam({ learningRate: kiln.optimizers.schedules.cosineDecay({ initialLearningRate: 2e-3, decaySteps: 12 * 844 }) }),
    loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }),
    metrics: ['accuracy'],
  });
  return model;
};
