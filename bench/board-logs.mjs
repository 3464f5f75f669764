// Writes a large log folder for kiln board's open-time target: <runs> runs, each
// with two scalar tags (loss, accuracy) of <steps> steps, so runs·2·steps points
// (default 100 runs × 2 × 5000 = 1,000,000), framed by kiln's own writer.
// Usage: npm run build && node bench/board-logs.mjs <folder> [runs] [steps]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEvent, frameRecord, scalarValue } from '../dist/src/summary/index.js';

const [dir = 'bench-logs', runs = '100', steps = '5000'] = process.argv.slice(2);
const t0 = 1.7e9;
for (let r = 0; r < Number(runs); r++) {
  const run = join(dir, `run_${String(r).padStart(3, '0')}`);
  mkdirSync(run, { recursive: true });
  const records = [frameRecord(encodeEvent({ wallTime: t0, fileVersion: 'brain.Event:2' }))];
  const rate = 0.5 + r / Number(runs);
  for (let s = 0; s < Number(steps); s++) {
    const loss = 2.3 * Math.exp((-rate * s) / Number(steps) * 4) + 0.05 * Math.sin(s * 0.37 + r);
    const wallTime = t0 + r * 7 + s * 0.05;
    records.push(frameRecord(encodeEvent({ wallTime, step: s, summary: [scalarValue('loss', loss)] })));
    records.push(frameRecord(encodeEvent({ wallTime, step: s, summary: [scalarValue('accuracy', 1 - loss / 2.5)] })));
  }
  writeFileSync(join(run, `events.out.tfevents.${t0}.bench.${r}.0`), Buffer.concat(records));
}
console.log(`wrote ${runs} runs × 2 tags × ${steps} steps = ${Number(runs) * 2 * Number(steps)} points to ${dir}`);
