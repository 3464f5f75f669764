/**
 * Reproducible by construction: after kiln.utils.setRandomSeed (kiln.manualSeed)
 * every unseeded draw — initializers, dropout, random layers, shuffles, random
 * tensors, PyTorch-style init — repeats, so one process can repeat a run bit for bit.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

async function kerasRun(): Promise<{ losses: number[]; weights: number[][] }> {
  const x = kiln.randomNormal([64, 5]); // unseeded: from the global stream
  const y = kiln.tensor(Array.from({ length: 64 }, (_, i) => i % 2), [64], 'int32');
  const model = kiln.sequential({ layers: [
    kiln.layers.dense({ inputShape: [5], units: 16, activation: 'relu' }),
    kiln.layers.dropout({ rate: 0.3 }),
    kiln.layers.dense({ units: 2 }),
  ] });
  model.compile({ optimizer: 'adam', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  const ds = kiln.data.fromTensors([x, y]).shuffle(64).batch(16);
  const h = await model.fit(ds, { epochs: 3, verbose: 0 });
  return { losses: h.history.loss as number[], weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
}

describe('setRandomSeed', () => {
  test('two Keras-style runs after the same seed give the same losses and weights, bit for bit; another seed differs', async () => {
    kiln.utils.setRandomSeed(123);
    const a = await kerasRun();
    kiln.utils.setRandomSeed(123);
    const b = await kerasRun();
    expect(b).toEqual(a);
    kiln.manualSeed(124);
    const c = await kerasRun();
    expect(c.losses).not.toEqual(a.losses);
  });

  test('PyTorch-style init and random tensors repeat after manualSeed', () => {
    const draw = () => {
      const layer = new kiln.nn.Linear(4, 3);
      return [Array.from(layer.weight.dataSync()), Array.from(kiln.randn([5]).dataSync())];
    };
    kiln.manualSeed(7);
    const a = draw();
    kiln.manualSeed(7);
    expect(draw()).toEqual(a);
  });

  test('a seeded PyTorch-style training run repeats bit for bit in one process (every step compiled, the first included)', async () => {
    const run = async () => {
      kiln.manualSeed(11);
      const net = new kiln.nn.Sequential(new kiln.nn.Linear(6, 16), new kiln.nn.ReLU(), new kiln.nn.Linear(16, 3));
      const opt = new kiln.optim.Adam(net.parameters(), { lr: 0.01 });
      const x = kiln.randn([32, 6]);
      const y = kiln.randint(0, 3, [32]);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        const loss = kiln.nn.functional.crossEntropy(net.forward(x), y);
        loss.backward();
        await opt.step();
        losses.push(await loss.item());
      }
      return { losses, params: net.parameters().map((p) => Array.from(p.dataSync())) };
    };
    const a = await run();
    const b = await run();
    expect(b.losses).toEqual(a.losses);
    expect(b.params).toEqual(a.params);
  });

  test('a non-integer seed is refused', () => {
    expect(() => kiln.utils.setRandomSeed(1.5)).toThrow('setRandomSeed: expected an integer seed, got 1.5.');
    expect(() => kiln.manualSeed('1' as never)).toThrow('setRandomSeed: expected an integer seed, got string.');
  });
});
