/** Geometric augmentation layers (Keras 3's RandomRotation, RandomZoom, RandomTranslation, RandomCrop): per-image draws from the seeded counter-based generator feed kiln.image.transform in training; inference is the identity (RandomCrop: central crop + resize). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const images = kiln.randomUniform([6, 9, 8, 3], { seed: 4, minval: 0, maxval: 255 });
const rows = (t: kiln.Tensor) => t.arraySync() as number[][][][];
const maxDiff = (a: kiln.Tensor, b: kiln.Tensor) => Math.max(...(kiln.abs(kiln.sub(a, b)).dataSync() as Float32Array));
const at = (step: number) => ({ step: kiln.tensor(step) });
/** The layer's draws: stream k of its seed at this step, one per image, mapped to [lo, hi). */
const draws = (seed: number, k: number, step: number, lo: number, hi: number) =>
  kiln.add(kiln.mul(kiln.reshape(kiln.randomUniformOp([6, 1, 1, 1], (seed + k * 0x9e3779b9) >>> 0, step), [6]), hi - lo), lo);

describe('random geometric layers in training', () => {
  test('randomRotation turns each image by its own angle in ±factor·2π, about the centre, reflect fill by default', () => {
    const layer = kiln.layers.randomRotation({ factor: 0.1, seed: 7 });
    const out = layer.call(images, at(3), { training: true });
    const angles = draws(7, 0, 3, -0.2 * Math.PI, 0.2 * Math.PI);
    expect(maxDiff(out, kiln.image.rotate(images, angles, { fillMode: 'reflect' }))).toBeLessThan(1e-3);
    const a = angles.dataSync() as Float32Array;
    expect(new Set(Array.from(a, (v) => v.toFixed(4))).size).toBe(6); // one angle per image
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(0.2 * Math.PI);
    expect(maxDiff(layer.call(images, at(4), { training: true }), out)).toBeGreaterThan(1); // the next step draws anew
    expect(rows(layer.call(images, at(3), { training: false }))).toEqual(rows(images));
  });

  test('randomRotation honours [lo, hi], fillMode constant, fillValue and nearest interpolation', () => {
    const layer = kiln.layers.randomRotation({ factor: [0.05, 0.25], fillMode: 'constant', fillValue: 9, interpolation: 'nearest', seed: 2 });
    const out = layer.call(images, at(0), { training: true });
    const want = kiln.image.rotate(images, draws(2, 0, 0, 0.1 * Math.PI, 0.5 * Math.PI), { fillMode: 'constant', fillValue: 9, interpolation: 'nearest' });
    expect(maxDiff(out, want)).toBeLessThan(1e-3);
  });

  test('randomZoom without widthFactor keeps the aspect ratio (one draw for both axes); with it, the axes draw apart', () => {
    const keep = kiln.layers.randomZoom({ heightFactor: [-0.3, 0.2], seed: 5 });
    const z = draws(5, 0, 1, 0.7, 1.2);
    expect(maxDiff(keep.call(images, at(1), { training: true }), kiln.image.zoom(images, z, z, { fillMode: 'reflect' }))).toBeLessThan(1e-3);
    const apart = kiln.layers.randomZoom({ heightFactor: 0.2, widthFactor: [0, 0.5], fillMode: 'nearest', seed: 5 });
    const want = kiln.image.zoom(images, draws(5, 0, 1, 0.8, 1.2), draws(5, 1, 1, 1, 1.5), { fillMode: 'nearest' });
    expect(maxDiff(apart.call(images, at(1), { training: true }), want)).toBeLessThan(1e-3);
  });

  test('randomTranslation shifts by fractions of the height (down) and width (right)', () => {
    const layer = kiln.layers.randomTranslation({ heightFactor: 0.2, widthFactor: [-0.5, 0], fillMode: 'wrap', seed: 8 });
    const want = kiln.image.translate(images, draws(8, 1, 2, -0.5 * 8, 0), draws(8, 0, 2, -0.2 * 9, 0.2 * 9), { fillMode: 'wrap' });
    expect(maxDiff(layer.call(images, at(2), { training: true }), want)).toBeLessThan(1e-3);
  });

  test('randomCrop takes a whole-pixel window of each image in training, every offset possible; a central crop + resize at inference', () => {
    const layer = kiln.layers.randomCrop({ height: 5, width: 4, seed: 3 });
    const x = rows(images);
    const offsets = new Set<string>();
    for (let step = 0; step < 12; step++) {
      const out = rows(layer.call(images, at(step), { training: true }));
      out.forEach((img, b) => {
        const found: string[] = [];
        for (let top = 0; top <= 4; top++) for (let left = 0; left <= 4; left++) {
          if (img.every((row, i) => row.every((px, j) => px.every((v, c) => v === x[b]![top + i]![left + j]![c])))) found.push(`${top},${left}`);
        }
        expect(found.length).toBe(1);
        offsets.add(found[0]!);
      });
    }
    expect(offsets.size).toBeGreaterThan(15); // 25 windows, 72 draws
    const infer = layer.call(images, {}, { training: false });
    expect(rows(infer)).toEqual(rows(kiln.layers.resizing({ height: 5, width: 4, cropToAspectRatio: true }).call(images)));
  });
});

describe('in a model', () => {
  test("they compile into the training step, keep predict unchanged, and report Keras's option names in their config", async () => {
    const build = (augment: boolean) => kiln.sequential({ layers: [
      kiln.layers.rescaling({ inputShape: [9, 8, 3], scale: 1 / 255 } as never),
      ...(augment ? [
        kiln.layers.randomRotation({ factor: 0.1, seed: 1 }), kiln.layers.randomZoom({ heightFactor: 0.2, seed: 2 }),
        kiln.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, fillMode: 'constant', seed: 3 }),
      ] : []),
      kiln.layers.flatten(),
      kiln.layers.dense({ units: 2, kernelInitializer: kiln.layers.initializers.glorotUniform({ seed: 5 }) } as never),
    ] });
    const augmented = build(true);
    const plain = build(false);
    for (const m of [augmented, plain]) m.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    await augmented.ready();
    await plain.ready();
    expect((augmented.predict(images) as kiln.Tensor).arraySync()).toEqual((plain.predict(images) as kiln.Tensor).arraySync());
    const y = kiln.tensor([0, 1, 0, 1, 0, 1], [6], 'int32');
    const h = await augmented.fit(images, y, { epochs: 3, batchSize: 4, verbose: 0 });
    expect(h.history.loss!.every((l) => Number.isFinite(l as number))).toBe(true);
    const rotation = augmented.layers[1]!.getConfig() as Record<string, unknown>;
    expect(rotation).toMatchObject({ factor: [-0.1, 0.1], fillMode: 'reflect', interpolation: 'bilinear', fillValue: 0, seed: 1 });
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-augment-')), 'augmented.kiln');
    await augmented.save(path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.toConfig()).toEqual(augmented.toConfig());
    expect(maxDiff(loaded.predict(images) as kiln.Tensor, augmented.predict(images) as kiln.Tensor)).toBeLessThan(1e-4); // compiled vs interpreted rounding
  }, 120_000);

  test('randomCrop in a model: [h, w] out in training and at inference, saved and loaded', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.randomCrop({ inputShape: [9, 8, 3], height: 6, width: 6, seed: 4 } as never), kiln.layers.flatten(), kiln.layers.dense({ units: 2 })] });
    model.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const h = await model.fit(images, kiln.tensor([0, 1, 0, 1, 0, 1], [6], 'int32'), { epochs: 2, batchSize: 3, verbose: 0 });
    expect(h.history.loss!.every((l) => Number.isFinite(l as number))).toBe(true);
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-crop-')), 'crop.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path);
    const want = model.predict(images) as kiln.Tensor;
    expect(want.shape).toEqual([6, 2]);
    expect(maxDiff(loaded.predict(images) as kiln.Tensor, want) / Math.max(...(kiln.abs(want).dataSync() as Float32Array))).toBeLessThan(1e-5); // pixels 0–255 unscaled: relative
  }, 120_000);
});

describe('bad options name the layer', () => {
  test.each([
    [() => kiln.layers.randomRotation({ factor: 'big' as never }), /RandomRotation.*expected factor to be a number or \[lo, hi\], got "big"/],
    [() => kiln.layers.randomRotation({ factor: 0.1, fillMode: 'mirror' as never }), /RandomRotation.*expected fillMode 'constant', 'reflect', 'wrap', 'nearest', got "mirror"/],
    [() => kiln.layers.randomRotation({ factor: 0.1, interpolation: 'bicubic' as never }), /RandomRotation.*interpolation/],
    [() => kiln.layers.randomZoom({ heightFactor: [-1.5, 0] }), /RandomZoom.*heightFactor with a lower bound of at least −1/],
    [() => kiln.layers.randomZoom({} as never), /RandomZoom.*heightFactor/],
    [() => kiln.layers.randomTranslation({ heightFactor: 1.5, widthFactor: 0 }), /RandomTranslation.*heightFactor.*within \[−1, 1\], got 1.5/],
    [() => kiln.layers.randomCrop({ height: 0, width: 3 }), /RandomCrop.*positive integers/],
  ])('%#', (run, message) => {
    expect(run).toThrow(kiln.KilnError);
    expect(run).toThrow(message);
  });
});
