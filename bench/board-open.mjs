// kiln board's open-time target: start `kiln board` on a log folder (bench/board-logs.mjs
// writes a 100-run, 1,000,000-point one), open the page in headless Chromium and time
// (a) the command until it prints its address (the folder read), (b) the page from
// navigation until every visible chart is drawn (window.kilnBoard.ready), and the sum.
// Usage: npm run build && node bench/board-logs.mjs /tmp/board-1m && node bench/board-open.mjs /tmp/board-1m [screenshot.png]
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const [dir = 'bench-logs', screenshot] = process.argv.slice(2);
const t0 = performance.now();
const board = spawn(process.execPath, ['dist/src/cli.js', 'board', '--logdir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  board.stdout.on('data', (d) => { out += d; const m = /open (http:\S+)/.exec(out); if (m) resolve(m[1]); });
  board.on('exit', (code) => reject(new Error(`kiln board exited with ${code}: ${out}`)));
});
const started = performance.now() - t0;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.waitForFunction(() => window.kilnBoard?.ready, undefined, { timeout: 60_000 });
  const { firstRenderMs, charts } = await page.evaluate(() => window.kilnBoard);
  // interactive: time to redraw every chart after a smoothing change
  // (until the next frame is painted: uPlot draws on its own schedule)
  const redrawMs = await page.evaluate(() => new Promise((resolve) => {
    const s = document.getElementById('smoothing');
    const t = performance.now();
    s.value = '0.9';
    s.dispatchEvent(new Event('input'));
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t)));
  }));
  const points = Object.values(charts).reduce((a, c) => a + c.points, 0);
  console.log(`kiln board on ${dir}: folder read and serving in ${started.toFixed(0)} ms; page drawn ${Object.keys(charts).length} charts (${points} points shown) in ${firstRenderMs.toFixed(0)} ms after navigation; total ${(started + firstRenderMs).toFixed(0)} ms; smoothing change redraws in ${redrawMs.toFixed(0)} ms`);
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
  board.kill('SIGINT');
}
