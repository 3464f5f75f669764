/**
 * The TF2 / Keras custom training loop: model.apply on tensors, gradients of a
 * loss with respect to model.trainableWeights (kiln.variableGrads), and
 * optimizer.applyGradients — eagerly and as one kiln.compile'd step — train the
 * model itself, step for step as trainOnBatch does.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const n = 32;
const x = kiln.randomNormal([n, 5], { seed: 3 });
const y = kiln.tensor(Array.from({ length: n }, (_, i) => i % 3), [n], 'int32');
const lossFn = kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true });

function build(): kiln.LayersModel {
  const init = (seed: number) => kiln.layers.initializers.glorotUniform({ seed });
  return kiln.sequential({ layers: [
    kiln.layers.dense({ inputShape: [5], units: 8, activation: 'relu', kernelInitializer: init(1) } as never),
    kiln.layers.dense({ units: 3, kernelInitializer: init(2) } as never),
  ] }) as kiln.LayersModel;
}

/** The losses of `steps` trainOnBatch steps with SGD. */
async function reference(steps: number): Promise<{ losses: number[]; weights: number[][] }> {
  const model = build();
  model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: lossFn });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await model.trainOnBatch(x, y)) as number);
  return { losses, weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
}

const close = (a: number[], b: number[], tol: number) => a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(tol * Math.max(1, Math.abs(b[i]!))));

describe('a custom loop over model.trainableWeights', () => {
  test('model.apply on tensors gives predict’s values', async () => {
    const model = build();
    await model.ready();
    close(Array.from((model.apply(x) as kiln.Tensor).dataSync()), Array.from((model.predict(x) as kiln.Tensor).dataSync()), 1e-5);
  });

  test('eagerly: variableGrads + applyGradients follow trainOnBatch’s losses and weights', async () => {
    const want = await reference(4);
    const model = build();
    const opt = kiln.optimizers.sgd({ learningRate: 0.1 });
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const vars = model.trainableWeights;
      const { value, grads } = kiln.variableGrads(() => lossFn.fn(y, model.apply(x, { training: true }) as kiln.Tensor), vars);
      await opt.applyGradients(grads.map((g, k) => [g, vars[k]!] as const));
      losses.push(value.itemSync());
    }
    close(losses, want.losses, 1e-5);
    model.getWeights().forEach((w, k) => close(Array.from(w.dataSync()), want.weights[k]!, 1e-4));
  });

  test('compiled: the same body in kiln.compile runs as one step and trains the model', async () => {
    const want = await reference(4);
    const model = build();
    const opt = kiln.optimizers.sgd({ learningRate: 0.1 });
    const step = kiln.compile((xb, yb) => {
      const vars = model.trainableWeights;
      const { value, grads } = kiln.variableGrads(() => lossFn.fn(yb!, model.apply(xb!, { training: true }) as kiln.Tensor), vars);
      opt.applyGradients(grads.map((g, k) => [g, vars[k]!] as const));
      return value;
    });
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) losses.push(((await step(x, y)) as kiln.Tensor).itemSync());
    close(losses, want.losses, 1e-5);
    model.getWeights().forEach((w, k) => close(Array.from(w.dataSync()), want.weights[k]!, 1e-4));
  });

  test('outside kiln.compile, applyGradients needs variables', () => {
    const opt = kiln.optimizers.sgd({ learningRate: 0.1 });
    expect(() => opt.applyGradients([[kiln.zeros([2]), kiln.zeros([2])]])).toThrow('outside kiln.compile, expected [gradient, variable] pairs');
  });
});
