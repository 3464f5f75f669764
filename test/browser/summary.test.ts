/**
 * Event files written in a browser: kiln's summary module bundled for the browser
 * (esbuild) runs in headless Chromium, where the default sink is
 * `kiln.summary.memoryLogs()` mirrored to the origin-private file system. The
 * test reads the OPFS copy back in the page, compares it byte for byte with the
 * memory copy, downloads the log folder as a zip and reads the events in Node.
 *
 * Needs /usr/bin/chromium; skipped without it unless KILN_REQUIRE_BROWSER is set.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { unzipSync } from 'fflate';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumPath as executablePath, modulePage, runInPage } from '../util/browserPage.js';
import { readEventFile } from '../../src/summary/reader.js';

const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);

/** Runs in the page: writes a run with SummaryWriter and kiln.summary, then reads OPFS and zips. */
const pageScript = `
import * as summary from './summary.js';
const run = async () => {
  const logs = summary.memoryLogs();
  const w = new summary.SummaryWriter('logs/run1');
  for (let step = 0; step < 4; step++) w.addScalar('loss', 1 / (step + 1), step);
  w.addScalar('loss', NaN, 4);
  w.addHistogram('h', [1, 2, 3, 4], 4);
  w.addText('note', 'from the browser', 4);
  await w.close();
  const fw = summary.createFileWriter('logs/run2');
  fw.asDefault(() => summary.scalar('acc', 0.75, { step: 9 }));
  await fw.close();
  const paths = logs.paths();
  const root = await navigator.storage.getDirectory();
  const opfsSame = [];
  for (const path of paths) {
    let dir = root;
    const parts = path.split('/');
    for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p);
    const bytes = new Uint8Array(await (await (await dir.getFileHandle(parts.at(-1))).getFile()).arrayBuffer());
    const mem = logs.read(path);
    opfsSame.push(bytes.length === mem.length && bytes.every((b, i) => b === mem[i]));
  }
  const zip = logs.zip('logs');
  let binary = '';
  for (const b of zip) binary += String.fromCharCode(b);
  return { paths, opfsSame, zip: btoa(binary), isNodeSink: typeof process !== 'undefined' };
};
window.result = run().catch((e) => ({ error: String(e && e.stack || e) }));
`;

describe.skipIf(!available && !required)('event files in headless Chromium (memory + OPFS)', () => {
  let browser: Browser | undefined;
  let result: { paths: string[]; opfsSame: boolean[]; zip: string; isNodeSink: boolean; error?: string };

  beforeAll(async () => {
    const bundle = await build({ entryPoints: [join(__dirname, '../../src/summary/index.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    const files: Record<string, readonly [string, string]> = {
      '/': modulePage,
      '/page.js': ['text/javascript', pageScript],
      '/summary.js': ['text/javascript', bundle.outputFiles[0]!.text],
    };
    ({ result, browser } = await runInPage<typeof result>(files));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  test('the page wrote to memory and OPFS, the same bytes', () => {
    expect(result.error).toBeUndefined();
    expect(result.isNodeSink).toBe(false);
    expect(result.paths.map((p) => p.replace(/tfevents\..*$/, 'tfevents'))).toEqual(['logs/run1/events.out.tfevents', 'logs/run2/events.out.tfevents']);
    expect(result.paths[0]).toMatch(/^logs\/run1\/events\.out\.tfevents\.\d{10}\.browser\.0\.\d+$/);
    expect(result.opfsSame).toEqual([true, true]);
  });

  test('the downloaded zip holds the log folder, every event readable', () => {
    const zip = unzipSync(Buffer.from(result.zip, 'base64'));
    expect(Object.keys(zip)).toEqual(result.paths);
    const run1 = readEventFile(zip[result.paths[0]!]!);
    expect(run1.damage).toBeUndefined();
    const loss = run1.events.flatMap((e) => (e.summary ?? []).filter((v) => v.tag === 'loss').map((v) => [e.step, v.tensor!.values[0]]));
    expect(loss).toEqual([[0, 1], [1, 0.5], [2, Math.fround(1 / 3)], [3, 0.25], [4, NaN]]);
    const text = run1.events.flatMap((e) => e.summary ?? []).find((v) => v.tag === 'note/text_summary')!;
    expect(new TextDecoder().decode(text.tensor!.strings[0])).toBe('from the browser');
    const run2 = readEventFile(zip[result.paths[1]!]!);
    expect(run2.events.flatMap((e) => (e.summary ?? []).map((v) => [e.step, v.tag, v.tensor!.values[0]]))).toEqual([[9, 'acc', 0.75]]);
  });
});
