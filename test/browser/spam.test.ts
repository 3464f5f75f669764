/**
 * The spam page end to end: train and export the bag-of-words classifier (its
 * vectorizer in the artifact's manifest), build the page (examples/text/build.ts),
 * serve it on 127.0.0.1, open it in headless Chromium, and check that the page's
 * scores for the raw test messages equal Node's bit for bit, and that its box
 * classifies typed text.
 *
 * Needs /usr/bin/chromium; skipped without it unless KILN_REQUIRE_BROWSER is set.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSpamPage } from '../../examples/text/build.js';
import * as runtime from '../../src/runtime/index.js';
import { chromiumPath as executablePath, openServedPage, type ServedPage } from '../util/browserPage.js';

const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);

interface Published { ready: boolean; error?: string; labels: number[]; logitsBits: number[] }

describe.skipIf(!available && !required)('the spam page in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-spam-page-'));
  let opened: ServedPage | undefined;
  let page: Page;
  let built: Awaited<ReturnType<typeof buildSpamPage>>;
  let published: Published;

  beforeAll(async () => {
    built = await buildSpamPage(join(dir, 'site'), { messages: 120, log: () => {} });
    opened = await openServedPage(join(dir, 'site'), join(dir, 'profile'), 'kilnSpam');
    page = opened.page;
    published = await page.evaluate(() => (window as unknown as { kilnSpam: Published }).kilnSpam);
  }, 120_000);

  afterAll(async () => {
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page classifies the raw test messages with the scores Node gives, bit for bit', async () => {
    expect(published.error).toBeUndefined();
    expect(opened!.pageErrors).toEqual([]);
    const artifact = await runtime.loadArtifact(built.artifact);
    const out = artifact.predictRows(built.messages.map((m) => ({ text: m.text })));
    expect(published.logitsBits).toEqual(Array.from(new Uint32Array(out.data.buffer, out.data.byteOffset, out.data.length)));
    const right = published.labels.filter((l, r) => l === built.messages[r]!.spam).length;
    expect(right / built.messages.length).toBeGreaterThan(0.95);
  });

  test('typed text is classified in the page', async () => {
    await page.fill('#text', 'FREE!!! Claim your prize now. Click here to receive $1,000,000 FREE money!!!');
    await page.click('#classify');
    await page.waitForFunction(() => document.getElementById('verdict')!.textContent !== '');
    expect(await page.textContent('#verdict')).toBe('spam');
  });
});
