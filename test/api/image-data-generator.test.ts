/** ImageDataGenerator: its affine resampling against scipy.ndimage (Keras's recipe, test/fixtures/data/affine.json from scripts/affine_reference.py); seeded flows; flowFromDirectory; fit. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/data/affine.json', import.meta.url), 'utf8'));
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('the affine transform', () => {
  for (const c of ref.cases as { params: number[]; fillMode: 'nearest' | 'constant'; cval: number; out: number[][][] }[]) {
    test(`${c.fillMode}: theta ${c.params[0]}, shift ${c.params[1]},${c.params[2]}, shear ${c.params[3]}, zoom ${c.params[4]},${c.params[5]} equals scipy's`, () => {
      const gen = kiln.preprocessing.imageDataGenerator({ fillMode: c.fillMode, cval: c.cval });
      const [theta, tx, ty, shear, zx, zy] = c.params as [number, number, number, number, number, number];
      const out = gen.applyTransform(kiln.tensor(ref.x), { theta, tx, ty, shear, zx, zy, flipHorizontal: false, flipVertical: false });
      expect(maxDiff(Array.from(out.dataSync()), c.out.flat(2))).toBeLessThan(1e-3);
    });
  }
});

describe('flow', () => {
  const x = kiln.randomUniform([10, 8, 8, 1], { seed: 2, minval: 0, maxval: 255 });
  const y = kiln.tensor(Array.from({ length: 10 }, (_, i) => i), [10], 'int32');

  test('each epoch one shuffled pass with new transforms; the same seed repeats it; labels follow their images', async () => {
    const gen = kiln.preprocessing.imageDataGenerator({ rotationRange: 20, widthShiftRange: 0.1, horizontalFlip: true, rescale: 1 / 255 });
    const ds = gen.flow(x, y, { batchSize: 4, seed: 7 });
    expect(ds.size).toBe(3);
    const first = (await ds.toArray()) as [kiln.Tensor, kiln.Tensor][];
    const second = (await ds.toArray()) as [kiln.Tensor, kiln.Tensor][];
    expect(first.map(([b]) => b.shape[0])).toEqual([4, 4, 2]);
    const labels = first.flatMap(([, l]) => l.arraySync() as number[]);
    expect([...labels].sort((a, b) => a - b)).toEqual(y.arraySync());
    expect(JSON.stringify(first.map(([b]) => b.arraySync()))).not.toBe(JSON.stringify(second.map(([b]) => b.arraySync())));
    const again = (await gen.flow(x, y, { batchSize: 4, seed: 7 }).toArray()) as [kiln.Tensor, kiln.Tensor][];
    expect(again.map(([b]) => b.arraySync())).toEqual(first.map(([b]) => b.arraySync()));
    // each image is its own source transformed, rescaled: with no transforms it is exactly x / 255 in the shuffled order
    const plain = (await kiln.preprocessing.imageDataGenerator({ rescale: 1 / 255 }).flow(x, y, { batchSize: 10, seed: 1 }).toArray()) as [kiln.Tensor, kiln.Tensor][];
    const [imgs, ids] = plain[0]!;
    const xs = x.arraySync() as number[][][][];
    (ids.arraySync() as number[]).forEach((id, k) => expect(maxDiff((imgs.arraySync() as number[][][][])[k]!.flat(2), xs[id]!.flat(2).map((v) => v / 255))).toBeLessThan(1e-6));
  });

  test('fit trains from a flow', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.flatten({ inputShape: [8, 8, 1] } as never), kiln.layers.dense({ units: 10 })] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.01 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const gen = kiln.preprocessing.imageDataGenerator({ widthShiftRange: 1, rescale: 1 / 255 });
    const h = await model.fit(gen.flow(x, y, { batchSize: 5, seed: 3 }) as kiln.data.Dataset<[kiln.Tensor, kiln.Tensor]>, { epochs: 30, verbose: 0 });
    expect(h.history.loss!.at(-1)!).toBeLessThan(h.history.loss![0]!);
  });

  test('bad options are named', () => {
    expect(() => kiln.preprocessing.imageDataGenerator({ rotation: 10 } as never)).toThrow("imageDataGenerator: unknown option 'rotation'");
    expect(() => kiln.preprocessing.imageDataGenerator({ zoomRange: 1.5 })).toThrow('imageDataGenerator: expected zoomRange z in [0, 1) or [lo, hi] with 0 < lo <= hi, got 1.5.');
    expect(() => kiln.preprocessing.imageDataGenerator({ fillMode: 'wrap' as never })).toThrow("imageDataGenerator: expected fillMode 'nearest' or 'constant', got \"wrap\".");
    expect(() => kiln.preprocessing.imageDataGenerator().flow(kiln.zeros([3, 4]))).toThrow('imageDataGenerator.flow: expected images x [n, height, width, channels], got shape [3,4].');
  });
});

describe('flowFromDirectory', () => {
  test('augments the folder’s batches, with classes and one-hot labels', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kiln-idg-'));
    for (const [k, c] of ['a', 'b'].entries()) {
      mkdirSync(join(root, c));
      for (let i = 0; i < 3; i++) writeFileSync(join(root, c, `${i}.png`), encode({ width: 6, height: 5, data: new Uint8Array(90).fill(40 + 100 * k), channels: 3, depth: 8 }));
    }
    const gen = kiln.preprocessing.imageDataGenerator({ rotationRange: 30, rescale: 1 / 255 });
    const ds = await gen.flowFromDirectory(root, { targetSize: [5, 6], batchSize: 4, seed: 2 });
    expect(ds.classNames).toEqual(['a', 'b']);
    const batches = (await ds.toArray()) as [kiln.Tensor, kiln.Tensor][];
    expect(batches.map(([x]) => x.shape)).toEqual([[4, 5, 6, 3], [2, 5, 6, 3]]);
    for (const [x, y] of batches) {
      const cls = (y.arraySync() as number[][]).map((r) => r.indexOf(1));
      // uniform images stay uniform under rotation with 'nearest' fill: the value tells the class
      (x.arraySync() as number[][][][]).forEach((img, i) => expect(img[2]![3]![0]).toBeCloseTo((40 + 100 * cls[i]!) / 255, 5));
    }
  });
});
