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
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { serve } from '../../examples/browser/serve.js';
import { buildSpamPage } from '../../examples/text/build.js';
import * as runtime from '../../src/runtime/index.js';

const executablePath = '/usr/bin/chromium';
const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);

interface Published { ready: boolean; error?: string; labels: number[]; logitsBits: number[] }

describe.skipIf(!available && !required)('the spam page in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-spam-page-'));
  let server: Server | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let built: Awaited<ReturnType<typeof buildSpamPage>>;
  let published: Published;

  beforeAll(async () => {
    built = await buildSpamPage(join(dir, 'site'), { messages: 120, log: () => {} });
    const served = await serve(join(dir, 'site'), { port: 0 });
    server = served.server;
    context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(served.url);
    await page.waitForFunction(() => {
      const k = (window as unknown as { kilnSpam?: Published }).kilnSpam;
      return k !== undefined && (k.ready || k.error !== undefined);
    }, undefined, { timeout: 20_000 });
    published = await page.evaluate(() => (window as unknown as { kilnSpam: Published }).kilnSpam);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page classifies the raw test messages with the scores Node gives, bit for bit', async () => {
    expect(published.error).toBeUndefined();
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
