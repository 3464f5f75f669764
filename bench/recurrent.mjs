// Compile time and steady train step of a PyTorch-style LSTM loop (issue 12):
// nn.LSTM 16→64 (batchFirst) + nn.Linear 64→1 on every step, batch 32, Adam,
// MSE loss, the literal loop (zeroGrad, forward, loss, backward, step, item), for
// sequence lengths T. Each (T, variant) runs in a fresh child process with an
// empty compile cache (KILN_CACHE_DIR = a new temp folder); the child first
// compiles an unrelated small graph so AssemblyScript is loaded (a warm
// process), then times the first step (which compiles the training step) and
// the median of the following steps.
//
// Run: npm run build && node bench/recurrent.mjs [T list, default 10,25,50,200] [variants, default scan]
//   variant "scan" uses this checkout's dist/; "main=<folder>" runs the dist/ of
//   another checkout (e.g. main built in a temp folder, where nn.LSTM unrolls).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

if (process.argv[2] === '--child') {
  const [, , , T, , dist, stepsArg] = process.argv; // the variant name (argument 4) only labels the row
  const kiln = await import(pathToFileURL(join(dist, 'src/index.js')).href);
  kiln.setThreads?.(1); // one thread, as PyTorch's column (older checkouts have no threads)
  const { nn, optim } = kiln;
  const steps = Number(stepsArg);
  // warm the process: asc and its standard library loaded by an unrelated compile
  await kiln.compile((x) => kiln.relu(kiln.matmul(x, x)))(kiln.ones([4, 4]));
  class Net extends nn.Module {
    lstm = new nn.LSTM(16, 64, { batchFirst: true });
    head = new nn.Linear(64, 1);
    forward(x) { const [out] = this.lstm.forward(x); return this.head.forward(out); }
  }
  const net = new Net();
  const opt = new optim.Adam(net.parameters(), { lr: 1e-3 });
  const x = kiln.randomNormal([32, Number(T), 16], { seed: 1 });
  const y = kiln.randomNormal([32, Number(T), 1], { seed: 2 });
  const times = [];
  for (let i = 0; i <= steps; i++) {
    const t0 = performance.now();
    opt.zeroGrad();
    const loss = nn.functional.mseLoss(net.forward(x), y);
    loss.backward();
    await opt.step();
    await loss.item();
    times.push(performance.now() - t0);
  }
  const rest = times.slice(1).sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ first: times[0], steady: rest[rest.length >> 1] }));
  process.exit(0);
}

const lengths = (process.argv[2] ?? '10,25,50,200').split(',').map(Number);
const variants = (process.argv[3] ?? 'scan').split(',');
const rows = [];
for (const T of lengths) {
  for (const v of variants) {
    const [name, folder] = v.startsWith('main=') ? ['main', v.slice(5)] : [v, join(here, '..')];
    const cache = mkdtempSync(join(tmpdir(), 'kiln-cache-'));
    const started = performance.now();
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(T), name, join(folder, 'dist'), String(T >= 200 ? 10 : 20)], {
      env: { ...process.env, KILN_CACHE_DIR: cache }, encoding: 'utf8', timeout: 15 * 60_000,
    });
    rmSync(cache, { recursive: true, force: true });
    if (r.status !== 0) {
      rows.push([T, name, 'failed', `${((performance.now() - started) / 1000).toFixed(0)} s: ${(r.stderr || String(r.signal)).trim().split('\n').pop()}`]);
    } else {
      const { first, steady } = JSON.parse(r.stdout);
      rows.push([T, name, `${(first / 1000).toFixed(2)} s`, `${steady.toFixed(2)} ms`]);
    }
    console.log(`| ${rows[rows.length - 1].join(' | ')} |`);
  }
}
