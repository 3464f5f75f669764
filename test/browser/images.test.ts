/**
 * kiln.io's image loading in headless Chromium: loadPixels (src/io/loadImage.ts,
 * bundled for the browser) fetches the fixture images by URL and takes them as
 * Blobs; PNGs decode in JavaScript to PIL's pixels exactly, JPEGs through the
 * browser's own decoder (createImageBitmap + OffscreenCanvas) to PIL's within
 * IDCT rounding (both are libjpeg-turbo), gray JPEGs as one channel; a damaged
 * file is a KilnError naming it.
 *
 * Needs /usr/bin/chromium; skipped without it unless KILN_REQUIRE_BROWSER is set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumPath as executablePath, modulePage, runInPage } from '../util/browserPage.js';

const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);
const fixtures = join(__dirname, '../fixtures/images');
const ref = JSON.parse(readFileSync(join(fixtures, 'pixels.json'), 'utf8')) as Record<string, { mode: string; pixels: number[][] | number[][][] }>;
const flat = (p: number[][] | number[][][]) => (p as unknown[][]).flat(2) as number[];
const names = ['rgb.png', 'gray.png', 'rgba.png', 'palette.png', 'photo.jpg', 'progressive.jpg', 'gray.jpg'];

interface Loaded { name: string; how: 'url' | 'blob'; height: number; width: number; channels: number; data: number[] }

const pageScript = `
import { loadPixels } from './load.js';
const names = ${JSON.stringify(names)};
const run = async () => {
  const out = [];
  for (const name of names) {
    const p = await loadPixels('/img/' + name);
    out.push({ name, how: 'url', height: p.height, width: p.width, channels: p.channels, data: Array.from(p.data) });
    const blob = await (await fetch('/img/' + name)).blob();
    const q = await loadPixels(blob, { channels: 3 });
    out.push({ name, how: 'blob', height: q.height, width: q.width, channels: q.channels, data: Array.from(q.data) });
  }
  let damaged = '';
  try { await loadPixels('/img/broken.jpg'); } catch (e) { damaged = e.name + ': ' + e.message; }
  return { out, damaged, platform: typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function' };
};
window.result = run().catch((e) => ({ error: String(e && e.stack || e) }));
`;

describe.skipIf(!available && !required)('loading images in headless Chromium', () => {
  let browser: Browser | undefined;
  let result: { out: Loaded[]; damaged: string; platform: boolean; error?: string };

  beforeAll(async () => {
    const bundle = await build({ entryPoints: [join(__dirname, '../../src/io/loadImage.ts')], bundle: true, format: 'esm', platform: 'browser', external: ['node:*'], write: false, logLevel: 'silent' });
    const photo = readFileSync(join(fixtures, 'photo.jpg'));
    const files: Record<string, readonly [string, string | Buffer]> = {
      '/': modulePage,
      '/page.js': ['text/javascript', pageScript],
      '/load.js': ['text/javascript', bundle.outputFiles[0]!.text],
      '/img/broken.jpg': ['image/jpeg', photo.subarray(0, 120)],
      ...Object.fromEntries(names.map((n) => [`/img/${n}`, [n.endsWith('.png') ? 'image/png' : 'image/jpeg', readFileSync(join(fixtures, n))] as [string, Buffer]])),
    };
    ({ result, browser } = await runInPage<typeof result>(files));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  const get = (name: string, how: 'url' | 'blob') => result.out.find((r) => r.name === name && r.how === how)!;

  test('the page has the platform decoder, and every image loads by URL and as a Blob', () => {
    expect(result.error).toBeUndefined();
    expect(result.platform).toBe(true);
    expect(result.out).toHaveLength(names.length * 2);
    for (const r of result.out) expect([r.name, r.height, r.width], r.how).toEqual([r.name, 12, 16]);
  });

  test('PNGs (decoded in JavaScript) give PIL\'s pixels exactly, alpha unpremultiplied', () => {
    for (const [name, channels] of [['rgb.png', 3], ['gray.png', 1], ['rgba.png', 4], ['palette.png', 3]] as const) {
      const r = get(name, 'url');
      expect(r.channels, name).toBe(channels);
      expect(r.data, name).toEqual(flat(ref[name]!.pixels));
    }
  });

  test('JPEGs (the browser\'s decoder) give PIL\'s pixels within IDCT rounding; a gray JPEG has one channel', () => {
    for (const [name, channels] of [['photo.jpg', 3], ['progressive.jpg', 3], ['gray.jpg', 1]] as const) {
      const r = get(name, 'url');
      expect(r.channels, name).toBe(channels);
      const want = flat(ref[name]!.pixels);
      const worst = Math.max(...r.data.map((v, i) => Math.abs(v - want[i]!)));
      expect(worst, name).toBeLessThanOrEqual(3);
    }
    // asked for 3 channels, the gray JPEG repeats its one
    const gray = get('gray.jpg', 'blob');
    expect(gray.channels).toBe(3);
    expect(gray.data.filter((_, i) => i % 3 === 0)).toEqual(get('gray.jpg', 'url').data);
  });

  test('a damaged JPEG is a KilnError naming it', () => {
    expect(result.damaged).toMatch(/^KilnError: kiln\.io\.loadImage: "\/img\/broken\.jpg" is damaged or in a format this browser cannot decode/);
  });
});
