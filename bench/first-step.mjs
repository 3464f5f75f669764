// Time to the first training step in a fresh process with an empty compile cache
// (issue 12, item 4): importing kiln is not counted; the clock runs from building
// the model to the end of the first trainOnBatch (trace, compile, load, run), as a
// user's first `fit` batch waits for it.
//   graph30   the 30-op graph of bench/compile-graph.ts, compileModule only (its
//             fresh-process child, bench/dist/bench/compile-child.js: `npx tsc -p bench` first)
//   mlp       784-256-128-10, batch 64, Adam
//   cnn       the README's Fashion-MNIST CNN, batch 64, Adam
//   resnet17  17 convolutions: a 3×3 stem and 8 residual blocks (3×3 conv → batch-norm → relu,
//             3×3 conv → batch-norm, + skip, relu), 16 channels, 32×32×3 input, batch 16,
//             global average pooling → dense 10, Adam
// Each (case, checkout) pair runs `samples` times, alternating checkouts, each
// in a new child process with a new empty KILN_CACHE_DIR. Medians, min–max.
//
// Run: npm run build && node bench/first-step.mjs [samples=3] [cases=graph30,mlp,cnn,resnet17] [other checkout folders...]
//   e.g. `node bench/first-step.mjs 3 all /tmp/kiln-before` (a clone of an older commit, built)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readmeCnn } from './readme-cnn.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

if (process.argv[2] === '--child') {
  const [, , , name, dist] = process.argv;
  const kiln = await import(pathToFileURL(join(dist, 'src/index.js')).href);
  kiln.setThreads?.(1);
  const t0 = performance.now();
  kiln.utils.setRandomSeed(1);
  const { model, x, y } = build(kiln, name);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  await model.trainOnBatch(x, y);
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }));
  process.exit(0);
}

function build(kiln, name) {
  const L = kiln.layers;
  const labels = (n) => kiln.oneHot(kiln.randomUniform([n], { seed: 2, minval: 0, maxval: 10 }).floor().cast('int32'), 10);
  if (name === 'mlp') {
    const model = kiln.sequential({ layers: [L.dense({ inputShape: [784], units: 256, activation: 'relu' }), L.dense({ units: 128, activation: 'relu' }), L.dense({ units: 10 })] });
    return { model, x: kiln.randomNormal([64, 784], { seed: 1 }), y: labels(64) };
  }
  if (name === 'cnn') return { model: readmeCnn(kiln), x: kiln.randomNormal([64, 28, 28, 1], { seed: 1 }), y: labels(64) };
  if (name === 'resnet17') {
    const conv = (x) => L.batchNormalization().apply(L.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }).apply(x));
    const input = kiln.input({ shape: [32, 32, 3] });
    let x = L.activation({ activation: 'relu' }).apply(conv(input));
    for (let b = 0; b < 8; b++) {
      const y = conv(L.activation({ activation: 'relu' }).apply(conv(x)));
      x = L.activation({ activation: 'relu' }).apply(L.add().apply([x, y]));
    }
    const output = L.dense({ units: 10 }).apply(L.globalAveragePooling2d().apply(x));
    return { model: kiln.model({ inputs: input, outputs: output }), x: kiln.randomNormal([16, 32, 32, 3], { seed: 1 }), y: labels(16) };
  }
  throw new Error(`unknown case ${name}`);
}

const samples = Number(process.argv[2] ?? 3);
const cases = !process.argv[3] || process.argv[3] === 'all' ? ['graph30', 'mlp', 'cnn', 'resnet17'] : process.argv[3].split(',');
const checkouts = [join(here, '..'), ...process.argv.slice(4)];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

console.log(`| case | ${checkouts.map((c, i) => (i === 0 ? 'this checkout' : c)).join(' | ')} |`);
console.log(`|---|${checkouts.map(() => '---:').join('|')}|`);
for (const name of cases) {
  const times = checkouts.map(() => []);
  for (let s = 0; s < samples; s++) {
    checkouts.forEach((folder, i) => {
      const cache = mkdtempSync(join(tmpdir(), 'kiln-cache-'));
      const args = name === 'graph30' ? [join(folder, 'bench/dist/bench/compile-child.js'), cache] : [fileURLToPath(import.meta.url), '--child', name, join(folder, 'dist')];
      const r = spawnSync(process.execPath, args, {
        env: { ...process.env, KILN_CACHE_DIR: cache }, encoding: 'utf8', timeout: 10 * 60_000,
      });
      rmSync(cache, { recursive: true, force: true });
      if (r.status !== 0) throw new Error(`${name} in ${folder}: ${(r.stderr || String(r.signal)).trim().split('\n').pop()}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop());
      times[i].push(name === 'graph30' ? out.first.ms : out.ms);
    });
  }
  const cell = (xs) => `${(median(xs) / 1000).toFixed(2)} s (${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)})`;
  console.log(`| ${name} | ${times.map(cell).join(' | ')} |`);
}
