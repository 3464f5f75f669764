// Issue 14's two sequence models and issue 12's LSTM, trained with the
// Keras-style API, steady step times (median after the first, compiling, step):
//   text        embedding 10k×64 → bidirectional LSTM 64 → dense 2; batch 32, 200 steps
//   text-rnn    the same without the embedding (bidirectional LSTM 64 over [32, 200, 64] floats → dense 2):
//               TF.js-wasm cannot train an embedding (no UnsortedSegmentSum kernel), so this row compares the rest
//   forecaster  LSTM 32 → dense 1; window 48, batch 64, 6 features
//   lstm-T      LSTM 16→64 returning every step → dense 1 on every step, batch 32, T = 50 and 200 (issue 12's model)
// Beside them, the same models in TensorFlow.js 4.22 (tf.layers.embedding /
// bidirectional / lstm / dense, the same losses and Adam(1e-3), model.trainOnBatch)
// on the wasm backend (XNNPACK, SIMD, one thread) and, when asked for, the plain
// JavaScript cpu backend (only the forecaster and lstm-50 there: one text-model
// step took minutes and the process grew past 16 GB), when the benchmark peers are
// installed (`npm run bench` once, or `cd bench && npm ci`); without
// bench/node_modules those rows are skipped with a note. PyTorch on one thread: /usr/bin/python3 scripts/sequence_models_torch.py and
// scripts/lstm_torch_step.py 50,200.
// Run: npm run build && node bench/sequence-models.mjs [steps=20] [peers=wasm | wasm,cpu | none]
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../dist/src/index.js';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const steps = Number(process.argv[2] ?? 20);
const peers = (process.argv[3] ?? 'wasm').split(',').filter((p) => p !== 'none');
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const here = dirname(fileURLToPath(import.meta.url));

/** Steady step: the median of `steps` steps after the first, or of fewer when steps are slow (at least 3, about 30 s). */
async function time(engine, name, step) {
  let t = performance.now();
  try {
    await step();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (!/not registered/.test(message)) throw e;
    console.log(`${engine} ${name}: not supported (${message})`);
    return;
  }
  const first = performance.now() - t;
  const times = [];
  const started = performance.now();
  while (times.length < steps && (times.length < 3 || performance.now() - started < 30_000)) {
    t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  console.log(`${engine} ${name}: first step ${(first / 1000).toFixed(2)} s, steady ${median(times).toFixed(1)} ms (median of ${times.length})`);
}

// Each model: its layers for kiln (K = kiln.layers) or TF.js (K = tf.layers), its loss, and its data as
// [shape, values] pairs made once by kiln (so every engine trains on the same numbers).
const lstmLoop = (T) => ({
  cpu: T <= 50,
  name: `lstm-${T}: LSTM 16→64 (every step) → dense 1, batch 32, T = ${T}`,
  layers: (K, extra) => [K.lstm({ units: 64, returnSequences: true, inputShape: [T, 16], ...extra }), K.dense({ units: 1 })],
  loss: 'mse',
  data: () => [kiln.randomNormal([32, T, 16], { seed: 1 }), kiln.randomNormal([32, T, 1], { seed: 2 })],
});
const models = [
  {
    name: 'text: embedding 10k×64 → bidirectional LSTM 64 → dense 2, batch 32, 200 steps',
    layers: (K, extra) => [K.embedding({ inputDim: 10000, outputDim: 64, inputShape: [200] }), K.bidirectional({ layer: K.lstm({ units: 64, ...extra }) }), K.dense({ units: 2 })],
    loss: 'logits',
    data: () => [kiln.randint(0, 10000, [32, 200]), kiln.randint(0, 2, [32])],
  },
  {
    name: 'text-rnn: bidirectional LSTM 64 over [32, 200, 64] → dense 2',
    layers: (K, extra) => [K.bidirectional({ layer: K.lstm({ units: 64, ...extra }), inputShape: [200, 64] }), K.dense({ units: 2 })],
    loss: 'logits',
    data: () => [kiln.randomNormal([32, 200, 64], { seed: 3 }), kiln.randint(0, 2, [32])],
  },
  {
    cpu: true,
    name: 'forecaster: LSTM 32 → dense 1, window 48, batch 64, 6 features',
    layers: (K, extra) => [K.lstm({ units: 32, inputShape: [48, 6], ...extra }), K.dense({ units: 1 })],
    loss: 'mse',
    data: () => [kiln.randomNormal([64, 48, 6], { seed: 1 }), kiln.randomNormal([64, 1], { seed: 2 })],
  },
  lstmLoop(50),
  lstmLoop(200),
];

const data = [];
for (const m of models) {
  const model = kiln.sequential({ layers: m.layers(kiln.layers, {}) });
  model.compile({ optimizer: 'adam', loss: m.loss === 'logits' ? kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) : 'meanSquaredError' });
  const [x, y] = m.data();
  data.push([[x.shape, x.dtype, await x.data()], [y.shape, y.dtype, await y.data()]]);
  await time('kiln', m.name, () => model.trainOnBatch(x, y));
}

// ---- TensorFlow.js peers ---------------------------------------------------------
if (peers.length > 0 && !existsSync(join(here, 'node_modules', '@tensorflow', 'tfjs-layers'))) {
  console.log('TensorFlow.js: skipped (bench/node_modules has no peers; run `npm run bench` once, or `cd bench && npm ci`)');
} else if (peers.length > 0) {
  const require = createRequire(join(here, 'package.json'));
  const tf = require('@tensorflow/tfjs-core');
  const tfl = require('@tensorflow/tfjs-layers');
  require('@tensorflow/tfjs-backend-cpu');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  wasm.setThreadsCount(1);
  // tfjs-layers' orthogonal initializer (Keras's recurrent default) calls chained tensor methods that only
  // the @tensorflow/tfjs union package registers; the starting weights do not change a step's time
  const extra = { recurrentInitializer: 'glorotUniform' };
  for (const backend of peers) {
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
    const engine = `tfjs-${backend}${backend === 'wasm' ? ` (${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread)` : ''}`;
    for (const [k, m] of models.entries()) {
      if (backend === 'cpu' && !m.cpu) {
        console.log(`${engine} ${m.name}: skipped (minutes a step on the cpu backend)`);
        continue;
      }
      const [[xShape, , xData], [yShape, , yData]] = data[k];
      const model = tfl.sequential({ layers: m.layers(tfl.layers, extra) });
      // tfjs-layers' sparse cross-entropy takes probabilities: logits go through softmaxCrossEntropy with one-hot labels
      const logits = m.loss === 'logits';
      model.compile({ optimizer: tf.train.adam(1e-3), loss: logits ? (labels, out) => tf.losses.softmaxCrossEntropy(labels, out) : 'meanSquaredError' });
      const x = tf.tensor(Float32Array.from(xData), xShape);
      const y = logits ? tf.oneHot(tf.tensor1d(Int32Array.from(yData), 'int32'), 2) : tf.tensor(yData, yShape);
      await time(engine, m.name, () => model.trainOnBatch(x, y));
      tf.dispose([x, y]);
      model.dispose();
    }
  }
}
