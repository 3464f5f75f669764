/**
 * Compile times of compile-graph.ts's 30-op graph, `compileModule` to a loaded
 * module, in four situations: cold in a fresh process (asc loads, then compiles;
 * an empty KILN_CACHE_DIR), cold in this already warm process, a disk-cache hit in
 * a fresh process, and a memory-cache hit. Fresh processes are compile-child.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { compileModule } from '../src/index.js';
import { compileBenchGraph } from './compile-graph.js';
import { median, type Table } from './harness.js';

interface Compile { ms: number; cached: boolean }
interface ChildResult { ops: number; traceMs: number; first: Compile; again: Compile }

const child = fileURLToPath(new URL('./compile-child.js', import.meta.url));

async function runChild(cacheDir: string): Promise<ChildResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [child, cacheDir]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

/** A cold compile here, where asc is loaded already: a new cache folder, and a maxBatch no earlier compile used (so no memory hit). */
async function compileInThisProcess(cacheDir: string, maxBatch: number): Promise<Compile> {
  const previous = process.env.KILN_CACHE_DIR;
  process.env.KILN_CACHE_DIR = cacheDir;
  try {
    const graph = compileBenchGraph();
    const start = performance.now();
    const { cached } = await compileModule({ step: graph }, { maxBatch });
    return { ms: performance.now() - start, cached };
  } finally {
    if (previous === undefined) delete process.env.KILN_CACHE_DIR;
    else process.env.KILN_CACHE_DIR = previous;
  }
}

export async function measureCompileTimes(samples: number): Promise<Table> {
  const rows = {
    coldFresh: { what: 'cold: fresh process, empty cache (asc loads, then compiles)', ms: [] as number[] },
    coldWarm: { what: 'cold: warm process (asc loaded), empty cache', ms: [] as number[] },
    disk: { what: 'disk cache hit: fresh process', ms: [] as number[] },
    memory: { what: 'memory cache hit', ms: [] as number[] },
    trace: { what: 'trace (graph building, before compile)', ms: [] as number[] },
  };
  const problems: string[] = [];
  let ops = 0;
  try {
    for (let i = 0; i < samples; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
      try {
        const cold = await runChild(dir);
        const disk = await runChild(dir); // same folder: the first child filled it
        const warm = await compileInThisProcess(join(dir, 'warm'), 63 - i);
        if (cold.first.cached || !disk.first.cached || warm.cached) {
          problems.push(`sample ${i}: expected cache misses, a hit, a miss; got cached = ${cold.first.cached}, ${disk.first.cached}, ${warm.cached}`);
        }
        ops = cold.ops;
        rows.coldFresh.ms.push(cold.first.ms);
        rows.coldWarm.ms.push(warm.ms);
        rows.disk.ms.push(disk.first.ms);
        rows.memory.ms.push(cold.again.ms, disk.again.ms);
        rows.trace.ms.push(cold.traceMs, disk.traceMs);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } catch (e) {
    problems.push(`compile benchmark failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const ms = (x: number, small: boolean) => x.toFixed(small ? 2 : 0);
  return {
    title: `Compile times: a ${ops}-op graph (MLP forward + softmax cross-entropy, batch ≤ 64), compileModule to a loaded module`,
    header: ['what', 'median ms', 'min ms', 'samples'],
    rows: Object.values(rows).filter((r) => r.ms.length).map(({ what, ms: xs }) => {
      const small = median(xs) < 10;
      return [what, ms(median(xs), small), ms(Math.min(...xs), small), String(xs.length)];
    }),
    notes: ['Fresh processes are node child processes; their start-up and module imports are not counted.', ...problems],
  };
}
