/**
 * Threads in a page: served cross-origin isolated (COOP/COEP), the deployed
 * runtime with kiln/runtime/threads predicts on 2 threads (Web Workers over one
 * shared memory) with the bits of 1 thread and of Node; served without
 * isolation, it runs on one thread and says why exactly once.
 *
 * Needs /usr/bin/chromium; skipped without it unless KILN_REQUIRE_BROWSER is set.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { encodeArtifact } from '../../src/runtime/index.js';
import { chromiumPath as executablePath, modulePage, runInPage } from '../util/browserPage.js';

const here = dirname(fileURLToPath(import.meta.url));
const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);

interface PageResult { error?: string; isolated: boolean; threads: number[]; bits: number[][]; warnings: string[] }

const pageScript = `
import * as rt from '/kiln.js';
const warnings = [];
const warn = console.warn;
console.warn = (...args) => { warnings.push(args.join(' ')); warn(...args); };
const run = async () => {
  const bytes = new Uint8Array(await (await fetch('/model.kiln-artifact')).arrayBuffer());
  const x = new Float32Array(await (await fetch('/x.bin')).arrayBuffer());
  const threads = [], bits = [];
  for (const count of [1, 2, 2]) {
    const net = await rt.loadArtifact(bytes, { threads: count });
    threads.push(await net.module.threaded());
    const y = net.predict({ data: x, shape: [64, 16, 16, 3] }).data;
    bits.push(Array.from(new Uint32Array(y.buffer, y.byteOffset, y.length)));
  }
  return { isolated: self.crossOriginIsolated, threads, bits, warnings };
};
window.result = run().catch((e) => ({ error: String(e && e.stack || e) }));
`;

describe.skipIf(!available && !required)('threads in headless Chromium', () => {
  const browsers: Browser[] = [];
  let files: Record<string, readonly [string, string | Buffer]>;
  let nodeBits: number[];

  beforeAll(async () => {
    kiln.setThreads(1);
    kiln.utils.setRandomSeed(3);
    const model = kiln.sequential({ layers: [
      kiln.layers.conv2d({ inputShape: [16, 16, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      kiln.layers.maxPooling2d({ poolSize: 2 }),
      kiln.layers.flatten(),
      kiln.layers.dense({ units: 10 }),
    ] });
    const bytes = encodeArtifact(await kiln.artifactOf(model));
    const x = kiln.randomNormal([64, 16, 16, 3], { seed: 8 }).dataSync() as Float32Array;
    const y = (await kiln.loadArtifact(bytes)).predict({ data: x, shape: [64, 16, 16, 3] }).data as Float32Array;
    nodeBits = Array.from(new Uint32Array(y.buffer, y.byteOffset, y.length));
    const entry = "export * from './src/runtime/index.ts'; import './src/runtime/threads.ts';";
    const bundle = await build({ stdin: { contents: entry, resolveDir: join(here, '../..'), loader: 'ts' }, bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    files = {
      '/': modulePage,
      '/page.js': ['text/javascript', pageScript],
      '/kiln.js': ['text/javascript', bundle.outputFiles[0]!.text],
      '/model.kiln-artifact': ['application/octet-stream', Buffer.from(bytes)],
      '/x.bin': ['application/octet-stream', Buffer.from(x.buffer, x.byteOffset, x.byteLength)],
    };
  }, 120_000);

  afterAll(async () => {
    for (const b of browsers) await b.close();
  });

  test('cross-origin isolated: 2 threads (Web Workers) give the bits of 1 thread and of Node, without a warning', async () => {
    const { result, browser } = await runInPage<PageResult>(files, { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } });
    browsers.push(browser);
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(true);
    expect(result.threads).toEqual([1, 2, 2]);
    for (const b of result.bits) expect(b).toEqual(nodeBits);
    expect(result.warnings).toEqual([]);
  }, 120_000);

  test('not isolated: one thread, the same bits, and exactly one warning that says why', async () => {
    const { result, browser } = await runInPage<PageResult>(files);
    browsers.push(browser);
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(false);
    expect(result.threads).toEqual([1, 1, 1]);
    for (const b of result.bits) expect(b).toEqual(nodeBits);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/running on one thread: the page is not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\)/);
  }, 120_000);
});
