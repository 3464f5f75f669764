/** kiln.io.decodeImage against PIL's pixels (test/fixtures/images, from scripts/image_decode_reference.py) and kiln.utils.imageDatasetFromDirectory on a generated folder. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const dir = new URL('../fixtures/images/', import.meta.url);
const ref = JSON.parse(readFileSync(new URL('pixels.json', dir), 'utf8')) as Record<string, { mode: string; pixels: number[][] | number[][][] }>;
const bytes = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
/** PIL's pixels as [h, w, c]. */
const hwc = (p: number[][] | number[][][]) => (p as unknown[][]).map((row) => row.map((v) => (Array.isArray(v) ? v : [v]))) as number[][][];

describe('decodeImage', () => {
  const lossless: [string, number, (p: number[][][]) => number[][][]][] = [
    ['rgb.png', 3, (p) => p],
    ['gray.png', 1, (p) => p],
    ['gray-alpha.png', 4, (p) => p.map((r) => r.map(([g, a]) => [g!, g!, g!, a!]))],
    ['rgba.png', 4, (p) => p],
    ['palette.png', 3, (p) => p],
    ['gray16.png', 1, (p) => p.map((r) => r.map(([v]) => [(v! * 255) / 65535]))],
  ];
  for (const [name, channels, expected] of lossless) {
    test(`${name} (${ref[name]!.mode}) gives PIL's pixels exactly`, () => {
      const img = kiln.io.decodeImage(bytes(name));
      expect(img.shape).toEqual([12, 16, channels]);
      const want = expected(hwc(ref[name]!.pixels)).flat(2);
      const got = Array.from(img.dataSync());
      expect(Math.max(...got.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-4);
    });
  }

  // JPEG decoders agree on luma up to IDCT rounding; their colour differs where they upsample the
  // half-resolution chroma differently (libjpeg interpolates, jpeg-js repeats), so RGB is checked looser
  for (const [name, channels] of [['photo.jpg', 3], ['progressive.jpg', 3], ['gray.jpg', 1]] as const) {
    test(`${name}: PIL's luma within IDCT rounding, its colours within chroma upsampling`, () => {
      const img = kiln.io.decodeImage(bytes(name));
      expect(img.shape).toEqual([12, 16, channels]);
      const want = hwc(ref[name]!.pixels).flat(2);
      const got = Array.from(img.dataSync());
      const luma = (a: number[], i: number) => (channels === 1 ? a[i]! : 0.299 * a[i]! + 0.587 * a[i + 1]! + 0.114 * a[i + 2]!);
      let worst = 0;
      for (let i = 0; i < got.length; i += channels) worst = Math.max(worst, Math.abs(luma(got, i) - luma(want, i)));
      expect(worst).toBeLessThanOrEqual(3);
      const diffs = got.map((v, i) => Math.abs(v - want[i]!));
      expect(diffs.reduce((a, b) => a + b, 0) / diffs.length).toBeLessThan(channels === 1 ? 1 : 6);
    });
  }

  test('channels converts: RGB to gray with tf.image’s luma weights, gray to RGB, RGB to opaque RGBA', () => {
    const rgb = hwc(ref['rgb.png']!.pixels);
    const gray = kiln.io.decodeImage(bytes('rgb.png'), { channels: 1 }).arraySync() as number[][][];
    expect(Math.abs(gray[3]![5]![0]! - (0.2989 * rgb[3]![5]![0]! + 0.587 * rgb[3]![5]![1]! + 0.114 * rgb[3]![5]![2]!))).toBeLessThan(1e-3);
    expect((kiln.io.decodeImage(bytes('gray.png'), { channels: 3 }).arraySync() as number[][][])[2]![7]).toEqual(Array(3).fill(hwc(ref['gray.png']!.pixels)[2]![7]![0]));
    expect((kiln.io.decodeImage(bytes('rgb.png'), { channels: 4 }).arraySync() as number[][][])[0]![0]![3]).toBe(255);
  });

  test('damaged, truncated and foreign files are KilnErrors naming the file', () => {
    expect(() => kiln.io.decodeImage(bytes('rgb.png').subarray(0, 60), { name: 'cats/1.png' })).toThrow(/^kiln\.io\.decodeImage: "cats\/1\.png" is damaged or truncated: /);
    expect(() => kiln.io.decodeImage(bytes('photo.jpg').subarray(0, 200), { name: 'x.jpg' })).toThrow(/^kiln\.io\.decodeImage: "x\.jpg" is damaged or truncated: /);
    expect(() => kiln.io.decodeImage(new TextEncoder().encode('GIF89a...'), { name: 'a.gif' })).toThrow('kiln.io.decodeImage: "a.gif" is neither PNG nor JPEG (its first bytes are 47 49 46 38).');
  });
});

describe('loadImage (Node)', () => {
  test('a path, a file URL, bytes, a Blob and an http URL give decodeImage\'s pixels; a missing file and a 404 are named', async () => {
    const path = new URL('photo.jpg', dir).pathname;
    const want = Array.from(kiln.io.decodeImage(bytes('photo.jpg')).dataSync());
    for (const source of [path, new URL('photo.jpg', dir), bytes('photo.jpg'), new Blob([bytes('photo.jpg')])]) {
      const img = await kiln.io.loadImage(source);
      expect(img.shape).toEqual([12, 16, 3]);
      expect(Array.from(img.dataSync())).toEqual(want);
    }
    const server = createServer((req, res) => {
      if (req.url === '/photo.jpg') res.end(bytes('photo.jpg'));
      else (res.statusCode = 404, res.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      expect(Array.from((await kiln.io.loadImage(`${base}/photo.jpg`, { channels: 3 })).dataSync())).toEqual(want);
      await expect(kiln.io.loadImage(`${base}/nope.jpg`)).rejects.toThrow(`kiln.io.loadImage: fetching "${base}/nope.jpg" answered 404 Not Found.`);
    } finally {
      server.close();
    }
    await expect(kiln.io.loadImage('/no/such/image.png')).rejects.toThrow('kiln.io.loadImage: cannot read "/no/such/image.png": ENOENT.');
    await expect(kiln.io.loadImage(42 as never)).rejects.toThrow('kiln.io.loadImage: expected a path, a URL, a Blob or bytes, got number.');
  });
});

describe('imageDatasetFromDirectory', () => {
  /** A folder of class subfolders with PNGs of varied sizes whose red value encodes the class. */
  function folder(): string {
    const root = mkdtempSync(join(tmpdir(), 'kiln-images-'));
    ['cat', 'dog', 'fish'].forEach((c, k) => {
      mkdirSync(join(root, c, 'nested'), { recursive: true });
      for (let i = 0; i < 5; i++) {
        const [h, w] = [6 + i, 8 + k];
        const data = new Uint8Array(h * w * 3).map((_, j) => (j % 3 === 0 ? 50 * k + 10 : (j * 7 + i) % 256));
        writeFileSync(join(root, c, i === 4 ? 'nested' : '.', `${c}${i}.png`), encode({ width: w, height: h, data, channels: 3, depth: 8 }));
      }
    });
    writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
    return root;
  }

  test('classes from sorted subfolders, every image resized and labelled, split by seed', async () => {
    const root = folder();
    const all = (await kiln.utils.imageDatasetFromDirectory(root, { imageSize: [4, 4], batchSize: 4, seed: 3 })) as kiln.data.ImageDataset;
    expect(all.classNames).toEqual(['cat', 'dog', 'fish']);
    expect(all.filePaths.length).toBe(15);
    expect(all.size).toBe(4);
    let seen = 0;
    for await (const batch of all) {
      const [x, y] = batch as [kiln.Tensor, kiln.Tensor];
      expect(x.shape.slice(1)).toEqual([4, 4, 3]);
      expect(y.dtype).toBe('int32');
      const red = (x.arraySync() as number[][][][]).map((img) => img[1]![2]![0]!);
      red.forEach((r, i) => expect(r).toBeCloseTo(50 * (y.arraySync() as number[])[i]! + 10, 4)); // the label matches the pixels
      seen += x.shape[0] as number;
    }
    expect(seen).toBe(15);
    const [train, val] = (await kiln.utils.imageDatasetFromDirectory(root, { imageSize: [4, 4], validationSplit: 0.2, subset: 'both', seed: 3, labelMode: 'categorical' })) as kiln.data.ImageDataset[];
    expect(train!.filePaths.length).toBe(12);
    expect(val!.filePaths.length).toBe(3);
    expect(new Set([...train!.filePaths, ...val!.filePaths]).size).toBe(15);
    const [[, onehot]] = (await val!.toArray()) as [kiln.Tensor, kiln.Tensor][];
    expect(onehot!.shape).toEqual([3, 3]);
  });

  test('trains a small CNN with fit', async () => {
    const root = folder();
    const ds = (await kiln.utils.imageDatasetFromDirectory(root, { imageSize: [8, 8], batchSize: 5, seed: 1 })) as kiln.data.ImageDataset;
    const model = kiln.sequential({ layers: [kiln.layers.rescaling({ inputShape: [8, 8, 3], scale: 1 / 255 } as never), kiln.layers.flatten(), kiln.layers.dense({ units: 3 })] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const h = await model.fit(ds as kiln.data.Dataset<[kiln.Tensor, kiln.Tensor]>, { epochs: 20, verbose: 0 });
    expect(h.history.loss!.at(-1)!).toBeLessThan(h.history.loss![0]!);
  });

  test('a bad file fails naming it, or is skipped with ignoreErrors; an empty class folder and a file for a folder are named', async () => {
    const root = folder();
    writeFileSync(join(root, 'dog', 'broken.png'), bytes('rgb.png').subarray(0, 50));
    const strict = (await kiln.utils.imageDatasetFromDirectory(root, { imageSize: [4, 4], seed: 0 })) as kiln.data.ImageDataset;
    await expect(strict.toArray()).rejects.toThrow(/^kiln\.io\.decodeImage: "dog\/broken\.png" is damaged or truncated/);
    const skipped: string[] = [];
    const lenient = (await kiln.utils.imageDatasetFromDirectory(root, { imageSize: [4, 4], seed: 0, ignoreErrors: true, onSkip: (r) => skipped.push(r) })) as kiln.data.ImageDataset;
    const batches = (await lenient.toArray()) as [kiln.Tensor, kiln.Tensor][];
    expect(batches.reduce((n, [x]) => n + (x.shape[0] as number), 0)).toBe(15);
    expect(skipped.length).toBe(1);
    mkdirSync(join(root, 'eel'));
    await expect(kiln.utils.imageDatasetFromDirectory(root)).rejects.toThrow(`imageDatasetFromDirectory: the class folder "${join(root, 'eel')}" has no PNG or JPEG images.`);
    await expect(kiln.utils.imageDatasetFromDirectory(join(root, 'cat', 'cat0.png'))).rejects.toThrow('imageDatasetFromDirectory: expected a folder of class subfolders, got the file');
  });
});
