/**
 * `kiln/runtime/threads`: the worker pool that lets a module's threads share its
 * work. Started once per process (or page) and reused by every module: each
 * worker instantiates a threaded module over the module's shared memory once,
 * then sleeps on a command word; a run wakes the workers, each runs its part of
 * the entry (`thread_run`), and thread 0 — the caller — waits for them inside
 * the module. Importing this file installs the pool into the runtime; without
 * it, modules run on one thread. Browser-safe: in a page it uses Web Workers
 * (threads need `crossOriginIsolated`, which SharedArrayBuffer requires); in Node
 * the embedder hands it `node:worker_threads` (`useNodeWorkers`).
 * @example
 * import 'kiln/runtime/threads';           // in a cross-origin isolated page
 * import { setThreads, loadArtifact } from 'kiln/runtime';
 * setThreads(2);
 * const net = await loadArtifact(bytes);
 */
import { installThreads, type ThreadPoolHook } from './index.js';
import { KilnRuntimeError } from './errors.js';

// command words (Int32Array indices) of the pool's control buffer; MAIL holds the number of the last message posted,
// ACK + tid the last message worker tid handled
const SEQ = 0, CMD = 1, MODULE = 2, ENTRY = 3, BATCH = 4, COUNT = 5, FAULT = 6, MAIL = 7, ACK = 8;
const RUN = 1, EXIT = 2;
const MAX_WORKERS = 63; // setThreads allows 64 threads: the caller and 63 workers
/**
 * How long an idle worker sleeps in a blocking Atomics.wait (woken at once by the
 * next run) before it waits with Atomics.waitAsync, in ms: a training loop's next
 * step comes within it (host work between steps is tenths of a millisecond), and
 * waitAsync's wake-up, an event-loop turn, cost short steps their second thread.
 * The wait is cut in 0.5 ms slices, so a message (a module to instantiate) waits
 * no longer than that. (20 ms measured the same as 2 on GEMM 512 runs between
 * single-thread runs of 4.4 ms: bench/gemm-threads.mjs, bench/results-threads.md.)
 */
const BLOCK_MS = 2;
/** How long workers may take to instantiate a module before kiln warns that runs stay on one thread. */
const READY_WARNING_MS = 10_000;

/**
 * A worker's code: the same text runs as a Node worker_threads worker and as a
 * Web Worker. Between runs it spins briefly, sleeps in a blocking wait for
 * BLOCK_MS (a training loop's next step comes sooner), then waits without blocking its event loop
 * (Atomics.waitAsync), so messages — a module to instantiate — are handled
 * while it idles and the thread that sent them never has to wait for them.
 */
const workerSource = `
const node = typeof self === 'undefined';
const port = node ? require('node:worker_threads').parentPort : self;
const SEQ = ${SEQ}, CMD = ${CMD}, MODULE = ${MODULE}, ENTRY = ${ENTRY}, BATCH = ${BATCH}, COUNT = ${COUNT}, FAULT = ${FAULT}, MAIL = ${MAIL}, ACK = ${ACK};
const RUN = ${RUN}, EXIT = ${EXIT}, BLOCK_MS = ${BLOCK_MS};
let ctl, tid, seen = 0, mail = 0;
const instances = new Map();
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function serve() {
  for (;;) {
    // a message posted (a module to instantiate): let the event loop deliver it first
    if (Atomics.load(ctl, MAIL) > mail) { await pause(0); continue; }
    for (let s = 0; s < 20000 && Atomics.load(ctl, SEQ) === seen; s++);
    // then up to BLOCK_MS asleep in the futex, which wakes within microseconds of a run (a training loop's next
    // step usually comes sooner); only after that a wait that frees the event loop, whose wake-up is a turn late
    for (const until = performance.now() + BLOCK_MS; Atomics.load(ctl, SEQ) === seen && Atomics.load(ctl, MAIL) <= mail && performance.now() < until;) Atomics.wait(ctl, SEQ, seen, 0.5);
    if (Atomics.load(ctl, MAIL) > mail) continue;
    if (Atomics.load(ctl, SEQ) === seen) {
      const wait = Atomics.waitAsync ? Atomics.waitAsync(ctl, SEQ, seen) : undefined;
      if (wait) { if (wait.async) await wait.value; } else await pause(1);
      continue;
    }
    seen = Atomics.load(ctl, SEQ);
    const cmd = Atomics.load(ctl, CMD);
    if (cmd === EXIT) { if (node) port.close(); else self.close(); return; }
    if (cmd !== RUN || tid >= Atomics.load(ctl, COUNT)) continue;
    const instance = instances.get(Atomics.load(ctl, MODULE));
    try {
      instance.exports.thread_run(Atomics.load(ctl, ENTRY), Atomics.load(ctl, BATCH));
    } catch (e) {
      Atomics.store(ctl, FAULT, 1);
      if (instance) instance.exports.thread_fault();
    }
  }
}
function receive(m) {
  if (m.type === 'init') { ctl = m.ctl; tid = m.tid; seen = Atomics.load(ctl, SEQ); serve(); }
  else if (m.type === 'add') {
    try {
      let view;
      const kiln_wait = (at, expected) => {
        if (!view || view.buffer !== m.memory.buffer) view = new Int32Array(m.memory.buffer);
        Atomics.wait(view, at >>> 2, expected, 1);
      };
      const instance = new WebAssembly.Instance(m.module, { env: { memory: m.memory, kiln_wait, abort() { throw new Error('kiln: a module aborted'); } } });
      instance.exports.thread_start(tid, true, m.scratch);
      instances.set(m.id, instance);
    } catch (e) { Atomics.store(ctl, FAULT, 1); }
  } else if (m.type === 'remove') instances.delete(m.id);
  if (m.no !== undefined) mail = Math.max(mail, m.no);
  Atomics.store(ctl, ACK + tid, m.no);
}
if (node) port.on('message', receive); else self.onmessage = (e) => receive(e.data);
`;

/** What the pool needs of a worker, in Node and in browsers. */
export interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  unref?(): void;
}

type Spawn = (source: string) => WorkerLike;

let spawnWorker: Spawn | undefined = typeof Worker === 'function' && typeof Blob === 'function' && typeof URL === 'function'
  ? (source) => new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })))
  : undefined;

/**
 * Gives the pool Node's worker threads (kiln's Node entry points call this;
 * browser-safe code cannot import `node:worker_threads` itself).
 */
export function useNodeWorkers(Worker: new (source: string, options: { eval: true }) => WorkerLike): void {
  spawnWorker = (source) => {
    const w = new Worker(source, { eval: true });
    w.unref?.(); // an idle pool never keeps a process alive
    return w;
  };
}

/** Whether this thread may block (Atomics.wait): not a browser page's main thread. */
function mayBlock(): boolean {
  const g = globalThis as { document?: unknown; process?: { versions?: { node?: string } } };
  return g.process?.versions?.node !== undefined || g.document === undefined;
}

class Pool implements ThreadPoolHook {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * (ACK + MAX_WORKERS + 1)));
  private readonly workers: WorkerLike[] = [];
  private messages = 0;
  private next = 1;
  /** The number of each module's 'add' message and when it was sent, until every worker has handled it. */
  private readonly pending = new Map<number, { no: number; sent: number }>();
  private warned = false;
  readonly blocking = mayBlock();

  constructor(spawn: Spawn, count: number) {
    for (let tid = 1; tid < Math.min(count, MAX_WORKERS + 1); tid++) {
      const w = spawn(workerSource);
      w.postMessage({ type: 'init', ctl: this.ctl, tid, no: 0 });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length + 1;
  }

  /** Posts a message to every worker (each answers in its own time); returns its number. */
  private post(message: (tid: number) => object): number {
    const no = ++this.messages;
    this.workers.forEach((w, k) => w.postMessage({ ...message(k + 1), no }));
    Atomics.store(this.ctl, MAIL, no);
    Atomics.notify(this.ctl, SEQ); // a worker asleep between runs wakes to read it
    return no;
  }

  add(module: WebAssembly.Module, memory: WebAssembly.Memory, scratch: (tid: number) => number): number {
    const id = this.next++;
    this.pending.set(id, { no: this.post((tid) => ({ type: 'add', id, module, memory, scratch: scratch(tid) })), sent: Date.now() });
    return id;
  }

  /** Whether every worker has instantiated module `id` (until then its runs use one thread). */
  ready(id: number): boolean {
    const pending = this.pending.get(id);
    if (pending === undefined) return true;
    for (let tid = 1; tid <= this.workers.length; tid++) {
      if (Atomics.load(this.ctl, ACK + tid) >= pending.no) continue;
      if (!this.warned && Date.now() - pending.sent > READY_WARNING_MS) {
        this.warned = true;
        console.warn(`kiln: worker thread ${tid} has not started after ${READY_WARNING_MS / 1000} s; runs go on on one thread (the same results, slower).`);
      }
      return false;
    }
    this.pending.delete(id);
    if (Atomics.exchange(this.ctl, FAULT, 0)) throw new KilnRuntimeError('kiln runtime: a worker of the thread pool could not instantiate the module; call setThreads(1) to run on one thread.');
    return true;
  }

  remove(id: number): void {
    this.pending.delete(id);
    this.post(() => ({ type: 'remove', id }));
  }

  start(id: number, entry: number, batch: number, count: number): void {
    Atomics.store(this.ctl, MODULE, id);
    Atomics.store(this.ctl, ENTRY, entry);
    Atomics.store(this.ctl, BATCH, batch);
    Atomics.store(this.ctl, COUNT, count);
    Atomics.store(this.ctl, CMD, RUN);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
  }

  /** True (and cleared) when a worker failed during the last run. */
  faulted(): boolean {
    return Atomics.exchange(this.ctl, FAULT, 0) !== 0;
  }

  close(): void {
    Atomics.store(this.ctl, CMD, EXIT);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}

installThreads({
  create(count: number): ThreadPoolHook | undefined {
    if (!spawnWorker || typeof SharedArrayBuffer !== 'function') return undefined;
    const g = globalThis as { crossOriginIsolated?: boolean };
    if (g.crossOriginIsolated === false) return undefined;
    return new Pool(spawnWorker, count);
  },
});
