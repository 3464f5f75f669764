/** kiln.image.transform / rotate / zoom / translate against PyTorch's grid_sample on the project's photo (scripts/transform_reference.py): eager, compiled, batched and differentiable. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/data/transform.json', import.meta.url), 'utf8'));
const x = kiln.tensor(ref.x);
const maxDiff = (got: unknown, want: unknown): number =>
  Array.isArray(want) ? Math.max(0, ...want.map((w, i) => maxDiff((got as unknown[])[i], w))) : Math.abs((got as number) - (want as number));
const T = (rows: number[][]) => kiln.tensor(rows);
const angles = (rows: number[][]) => kiln.tensor(rows.map((r) => Math.atan2(r[3]!, r[0]!)));

describe('kiln.image.transform matches grid_sample (pixel values 0–255, fixture rounded to 1e-4)', () => {
  const cases: [string, () => kiln.Tensor, unknown][] = [
    ['rotate, constant 0', () => kiln.image.transform(x, T(ref.rotations)), ref.rotateConstant],
    ['rotate, constant 128', () => kiln.image.transform(x, T(ref.rotations), { fillValue: 128 }), ref.rotateConstantFill],
    ['rotate, fill nearest', () => kiln.image.transform(x, T(ref.rotations), { fillMode: 'nearest' }), ref.rotateNearestFill],
    ['rotate, fill reflect', () => kiln.image.transform(x, T(ref.rotations), { fillMode: 'reflect' }), ref.rotateReflect],
    ['rotate, fill wrap', () => kiln.image.transform(x, T(ref.rotations), { fillMode: 'wrap' }), ref.rotateWrap],
    ['rotate, nearest interpolation', () => kiln.image.transform(x, T(ref.rotations), { interpolation: 'nearest' }), ref.rotateNearestInterp],
    ['zoom, reflect', () => kiln.image.transform(x, T(ref.zooms), { fillMode: 'reflect' }), ref.zoomReflect],
    ['fractional shift, constant', () => kiln.image.transform(x, T(ref.shifts)), ref.shiftConstant],
    ['perspective [8] for all, fill nearest', () => kiln.image.transform(x, kiln.tensor(ref.perspective[0]), { fillMode: 'nearest' }), ref.perspectiveNearestFill],
    ['rotate() builds Keras\'s rotation matrix', () => kiln.image.rotate(x, angles(ref.rotations)), ref.rotateConstant],
    ['zoom() builds Keras\'s zoom matrix', () => kiln.image.zoom(x, kiln.tensor([0.8, 1.25]), kiln.tensor([1.3, 0.7]), { fillMode: 'reflect' }), ref.zoomReflect],
    ['translate() shifts right/down', () => kiln.image.translate(x, kiln.tensor([2.5, -3.25]), kiln.tensor([-1.75, 0.5])), ref.shiftConstant],
  ];
  for (const [name, run, want] of cases) {
    test(name, () => {
      const got = run();
      expect(got.shape).toEqual([2, 12, 16, 3]);
      expect(maxDiff(got.arraySync(), want)).toBeLessThan(2e-3);
    });
  }

  test('compiled (kiln.compile, wasm) gives the reference values; its gradient passes a finite-difference check', async () => {
    const f = kiln.compile((images: kiln.Tensor, t: kiln.Tensor) => kiln.image.transform(images, t, { fillMode: 'reflect' }));
    expect(maxDiff(((await f(x, T(ref.rotations))) as kiln.Tensor).arraySync(), ref.rotateReflect)).toBeLessThan(2e-3);
    const small = x.slice([0, 0, 0, 0], [2, 4, 5, 1]);
    const check = kiln.checkGrads((t) => kiln.sum(kiln.square(kiln.image.rotate(t, kiln.tensor([0.3, -0.7]), { fillMode: 'reflect' }))), [small]);
    expect(check.error).toBeLessThanOrEqual(check.tolerance);
    expect(check.analytic).not.toBe(0);
  });

  test('rotate by π/2 is rot90, exactly on the pixels', () => {
    const got = kiln.image.rotate(kiln.image.resize(x, [12, 12]), Math.PI / 2);
    expect(maxDiff(got.arraySync(), kiln.image.rot90(kiln.image.resize(x, [12, 12])).arraySync())).toBeLessThan(1e-3);
  });

  test('one [h, w, c] image', () => {
    const got = kiln.image.transform(kiln.tensor(ref.x[0]), T([ref.rotations[0]]), { fillMode: 'reflect' });
    expect(got.shape).toEqual([12, 16, 3]);
    expect(maxDiff(got.arraySync(), ref.rotateReflect[0])).toBeLessThan(2e-3);
  });

  test('bilinear transform is differentiable in the image: the gradient of sum(out) counts each input pixel\'s weights', () => {
    // integer shift right by 2 with constant fill: every input pixel but the last two columns lands once
    const img = kiln.ones([1, 3, 5, 1]);
    const g = kiln.grad((v: kiln.Tensor) => kiln.sum(kiln.image.translate(v, 2, 0)))(img);
    expect(g.arraySync()).toEqual([[[[1], [1], [1], [0], [0]], [[1], [1], [1], [0], [0]], [[1], [1], [1], [0], [0]]]]);
    // half-pixel shift: each output is the mean of two neighbours, so inner pixels collect 0.5 + 0.5
    const h = kiln.grad((v: kiln.Tensor) => kiln.sum(kiln.image.translate(v, 0.5, 0)))(img);
    expect((h.arraySync() as number[][][][])[0]![0]!.map((p) => p[0])).toEqual([1, 1, 1, 1, 0.5]);
  });
});

describe('bad input names the op', () => {
  test.each([
    [() => kiln.image.transform(x, kiln.tensor([1, 0, 0, 0, 1, 0, 0])), /image\.transform.*transforms \[8\] or \[batch, 8\]/],
    [() => kiln.image.transform(x, T(ref.rotations), { fillMode: 'mirror' as never }), /image\.transform.*fillMode 'constant', 'reflect', 'wrap', 'nearest', got "mirror"/],
    [() => kiln.image.transform(x, T(ref.rotations), { interpolation: 'cubic' as never }), /image\.transform.*interpolation/],
    [() => kiln.image.transform(kiln.ones([4, 4]), T(ref.rotations)), /image\.transform.*expected images/],
    [() => kiln.image.rotate(x, NaN), /image\.rotate.*finite angles/],
  ])('%#', (run, message) => {
    expect(run).toThrow(kiln.KilnError);
    expect(run).toThrow(message);
  });
});
