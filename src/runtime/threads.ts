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

// command words (Int32Array indices) of the pool's control buffer
const SEQ = 0, CMD = 1, MODULE = 2, ENTRY = 3, BATCH = 4, COUNT = 5, ACK = 6, FAULT = 7;
const RUN = 1, MESSAGE = 2, EXIT = 3;

/** A worker's code: the same text runs as a Node worker_threads worker and as a Web Worker. */
const workerSource = `
const node = typeof self === 'undefined';
const port = node ? require('node:worker_threads').parentPort : self;
const SEQ = ${SEQ}, CMD = ${CMD}, MODULE = ${MODULE}, ENTRY = ${ENTRY}, BATCH = ${BATCH}, COUNT = ${COUNT}, ACK = ${ACK}, FAULT = ${FAULT};
const RUN = ${RUN}, MESSAGE = ${MESSAGE}, EXIT = ${EXIT};
let ctl, tid, seen = 0;
const instances = new Map();
function loop() {
  for (;;) {
    for (let s = 0; s < 20000 && Atomics.load(ctl, SEQ) === seen; s++);
    Atomics.wait(ctl, SEQ, seen);
    seen = Atomics.load(ctl, SEQ);
    const cmd = Atomics.load(ctl, CMD);
    if (cmd === RUN) {
      if (tid >= Atomics.load(ctl, COUNT)) continue;
      const instance = instances.get(Atomics.load(ctl, MODULE));
      try {
        instance.exports.thread_run(Atomics.load(ctl, ENTRY), Atomics.load(ctl, BATCH));
      } catch (e) {
        Atomics.store(ctl, FAULT, 1);
        instance.exports.thread_fault();
      }
    } else if (cmd === MESSAGE) return; // the message waits in the event loop
    else if (cmd === EXIT) { if (node) port.close(); else self.close(); return; }
  }
}
// every message but the first answers one MESSAGE command, numbered m.seq: handled, the worker waits for the next
function receive(m) {
  seen = m.seq;
  if (m.type === 'init') { ctl = m.ctl; tid = m.tid; loop(); return; }
  if (m.type === 'add') {
    try {
      const instance = new WebAssembly.Instance(m.module, { env: { memory: m.memory, abort() { throw new Error('kiln: a module aborted'); } } });
      instance.exports.thread_start(tid, true, m.scratch);
      instances.set(m.id, instance);
    } catch (e) { Atomics.store(ctl, FAULT, 1); }
  } else if (m.type === 'remove') instances.delete(m.id);
  Atomics.add(ctl, ACK, 1);
  Atomics.notify(ctl, ACK);
  loop();
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

const ACK_TIMEOUT_MS = 30_000;

class Pool implements ThreadPoolHook {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(64));
  private readonly workers: WorkerLike[] = [];
  private next = 1;
  private acked = 0;
  readonly blocking = mayBlock();

  constructor(spawn: Spawn, count: number) {
    for (let tid = 1; tid < count; tid++) {
      const w = spawn(workerSource);
      w.postMessage({ type: 'init', ctl: this.ctl, tid, seq: Atomics.load(this.ctl, SEQ) });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length + 1;
  }

  /** Posts one message to every worker and waits until each has handled it. */
  private broadcast(message: (tid: number) => unknown): void {
    const target = this.acked + this.workers.length;
    const seq = Atomics.load(this.ctl, SEQ) + 1;
    this.workers.forEach((w, k) => w.postMessage({ ...(message(k + 1) as object), seq }));
    Atomics.store(this.ctl, CMD, MESSAGE);
    Atomics.store(this.ctl, SEQ, seq);
    Atomics.notify(this.ctl, SEQ);
    const started = Date.now();
    for (;;) {
      const acks = Atomics.load(this.ctl, ACK);
      if (acks >= target) break;
      if (Date.now() - started > ACK_TIMEOUT_MS) throw new KilnRuntimeError(`kiln runtime: the thread pool's workers did not answer within ${ACK_TIMEOUT_MS / 1000} s; call setThreads(1) to run on one thread.`);
      if (this.blocking) Atomics.wait(this.ctl, ACK, acks, 50);
    }
    this.acked = target;
    if (Atomics.exchange(this.ctl, FAULT, 0)) throw new KilnRuntimeError('kiln runtime: a worker of the thread pool could not instantiate the module; call setThreads(1) to run on one thread.');
  }

  add(module: WebAssembly.Module, memory: WebAssembly.Memory, scratch: (tid: number) => number): number {
    const id = this.next++;
    this.broadcast((tid) => ({ type: 'add', id, module, memory, scratch: scratch(tid) }));
    return id;
  }

  remove(id: number): void {
    this.broadcast(() => ({ type: 'remove', id }));
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
