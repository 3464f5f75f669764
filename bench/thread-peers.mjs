// kiln on 1 and 2 threads beside the peers that can thread (issue 16, item 6):
// onnxruntime-node (native, intra-op threads: the physical-limit anchor on this
// machine) and onnxruntime-web (its wasm build run in Node, `env.wasm.numThreads`);
// TensorFlow.js-wasm only on one thread, since in Node its backend reports no
// multithread support (`WASM_HAS_MULTITHREAD_SUPPORT` false) and runs one thread
// whatever `setThreadsCount` says. Cases: GEMM 512 (one MatMul; kiln through
// compileModule + module.run) and the bench CNN's predict at batch 64 (the model
// of bench/models.ts; kiln's Keras-style predict + dataSync, ONNX models written
// by bench/onnx.ts). Every (engine, threads) pair runs in its own child process,
// one after another (nothing else of ours on the cores), in `rounds` rounds;
// each child reports the median of `reps` calls after a warm-up; the table shows
// the median over rounds.
//
// Run: npm run build && npx tsc -p bench && (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci) && node bench/thread-peers.mjs [rounds=3] [reps=30]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function time(reps, run) {
  for (let w = 0; w < 5; w++) await run();
  const t = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await run();
    t.push(performance.now() - t0);
  }
  return median(t);
}

if (process.argv[2] === '--child') {
  const [, , , engine, threadsArg, repsArg] = process.argv;
  const threads = Number(threadsArg), reps = Number(repsArg);
  const n = 512;
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
  const { architectures, batchData } = await import('./dist/bench/models.js');
  const result = {};
  if (engine === 'kiln') {
    const { kilnLayers, kilnLayers2 } = await import('./dist/bench/engines/kiln-layers.js');
    const kiln = await import('./dist/src/index.js'); // the copy the engine uses
    if (threads > 2) throw new Error('the kiln engines have 1- and 2-thread forms');
    const layers = await (threads === 1 ? kilnLayers : kilnLayers2).load(); // builds its model on that many threads
    kiln.setThreads(threads);
    const g = kiln.trace((x, y) => kiln.matmul(x, y), [kiln.spec([n, n]), kiln.spec([n, n])]);
    const { module } = await kiln.compileModule({ run: g });
    const predict = await layers.prepare('cnn', 'predict', 64); // the engine waits until its model runs on its threads
    for (let waited = 0; module.threadCount < threads && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    result.gemm = await time(reps, () => module.run('run', { input_0: a, input_1: b }).output.data);
    result.cnn = await time(reps, predict);
    result.threads = module.threadCount;
  } else if (engine === 'ort-node' || engine === 'ort-web') {
    const ort = engine === 'ort-node' ? await import('onnxruntime-node') : await import('onnxruntime-web');
    const options = { graphOptimizationLevel: 'all', executionMode: 'sequential' };
    if (engine === 'ort-node') Object.assign(options, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 });
    else { ort.env.wasm.numThreads = threads; ort.env.wasm.simd = true; ort.env.wasm.proxy = false; options.executionProviders = ['wasm']; }
    const { encodeModel } = await import('./dist/bench/onnx.js');
    const { modelGraph } = await import('./dist/bench/engines/onnx-models.js');
    const { nhwcToNchw } = await import('./dist/bench/engines/engine.js');
    const square = (name) => ({ name, shape: [n, n] });
    const mm = await ort.InferenceSession.create(encodeModel({ nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }], inputs: [square('a'), square('b')], outputs: [square('c')] }), options);
    const feeds = { a: new ort.Tensor('float32', a, [n, n]), b: new ort.Tensor('float32', b, [n, n]) };
    result.gemm = await time(reps, async () => (await mm.run(feeds)).c.data);
    const graph = modelGraph(architectures.cnn, 64);
    const { x, xShape } = batchData(architectures.cnn, 64);
    const cnn = await ort.InferenceSession.create(encodeModel(graph), options);
    const input = { x: new ort.Tensor('float32', nhwcToNchw(x, xShape), graph.inputs[0].shape) };
    result.cnn = await time(reps, async () => (await cnn.run(input)).y.data);
    result.threads = threads;
  } else if (engine === 'tfjs-wasm') {
    const { tfjsLayersWasm } = await import('./dist/bench/engines/tfjs-layers.js');
    const layers = await tfjsLayersWasm.load();
    await layers.activate?.();
    const tf = await import('@tensorflow/tfjs-core');
    const ta = tf.tensor(a, [n, n]), tb = tf.tensor(b, [n, n]);
    result.gemm = await time(reps, () => { const c = tf.matMul(ta, tb); const d = c.dataSync(); c.dispose(); return d; });
    result.cnn = await time(reps, await layers.prepare('cnn', 'predict', 64));
    result.threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  }
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

const rounds = Number(process.argv[2] ?? 3), reps = Number(process.argv[3] ?? 30);
const contestants = [['kiln', 1], ['kiln', 2], ['ort-node', 1], ['ort-node', 2], ['ort-web', 1], ['ort-web', 2], ['tfjs-wasm', 1]];
const runs = new Map(contestants.map((c) => [c.join(':'), []]));
for (let r = 0; r < rounds; r++) {
  for (const [engine, threads] of contestants) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', engine, String(threads), String(reps)], {
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, encoding: 'utf8', timeout: 10 * 60_000,
    });
    if (child.status !== 0) { runs.get(`${engine}:${threads}`).push({ error: (child.stderr || String(child.signal)).trim().split('\n').pop() }); continue; }
    runs.get(`${engine}:${threads}`).push(JSON.parse(child.stdout.trim().split('\n').pop()));
  }
}
const cell = (key, field) => {
  const ok = runs.get(key).filter((x) => !x.error);
  return ok.length ? median(ok.map((x) => x[field])) : undefined;
};
console.log(`${rounds} rounds, each a child process per engine and thread count; medians of ${reps} calls, then the median over rounds (ms)\n`);
console.log('| engine | threads used | GEMM 512 | CNN predict, batch 64 |');
console.log('|---|---:|---:|---:|');
for (const [engine, threads] of contestants) {
  const key = `${engine}:${threads}`;
  const errors = runs.get(key).filter((x) => x.error);
  if (errors.length === runs.get(key).length) { console.log(`| ${engine} | ${threads} | failed: ${errors[0].error} | |`); continue; }
  const used = median(runs.get(key).filter((x) => !x.error).map((x) => x.threads));
  console.log(`| ${engine} | ${used} of ${threads} | ${cell(key, 'gemm').toFixed(2)} | ${cell(key, 'cnn').toFixed(2)} |`);
}
const ratio = (a, b, f) => (cell(b, f) / cell(a, f)).toFixed(2);
console.log('\nkiln\'s speed ÷ the peer\'s (above 1: kiln faster):\n');
console.log('| | GEMM 512 | CNN predict |');
console.log('|---|---:|---:|');
for (const [k, p] of [['kiln:1', 'kiln:2'], ['kiln:2', 'ort-node:2'], ['kiln:1', 'ort-node:1'], ['kiln:2', 'ort-web:2'], ['kiln:1', 'tfjs-wasm:1'], ['kiln:2', 'tfjs-wasm:1']]) {
  const label = k === 'kiln:1' && p === 'kiln:2' ? 'kiln 2 threads vs kiln 1 thread' : `kiln ${k.split(':')[1]} vs ${p.replace(':', ' ')}`;
  const [x, y] = k === 'kiln:1' && p === 'kiln:2' ? [p, k] : [k, p];
  console.log(`| ${label} | ×${ratio(x, y, 'gemm')} | ×${ratio(x, y, 'cnn')} |`);
}
