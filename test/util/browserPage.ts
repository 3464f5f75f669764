/**
 * Runs a module script in headless Chromium over files served from memory at
 * http://localhost/ and returns what the script stores in `window.result` (a
 * value or a promise). For the browser tests that bundle part of kiln with
 * esbuild and check what it does in a page.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** `files`: path → [content type, body]; '/' should load the page's module script. `headers` go with every file (COOP/COEP for cross-origin isolation). */
export async function runInPage<T>(files: Readonly<Record<string, readonly [string, string | Buffer]>>, options: { headers?: Record<string, string> } = {}): Promise<{ result: T; browser: Browser }> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const context = await browser.newContext();
  await context.route('http://localhost/**', (route) => {
    const file = files[new URL(route.request().url()).pathname];
    return file ? route.fulfill({ status: 200, contentType: file[0], body: file[1], headers: options.headers ?? {} }) : route.fulfill({ status: 404, body: '' });
  });
  const page = await context.newPage();
  await page.goto('http://localhost/');
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined);
  const result = await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result) as T;
  return { result, browser };
}

/** The page that loads `/page.js` as a module. */
export const modulePage = ['text/html', '<!doctype html><script type="module" src="/page.js"></script>'] as const;

/** A built example page served on 127.0.0.1 and open in headless Chromium, with the errors it logged. */
export interface ServedPage {
  readonly page: Page;
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Serves the folder `site` (examples/browser/serve.ts), opens it in a headless
 * Chromium profile under `profileDir` and waits until the page's script has put
 * `window[published]` with `ready` or `error` set.
 */
export async function openServedPage(site: string, profileDir: string, published: string): Promise<ServedPage> {
  const { serve } = await import('../../examples/browser/serve.js');
  const { server, url } = await serve(site, { port: 0 });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    // this machine's network is closed: no first-run, sync, component or background fetches
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction((name) => {
    const k = (window as unknown as Record<string, { ready?: boolean; error?: string } | undefined>)[name];
    return k !== undefined && (k.ready || k.error !== undefined);
  }, published, { timeout: 20_000 });
  return {
    page,
    pageErrors,
    close: async () => {
      await context.close();
      await new Promise((done) => server.close(done));
    },
  };
}
