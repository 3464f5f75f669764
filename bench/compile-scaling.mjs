// Compile time against graph size (issue 12, item 3): training-step graphs
// (forward, MSE loss, gradients of every weight) of a deep MLP (64 units, tanh),
// a residual conv net (3×3, 16 channels) and of an RNN cell unrolled in the graph vs looped with kiln.scan, at growing
// depth or length. Each compile runs in this warm process (asc loaded by a first
// unrelated compile) with an empty disk cache (KILN_CACHE_DIR = a new temp folder
// per compile); "nodes" counts the traced graph's nodes before optimization.
//
// Run: npm run build && node bench/compile-scaling.mjs [dist folder, default this checkout's dist] [max seconds per compile, default 120]
//   (ONLY=<text> runs the cases whose label contains it)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
const limit = Number(process.argv[3] ?? 120);
const kiln = await import(pathToFileURL(join(dist, 'src/index.js')).href);
const { compileModule } = await import(pathToFileURL(join(dist, 'src/compile.js')).href);

const specs = (shapes) => shapes.map((s, i) => kiln.spec(s, 'float32', { name: `in${i}` }));
const lossGrad = (fn, n) => (...args) => kiln.grad((...a) => fn(...a), Array.from({ length: n }, (_, i) => i))(...args);

function mlp(depth) {
  const shapes = [[32, 64], ...Array.from({ length: depth }, () => [64, 64])];
  const fn = (x, ...ws) => kiln.mean(kiln.square(ws.reduce((h, w) => kiln.tanh(kiln.matmul(h, w)), x)));
  return kiln.trace(lossGrad(fn, shapes.length), specs(shapes));
}

// residual blocks x + conv(relu(conv(x))), 3×3 'same', 16 channels, on a 16×16×16 batch of 8, then a mean
function resnet(blocks) {
  const shapes = [[8, 16, 16, 16], ...Array.from({ length: 2 * blocks }, () => [3, 3, 16, 16])];
  const fn = (x, ...ws) => {
    let h = x;
    for (let b = 0; b < blocks; b++) h = kiln.add(h, kiln.conv2d(kiln.relu(kiln.conv2d(h, ws[2 * b], { padding: 'same' })), ws[2 * b + 1], { padding: 'same' }));
    return kiln.mean(kiln.square(h));
  };
  return kiln.trace(lossGrad(fn, shapes.length), specs(shapes));
}

function rnn(steps, unroll) {
  const shapes = [[steps, 32, 16], [16, 64], [64, 64]];
  const fn = (xs, u, w) => {
    const cell = (h, x) => kiln.tanh(kiln.add(kiln.matmul(x, u), kiln.matmul(h, w)));
    let ys;
    if (unroll) {
      let h = kiln.zeros([32, 64]);
      const outs = [];
      for (let t = 0; t < steps; t++) outs.push((h = cell(h, kiln.reshape(kiln.slice(xs, [t, 0, 0], [1, 32, 16]), [32, 16]))));
      ys = kiln.stack(outs, 0);
    } else {
      ys = kiln.scan((h, x) => { const n = cell(h, x); return [n, n]; }, kiln.zeros([32, 64]), xs)[1];
    }
    return kiln.mean(kiln.square(ys));
  };
  return kiln.trace(lossGrad(fn, 3), specs(shapes));
}

await compileModule({ warm: kiln.trace((x) => kiln.relu(x), [kiln.spec([4])]) });
const cases = [
  ...[10, 50, 100, 200, 400].map((d) => [`deep MLP, ${d} layers`, () => mlp(d)]),
  ...[4, 16, 64, 128].map((b) => [`residual conv net, ${2 * b} convolutions`, () => resnet(b)]),
  ...[10, 50, 100, 200, 400].map((t) => [`RNN unrolled, T=${t}`, () => rnn(t, true)]),
  ...[10, 50, 100, 200, 400].map((t) => [`RNN scan, T=${t}`, () => rnn(t, false)]),
];
const only = process.env.ONLY; // e.g. ONLY=residual: the cases whose label contains it
console.log('| graph | nodes | compile (s) |\n|---|---:|---:|');
const skip = new Set();
for (const [label, make] of cases) {
  if (only && !label.includes(only)) continue;
  const family = label.split(',')[0];
  if (skip.has(family)) { console.log(`| ${label} | — | skipped (the previous size took over ${limit} s) |`); continue; }
  let g;
  try {
    g = make();
  } catch (e) {
    console.log(`| ${label} | — | not available (${e.message.split('\n')[0]}) |`);
    continue;
  }
  const cache = mkdtempSync(join(tmpdir(), 'kiln-cache-'));
  process.env.KILN_CACHE_DIR = cache;
  const t0 = performance.now();
  await compileModule({ step: g });
  const s = (performance.now() - t0) / 1000;
  rmSync(cache, { recursive: true, force: true });
  if (s > limit) skip.add(family);
  console.log(`| ${label} | ${g.nodes.length} | ${s.toFixed(2)} |`);
}
