// Relaxed SIMD (issue 16, item 4): the same graphs compiled in deterministic mode
// (plain f32x4 mul then add) and with kiln.setDeterministic(false) (relaxed SIMD's
// fused multiply-add in GEMM and convolutions), one thread, runs interleaved one by
// one; medians and the relaxed build's speed ÷ the plain build's. Node 20 needs
// --experimental-wasm-relaxed-simd: without it this script starts itself again
// with the flag.
//   GEMM 512        kiln.compileModule + module.run
//   CNN predict     the README's Fashion-MNIST CNN, batch 64
//   CNN train step  the same, batch 64, Adam, trainOnBatch
//
// Run: npm run build && node bench/relaxed-simd.mjs [reps, default 30]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readmeCnn } from './readme-cnn.mjs';

const { relaxedSimdSupported } = await import('../dist/src/runtime/wasm.js');
if (!relaxedSimdSupported()) {
  if (process.execArgv.includes('--experimental-wasm-relaxed-simd')) throw new Error('this engine has no relaxed SIMD, even with the flag');
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const kiln = await import('../dist/src/index.js');
kiln.setThreads(1);
const reps = Number(process.argv[2] ?? 30);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function row(name, make) {
  const cs = [];
  for (const deterministic of [true, false]) {
    kiln.setDeterministic(deterministic);
    const c = { deterministic, ...(await make()), times: [] };
    await c.step();
    await c.step();
    cs.push(c);
  }
  kiln.setDeterministic(true);
  for (let r = 0; r < reps; r++) for (const c of cs) {
    const t0 = performance.now();
    await c.step();
    c.times.push(performance.now() - t0);
  }
  const [plain, relaxed] = cs.map((c) => median(c.times));
  console.log(`| ${name} | ${plain.toFixed(2)} ms | ${relaxed.toFixed(2)} ms | ×${(plain / relaxed).toFixed(3)} |`);
}

console.log(`Node ${process.version}, V8 ${process.versions.v8}; ${reps} interleaved runs, medians\n`);
console.log('| one thread | deterministic (mul, add) | relaxed SIMD (fused multiply-add) | relaxed speed ÷ deterministic |');
console.log('|---|---:|---:|---:|');
await row('GEMM 512', async () => {
  const n = 512;
  const g = kiln.trace((a, b) => kiln.matmul(a, b), [kiln.spec([n, n]), kiln.spec([n, n])]);
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
  const { module } = await kiln.compileModule({ run: g });
  return { step: () => module.run('run', { input_0: a, input_1: a }).output.data };
});
const images = kiln.randomNormal([64, 28, 28, 1], { seed: 1 });
const labels = kiln.oneHot(kiln.randomUniform([64], { seed: 2, minval: 0, maxval: 10 }).floor().cast('int32'), 10);
await row('CNN predict, batch 64', async () => {
  kiln.utils.setRandomSeed(1);
  const model = readmeCnn(kiln);
  await model.ready();
  return { step: () => model.predict(images).dataSync() };
});
await row('CNN train step, batch 64, Adam', async () => {
  kiln.utils.setRandomSeed(1);
  const model = readmeCnn(kiln);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  return { step: () => model.trainOnBatch(images, labels) };
});
