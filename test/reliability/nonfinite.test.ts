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
