// Issue 14's two sequence models, trained with the Keras-style API, steady step
// times (median after the first, compiling, step): the text model (embedding
// 10k×64 → bidirectional LSTM 64 → dense 2; batch 32, 200 steps) and the
// forecaster (LSTM 32 → dense 1; window 48, batch 64, 6 features). Compare with
// PyTorch on one thread: /usr/bin/python3 scripts/sequence_models_torch.py
// Run: npm run build && node bench/sequence-models.mjs [steps=20]
import * as kiln from '../dist/src/index.js';

const steps = Number(process.argv[2] ?? 20);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function time(name, model, x, y) {
  let t = performance.now();
  await model.trainOnBatch(x, y);
  const first = performance.now() - t;
  const times = [];
  for (let i = 0; i < steps; i++) {
    t = performance.now();
    await model.trainOnBatch(x, y);
    times.push(performance.now() - t);
  }
  console.log(`${name}: first step (compile) ${(first / 1000).toFixed(2)} s, steady ${median(times).toFixed(1)} ms`);
}

const text = kiln.sequential({ layers: [
  kiln.layers.embedding({ inputDim: 10000, outputDim: 64, inputShape: [200] }),
  kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: 64 }) }),
  kiln.layers.dense({ units: 2 }),
] });
text.compile({ optimizer: 'adam', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
await time('text: embedding 10k×64 → bidirectional LSTM 64 → dense, batch 32, 200 steps', text, kiln.randint(0, 10000, [32, 200]), kiln.randint(0, 2, [32]));

const forecaster = kiln.sequential({ layers: [kiln.layers.lstm({ units: 32, inputShape: [48, 6] }), kiln.layers.dense({ units: 1 })] });
forecaster.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
await time('forecaster: LSTM 32 → dense, window 48, batch 64, 6 features', forecaster, kiln.randomNormal([64, 48, 6], { seed: 1 }), kiln.randomNormal([64, 1], { seed: 2 }));
