// GEMM 512 on 1 and 2 threads through compileModule + module.run, the output
// read as a view (so the ratio is the module's, not the copies'), 1 and 2 threads
// interleaved run by run in one process; each checkout in its own child process,
// the checkouts alternating round by round. A checkout is a folder holding a
// built dist/ (this one by default): compare a change with the commit before it
// built in a temp folder.
//
// Run: npm run build && node bench/gemm-threads.mjs [runs=60] [rounds=3] [checkout ...]
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];

if (process.argv[2] === '--child') {
  const [, , , folder, runsArg] = process.argv;
  const kiln = await import(pathToFileURL(join(folder, 'dist/src/index.js')).href);
  const n = 512;
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
  const contestants = [];
  for (const t of [1, 2]) {
    kiln.setThreads(t);
    const g = kiln.trace((x, y) => kiln.matmul(x, y), [kiln.spec([n, n]), kiln.spec([n, n])]);
    const { module } = await kiln.compileModule({ run: g });
    if (t > 1) await module.threaded();
    contestants.push({ module, times: [] });
  }
  for (const c of contestants) for (let i = 0; i < 5; i++) c.module.run('run', { input_0: a, input_1: b });
  for (let r = 0; r < Number(runsArg); r++) {
    for (const c of contestants) {
      const t0 = performance.now();
      c.module.run('run', { input_0: a, input_1: b }, { views: true });
      c.times.push(performance.now() - t0);
    }
  }
  process.stdout.write(JSON.stringify({ one: median(contestants[0].times), two: median(contestants[1].times), threads: contestants[1].module.threadCount }));
  process.exit(0);
}

const runs = Number(process.argv[2] ?? 60);
const rounds = Number(process.argv[3] ?? 3);
const here = resolve(fileURLToPath(new URL('..', import.meta.url)));
const checkouts = process.argv.length > 4 ? process.argv.slice(4).map((f) => resolve(f)) : [here];
console.log('| round | checkout | 1 thread, ms | 2 threads, ms | ×2 vs 1 |\n|---|---|---:|---:|---:|');
for (let r = 1; r <= rounds; r++) {
  for (const folder of checkouts) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', folder, String(runs)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${folder}: ${child.stderr}`);
    const { one, two, threads } = JSON.parse(child.stdout);
    if (threads !== 2) throw new Error(`${folder}: the 2-thread module ran on ${threads} thread(s)`);
    console.log(`| ${r} | ${folder === here ? 'this checkout' : folder} | ${one.toFixed(2)} | ${two.toFixed(2)} | ×${(one / two).toFixed(2)} |`);
  }
}
