/**
 * Threads in Node, as kiln's entry point exports them: the runtime's thread pool
 * (`kiln/runtime/threads`) runs on Node's worker threads (`kiln/runtime/node`
 * installs them and sets the default count: `KILN_THREADS`, else the cores up to 4).
 */
import { KilnError } from '../compiler/errors.js';
import { getThreads, setThreads as setRuntimeThreads } from './runtime/index.js';
import './runtime/node.js';

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
