/**
 * Threads in Node: kiln's entry point gives the runtime's thread pool
 * (`kiln/runtime/threads`) Node's worker threads and picks the default count.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { KilnError } from '../compiler/errors.js';
import { getThreads, setThreads as setRuntimeThreads } from './runtime/index.js';
import { useNodeWorkers } from './runtime/threads.js';

useNodeWorkers(Worker);

/** Where measured gains stop on the machines kiln was measured on (bench/results.md, thread scaling). */
export const MAX_DEFAULT_THREADS = 4;

/** The default: `KILN_THREADS` when set, else the cores available up to MAX_DEFAULT_THREADS. */
function defaultThreads(): number {
  const env = process.env.KILN_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new KilnError(`kiln: expected KILN_THREADS to be a whole number from 1 to 64, got "${env}".`);
    return n;
  }
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS));
}
setRuntimeThreads(defaultThreads());

/**
 * Sets how many threads share the work of every module compiled or loaded from
 * now on (GEMM, convolutions, pooling, elementwise loops, optimizer updates);
 * results are the same bits at any count. Default: the cores available, up to 4
 * (`KILN_THREADS` overrides it).
 * @example kiln.setThreads(2);
 */
export function setThreads(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new KilnError(`setThreads: expected a whole number of threads from 1 to 64, got ${String(count)}.`);
  setRuntimeThreads(count);
}

export { getThreads };

/** PyTorch's name for setThreads (`torch.set_num_threads`). @example kiln.setNumThreads(1); */
export const setNumThreads = setThreads;
/** PyTorch's name for getThreads (`torch.get_num_threads`). @example kiln.getNumThreads(); */
export const getNumThreads = getThreads;
