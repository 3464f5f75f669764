// What the public API adds to a kernel: a 512×512 matmul through kiln.compile
// (await f(a, b), then await y.data()) beside module.run on the same compiled
// graph (inputs copied in, the output copied out), and beside TF.js-wasm's
// tf.matMul + dataSync (operands already on its backend) when the benchmark
// peers are installed (cd bench && npm ci; npx tsc -p bench), interleaved,
// medians over rounds. kiln.compile's results are views of the module's memory
// until the next call, so data() is the one copy out.
// Run: npm run build && node bench/public-matmul.mjs [calls=40] [rounds=5]
import * as kiln from '../dist/src/index.js';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const calls = Number(process.argv[2] ?? 40);
const rounds = Number(process.argv[3] ?? 5);
const n = 512;
const a = kiln.randomNormal([n, n], { seed: 1 });
const b = kiln.randomNormal([n, n], { seed: 2 });
const f = kiln.compile((x, y) => kiln.matmul(x, y));
await f(a, b);
const graph = kiln.trace((x, y) => kiln.matmul(x, y), [kiln.spec([n, n], 'float32', { name: 'a' }), kiln.spec([n, n], 'float32', { name: 'b' })]);
const { module } = await kiln.compileModule({ run: graph });
const inputs = { a: { data: a.dataSync(), shape: [n, n] }, b: { data: b.dataSync(), shape: [n, n] } };
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
/** TF.js-wasm's matmul + dataSync on tensors it holds, or undefined without the bench peers. */
const tfjs = await (async () => {
  try {
    const { tfjsLayersWasm } = await import('./dist/bench/engines/tfjs-layers.js');
    await (await tfjsLayersWasm.load()).activate?.();
    const tf = await import('@tensorflow/tfjs-core');
    const [ta, tb] = [tf.tensor(a.dataSync(), [n, n]), tf.tensor(b.dataSync(), [n, n])];
    return () => { const c = tf.matMul(ta, tb); c.dataSync(); c.dispose(); };
  } catch {
    console.log('(TF.js-wasm not measured: install the benchmark peers with cd bench && npm ci, and build them with npx tsc -p bench)');
    return undefined;
  }
})();
const ratios = [];
const peers = [];
for (let r = 0; r < rounds; r++) {
  const pub = [];
  const run = [];
  const tf = [];
  for (let i = 0; i < calls; i++) {
    let t = performance.now();
    const y = await f(a, b);
    await y.data();
    pub.push(performance.now() - t);
    t = performance.now();
    module.run('run', inputs);
    run.push(performance.now() - t);
    if (tfjs) {
      t = performance.now();
      tfjs();
      tf.push(performance.now() - t);
    }
  }
  const [p, m] = [median(pub), median(run)];
  ratios.push(m / p);
  const peer = tfjs ? `, TF.js-wasm ${median(tf).toFixed(2)} ms (×${(median(tf) / p).toFixed(2)} the public path's speed)` : '';
  if (tfjs) peers.push(median(tf) / p);
  console.log(`matmul ${n}: kiln.compile + data() ${p.toFixed(2)} ms, module.run ${m.toFixed(2)} ms (public at ×${(m / p).toFixed(3)} of module.run's speed)${peer}`);
}
console.log(`median over ${rounds} rounds: the public path at ×${median(ratios).toFixed(3)} of module.run's speed (target ≥ 0.9)`);
if (tfjs) console.log(`median over ${rounds} rounds: TF.js-wasm's time ÷ the public path's ×${median(peers).toFixed(2)} (target ≥ 1.2)`);
