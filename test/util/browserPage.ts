/**
 * Runs a module script in headless Chromium over files served from memory at
 * http://localhost/ and returns what the script stores in `window.result` (a
 * value or a promise). For the browser tests that bundle part of kiln with
 * esbuild and check what it does in a page.
 */
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** `files`: path → [content type, body]; '/' should load the page's module script. */
export async function runInPage<T>(files: Readonly<Record<string, readonly [string, string | Buffer]>>): Promise<{ result: T; browser: Browser }> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const context = await browser.newContext();
  await context.route('http://localhost/**', (route) => {
    const file = files[new URL(route.request().url()).pathname];
    return file ? route.fulfill({ status: 200, contentType: file[0], body: file[1] }) : route.fulfill({ status: 404, body: '' });
  });
  const page = await context.newPage();
  await page.goto('http://localhost/');
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined);
  const result = await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result) as T;
  return { result, browser };
}

/** The page that loads `/page.js` as a module. */
export const modulePage = ['text/html', '<!doctype html><script type="module" src="/page.js"></script>'] as const;
