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

describe('terminateOnNaN undoes a step whose new weights are not finite, even when its loss was', () => {
  test('the model keeps the last finite weights and optimizer state; the step is reported as an invalid loss', async () => {
    const build = () => {
      const m = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 1, kernelInitializer: 'ones', biasInitializer: 'zeros' } as never)] });
      m.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 1e38 }), loss: 'meanSquaredError' });
      return m;
    };
    const x = kiln.tensor([[1, 1], [2, 2], [1, 2], [2, 1]]);
    const y = kiln.tensor([[10], [20], [15], [15]]);
    // one step of plain SGD: the loss (finite) is computed before the update that overflows every weight
    const probe = build();
    const loss = (await probe.trainOnBatch(x, y)) as number;
    expect(Number.isFinite(loss)).toBe(true);
    expect(probe.getWeights().some((w) => Array.from(w.dataSync()).some((v) => !Number.isFinite(v)))).toBe(true);

    const model = build();
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const log = console.log;
    const lines: string[] = [];
    console.log = (line: string) => lines.push(line);
    try {
      const history = await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0, callbacks: [kiln.callbacks.terminateOnNaN()] });
      expect(history.epoch).toEqual([0]);
      expect(Number.isNaN(history.history.loss![0])).toBe(true);
    } finally {
      console.log = log;
    }
    expect(lines).toEqual(['Batch 0: Invalid loss, terminating training']);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
  });
});
