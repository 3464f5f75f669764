/** kiln.image.resize's 'bicubic', 'area' and antialias against PIL's resampler and torch's area interpolation on the project's photo (scripts/resize_reference.py). */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/data/resize.json', import.meta.url), 'utf8'));
const x = kiln.tensor(ref.x); // [12, 16, 3] in [0, 1]
const maxDiff = (got: unknown, want: unknown): number =>
  Array.isArray(want) ? Math.max(0, ...want.map((w, i) => maxDiff((got as unknown[])[i], w))) : Math.abs((got as number) - (want as number));

describe('resize methods match the references', () => {
  const cases: [string, () => kiln.Tensor, unknown, number][] = [
    ['bilinear, antialias, 16×12 → 7×5 (PIL BILINEAR)', () => kiln.image.resize(x, [5, 7], { antialias: true }), ref.bilinearAntialias7x5, 1e-5],
    ['bicubic, antialias, 16×12 → 7×5 (PIL BICUBIC)', () => kiln.image.resize(x, [5, 7], { method: 'bicubic', antialias: true }), ref.bicubicAntialias7x5, 1e-5],
    ['bicubic, antialias, 16×12 → 13×9 (PIL BICUBIC)', () => kiln.image.resize(x, [9, 13], { method: 'bicubic', antialias: true }), ref.bicubicAntialias9x13, 1e-5],
    ['bicubic up 16×12 → 27×21 (PIL; TF rounds offsets to 1/1024)', () => kiln.image.resize(x, [21, 27], { method: 'bicubic' }), ref.bicubicUp21x27, 2e-3],
    ["bicubic up with antialias: ScaleAndTranslate's exact weights (no table), as PIL", () => kiln.image.resize(x, [21, 27], { method: 'bicubic', antialias: true }), ref.bicubicUp21x27, 1e-5],
    ['area 16×12 → 8×6 (torch area)', () => kiln.image.resize(x, [6, 8], { method: 'area' }), ref.area6x8, 1e-6],
  ];
  for (const [name, run, want, tol] of cases) {
    test(name, () => {
      const got = run();
      expect(maxDiff(got.arraySync(), want)).toBeLessThan(tol);
    });
  }

  test('area weighs partly covered pixels: 3 → 2 gives (a + b/2)/1.5 and (b/2 + c)/1.5', () => {
    const got = kiln.image.resize(kiln.tensor([[[1], [4], [10]]]), [1, 2], { method: 'area' }).dataSync();
    expect(Array.from(got)).toEqual([Math.fround((1 + 2) / 1.5), Math.fround((2 + 10) / 1.5)].map((v) => expect.closeTo(v, 5)));
  });

  test('bicubic without antialias keeps TF\'s 4-tap kernel when downscaling (aliasing as TF does): a 1-pixel checkerboard halves to a constant', () => {
    const board = kiln.tensor(Array.from({ length: 8 }, (_, i) => Array.from({ length: 8 }, (_, j) => [(i + j) % 2])));
    const plain = kiln.image.resize(board, [4, 4], { method: 'bicubic' }).dataSync() as Float32Array;
    const smooth = kiln.image.resize(board, [4, 4], { method: 'bicubic', antialias: true }).dataSync() as Float32Array;
    // sample points fall midway between pixels: the kernel's symmetric taps average the two phases to ½ in the interior
    expect(plain[5]).toBeCloseTo(0.5, 3); // TF's 1/1024 offset table
    expect(smooth[5]).toBeCloseTo(0.5, 3); // one tap past the edge dropped and the rest renormalised
  });

  test('compiled and differentiable', async () => {
    const f = kiln.compile((images: kiln.Tensor) => kiln.image.resize(images, [5, 7], { method: 'bicubic', antialias: true }));
    expect(maxDiff(((await f(x)) as kiln.Tensor).arraySync(), ref.bicubicAntialias7x5)).toBeLessThan(1e-5);
    const small = x.slice([0, 0, 0], [5, 6, 1]);
    const check = kiln.checkGrads((t) => kiln.sum(kiln.square(kiln.image.resize(t, [3, 4], { method: 'area' }))), [small]);
    expect(check.error).toBeLessThanOrEqual(check.tolerance);
  });

  test('bad arguments are named', () => {
    expect(() => kiln.image.resize(x, [4, 4], { method: 'lanczos' as never })).toThrow("image.resize: expected method 'bilinear', 'nearest', 'bicubic', 'area', got \"lanczos\"");
    expect(() => kiln.image.resize(x, [4, 4], { antialias: 'yes' as never })).toThrow('image.resize: expected antialias to be a boolean, got "yes"');
    expect(() => kiln.layers.resizing({ height: 4, width: 4, interpolation: 'cubic' as never })).toThrow(/Resizing.*expected interpolation 'bilinear', 'nearest', 'bicubic', 'area', got "cubic"/);
  });
});
