// CNN predict at batch 64 on one thread, kiln (Keras-style predict + dataSync)
// beside TensorFlow.js 4.22 on its wasm backend (XNNPACK, SIMD, one thread), the
// bench CNN of bench/models.ts (2×(conv 5×5, pool), dense 1024, dense 10), in
// `rounds` rounds of `reps` interleaved calls each: one ratio (TF.js's median
// time ÷ kiln's) per round, which is how issue 16's target (≥ 1.4 in at least 4 of
// 5 runs) is read. Needs the benchmark peers (`cd bench && npm ci`) and the bench
// build (`npx tsc -p bench`).
//
// Run: npm run build && npx tsc -p bench && node bench/predict-rounds.mjs [rounds=5] [reps=20] [model=cnn] [batch=64]
const { kilnLayers } = await import('./dist/bench/engines/kiln-layers.js');
const { tfjsLayersWasm } = await import('./dist/bench/engines/tfjs-layers.js');

const [rounds, reps, model, batch] = [Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 20), process.argv[4] ?? 'cnn', Number(process.argv[5] ?? 64)];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const engines = [];
for (const factory of [kilnLayers, tfjsLayersWasm]) {
  const engine = await factory.load();
  await engine.activate?.();
  const run = await engine.prepare(model, 'predict', batch);
  for (let w = 0; w < 3; w++) await run();
  engines.push({ name: engine.name, engine, run });
}
console.log(`${model} predict, batch ${batch}: ${rounds} rounds of ${reps} interleaved calls`);
console.log(`| round | ${engines.map((e) => e.name).join(' | ')} | ${engines[1].name} ÷ ${engines[0].name} |`);
console.log(`|---|${engines.map(() => '---:').join('|')}|---:|`);
let met = 0;
for (let r = 1; r <= rounds; r++) {
  const times = engines.map(() => []);
  for (let i = 0; i < reps; i++) {
    for (const [k, e] of engines.entries()) {
      await e.engine.activate?.();
      const t0 = performance.now();
      await e.run();
      times[k].push(performance.now() - t0);
    }
  }
  const [ours, theirs] = times.map(median);
  if (theirs / ours >= 1.4) met++;
  console.log(`| ${r} | ${ours.toFixed(2)} ms | ${theirs.toFixed(2)} ms | ×${(theirs / ours).toFixed(2)} |`);
}
console.log(`\nrounds at ≥ ×1.4: ${met} of ${rounds}`);
