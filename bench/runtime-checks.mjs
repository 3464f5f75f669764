// The cost of kiln/runtime's input checks on a batch-64 CNN predict (the README's CNN):
// predict's median time (checks included) beside the median time of the same
// finiteness loop the runtime runs over the input. Run: npm run build && node bench/runtime-checks.mjs
import * as kiln from '../dist/src/index.js';
import { readmeCnn } from './readme-cnn.mjs';
import { loadArtifactFile } from '../dist/src/runtime/node.js';
import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)
const model = readmeCnn(kiln);
await model.ready(64);
const path = join(mkdtempSync(join(tmpdir(), 'rtc-')), 'cnn.kiln-artifact');
await model.export(path);
const art = await loadArtifactFile(path);
const x = Float32Array.from({ length: 64 * 784 }, (_, i) => (i % 255) / 255);
const med = (f, n) => { const t = []; for (let i = 0; i < n; i++) { const a = performance.now(); f(); t.push(performance.now() - a); } t.sort((p, q) => p - q); return t[n >> 1]; };
// the same loop checkValues runs over a float32 input
const check = () => { for (let i = 0; i < x.length; i++) { const v = x[i]; if (!Number.isFinite(v)) throw new Error(); } };
for (let r = 0; r < 3; r++) {
  const p = med(() => art.predict(x), 15);
  const c = med(check, 200);
  console.log(`predict batch 64: ${p.toFixed(2)} ms (checks included); the check loop alone: ${(c * 1000).toFixed(1)} µs = ${(100 * c / p).toFixed(2)}%`);
}
