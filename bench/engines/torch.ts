/**
 * Native PyTorch as a reference point: bench/torch_models.py run in a child
 * process (with Debian's python3-torch, or whichever python3 imports torch) at a
 * given thread count; it times every case itself, with the harness's timing
 * options, and prints JSON. It runs while this process waits, so it is not
 * sampled round-robin with the other engines. If no python3 can import torch,
 * every cell says why.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Cell, TimingOptions } from '../harness.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../torch_models.py', import.meta.url));

/** A case as the script names it: model:kind:batch. */
export const torchCase = (model: string, kind: string, batch: number) => `${model}:${kind}:${batch}`;

let python: Promise<{ path: string } | { missing: string }> | undefined;

/** The first python3 that imports torch: $KILN_BENCH_PYTHON, then python3 on the PATH, then Debian's /usr/bin/python3. */
function findPython(): Promise<{ path: string } | { missing: string }> {
  return (python ??= (async () => {
    const candidates = [process.env.KILN_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
    const reasons: string[] = [];
    for (const path of [...new Set(candidates)]) {
      try {
        await run(path, ['-c', 'import torch'], { timeout: 60_000 });
        return { path };
      } catch (e) {
        const err = e as { code?: string; stderr?: string };
        reasons.push(`${path}: ${err.code === 'ENOENT' ? 'not found' : (err.stderr ?? '').trim().split('\n').at(-1) || 'failed'}`);
      }
    }
    return { missing: `no python3 with torch (${reasons.join('; ')}); install Debian's python3-torch` };
  })());
}

export interface TorchRun {
  readonly name: string;
  /** The torch version and threads, or why torch did not run. */
  readonly info: string;
  readonly cells: ReadonlyMap<string, Cell>;
}

/** Times `cases` with torch.set_num_threads(threads); a failure fills every cell with the reason. */
export async function torchTimings(threads: number, cases: readonly string[], timing: TimingOptions): Promise<TorchRun> {
  const name = `torch ${threads} thread${threads === 1 ? '' : 's'}`;
  const missing = (why: string): TorchRun => ({ name, info: `unavailable: ${why}`, cells: new Map(cases.map((c) => [c, { missing: 'unavailable', note: why }])) });
  const found = await findPython();
  if ('missing' in found) return missing(found.missing);
  const args = [script, '--threads', String(threads), '--cases', cases.join(','), '--warmup-ms', String(timing.warmupMs),
    '--sample-ms', String(timing.sampleMs), '--samples', String(timing.samples), '--budget-ms', String(timing.budgetMs)];
  try {
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const { stdout } = await run(found.path, args, { env, timeout: 15 * 60_000, maxBuffer: 1 << 20 });
    const out = JSON.parse(stdout) as { info: { torch: string; threads: number; python: string; blas: string }; results: Record<string, { median: number; min: number; samples: number; callsPerSample: number }> };
    const cells = new Map<string, Cell>(cases.map((c) => {
      const r = out.results[c];
      return [c, r ? { timing: { ...r, threads: NaN } } : { missing: 'error', note: `torch_models.py gave no result for ${c}` }];
    }));
    return { name, info: `torch ${out.info.torch} (python ${out.info.python}, ${found.path}), torch.set_num_threads(${out.info.threads}), BLAS_INFO=${out.info.blas}; bench/torch_models.py in a child process`, cells };
  } catch (e) {
    const err = e as { message?: string; stderr?: string };
    return missing(`torch_models.py failed: ${((err.stderr ?? '').trim().split('\n').at(-1) || err.message || String(e)).slice(0, 200)}`);
  }
}
