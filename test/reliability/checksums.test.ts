/** Checksums that cover everything (issue: 91 of 100 single-bit flips in a stored .npz loaded with changed values). */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

describe('.npz members are checked against the zip’s CRC-32s', () => {
  for (const compress of [false, true]) {
    test(`${compress ? 'deflated' : 'stored'}: every single-bit flip is refused or changes nothing`, () => {
      const a = kiln.tensor(Array.from({ length: 60 }, (_, i) => i * 0.25 - 3), [6, 10]);
      const bytes = kiln.io.encodeNpz({ a, b: kiln.tensor([1, 2, 3], [3], 'int32') }, { compress });
      const want = JSON.stringify(Object.fromEntries(Object.entries(kiln.io.decodeNpz(bytes)).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number>)])));
      let refused = 0;
      for (let k = 0; k < 200; k++) {
        const bit = Math.floor(((k * 2654435761) % 2 ** 32) / 2 ** 32 * bytes.length * 8);
        const flipped = bytes.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        let got: string | undefined;
        try {
          got = JSON.stringify(Object.fromEntries(Object.entries(kiln.io.decodeNpz(flipped)).map(([n, v]) => [n, Array.from(v.data as ArrayLike<number>)])));
        } catch (e) {
          expect((e as Error).name).toBe('KilnError');
          refused++;
          continue;
        }
        expect(got, `bit ${bit} flipped`).toBe(want); // a flip outside what is read (zip bookkeeping) may pass, unchanged
      }
      expect(refused).toBeGreaterThan(150);
    });
  }

  test('a flipped data bit names the member and both CRCs', () => {
    const bytes = kiln.io.encodeNpz({ w: kiln.tensor([1, 2, 3, 4]) }, { compress: false });
    const at = bytes.length - 120; // inside the stored member's data, before the central directory
    bytes[at]! ^= 0x10;
    expect(() => kiln.io.decodeNpz(bytes, 'w.npz')).toThrow(/^w\.npz: member "w\.npy" is corrupted: its CRC-32 is [0-9a-f]{8}, the zip records [0-9a-f]{8}/);
  });
});

describe('a .kiln file’s checksum covers its metadata', () => {
  test('a changed user metadata value is refused as corruption', () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 2 })] });
    const bytes = kiln.encodeModel(model as never, { metadata: { classNames: '["cat","dog"]' } });
    const at = Buffer.from(bytes).indexOf('cat');
    expect(at).toBeGreaterThan(0);
    const changed = bytes.slice();
    changed.set(new TextEncoder().encode('cow'), at); // same length: the file still parses
    expect(kiln.decodeModel(bytes).metadata.classNames).toBe('["cat","dog"]');
    expect(() => kiln.decodeModel(changed)).toThrow(/^loadModel: the file is corrupted \(CRC-32 [0-9a-f]{8}, recorded [0-9a-f]{8}\)\.$/);
  });
});

describe('saveWeights records a CRC-32 that loadWeights verifies', () => {
  test('a flipped weight bit is refused; a safetensors file without the checksum (another tool’s) still loads', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [3], units: 2 })] });
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-w-')), 'w.safetensors');
    await model.saveWeights(path);
    const bytes = readFileSync(path);
    bytes[bytes.length - 5]! ^= 0x01; // inside the last weight's data
    writeFileSync(path, bytes);
    await expect(model.loadWeights(path)).rejects.toThrow(/^loadWeights ".*w\.safetensors": the file is corrupted \(CRC-32 [0-9a-f]{8}, recorded [0-9a-f]{8}\)\.$/);
    const plain = kiln.io.encodeSafetensors(Object.fromEntries(model.namedWeights().map((w) => [w.name, { dtype: 'float32' as const, shape: w.shape, data: w.data }])));
    writeFileSync(path, plain);
    await model.loadWeights(path);
  });
});
