/**
 * The browser example end to end: build the page (examples/browser/build.ts) into a
 * temporary folder, serve it on 127.0.0.1, open it in headless Chromium and check
 * that the page's logits, and its on-device trainStep losses, equal Node's bit for
 * bit — the same artifact bytes under kiln/runtime in both.
 *
 * Needs /usr/bin/chromium (Debian: apt-get install -y chromium); skipped without it
 * unless KILN_REQUIRE_BROWSER is set, which makes a missing browser a failure.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumPath as executablePath, openServedPage, type ServedPage } from '../util/browserPage.js';
import { artifactFile, buildPage, type BuildResult } from '../../examples/browser/build.js';
import * as runtime from '../../src/runtime/index.js';

const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);

interface Published {
  ready: boolean;
  error?: string;
  classNames: string[];
  predicted: string[];
  logits: number[];
  workerLogits: number[];
  trained: { lossBits: number[]; logits: number[]; predicted: string[] }[];
  curvePoints?: number;
}

interface Samples { labels: number[]; pixels: string }

const bitsOf = (f32: Float32Array) => Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));
const decode = ({ labels, pixels }: Samples) => ({
  x: Float32Array.from(Buffer.from(pixels, 'base64'), (v) => v / 255),
  y: Int32Array.from(labels),
});
const argmax = (row: Float32Array) => row.reduce((best, v, i) => (v > row[best]! ? i : best), 0);

test('a missing Chromium is a failure when KILN_REQUIRE_BROWSER is set', () => {
  if (required) expect(available, `KILN_REQUIRE_BROWSER is set but ${executablePath} is missing (apt-get install -y chromium)`).toBe(true);
});

describe.skipIf(!available && !required)('the browser example in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-browser-'));
  const site = join(dir, 'site');
  let built: BuildResult;
  let opened: ServedPage | undefined;
  let published: Published;

  beforeAll(async () => {
    // untrained: a Node training run would only add compile time; bit-equality does not depend on it
    built = await buildPage(site, { trainImages: 0, sampleImages: 12, pageBatches: 4, log: () => {} });
    opened = await openServedPage(site, join(dir, 'profile'), 'kilnExample');
    const page = opened.page;
    await page.click('#train');
    await page.waitForFunction(() => {
      const k = (window as unknown as { kilnExample: Published }).kilnExample;
      return k.trained.length > 0 || k.error !== undefined;
    }, undefined, { timeout: 20_000 });
    published = await page.evaluate(() => (window as unknown as { kilnExample: Published }).kilnExample);
  }, 90_000);

  afterAll(async () => {
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page loads the artifact and classifies the samples without errors', () => {
    expect(published.error).toBeUndefined();
    expect(opened!.pageErrors).toEqual([]);
    expect(published.ready).toBe(true);
    expect(published.classNames).toEqual(JSON.parse(built.metadata.classNames!));
    expect(readFileSync(join(site, artifactFile))).toEqual(Buffer.from(built.artifact));
  });

  test('the page\'s logits and trainStep losses equal Node\'s bit for bit', async () => {
    const samples = JSON.parse(readFileSync(join(site, 'samples.json'), 'utf8')) as { classify: Samples; train: Samples; batchSize: number };
    const art = await runtime.loadArtifact(readFileSync(join(site, artifactFile)));
    const images = decode(samples.classify);
    const logits = (art.predict(images.x) as runtime.TensorData).data as Float32Array;
    expect(published.logits).toEqual(bitsOf(logits));
    expect(published.workerLogits).toEqual(bitsOf(logits)); // the same artifact in a Web Worker
    const names = published.classNames;
    const labelled = (out: Float32Array) => Array.from(images.y, (label, i) => {
      const p = names[argmax(out.subarray(i * 10, i * 10 + 10))]!;
      return p === names[label] ? p : `${p} (is ${names[label]})`;
    });
    expect(published.predicted).toEqual(labelled(logits));

    const batches = decode(samples.train);
    const n = samples.batchSize;
    const losses = new Float32Array(batches.y.length / n);
    losses.forEach((_, s) => { losses[s] = art.trainStep(batches.x.subarray(s * n * 784, (s + 1) * n * 784), batches.y.subarray(s * n, (s + 1) * n)).loss!; });
    expect(losses.length).toBe(4);
    expect(published.trained[0]!.lossBits).toEqual(bitsOf(losses));
    const after = (art.predict(images.x) as runtime.TensorData).data as Float32Array;
    expect(published.trained[0]!.logits).toEqual(bitsOf(after));
    expect(published.trained[0]!.predicted).toEqual(labelled(after));
    expect(published.curvePoints).toBe(4); // the live loss curve got every step
  });
});
