/** kiln.image against PyTorch's interpolate (half-pixel bilinear and nearest-exact, as TF2's resize) and NumPy (scripts/image_reference.py): eager, compiled and differentiable. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/data/image.json', import.meta.url), 'utf8'));
const x = kiln.tensor(ref.x);
const maxDiff = (got: unknown, want: unknown): number =>
  Array.isArray(want) ? Math.max(0, ...want.map((w, i) => maxDiff((got as unknown[])[i], w))) : Math.abs((got as number) - (want as number));

describe('kiln.image matches the references', () => {
  const cases: [string, () => kiln.Tensor, unknown][] = [
    ['resize bilinear down', () => kiln.image.resize(x, [4, 5]), ref.bilinearDown],
    ['resize bilinear up', () => kiln.image.resize(x, [12, 15]), ref.bilinearUp],
    ['resize nearest down', () => kiln.image.resize(x, [4, 5], { method: 'nearest' }), ref.nearestDown],
    ['resize nearest up', () => kiln.image.resize(x, [12, 15], { method: 'nearest' }), ref.nearestUp],
    ['rot90', () => kiln.image.rot90(x), ref.rot90],
    ['rot90 k=3 (and k=-1)', () => kiln.image.rot90(x, -1), ref.rot270],
    ['flipLeftRight', () => kiln.image.flipLeftRight(x), ref.flipLeftRight],
    ['flipUpDown', () => kiln.image.flipUpDown(x), ref.flipUpDown],
    ['rgbToGrayscale', () => kiln.image.rgbToGrayscale(x), ref.grayscale],
    ['centralCrop 0.5', () => kiln.image.centralCrop(x, 0.5), ref.centralCrop],
    ['adjustContrast 1.7', () => kiln.image.adjustContrast(x, 1.7), ref.contrast],
    ['perImageStandardization', () => kiln.image.perImageStandardization(x), ref.standardized],
  ];
  for (const [name, run, want] of cases) {
    test(name, () => {
      const got = run();
      expect(got.shape).toEqual(shapeOf(want));
      expect(maxDiff(got.arraySync(), want)).toBeLessThan(2e-6);
    });
  }

  test('one image [h, w, c] works as a batch of one', () => {
    const one = kiln.image.resize(kiln.tensor(ref.x[1]), [4, 5]);
    expect(one.shape).toEqual([4, 5, 3]);
    expect(maxDiff(one.arraySync(), ref.bilinearDown[1])).toBeLessThan(2e-6);
  });
});

describe('compiled and differentiable', () => {
  test('inside kiln.compile, a resize + flip gives the eager values; its gradient passes a finite-difference check', async () => {
    const f = kiln.compile((images: kiln.Tensor) => kiln.image.flipLeftRight(kiln.image.resize(images, [12, 15])));
    const got = (await f(x)) as kiln.Tensor;
    expect(maxDiff(got.arraySync(), kiln.image.flipLeftRight(kiln.image.resize(x, [12, 15])).arraySync())).toBeLessThan(1e-6);
    const small = kiln.tensor(ref.x).slice([0, 0, 0, 0], [1, 3, 4, 2]);
    const check = kiln.checkGrads((t) => kiln.sum(kiln.mul(kiln.image.resize(t, [5, 3]), kiln.image.resize(t, [5, 3]))), [small]);
    expect(check.error).toBeLessThanOrEqual(check.tolerance); // reverse mode vs central differences in float64
    expect(check.analytic).not.toBe(0);
  });

  test('bad arguments are named', () => {
    expect(() => kiln.image.resize(kiln.zeros([4, 4]), [2, 2])).toThrow('image.resize: expected images [batch, height, width, channels] or one [height, width, channels], got f32[4,4]');
    expect(() => kiln.image.resize(x, [0, 2])).toThrow('image.resize: expected size [height, width] of positive integers, got [0,2]');
    expect(() => kiln.image.centralCrop(x, 1.5)).toThrow('image.centralCrop: expected fraction in (0, 1], got 1.5');
    expect(() => kiln.image.rgbToGrayscale(kiln.zeros([1, 2, 2, 4]))).toThrow('image.rgbToGrayscale: expected 3 channels, got f32[1,2,2,4]');
  });
});

function shapeOf(v: unknown): number[] {
  return Array.isArray(v) ? [v.length, ...shapeOf(v[0])] : [];
}

describe('image.convertImageDtype (int32 standing for uint8)', () => {
  test("int32 → float32 is x/255; float32 → int32 is trunc(x·255.5), clipped first with saturate, as TF's", () => {
    const ints = kiln.tensor([0, 1, 128, 255], [1, 1, 4, 1], 'int32');
    expect(Array.from(kiln.image.convertImageDtype(ints, 'float32').dataSync())).toEqual([0, 1, 128, 255].map((v) => Math.fround(Math.fround(v) * Math.fround(1 / 255))));
    const floats = kiln.tensor([0, 0.5, 0.999, 1, 1.2, -0.1], [1, 1, 6, 1]);
    expect(Array.from(kiln.image.convertImageDtype(floats, 'int32').dataSync())).toEqual([0, 127, 255, 255, 306, -25]); // out of range stays so without saturate
    expect(Array.from(kiln.image.convertImageDtype(floats, 'int32', { saturate: true }).dataSync())).toEqual([0, 127, 255, 255, 255, 0]);
    expect(kiln.image.convertImageDtype(floats, 'float32')).toBe(floats);
    expect(() => kiln.image.convertImageDtype(floats, 'uint8' as never)).toThrow(/image\.convertImageDtype: expected dtype 'float32' or 'int32', got "uint8"/);
  });
});
