/**
 * kiln.layers.lambda (Keras' Lambda): a function of kiln ops as a layer, in
 * Sequential and functional models, with one input or several; it trains, its
 * output shape is traced, exported artifacts carry it, and a saved model file
 * refuses it (its function is code) with an error that says what to do instead.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { loadArtifact, type TensorData } from '../../src/runtime/index.js';

const values = (t: kiln.Tensor | kiln.Tensor[]) => Array.from((t as kiln.Tensor).dataSync());

describe('kiln.layers.lambda', () => {
  test('one input: x² − 1 in a functional model, its shape traced', () => {
    const x = kiln.input({ shape: [3] });
    const y = kiln.layers.lambda({ fn: (t) => kiln.sub(kiln.square(t as kiln.Tensor), 1) }).apply(x) as kiln.SymbolicTensor;
    const summed = kiln.layers.lambda({ fn: (t) => kiln.sum(t as kiln.Tensor, -1, true) }).apply(y) as kiln.SymbolicTensor;
    expect(y.shape).toEqual([3]);
    expect(summed.shape).toEqual([1]);
    const model = kiln.model({ inputs: x, outputs: [y, summed] });
    const [squares, sums] = model.predict(kiln.tensor([[1, 2, 3], [-1, 0, 0.5]], [2, 3])) as kiln.Tensor[];
    expect(values(squares!)).toEqual([0, 3, 8, 0, -1, -0.75]);
    expect(values(sums!)).toEqual([11, -1.75]);
  });

  test('several inputs: fn gets them as a list', () => {
    const a = kiln.input({ shape: [2] });
    const b = kiln.input({ shape: [2] });
    const out = kiln.layers.lambda({ fn: (ts) => { const [p, q] = ts as kiln.Tensor[]; return kiln.add(p!, kiln.mul(q!, 3)); } }).apply([a, b]) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: [a, b], outputs: out });
    expect(values(model.predict([kiln.tensor([[1, 2]], [1, 2]), kiln.tensor([[10, -1]], [1, 2])]))).toEqual([31, -1]);
  });

  test('in a Sequential model it trains (gradients flow through it), and the artifact predicts as the model', async () => {
    kiln.utils.setRandomSeed(3);
    const model = kiln.sequential({ layers: [
      kiln.layers.dense({ inputShape: [4], units: 8 }),
      kiln.layers.lambda({ fn: (t) => kiln.mul(kiln.tanh(t as kiln.Tensor), 2) }),
      kiln.layers.dense({ units: 1 }),
    ] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: 'meanSquaredError' });
    const x = kiln.randomNormal([32, 4], { seed: 1 });
    const y = kiln.sum(x, -1, true);
    const first = await model.trainOnBatch(x, y) as number;
    let last = first;
    for (let i = 0; i < 40; i++) last = await model.trainOnBatch(x, y) as number;
    expect(last).toBeLessThan(first * 0.5);
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-lambda-')), 'm.kiln');
    await model.export(file);
    const artifact = await loadArtifact(readFileSync(file));
    expect(Array.from((artifact.predict(x.dataSync() as Float32Array) as TensorData).data)).toEqual(values(model.predict(x)));
  });

  test('save refuses it and says what to do; saveWeights and a rebuilt model serve instead', async () => {
    const build = () => kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 2 }), kiln.layers.lambda({ name: 'double', fn: (t) => kiln.mul(t as kiln.Tensor, 2) })] });
    const model = build();
    const dir = mkdtempSync(join(tmpdir(), 'kiln-lambda-save-'));
    await expect(model.save(join(dir, 'm.kiln'))).rejects.toThrow('save: layer "double" is a Lambda layer, whose function is code that a saved model cannot carry; save the weights (model.saveWeights) and rebuild the model in code, or export an artifact (model.export), which holds the compiled function.');
    await model.saveWeights(join(dir, 'w.safetensors'));
    const again = build();
    await again.loadWeights(join(dir, 'w.safetensors'));
    const x = kiln.tensor([[0.5, -2]], [1, 2]);
    expect(values(again.predict(x))).toEqual(values(model.predict(x)));
  });

  test('bad input names the layer', () => {
    expect(() => kiln.layers.lambda({ fn: 3 as never })).toThrow(/Lambda.*expected fn to be a function of kiln ops, got number/);
    const x = kiln.input({ shape: [3] });
    expect(() => kiln.layers.lambda({ name: 'total', fn: (t) => kiln.sum(t as kiln.Tensor) }).apply(x)).toThrow(/total.*expected fn to keep the batch dimension first.*got f32\[\]/);
    expect(() => kiln.layers.lambda({ name: 'notTensor', fn: () => 3 as never }).apply(x)).toThrow(/notTensor.*expected fn to return a Tensor, got number/);
  });
});
