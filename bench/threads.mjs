// Thread scaling through the public API (issue 16): kiln on 1 and 2 threads (more
// when given), side by side in one process, runs interleaved one by one so the
// shared machine's noise falls on every column alike. Medians; ratios against
// one thread; every row also checks that the threads gave the same bits.
//   GEMM 512         kiln.compileModule + module.run (with the output copied out)
//   CNN train step   the README's Fashion-MNIST CNN, batch 64, Adam, trainOnBatch
//   CNN predict      the same model, predict on 64 images
//   bench CNN        the same plus dense 1024 (bench/torch_models.py's CNN: compare
//                    /usr/bin/python3 bench/torch_models.py --threads 2 --cases cnn:train:64)
//   MLP train step   784-256-128-10, batch 64, Adam, trainOnBatch
//
// Run: npm run build && node bench/threads.mjs [reps, default 30] [thread counts, default 1,2]
import { readmeCnn } from './readme-cnn.mjs';

const kiln = await import('../dist/src/index.js');
const reps = Number(process.argv[2] ?? 30);
const counts = (process.argv[3] ?? '1,2').split(',').map(Number);

const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** One contestant per thread count: `make(t)` builds it with t threads and returns { step, result }. */
async function row(name, make) {
  const contestants = [];
  for (const t of counts) {
    kiln.setThreads(t); // modules compiled or loaded from here on: the first step compiles under this setting
    const c = { t, ...(await make(t)), times: [] };
    await c.step();
    contestants.push(c);
  }
  kiln.setThreads(Math.max(...counts));
  for (const c of contestants) await c.step(); // warm: first-run page faults; the workers have the modules by now
  for (let r = 0; r < reps; r++) {
    for (const c of contestants) {
      const t0 = performance.now();
      await c.step();
      c.times.push(performance.now() - t0);
    }
  }
  const same = contestants.every((c) => c.result() === contestants[0].result());
  const base = median(contestants[0].times);
  // a contestant whose runs did not use its threads (workers not ready) would make the row meaningless
  for (const c of contestants) if (c.threads() !== c.t) throw new Error(`${name}: the ${c.t}-thread contestant ran on ${c.threads()} thread(s)`);
  return { name, cells: contestants.map((c) => ({ t: c.t, ms: median(c.times), speedup: base / median(c.times) })), same };
}

const rows = [];

rows.push(await row('GEMM 512 (compileModule, module.run)', async () => {
  const n = 512;
  const g = kiln.trace((a, b) => kiln.matmul(a, b), [kiln.spec([n, n]), kiln.spec([n, n])]);
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
  const { module } = await kiln.compileModule({ run: g });
  let out;
  return { step: () => { out = module.run('run', { input_0: a, input_1: b }).output.data; }, result: () => bits(out), threads: () => module.threadCount };
}));

const images = kiln.randomNormal([64, 28, 28, 1], { seed: 1 });
const labels = kiln.oneHot(kiln.randomUniform([64], { seed: 2, minval: 0, maxval: 10 }).floor().cast('int32'), 10);

rows.push(await row('CNN train step (batch 64, Adam)', async () => {
  kiln.utils.setRandomSeed(1);
  const model = readmeCnn(kiln);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  return { step: () => model.trainOnBatch(images, labels), result: () => bits(model.getWeights()[0].dataSync()), threads: () => model.threadCount };
}));

rows.push(await row('CNN predict (batch 64)', async () => {
  kiln.utils.setRandomSeed(1);
  const model = readmeCnn(kiln);
  await model.ready();
  let out;
  return { step: () => { out = model.predict(images).dataSync(); }, result: () => bits(out), threads: () => model.threadCount };
}));

rows.push(await row('bench CNN train step (+ dense 1024; batch 64, Adam: the model of bench/torch_models.py)', async () => {
  kiln.utils.setRandomSeed(1);
  const model = kiln.sequential({ layers: [
    kiln.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.flatten(),
    kiln.layers.dense({ units: 1024, activation: 'relu' }),
    kiln.layers.dense({ units: 10 }),
  ] });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  return { step: () => model.trainOnBatch(images, labels), result: () => bits(model.getWeights()[0].dataSync()), threads: () => model.threadCount };
}));

const flat = kiln.randomNormal([64, 784], { seed: 3 });
rows.push(await row('MLP 784-256-128-10 train step (batch 64, Adam)', async () => {
  kiln.utils.setRandomSeed(1);
  const model = kiln.sequential({ layers: [
    kiln.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
    kiln.layers.dense({ units: 128, activation: 'relu' }),
    kiln.layers.dense({ units: 10, activation: 'softmax' }),
  ] });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  return { step: () => model.trainOnBatch(flat, labels), result: () => bits(model.getWeights()[0].dataSync()), threads: () => model.threadCount };
}));

const head = `| | ${counts.map((t) => `${t} thread${t > 1 ? 's' : ''}, ms`).join(' | ')} | ${counts.slice(1).map((t) => `×${t} vs 1`).join(' | ')} | same bits |`;
console.log(head);
console.log(`|---|${counts.map(() => '---:').join('|')}|${counts.slice(1).map(() => '---:').join('|')}|---|`);
for (const r of rows) console.log(`| ${r.name} | ${r.cells.map((c) => c.ms.toFixed(2)).join(' | ')} | ${r.cells.slice(1).map((c) => `×${c.speedup.toFixed(2)}`).join(' | ')} | ${r.same ? 'yes' : 'NO'} |`);
process.exit(0);
