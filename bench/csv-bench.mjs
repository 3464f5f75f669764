// kiln.data.csv beside TensorFlow.js's tf.data.csv on one generated CSV: parse
// throughput (MB/s, median of the runs) and each reader's peak memory (max RSS of
// a child process that only reads). Both read every row into typed records
// (numbers parsed; one text column). Usage, after `npm run build` and `npm run bench`
// once (it installs the peers into bench/node_modules):
//   node bench/csv-bench.mjs [MB=100] [runs=3]
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mb = 100, runs = 3] = process.argv.slice(2).map(Number);
const reader = process.env.CSV_BENCH_READER; // set in the child processes

async function generate(path, bytes) {
  const out = createWriteStream(path);
  out.write('id,x1,x2,x3,x4,x5,x6,x7,x8,city,label\n');
  const cities = ['Oslo', 'Lima', 'Perth', '"Rome, Italy"', 'Kyiv'];
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    let line = `${i}`;
    for (let k = 1; k <= 8; k++) line += `,${(((i * 7919 + k * 104729) % 100003) / 997).toFixed(4)}`;
    line += `,${cities[i % 5]},${i % 3}\n`;
    written += line.length;
    if (!out.write(line)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}

async function readKiln(path) {
  const kiln = await import('../dist/src/index.js');
  let rows = 0;
  for await (const r of kiln.data.csv(path, { columnConfigs: { label: { isLabel: true } } })) rows += r.xs.x1 > -1 ? 1 : 0;
  return rows;
}

async function readTfjs(path) {
  await import('./node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.node.js');
  const tfd = await import('./node_modules/@tensorflow/tfjs-data/dist/tf-data.node.js');
  let rows = 0;
  await tfd.csv(pathToFileURL(path).href, { columnConfigs: { label: { isLabel: true } } }).forEachAsync((r) => { rows += r.xs.x1 > -1 ? 1 : 0; });
  return rows;
}

if (reader) {
  const path = process.argv[2];
  const t0 = performance.now();
  const rows = await (reader === 'kiln' ? readKiln(path) : readTfjs(path));
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ rows, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const path = join(tmpdir(), `kiln-csv-bench-${mb}mb.csv`);
if (!existsSync(path)) await generate(path, mb * 1e6);
const size = statSync(path).size / 1e6;
const results = { kiln: [], 'tfjs-data': [] };
for (let r = 0; r < runs; r++) {
  for (const name of Object.keys(results)) { // alternating, so both see the same machine
    const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, path], { env: { ...process.env, CSV_BENCH_READER: name === 'kiln' ? 'kiln' : 'tfjs' }, encoding: 'utf8', maxBuffer: 1 << 24 });
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
    results[name].push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
console.log(`CSV: ${size.toFixed(1)} MB, ${results.kiln[0].rows} rows, ${runs} runs each (alternating, one child process a run)\n`);
console.log('| reader | MB/s (median) | peak RSS MB (median) |');
console.log('|---|---|---|');
for (const [name, list] of Object.entries(results)) {
  console.log(`| ${name} | ${(size / median(list.map((x) => x.seconds))).toFixed(1)} | ${median(list.map((x) => x.maxRssMB)).toFixed(0)} |`);
}
const speed = median(results['tfjs-data'].map((x) => x.seconds)) / median(results.kiln.map((x) => x.seconds));
console.log(`\nkiln ÷ tf.data.csv throughput: ×${speed.toFixed(2)}`);
