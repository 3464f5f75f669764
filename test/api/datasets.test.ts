/** The IDX reader and the Fashion-MNIST loader on the shipped files and on damaged ones. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { datasets } from '../../src/index.js';

const { parseIdx, readIdx, fashionMnist } = datasets;

function idx(shape: number[], values: number[]): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * shape.length));
  header.setUint8(2, 0x08);
  header.setUint8(3, shape.length);
  shape.forEach((d, i) => header.setUint32(4 + 4 * i, d, false));
  return new Uint8Array([...new Uint8Array(header.buffer), ...values]);
}

describe('IDX', () => {
  test('parses a header and values, gzip or raw', () => {
    const bytes = idx([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(parseIdx(bytes)).toEqual({ shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    const dir = mkdtempSync(join(tmpdir(), 'kiln-idx-'));
    writeFileSync(join(dir, 'a.gz'), gzipSync(bytes));
    expect(readIdx(join(dir, 'a.gz')).shape).toEqual([2, 3]);
  });

  test('refuses damaged files with the reason', () => {
    expect(() => parseIdx(idx([2, 3], [1, 2, 3]), 'x.idx')).toThrow('x.idx: not a valid IDX file: expected 6 values for shape [2,3], got 3.');
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 1]), 'x.idx')).toThrow('x.idx: not a valid IDX file: expected the magic number to start with two zero bytes, got 0x1 0x0.');
    expect(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'x.idx')).toThrow('x.idx: not a valid IDX file: expected unsigned-byte data (type 0x08), got type 0xd.');
    const dir = mkdtempSync(join(tmpdir(), 'kiln-idx-'));
    writeFileSync(join(dir, 'b.gz'), gzipSync(idx([4], [1, 2, 3, 4])).subarray(0, 12));
    expect(() => readIdx(join(dir, 'b.gz'))).toThrow(/b\.gz: the gzip stream is damaged/);
    expect(() => readIdx(join(dir, 'missing'))).toThrow(/missing: cannot read the file \(ENOENT\)\./);
  });
});

describe('Fashion-MNIST', () => {
  test('the shipped test set splits into 8000 training and 2000 test images', async () => {
    const { train, test: held, classNames } = await fashionMnist.load();
    expect(train.images.shape).toEqual([8000, 28, 28, 1]);
    expect(held.labels.shape).toEqual([2000]);
    expect(classNames[9]).toBe('Ankle boot');
    const pixels = train.images.dataSync();
    expect(Math.max(...pixels.subarray(0, 784))).toBeLessThanOrEqual(1);
    // the official test set is balanced: 1000 images of each class
    const counts = new Array(10).fill(0);
    for (const split of [train, held]) for (const c of split.labels.dataSync()) counts[c]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    // first test label of the official file is 9 (ankle boot)
    expect(train.labels.dataSync()[0]).toBe(9);
  });

  test('says which file is missing from a folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-fm-'));
    await expect(fashionMnist.load({ path: dir })).rejects.toThrow(`fashionMnist: expected train-images-idx3-ubyte or train-images-idx3-ubyte.gz in ${dir}; the folder holds neither.`);
  });
});
