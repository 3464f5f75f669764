/** .npz archives, the atomic write, the save/load helpers and the `kiln.io` namespace. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import * as io from '../../src/io/index.js';

const temp = () => mkdtempSync(join(tmpdir(), 'kiln-io-'));

describe('.npz', () => {
  const arrays = {
    x: kiln.tensor([[1, 2], [3, 4]]),
    'nested/y': { dtype: 'int64', shape: [2], data: new BigInt64Array([-5n, 5n]) },
    e: { dtype: 'bool', shape: [0], data: new Uint8Array(0) },
  } as const;

  test('stores or deflates one .npy member per array, named without .npy', () => {
    for (const compress of [false, true]) {
      const bytes = io.encodeNpz(arrays, { compress });
      expect(Object.keys(unzipSync(bytes)).sort()).toEqual(['e.npy', 'nested/y.npy', 'x.npy']);
      const back = io.decodeNpz(bytes);
      expect(Object.keys(back).sort()).toEqual(['e', 'nested/y', 'x']);
      expect(back.x).toEqual({ dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]), fortranOrder: false });
      expect(back['nested/y']!.data).toEqual(new BigInt64Array([-5n, 5n]));
    }
    const big = { z: { dtype: 'float64', shape: [1000], data: new Float64Array(1000) } } as const;
    expect(io.encodeNpz(big, { compress: true }).length).toBeLessThan(io.encodeNpz(big).length / 10);
  });

  test('writes the same bytes for the same arrays', () => {
    expect(io.encodeNpz(arrays, { compress: true })).toEqual(io.encodeNpz(arrays, { compress: true }));
  });

  test('skips members that are not .npy files and names the damaged member', () => {
    const npy = io.encodeNpy(kiln.tensor([1]));
    const zip = zipSync({ 'a.npy': npy, 'README.txt': new TextEncoder().encode('hi'), 'b.npy': npy.subarray(0, 20) });
    expect(() => io.decodeNpz(zip, 'd.npz')).toThrow(/^d\.npz\/b\.npy: not a valid \.npy file: the header length field says/);
    const ok = zipSync({ 'a.npy': npy, 'README.txt': new TextEncoder().encode('hi') });
    expect(Object.keys(io.decodeNpz(ok))).toEqual(['a']);
  });
});

describe('writeFileAtomic', () => {
  test('replaces a file and leaves no temporary file behind', async () => {
    const dir = temp();
    const path = join(dir, 'w.bin');
    writeFileSync(path, 'old');
    await io.writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['w.bin']);
  });

  test('on failure keeps the previous file and removes the temporary one', async () => {
    const dir = temp();
    const path = join(dir, 'w.bin');
    writeFileSync(path, 'old');
    await expect(io.writeFileAtomic(path, 42 as unknown as Uint8Array)).rejects.toThrow(new RegExp(`^${path}: cannot write the file \\(.+\\)\\.$`));
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['w.bin']);
    // a folder in the way: the rename fails
    const folder = join(dir, 'taken');
    mkdirSync(folder);
    writeFileSync(join(folder, 'inside'), 'x');
    await expect(io.writeFileAtomic(folder, new Uint8Array([1]))).rejects.toThrow(`${folder}: cannot write the file (`);
    expect(readdirSync(dir).sort()).toEqual(['taken', 'w.bin']);
    await expect(io.writeFileAtomic(join(dir, 'missing', 'x.bin'), new Uint8Array([1]))).rejects.toThrow(`${join(dir, 'missing', 'x.bin')}: cannot write the file (ENOENT).`);
  });
});

describe('save and load', () => {
  test('.npy, .npz and safetensors files round-trip tensors', async () => {
    const dir = temp();
    const x = kiln.tensor([[1.5, -2], [3, 4]]);
    const labels = kiln.tensor([3, 1, 4], [3], 'int32');
    const mask = kiln.tensor([true, false]);
    await io.saveNpy(join(dir, 'x.npy'), x);
    expect((await io.loadNpy(join(dir, 'x.npy'))).arraySync()).toEqual([[1.5, -2], [3, 4]]);
    await io.saveNpy(join(dir, 'f.npy'), x, { fortranOrder: true });
    expect((await io.loadNpy(join(dir, 'f.npy'))).arraySync()).toEqual([[1.5, -2], [3, 4]]);
    await io.saveNpz(join(dir, 'd.npz'), { x, labels, mask }, { compress: true });
    const loaded = await io.loadNpz(join(dir, 'd.npz'));
    expect(Object.fromEntries(Object.entries(loaded).map(([k, t]) => [k, [t.dtype, t.arraySync()]]))).toEqual({
      x: ['float32', [[1.5, -2], [3, 4]]], labels: ['int32', [3, 1, 4]], mask: ['bool', [true, false]],
    });
    await io.saveSafetensors(join(dir, 'w.safetensors'), { x, labels, mask }, { format: 'kiln' });
    const { tensors, metadata } = await io.loadSafetensors(join(dir, 'w.safetensors'));
    expect(metadata).toEqual({ format: 'kiln' });
    expect(tensors.labels!.arraySync()).toEqual([3, 1, 4]);
    expect(tensors.mask!.dtype).toBe('bool');
  });

  test('loading converts by the tensor rules and names the file in errors', async () => {
    const dir = temp();
    await io.saveNpy(join(dir, 'u.npy'), { dtype: 'uint8', shape: [2], data: new Uint8Array([0, 255]) });
    expect((await io.loadNpy(join(dir, 'u.npy'))).dtype).toBe('int32');
    expect((await io.loadNpy(join(dir, 'u.npy'), { uint8As: 'float32' })).dtype).toBe('float32');
    await io.saveNpz(join(dir, 'big.npz'), { ids: { dtype: 'int64', shape: [1], data: new BigInt64Array([2n ** 40n]) } });
    await expect(io.loadNpz(join(dir, 'big.npz'))).rejects.toThrow(`${join(dir, 'big.npz')}/ids.npy: int64 value 1099511627776 at flat index 0 does not fit in int32`);
    await expect(io.loadSafetensors(join(dir, 'nothing.safetensors'))).rejects.toThrow(`loadSafetensors: cannot read "${join(dir, 'nothing.safetensors')}": ENOENT.`);
    writeFileSync(join(dir, 'bad.npy'), 'not numpy at all');
    await expect(io.loadNpy(join(dir, 'bad.npy'))).rejects.toThrow(`${join(dir, 'bad.npy')}: not a valid .npy file: expected the magic string \\x93NUMPY, got 0x6e 0x6f 0x74 0x20 0x6e 0x75.`);
  });

  test('kiln.io is the public namespace', async () => {
    const kilnPublic = await import('../../src/index.js');
    expect(kilnPublic.io.loadNpy).toBe(io.loadNpy);
    expect(kilnPublic.io.fromNpy(kilnPublic.io.toNpy(kiln.tensor([1, 2]))).arraySync()).toEqual([1, 2]);
  });
});
