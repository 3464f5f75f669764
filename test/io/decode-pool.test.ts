/**
 * Decode workers: the worker module (bundled here as the build would ship it)
 * gives the pixels decoding in place gives, for every fixture image; a damaged
 * file and a missing one reject with kiln's errors, naming the file; and
 * many requests at once all come back, each to its caller.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DecodePool } from '../../src/io/decodePool.js';
import { decodePixels } from '../../src/io/pixels.js';

const fixtures = new URL('../fixtures/images/', import.meta.url).pathname;
const names = ['gray.png', 'rgb.png', 'rgba.png', 'palette.png', 'gray16.png', 'photo.jpg', 'progressive.jpg', 'gray.jpg'];
const dir = mkdtempSync(join(tmpdir(), 'kiln-decode-pool-'));
let pool: DecodePool;

beforeAll(async () => {
  const worker = join(dir, 'decodeWorker.mjs');
  await build({ entryPoints: [new URL('../../src/io/decodeWorker.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: worker, logLevel: 'silent' });
  pool = new DecodePool(pathToFileURL(worker), 2);
});
afterAll(async () => { await pool.close(); });

describe('DecodePool', () => {
  test('every fixture image decodes in a worker to the pixels decodePixels gives here, in each channel count', async () => {
    for (const name of [...names, 'gray-alpha.png']) {
      for (const channels of [undefined, 1, 3, 4] as const) {
        const here = decodePixels(readFileSync(join(fixtures, name)), { channels, name });
        const there = await pool.decode(join(fixtures, name), { channels, name, subject: 'test' });
        expect({ ...there, data: Array.from(there.data) }, `${name} ${channels}`).toEqual({ ...here, data: Array.from(here.data) });
      }
    }
  });

  test('a damaged file and a missing one reject with KilnErrors naming them', async () => {
    const bad = join(dir, 'bad.png');
    const good = readFileSync(join(fixtures, 'rgb.png'));
    writeFileSync(bad, good.subarray(0, good.length >> 1));
    // the decompressor's own words differ between its builds (the bundle may pick another); kiln's part is the same
    const damaged = /^kiln\.io\.decodeImage: "bad\.png" is damaged or truncated: .+\.$/;
    expect(() => decodePixels(readFileSync(bad), { name: 'bad.png' })).toThrow(damaged);
    await expect(pool.decode(bad, { name: 'bad.png', subject: 'imageDatasetFromDirectory' })).rejects.toThrow(damaged);
    await expect(pool.decode(join(dir, 'missing.png'), { name: 'missing.png', subject: 'imageDatasetFromDirectory' })).rejects.toThrow(`imageDatasetFromDirectory: cannot read "${join(dir, 'missing.png')}": ENOENT.`);
  });

  test('200 requests in flight at once each resolve with their own image', async () => {
    const order = Array.from({ length: 200 }, (_, i) => names[i % names.length]!);
    const got = await Promise.all(order.map((n) => pool.decode(join(fixtures, n), { channels: 3, name: n, subject: 'test' })));
    got.forEach((p, i) => {
      const want = decodePixels(readFileSync(join(fixtures, order[i]!)), { channels: 3 });
      expect([p.height, p.width, p.data[7]], order[i]).toEqual([want.height, want.width, want.data[7]]);
    });
  });
});
