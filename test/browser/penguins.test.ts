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
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { serve } from '../../examples/browser/serve.js';
import { buildPenguinsPage } from '../../examples/penguins/build.js';
import * as runtime from '../../src/runtime/index.js';

const executablePath = '/usr/bin/chromium';
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
  let server: Server | undefined;
  let context: BrowserContext | undefined;
  let built: Awaited<ReturnType<typeof buildPenguinsPage>>;
  let published: Published;
  let browserBins: number[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    built = await buildPenguinsPage(join(dir, 'site'), { epochs: 60, log: () => {} });
    const served = await serve(join(dir, 'site'), { port: 0 });
    server = served.server;
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(served.url);
    await page.waitForFunction(() => {
      const k = (window as unknown as { kilnPenguins?: Published }).kilnPenguins;
      return k !== undefined && (k.ready || k.error !== undefined);
    }, undefined, { timeout: 20_000 });
    published = await page.evaluate(() => (window as unknown as { kilnPenguins: Published }).kilnPenguins);
    // the hashes themselves, in the page's engine: hashing (salted, masked) and crossing bins
    // (a source string: vitest would rewrite a dynamic import written as code)
    browserBins = await page.evaluate(`(async () => {
      const rows = await import('/runtime/rows.js');
      return ${JSON.stringify(hashValues)}.flatMap((v) => [rows.hashBin(v, 1000), rows.hashBin(v, 97, '', 12345), rows.crossBin([v, 'MALE', 3.5], 4096), rows.oovBucket(v, 7)]);
    })()`) as number[];
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page\'s hashing, crossing and OOV bins equal Node\'s', async () => {
    const rows = await import('../../src/runtime/rows.js');
    expect(browserBins).toEqual(hashValues.flatMap((v) => [rows.hashBin(v, 1000), rows.hashBin(v, 97, '', 12345), rows.crossBin([v, 'MALE', 3.5], 4096), rows.oovBucket(v, 7)]));
  });

  test('the page predicts the raw test rows as Node does, bit for bit, and names a bad row', async () => {
    expect(published.error).toBeUndefined();
    expect(pageErrors).toEqual([]);
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
