/** The Fashion-MNIST CNN as a PyTorch-style module (NCHW input): two 5×5 conv + relu + 2×2 max-pool blocks, then a linear layer to the 10 classes. */
import * as kiln from '../../src/index.js';

const { nn } = kiln;
const F = nn.functional;

export class Net extends nn.Module {
  conv1 = new nn.Conv2d(1, 32, 5, { padding: 2, seed: 1 });
  pool = new nn.MaxPool2d(2);
  conv2 = new nn.Conv2d(32, 64, 5, { padding: 2, seed: 2 });
  flatten = new nn.Flatten();
  fc = new nn.Linear(64 * 7 * 7, 10, { seed: 3 });
  forward(x: kiln.Tensor): kiln.Tensor {
    const h = this.pool.forward(F.relu(this.conv1.forward(x)));
    return this.fc.forward(this.flatten.forward(this.pool.forward(F.relu(this.conv2.forward(h)))));
  }
}

/** The same network the Keras way (NHWC input), for comparisons with fit. */
export function kerasNet(): kiln.Sequential {
  const model = kiln.sequential({ layers: [
    kiln.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.flatten(),
    kiln.layers.dense({ units: 10 }),
  ] });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  return model;
}
