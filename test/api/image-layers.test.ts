/** Image preprocessing layers: Resizing/CenterCrop equal kiln.image; random layers draw per image in training (seeded, by step) and are the identity at inference. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const images = kiln.randomUniform([16, 6, 5, 3], { seed: 4, minval: 0, maxval: 255 });
const rows = (t: kiln.Tensor) => t.arraySync() as number[][][][];
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

describe('resizing and centerCrop', () => {
  test('in a model they equal kiln.image.resize and a central box', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.resizing({ inputShape: [6, 5, 3], height: 9, width: 4 } as never), kiln.layers.centerCrop({ height: 5, width: 2 })] });
    await model.ready();
    const want = kiln.image.cropToBoundingBox(kiln.image.resize(images, [9, 4]), 2, 1, 5, 2);
    const got = model.predict(images) as kiln.Tensor;
    expect(got.shape).toEqual([16, 5, 2, 3]);
    const diff = Math.max(...Array.from(got.dataSync(), (v, i) => Math.abs(v - want.dataSync()[i]!)));
    expect(diff).toBeLessThan(1e-3);
  });

  test('cropToAspectRatio crops the central window of the target ratio before resizing', () => {
    const layer = kiln.layers.resizing({ height: 2, width: 2, cropToAspectRatio: true });
    const got = (layer as kiln.layers.Layer).call(images, {}, { training: false });
    const want = kiln.image.resize(kiln.image.cropToBoundingBox(images, 0, 0, 5, 5), [2, 2]);
    expect(got.arraySync()).toEqual(want.arraySync());
    expect(() => kiln.layers.centerCrop({ height: 7, width: 2, name: 'crop' }).computeOutputShape([6, 5, 3])).toThrow('CenterCrop "crop": expected images of at least 7×2, got 6×5');
  });
});

describe('random layers', () => {
  const at = (step: number) => ({ step: kiln.tensor(step) });

  test('randomFlip flips about half the images, each wholly or not at all; the draws depend on seed and step; inference is the identity', () => {
    const flip = kiln.layers.randomFlip({ mode: 'horizontal', seed: 11 });
    const out = rows(flip.call(images, at(0), { training: true }));
    const x = rows(images);
    const mirrored = rows(kiln.image.flipLeftRight(images));
    const flipped = out.map((img, i) => (same(img, mirrored[i]) ? 1 : same(img, x[i]) ? 0 : NaN));
    expect(flipped.every((f) => f === 0 || f === 1)).toBe(true);
    expect(flipped.filter((f) => f === 1).length).toBeGreaterThan(2);
    expect(flipped.filter((f) => f === 0).length).toBeGreaterThan(2);
    expect(rows(flip.call(images, at(0), { training: true }))).toEqual(out); // same seed and step, same draws
    expect(same(rows(flip.call(images, at(1), { training: true })), out)).toBe(false); // the next step draws anew
    expect(rows(flip.call(images, at(0), { training: false }))).toEqual(x);
  });

  test('randomBrightness shifts each image by one delta within the range, clipped to the value range', () => {
    const layer = kiln.layers.randomBrightness({ factor: 0.1, seed: 3 });
    const out = rows(layer.call(images, at(5), { training: true }));
    const x = rows(images);
    out.forEach((img, i) => {
      const deltas = img.flat(2).map((v, k) => v - x[i]!.flat(2)[k]!).filter((_, k) => x[i]!.flat(2)[k]! > 30 && x[i]!.flat(2)[k]! < 225);
      expect(Math.max(...deltas) - Math.min(...deltas)).toBeLessThan(1e-3); // one shift per image
      expect(Math.abs(deltas[0]!)).toBeLessThanOrEqual(25.5 + 1e-3);
      expect(Math.min(...img.flat(2))).toBeGreaterThanOrEqual(0);
      expect(Math.max(...img.flat(2))).toBeLessThanOrEqual(255);
    });
  });

  test('randomContrast scales each image about its channel means by one factor in [1 − f, 1 + f]', () => {
    const layer = kiln.layers.randomContrast({ factor: 0.5, valueRange: [-1e9, 1e9], seed: 9 });
    const out = layer.call(images, at(2), { training: true });
    const mean = kiln.mean(images, [1, 2], true);
    const ratio = kiln.div(kiln.sub(out, mean), kiln.sub(images, mean)).arraySync() as number[][][][];
    ratio.forEach((img) => {
      const r = img.flat(2);
      expect(Math.max(...r) - Math.min(...r)).toBeLessThan(1e-3);
      expect(r[0]!).toBeGreaterThanOrEqual(0.5 - 1e-4);
      expect(r[0]!).toBeLessThanOrEqual(1.5 + 1e-4);
    });
  });

  test('in a model they compile into the training step and leave predict alone', async () => {
    const build = (augment: boolean) => kiln.sequential({ layers: [
      ...(augment ? [kiln.layers.randomFlip({ inputShape: [6, 5, 3], seed: 1 } as never), kiln.layers.randomContrast({ factor: 0.2, seed: 2 })] : []),
      kiln.layers.rescaling({ ...(augment ? {} : { inputShape: [6, 5, 3] }), scale: 1 / 255 } as never),
      kiln.layers.flatten(),
      kiln.layers.dense({ units: 2, kernelInitializer: kiln.layers.initializers.glorotUniform({ seed: 5 }) } as never),
    ] });
    const augmented = build(true);
    const plain = build(false);
    for (const m of [augmented, plain]) m.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    await augmented.ready();
    await plain.ready();
    expect((augmented.predict(images) as kiln.Tensor).arraySync()).toEqual((plain.predict(images) as kiln.Tensor).arraySync());
    const y = kiln.tensor(Array.from({ length: 16 }, (_, i) => i % 2), [16], 'int32');
    const h = await augmented.fit(images, y, { epochs: 3, batchSize: 8, verbose: 0 });
    expect(h.history.loss!.every((l) => Number.isFinite(l as number))).toBe(true);
    const steps = augmented.getWeights().length; // the step counters are bookkeeping, not weights
    expect(steps).toBe(plain.getWeights().length);
  });
});
