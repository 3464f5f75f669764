/**
 * `kiln board` in headless Chromium over the logs of real fits with the
 * tensorBoard callback: the page lists the runs and tags, draws non-empty
 * charts (scalars, histograms), shows images and the graph, names a damaged
 * file, and updates when new events are written. KILN_BOARD_SCREENSHOT=<path>
 * saves the scalars view (docs/board.png is made this way).
 *
 * Needs /usr/bin/chromium; skipped without it unless KILN_REQUIRE_BROWSER is set.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { startBoard, type Board } from '../../src/board/server.js';
import { encodeEvent, EventFileWriter, frameRecord, scalarValue } from '../../src/summary/index.js';
import { blobs } from '../util/blobs.js';

const executablePath = '/usr/bin/chromium';
const required = Boolean(process.env.KILN_REQUIRE_BROWSER);
const available = existsSync(executablePath);

interface Published { rendered: Record<string, number>; ready: boolean; version: number; drawnVersion: number; charts: Record<string, { runs: string[]; points: number }>; errors: string[] }

async function fit(logDir: string, learningRate: number): Promise<void> {
  const { x, y } = blobs(96, 3);
  const model = kiln.sequential({ layers: [
    kiln.layers.dense({ inputShape: [4], units: 8, activation: 'relu', name: 'hidden' }),
    kiln.layers.dense({ units: 3, name: 'logits' }),
  ] });
  model.compile({ optimizer: kiln.optimizers.sgd({ learningRate }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  const log = console.log;
  console.log = () => {};
  try {
    await model.fit(x, y, { epochs: 8, batchSize: 16, validationSplit: 0.25, verbose: 0, callbacks: [kiln.callbacks.tensorBoard({ logDir, histogramFreq: 1, writeImages: true })] });
  } finally {
    console.log = log;
  }
}

/** Pixels of a canvas that are not blank (transparent or white). */
const inkedPixels = (page: Page, selector: string) => page.$$eval(selector, (canvases) => canvases.map((c) => {
  const canvas = c as HTMLCanvasElement;
  const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && (data[i]! < 240 || data[i + 1]! < 240 || data[i + 2]! < 240)) n++;
  return n;
}));

test('a missing Chromium is a failure when KILN_REQUIRE_BROWSER is set', () => {
  if (required) expect(available, `KILN_REQUIRE_BROWSER is set but ${executablePath} is missing (apt-get install -y chromium)`).toBe(true);
});

describe.skipIf(!available && !required)('kiln board in headless Chromium', () => {
  const logDir = mkdtempSync(join(tmpdir(), 'kiln-board-page-'));
  let board: Board;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const published = () => page.evaluate(() => (window as unknown as { kilnBoard: Published }).kilnBoard);

  beforeAll(async () => {
    await fit(join(logDir, 'lr_0.05'), 0.05);
    await fit(join(logDir, 'lr_0.2'), 0.2);
    for (const [name, lr, acc] of [['trial_a', 0.05, 0.9], ['trial_b', 0.2, 0.8]] as const) {
      const w = new kiln.utils.tensorboard.SummaryWriter(join(logDir, 'hp'));
      w.addHparams({ lr, optimizer: 'sgd' }, { 'hparam/accuracy': acc }, { runName: name });
      await w.close();
    }
    const notes = new kiln.utils.tensorboard.SummaryWriter(join(logDir, 'notes'));
    notes.addText('about', '# Fit\n\n**sgd**, <script> is text', 0);
    await notes.close();
    const records = [0, 1, 2].map((s) => frameRecord(encodeEvent({ wallTime: 1e9 + s, step: s, summary: [scalarValue('epoch_loss', 1)] })));
    records[1]![20]! ^= 0xff; // the second record's data is damaged
    mkdirSync(join(logDir, 'broken'));
    writeFileSync(join(logDir, 'broken', 'events.out.tfevents.1.host'), Buffer.concat(records));
    board = await startBoard({ logDir, port: 0, reloadMillis: 200 });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(board.url);
    await page.waitForFunction(() => (window as unknown as { kilnBoard: Published }).kilnBoard.ready, undefined, { timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await board?.close();
  });

  test('lists the runs and the Keras tags, and draws every scalar chart', async () => {
    const runs = await page.$$eval('#runs li', (items) => items.map((li) => li.textContent));
    expect(runs).toEqual(['broken', 'hp', 'hp/trial_a', 'hp/trial_b', 'lr_0.05/train', 'lr_0.05/validation', 'lr_0.2/train', 'lr_0.2/validation', 'notes']);
    const tags = await page.$$eval('#tab-scalars .card h3', (hs) => hs.map((h) => h.textContent));
    expect(tags).toEqual(expect.arrayContaining(['epoch_loss', 'epoch_accuracy', 'epoch_learning_rate', 'evaluation_loss_vs_iterations', 'evaluation_accuracy_vs_iterations']));
    const { charts, errors } = await published();
    expect(errors).toEqual([]);
    expect(charts.epoch_loss!.runs).toEqual(['broken', 'lr_0.05/train', 'lr_0.05/validation', 'lr_0.2/train', 'lr_0.2/validation']);
    expect(charts.epoch_loss!.points).toBe(8 * 4 + 1); // 8 epochs × 4 runs, and the damaged file's one readable point
    const inked = await inkedPixels(page, '#tab-scalars .card:has(h3:text-is("epoch_loss")) canvas');
    expect(inked[0]).toBeGreaterThan(500);
  });

  test("smooths with TensorBoard's debiased moving average; the axes and log scale redraw", async () => {
    const smoothed = await page.evaluate(() => (window as unknown as { kilnBoard: { smooth(v: number[], w: number): number[] } }).kilnBoard.smooth([1, 2, 3, NaN, 4], 0.5));
    // last = 0.5·last + 0.5·v, divided by 1 − 0.5^k after k finite points; NaN passes through
    [1, 1.25 / 0.75, 2.125 / 0.875, NaN, 3.0625 / 0.9375].forEach((v, i) => (Number.isNaN(v) ? expect(smoothed[i]).toBeNaN() : expect(smoothed[i]).toBeCloseTo(v, 12)));
    const chart = '#tab-scalars .card:has(h3:text-is("epoch_loss"))';
    for (const axis of ['relative', 'wall', 'step']) {
      await page.check(`input[name=xaxis][value=${axis}]`);
      expect((await inkedPixels(page, `${chart} canvas`))[0]).toBeGreaterThan(500);
    }
    await page.check('#logscale');
    expect((await inkedPixels(page, `${chart} canvas`))[0]).toBeGreaterThan(500);
    await page.uncheck('#logscale');
    expect((await published()).errors).toEqual([]);
  });

  test('names the damaged file and keeps what came before the damage', async () => {
    const text = await page.textContent('#problems');
    expect(text).toMatch(/^Damaged file broken\/events\.out\.tfevents\.1\.host: bad data checksum at byte \d+; the \d+ bytes before it were read$/);
  });

  test('histograms draw, images load, the graph shows the layers, text renders (escaped), hparams sort', async () => {
    const tabDone = (tab: string) => page.waitForFunction((t) => { const k = (window as unknown as { kilnBoard: Published }).kilnBoard; return k.rendered[t] === k.version; }, tab);
    await page.click('#tabs button[data-tab=histograms]');
    await tabDone('histograms');
    const titles = await page.$$eval('#tab-histograms .card h3', (hs) => hs.map((h) => h.textContent));
    expect(titles.some((t) => /^hidden\/kernel\S* — lr_0\.05\/train$/.test(t ?? '')), titles.join(', ')).toBe(true);
    expect(Math.min(...(await inkedPixels(page, '#tab-histograms canvas')))).toBeGreaterThan(200);
    await page.click('#tabs button[data-tab=images]');
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#tab-images img')].some((i) => i.complete && i.naturalWidth > 0));
    await page.click('#tabs button[data-tab=graph]');
    await tabDone('graph');
    const boxes = await page.$$eval('#tab-graph svg text', (ts) => ts.map((t) => t.textContent));
    expect(boxes.some((b) => b?.startsWith('hidden'))).toBe(true);
    expect(boxes.some((b) => b?.startsWith('logits'))).toBe(true);
    await page.click('#tabs button[data-tab=text]');
    await tabDone('text');
    expect(await page.innerHTML('#tab-text .text-step div:not(.step)')).toBe('<h4>Fit</h4><p><b>sgd</b>, &lt;script&gt; is text</p>');
    await page.click('#tabs button[data-tab=hparams]');
    await tabDone('hparams');
    const rows = () => page.$$eval('#tab-hparams tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(await page.$$eval('#tab-hparams th', (ths) => ths.map((th) => th.textContent))).toEqual(['run ▲', 'lr', 'optimizer', 'hparam/accuracy']);
    expect(await rows()).toEqual([['hp/trial_a', '0.05', 'sgd', '0.9'], ['hp/trial_b', '0.2', 'sgd', '0.8']]);
    await page.click('#tab-hparams th:text-is("hparam/accuracy")');
    await tabDone('hparams');
    await page.waitForFunction(() => document.querySelector('#tab-hparams tbody td')?.textContent === 'hp/trial_b');
    expect((await rows()).map((r) => r[0])).toEqual(['hp/trial_b', 'hp/trial_a']); // ascending accuracy
    await page.click('#tabs button[data-tab=scalars]');
  });

  test('updates when new events are written', async () => {
    const before = (await published()).version;
    const writer = new EventFileWriter(join(logDir, 'live'), { flushMillis: 50 });
    for (let step = 0; step < 5; step++) writer.addSummary([scalarValue('epoch_loss', 2 - step * 0.3)], step);
    await writer.flush();
    await page.waitForFunction((v) => { const k = (window as unknown as { kilnBoard: Published }).kilnBoard; return k.drawnVersion > v && k.charts.epoch_loss?.runs.includes('live'); }, before, { timeout: 30_000 });
    expect(await page.$$eval('#runs li', (items) => items.map((li) => li.textContent))).toContain('live');
    const points = (await published()).charts.epoch_loss!.points;
    for (let step = 5; step < 9; step++) writer.addSummary([scalarValue('epoch_loss', 2 - step * 0.3)], step);
    await writer.close();
    await page.waitForFunction((p) => (window as unknown as { kilnBoard: Published }).kilnBoard.charts.epoch_loss!.points === p + 4, points, { timeout: 30_000 });
    if (process.env.KILN_BOARD_SCREENSHOT) await page.screenshot({ path: process.env.KILN_BOARD_SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });
});
