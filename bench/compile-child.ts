/**
 * One compile-time sample, in a fresh process so that nothing is cached in memory:
 * compiles bench/compile-graph.ts's graph with `KILN_CACHE_DIR` = argv[2] (empty:
 * a cold compile; filled by an earlier child: a disk-cache hit), then once more
 * (a memory-cache hit), and prints the times as JSON on its last line.
 *
 *   node bench/dist/bench/compile-child.js <cacheDir>
 */
const cacheDir = process.argv[2];
if (!cacheDir) throw new Error('usage: compile-child <cacheDir>');
process.env.KILN_CACHE_DIR = cacheDir;

const { compileModule } = await import('../src/index.js');
const { compileBenchGraph, opCount } = await import('./compile-graph.js');

const startTrace = performance.now();
const graph = compileBenchGraph();
const traceMs = performance.now() - startTrace;
const time = async () => {
  const start = performance.now();
  const compiled = await compileModule({ step: graph }, { maxBatch: 64 });
  return { ms: performance.now() - start, cached: compiled.cached };
};
const first = await time();
const again = await time();
console.log(JSON.stringify({ ops: opCount(graph), traceMs, first, again }));
