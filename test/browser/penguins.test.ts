/**
 * The penguins page end to end: train and export the classifier (its row encoder
 * in the artifact's manifest), build the page (examples/penguins/build.ts), serve
 * it on 127.0.0.1, open it in headless Chromium, and check that the page's
 * predictions for the raw test rows equal Node's bit for bit — the same artifact
 * bytes under kiln/runtime in both, raw rows in.
 *
 * Needs /usr/bin/chromium; skipped without it unless KILN_REQUIRE_BROWSER is set.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumPath as executablePath, openServedPage, type ServedPage } from '../util/browserPage.js';
import { buildPenguinsPage } from '../../examples/penguins/build.js';
import * as runtime from '../../src/runtime/index.js';

const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);

interface Published {
  ready: boolean;
  error?: string;
  classNames: string[];
  predicted: string[];
  logitsBits: number[];
  unknownBits: number[];
  badRowError?: string;
}

const bitsOf = (f32: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number }) => Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));

const hashValues = ['Biscoe', 'Dream', '', 'ünïcødé 🐧', '42', 'a much longer value with spaces'];

describe.skipIf(!available && !required)('the penguins page in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-penguins-page-'));
  let opened: ServedPage | undefined;
  let built: Awaited<ReturnType<typeof buildPenguinsPage>>;
  let published: Published;
  let browserBins: number[] = [];

  beforeAll(async () => {
    built = await buildPenguinsPage(join(dir, 'site'), { epochs: 60, log: () => {} });
    opened = await openServedPage(join(dir, 'site'), join(dir, 'profile'), 'kilnPenguins');
    const page = opened.page;
    published = await page.evaluate(() => (window as unknown as { kilnPenguins: Published }).kilnPenguins);
    // the hashes themselves, in the page's engine: hashing (salted, masked) and crossing bins
    // (a source string: vitest would rewrite a dynamic import written as code)
    browserBins = await page.evaluate(`(async () => {
      const rows = await import('/runtime/rows.js');
      return ${JSON.stringify(hashValues)}.flatMap((v) => [rows.hashBin(v, 1000), rows.hashBin(v, 97, '', 12345), rows.crossBin([v, 'MALE', 3.5], 4096), rows.oovBucket(v, 7)]);
    })()`) as number[];
  }, 90_000);

  afterAll(async () => {
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page\'s hashing, crossing and OOV bins equal Node\'s', async () => {
    const rows = await import('../../src/runtime/rows.js');
    expect(browserBins).toEqual(hashValues.flatMap((v) => [rows.hashBin(v, 1000), rows.hashBin(v, 97, '', 12345), rows.crossBin([v, 'MALE', 3.5], 4096), rows.oovBucket(v, 7)]));
  });

  test('the page predicts the raw test rows as Node does, bit for bit, and names a bad row', async () => {
    expect(published.error).toBeUndefined();
    expect(opened!.pageErrors).toEqual([]);
    const art = await runtime.loadArtifact(built.artifact);
    const logits = art.predictRows(built.rows).data as Float32Array;
    expect(published.logitsBits).toEqual(bitsOf(logits));
    expect(published.unknownBits).toEqual(bitsOf(art.predictRows([{ ...built.rows[0]!, Island: 'Atlantis', Sex: null }]).data as Float32Array));
    const right = published.predicted.filter((p, i) => p === built.rows[i]!.Species).length;
    expect(right / built.rows.length).toBeCloseTo(built.accuracy, 6);
    expect(built.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(published.badRowError).toBe('KilnRuntimeError: kiln runtime: predictRows: row 0, column "Body Mass (g)": got the string "heavy", expected a number (input "measures").');
  });
});
