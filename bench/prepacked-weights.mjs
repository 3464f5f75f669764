// Prepacked weights (issue 16): a dense layer's product x·W at batch 64, W
// 3136×1024 (the bench CNN's dense layer), one thread, with W a parameter (the
// module keeps it packed between runs) beside the same graph with W a state
// input (kept in memory too, but packed on every run, as before prepacking),
// interleaved run by run; medians, and the ratio per round.
//
// Run: npm run build && node bench/prepacked-weights.mjs [runs=60] [rounds=3]
import * as kiln from '../dist/src/index.js';
kiln.setThreads(1);

const [runs, rounds] = [Number(process.argv[2] ?? 60), Number(process.argv[3] ?? 3)];
const [batch, k, n] = [64, 3136, 1024];
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const w = kiln.randomNormal([k * n], { seed: 1 }).dataSync();
const x = kiln.randomNormal([batch * k], { seed: 2 }).dataSync();

const contestants = [];
for (const kind of ['parameter', 'state']) {
  const g = kiln.trace(({ x: xt, w: wt }) => kiln.matmul(xt, wt), { x: kiln.spec([null, k]), w: kiln.spec([k, n], 'float32', { kind }) });
  const { module, manifest } = await kiln.compileModule({ predict: g }, { maxBatch: batch });
  module.set('w', w);
  module.run('predict', { x }); // the parameter's first run packs it
  contestants.push({ name: kind === 'parameter' ? `prepacked (manifest v${manifest.version})` : 'packed per run', module, out: undefined });
}
const [a, b] = contestants.map((c) => c.module.run('predict', { x }).output.data);
if (a.some((v, i) => !Object.is(v, b[i]))) throw new Error('prepacked and packed-per-run products differ');

const gflops = (ms) => (2 * batch * k * n / ms / 1e6).toFixed(1);
const ratios = [];
for (let r = 1; r <= rounds; r++) {
  const times = contestants.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of contestants.entries()) {
      const t0 = performance.now();
      c.module.run('predict', { x }, { views: true });
      times[j].push(performance.now() - t0);
    }
  }
  const [p, q] = times.map(median);
  ratios.push(q / p);
  console.log(`round ${r}: ${contestants[0].name} ${p.toFixed(2)} ms (${gflops(p)} GFLOP/s), ${contestants[1].name} ${q.toFixed(2)} ms (${gflops(q)} GFLOP/s): ×${(q / p).toFixed(3)}`);
}
console.log(`the same bits; prepacked ×${median(ratios).toFixed(3)} the speed of packing per run (median of ${rounds} rounds)`);
process.exit(0);
