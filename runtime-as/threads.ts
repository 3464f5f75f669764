// Threads: every thread of a run executes the same entry body (SPMD). Kernels
// that split (GEMM, convolutions, pooling, elementwise loops, reductions, the
// optimizer's update loop) give each thread a share of their OUTPUT, never part
// of a sum, so every value is computed by the same instructions in the same order
// whichever thread computes it: results are the same bits at any thread count. A
// yes-or-no result (nonFinite) is one flag per thread, ORed by thread 0. Everything
// else runs on thread 0 alone. A barrier follows each block.
//
// The control words live in the module's (shared) memory; the thread id and
// count are per-instance globals (each worker has its own instance over the same
// memory). With one thread none of this waits: `share_*` gives thread 0 the whole
// range and `thread_barrier` returns at once, so a single-threaded module runs
// over ordinary, unshared memory (the loader clears the import's shared flag).

const control: usize = memory.data(64, 64);
const BARRIER_COUNT = 0, BARRIER_GEN = 4, ABORT = 8, DONE = 12, COUNT = 16;
const SPIN: i32 = 1 << 14; // spins before sleeping: a barrier's partner is usually a few microseconds away

let thread_id: i32 = 0;
let thread_count: i32 = 1;
let can_block: bool = true; // false on a browser's main thread, where wasm may not wait

/** This instance's thread id (0: the thread that calls the entry) and whether it may sleep. */
export function thread_set(id: i32, blocking: bool): void {
  thread_id = id;
  can_block = blocking;
}

export function thread_index(): i32 {
  return thread_id;
}

// Sleeping is the host's Atomics.wait (1 ms at most), not memory.atomic.wait32:
// V8's Liftoff in Node 20 can lose a function's locals across that instruction
// (measured: a barrier's counts read back as 0), while an import call is safe.
// @ts-ignore: decorator
@external("env", "kiln_wait")
declare function hostWait(at: usize, expected: i32): void;

/** Waits until the word at `p` is no longer `old`, or the run is aborted. */
function waitChange(p: usize, old: i32): void {
  for (let s = 0; s < SPIN; s++) if (atomic.load<i32>(p) != old || atomic.load<i32>(control + ABORT) != 0) return;
  while (atomic.load<i32>(p) == old && atomic.load<i32>(control + ABORT) == 0) {
    if (can_block) hostWait(p, old);
  }
}

/** Thread 0, before a run: resets the control words and fixes the thread count (1 = no workers). */
export function thread_begin(count: i32): void {
  thread_count = count;
  atomic.store<i32>(control + BARRIER_COUNT, 0);
  atomic.store<i32>(control + ABORT, 0);
  atomic.store<i32>(control + DONE, 0);
  atomic.store<i32>(control + COUNT, count);
}

/** A worker, at the start of its part of a run: the count thread 0 fixed. */
export function thread_join(): void {
  thread_count = atomic.load<i32>(control + COUNT);
}

/** Every thread waits here for the others; false when thread 0 aborted the run (a run-time error). */
export function thread_barrier(): bool {
  if (thread_count == 1) return true;
  const gen = atomic.load<i32>(control + BARRIER_GEN);
  if (atomic.add<i32>(control + BARRIER_COUNT, 1) == thread_count - 1) {
    atomic.store<i32>(control + BARRIER_COUNT, 0);
    atomic.store<i32>(control + BARRIER_GEN, gen + 1);
    atomic.notify(control + BARRIER_GEN, -1);
  } else {
    waitChange(control + BARRIER_GEN, gen);
  }
  return atomic.load<i32>(control + ABORT) == 0;
}

// One flag per thread for a shared block whose result is a single yes or no (a split
// nonFinite): each thread writes its own before a barrier, thread 0 reads them all after it.
const flags: usize = memory.data(64 * 4, 64);

/** This thread's flag for the shared block it is in (every thread of the run sets one, even over an empty share). */
export function thread_flag(flag: bool): void {
  store<i32>(flags + (<usize>thread_id << 2), flag ? 1 : 0);
}

/** Thread 0, after the barrier that ends such a block: whether any thread's flag is set. */
export function thread_flags_any(): bool {
  for (let t = 0; t < thread_count; t++) if (load<i32>(flags + (<usize>t << 2)) != 0) return true;
  return false;
}

/** Whether thread 0 aborted this run (every thread then leaves its part). */
export function thread_aborted(): bool {
  return atomic.load<i32>(control + ABORT) != 0;
}

/** A worker, when its part of a run is over (normally or after an abort). */
export function thread_done(): void {
  atomic.add<i32>(control + DONE, 1);
  atomic.notify(control + DONE, -1);
}

/** A worker whose part failed (a trap): aborts the run so that no thread waits for it, then counts it done. */
export function thread_fault(): void {
  atomic.store<i32>(control + ABORT, 1);
  atomic.add<i32>(control + BARRIER_GEN, 1);
  atomic.notify(control + BARRIER_GEN, -1);
  thread_done();
}

/** Thread 0, after its part: on an error, releases the workers from their barrier; then waits for all of them. */
export function thread_end(failed: bool): void {
  if (thread_count == 1) return;
  if (failed) {
    atomic.store<i32>(control + ABORT, 1);
    atomic.add<i32>(control + BARRIER_GEN, 1);
    atomic.notify(control + BARRIER_GEN, -1);
  }
  const workers = thread_count - 1;
  for (let s = 0; s < SPIN; s++) if (atomic.load<i32>(control + DONE) == workers) return;
  while (true) {
    const done = atomic.load<i32>(control + DONE);
    if (done == workers) return;
    if (can_block) hostWait(control + DONE, done);
  }
}

/**
 * The threads that share `total` units split in blocks of `align`, each thread
 * taking at least `grain` units (below that, fewer threads: small work stays on
 * thread 0).
 */
@inline function users(total: i32, align: i32, grain: i32): i32 {
  const blocks = (total + align - 1) / align;
  const most = grain > align ? max(1, total / grain) : blocks;
  return max(1, min(thread_count, most));
}

/** First unit of thread `t` when `n` threads share `total` in blocks of `align`. */
@inline function start(total: i32, align: i32, n: i32, t: i32): i32 {
  const blocks = (total + align - 1) / align;
  const per = blocks / n, extra = blocks % n;
  return min(total, (t * per + min(t, extra)) * align);
}

/** This thread's first unit of `total` (see `users`). */
export function share_lo(total: i32, align: i32, grain: i32): i32 {
  const n = users(total, align, grain);
  return thread_id >= n ? total : start(total, align, n, thread_id);
}

/** One past this thread's last unit of `total`. */
export function share_hi(total: i32, align: i32, grain: i32): i32 {
  const n = users(total, align, grain);
  return thread_id >= n ? total : start(total, align, n, thread_id + 1);
}
