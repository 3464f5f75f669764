/** kiln.image.adjustSaturation against colorsys and kiln.image.cropAndResize against torch grid_sample at TF's sampling points, on the project's photo (scripts/color_crop_reference.py). */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/data/color-crop.json', import.meta.url), 'utf8'));
const x = kiln.tensor(ref.x);
const maxDiff = (got: unknown, want: unknown): number =>
  Array.isArray(want) ? Math.max(0, ...want.map((w, i) => maxDiff((got as unknown[])[i], w))) : Math.abs((got as number) - (want as number));
const boxes = kiln.tensor(ref.boxes);
const idx = kiln.tensor(ref.boxIndices, [4], 'int32');

describe('adjustSaturation matches colorsys (RGB → HSV, s·f clipped, → RGB)', () => {
  for (const f of ['0.0', '0.4', '1.7', '5.0']) {
    test(`factor ${f}`, () => {
      const got = kiln.image.adjustSaturation(x, Number(f));
      expect(maxDiff(got.arraySync(), ref.saturation[f])).toBeLessThan(1e-5);
    });
  }
  test('one factor per image, and one [h, w, 3] image', () => {
    const got = kiln.image.adjustSaturation(x, kiln.tensor([0.4, 1.7])).arraySync() as number[][][][];
    expect(maxDiff(got[0], ref.saturation['0.4'][0])).toBeLessThan(1e-5);
    expect(maxDiff(got[1], ref.saturation['1.7'][1])).toBeLessThan(1e-5);
    expect(maxDiff(kiln.image.adjustSaturation(kiln.tensor(ref.x[1]), 5).arraySync(), ref.saturation['5.0'][1])).toBeLessThan(1e-5);
  });
});

describe('adjustHue matches colorsys (RGB → HSV, (h + delta) mod 1, → RGB)', () => {
  for (const d of ['-0.7', '0.15', '0.5']) {
    test(`delta ${d}`, () => {
      expect(maxDiff(kiln.image.adjustHue(x, Number(d)).arraySync(), ref.hue[d])).toBeLessThan(1e-5);
    });
  }
  test('one delta per image; a bad delta is named', () => {
    const got = kiln.image.adjustHue(x, kiln.tensor([0.15, 0.5])).arraySync() as number[][][][];
    expect(maxDiff(got[1], ref.hue['0.5'][1])).toBeLessThan(1e-5);
    expect(() => kiln.image.adjustHue(x, 2)).toThrow('image.adjustHue: expected delta in [−1, 1], got 2');
  });
});

describe('cropAndResize matches TF semantics', () => {
  const cases: [string, () => kiln.Tensor, unknown][] = [
    ['bilinear 7×5 (a flipped box, a box past the edges)', () => kiln.image.cropAndResize(x, boxes, idx, [7, 5]), ref.cropBilinear],
    ['bilinear 6×9, extrapolationValue −1', () => kiln.image.cropAndResize(x, boxes, idx, [6, 9], { extrapolationValue: -1 }), ref.cropBilinearExtrapolate],
    ['nearest 7×5', () => kiln.image.cropAndResize(x, boxes, idx, [7, 5], { method: 'nearest' }), ref.cropNearest],
    ['1×1 samples the box centre', () => kiln.image.cropAndResize(x, boxes, idx, [1, 1]), ref.cropOne],
  ];
  for (const [name, run, want] of cases) {
    test(name, () => {
      const got = run();
      expect(maxDiff(got.arraySync(), want)).toBeLessThan(1e-5);
    });
  }

  test('compiled gives the same values, and the gradient w.r.t. the images passes a finite-difference check', async () => {
    const f = kiln.compile((images: kiln.Tensor) => kiln.image.cropAndResize(images, boxes, idx, [7, 5]));
    expect(maxDiff(((await f(x)) as kiln.Tensor).arraySync(), ref.cropBilinear)).toBeLessThan(1e-5);
    const small = x.slice([0, 0, 0, 0], [2, 5, 6, 1]);
    const check = kiln.checkGrads((t) => kiln.sum(kiln.square(kiln.image.cropAndResize(t, boxes, idx, [3, 4]))), [small]);
    expect(check.error).toBeLessThanOrEqual(check.tolerance);
    expect(check.analytic).not.toBe(0);
  });

  test('bad arguments are named', () => {
    expect(() => kiln.image.cropAndResize(x, kiln.zeros([4, 3]), idx, [2, 2])).toThrow('image.cropAndResize: expected boxes [n, 4] (rows y1, x1, y2, x2), got f32[4,3]');
    expect(() => kiln.image.cropAndResize(x, boxes, kiln.tensor([0, 1], [2], 'int32'), [2, 2])).toThrow('image.cropAndResize: expected int32 boxIndices [n] with n = 4 (one per box), got i32[2]');
    expect(() => kiln.image.cropAndResize(x, boxes, kiln.tensor([0, 1, 2, 0], [4], 'int32'), [2, 2])).toThrow('image.cropAndResize: expected boxIndices in [0, 2), got 2');
    expect(() => kiln.image.cropAndResize(x, boxes, idx, [0, 2])).toThrow('image.cropAndResize: expected cropSize [height, width] of positive integers, got [0,2]');
    expect(() => kiln.image.adjustSaturation(kiln.zeros([1, 2, 2, 4]), 2)).toThrow('image.adjustSaturation: expected 3 (RGB) channels, got f32[1,2,2,4]');
  });
});
