/** Non-finite weights are not written (issue: after a NaN loss every weight was NaN, and save/export wrote them, loadModel loaded them). */
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

describe('save and export refuse non-finite weights unless told otherwise', () => {
  test('a diverged weight is named, counted and not written; allowNonFinite writes it', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [3], units: 2, name: 'out' })] });
    const [kernel, bias] = model.getWeights();
    const bad = Float32Array.from(kernel!.dataSync());
    bad[4] = NaN;
    bad[5] = Infinity;
    model.setWeights([kiln.tensor(bad, [3, 2]), bias!]);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-nonfinite-'));
    const why = 'holds NaN at index 4 (2 of 6 values are not finite); the model diverged — restore a checkpoint or lower the learning rate, or pass { allowNonFinite: true } to write it anyway.';
    await expect(model.save(join(dir, 'm.kiln'))).rejects.toThrow(`save: weight "out/kernel" ${why}`);
    expect(existsSync(join(dir, 'm.kiln'))).toBe(false);
    await expect(model.export(join(dir, 'm.kiln-artifact'))).rejects.toThrow(/^export: weight "[^"]*kernel[^"]*" holds NaN at index 4 \(2 of 6 values are not finite\)/);
    await model.save(join(dir, 'm.kiln'), { allowNonFinite: true });
    const again = await kiln.loadModel(join(dir, 'm.kiln'));
    expect(Number.isNaN(again.getWeights()[0]!.dataSync()[4])).toBe(true);
  });
});

describe('the compiled step never applies non-finite numbers to the model', () => {
  const weightsOf = (m: { getWeights(): kiln.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));
  const x = kiln.tensor([[1, 1], [2, 2], [1, 2], [2, 1]]);
  const build = (optimizer: unknown, loss: unknown = 'meanSquaredError') => {
    const m = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 1, kernelInitializer: 'ones', biasInitializer: 'zeros' } as never)] });
    m.compile({ optimizer, loss } as never);
    return m;
  };

  test('an update that overflows float32 from a finite loss and gradients is not caught in the step; save refuses its weights', async () => {
    // plain SGD at 1e38: every update is larger than float32 holds (the documented gap of the in-module check)
    const model = build(kiln.optimizers.sgd({ learningRate: 1e38 }));
    const loss = (await model.trainOnBatch(x, kiln.tensor([[10], [20], [15], [15]]))) as number;
    expect(loss).toBe(152); // ((2-10)² + (4-20)² + (3-15)² + (3-15)²) / 4, finite
    expect(weightsOf(model).flat().some((v) => !Number.isFinite(v))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-overflow-'));
    await expect(model.save(join(dir, 'm.kiln'))).rejects.toThrow(/^save: weight "[^"]+" holds -?Infinity at index/);
  });

  test('a finite loss with non-finite gradients skips the whole step (weights, Adam moments and step count) and says so', async () => {
    // sqrt(|e|) at e = 0: the loss is 0, its gradient NaN
    const root = { name: 'rootAbsoluteError', sparse: false, fromLogits: false, fn: (yTrue: kiln.Tensor, yPred: kiln.Tensor) => kiln.mean(kiln.sqrt(kiln.abs(kiln.sub(yPred, yTrue)))) };
    const good = kiln.tensor([[3], [5], [4], [4]]); // away from the kink
    const kink = kiln.tensor([[2], [4], [3], [3]]); // exactly the predictions of the initial weights
    const skipped = build(kiln.optimizers.adam({ learningRate: 0.1 }), root);
    const before = weightsOf(skipped);
    await expect(skipped.trainOnBatch(x, kink)).rejects.toThrow(/^trainOnBatch: the loss or its gradients became non-finite at batch 0; that step was not applied/);
    expect(weightsOf(skipped)).toEqual(before);
    // the next good step is Adam's first step (t = 1, zero moments), bit for bit
    await skipped.trainOnBatch(x, good);
    const fresh = build(kiln.optimizers.adam({ learningRate: 0.1 }), root);
    await fresh.trainOnBatch(x, good);
    expect(weightsOf(skipped)).toEqual(weightsOf(fresh));
  });

  test('a finite gradient whose square would overflow float32 (past 2^63) skips the step: Adam\'s second moment stays finite', async () => {
    const model = build(kiln.optimizers.adam({ learningRate: 0.1 }));
    const before = weightsOf(model);
    // prediction 2e15 against 0: the loss (4e30) is finite, the kernel's gradient (4e30) is too, its square (1.6e61) is not
    const huge = kiln.tensor([[1e15, 1e15]]);
    await expect(model.trainOnBatch(huge, kiln.tensor([[0]]))).rejects.toThrow(/^trainOnBatch: the loss or its gradients became non-finite at batch 0; that step was not applied/);
    expect(weightsOf(model)).toEqual(before);
    // Adam's state was not touched: the next ordinary step is its first
    await model.trainOnBatch(x, kiln.tensor([[3], [5], [4], [4]]));
    const fresh = build(kiln.optimizers.adam({ learningRate: 0.1 }));
    await fresh.trainOnBatch(x, kiln.tensor([[3], [5], [4], [4]]));
    expect(weightsOf(model)).toEqual(weightsOf(fresh));
  });

  test('fit that meets a non-finite loss throws naming the batch and keeps the weights of the batch before; terminateOnNaN stops there', async () => {
    const y = kiln.tensor([[10], [20], [15], [15]]);
    // batch 0 is fine; its update (lr 1e18) makes batch 1's squared error overflow to Infinity
    const reference = build(kiln.optimizers.sgd({ learningRate: 1e18 }));
    await reference.trainOnBatch(kiln.slice(x, [0, 0], [2, -1]), kiln.slice(y, [0, 0], [2, -1]));
    const afterBatch0 = weightsOf(reference);
    expect(afterBatch0.flat().every(Number.isFinite)).toBe(true);

    const model = build(kiln.optimizers.sgd({ learningRate: 1e18 }));
    await expect(model.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 })).rejects.toThrow(/^fit: the loss or its gradients became non-finite at batch 1; that step was not applied/);
    expect(weightsOf(model)).toEqual(afterBatch0);

    const stopped = build(kiln.optimizers.sgd({ learningRate: 1e18 }));
    const log = console.log;
    const lines: string[] = [];
    console.log = (line: string) => lines.push(line);
    try {
      const history = await stopped.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0, callbacks: [kiln.callbacks.terminateOnNaN()] });
      expect(history.epoch).toEqual([0]);
    } finally {
      console.log = log;
    }
    expect(lines).toEqual(['Batch 1: Invalid loss, terminating training']);
    expect(weightsOf(stopped)).toEqual(afterBatch0);
  });

  test('PyTorch-style: optimizer.step with a NaN gradient leaves the parameters as they were', async () => {
    kiln.manualSeed(3);
    const layer = new kiln.nn.Linear(2, 1);
    const opt = new kiln.optim.SGD(layer.parameters(), { lr: 0.1 });
    const before = [Array.from(layer.weight.dataSync()), Array.from(layer.bias!.dataSync())];
    opt.zeroGrad();
    const out = layer.forward(kiln.tensor([[1, NaN]]));
    kiln.sum(out).backward();
    await opt.step();
    expect([Array.from(layer.weight.dataSync()), Array.from(layer.bias!.dataSync())]).toEqual(before);
  });
});
