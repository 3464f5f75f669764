/**
 * @file A pool of decode workers (Node worker_threads) shared by the input
 * pipelines of one process: `imageDatasetFromDirectory` reads and decodes its
 * files there, so decoding runs on the other cores while the training step runs
 * on this one. Workers start on first use, are kept for the process and do not
 * keep it alive when idle. Where workers cannot start (a browser, or kiln run
 * from its TypeScript sources) there is no pool and callers decode in place.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KilnError } from '../../compiler/errors.js';
import type { DecodeReply, DecodeRequest } from './decodeWorker.js';
import type { Pixels } from './pixels.js';

interface Pending {
  readonly resolve: (p: Pixels) => void;
  readonly reject: (e: Error) => void;
  readonly worker: Slot;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

/** Decode workers, each given the next request when it has the fewest in flight. */
export class DecodePool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /**
   * Starts `size` workers from the worker module at `workerUrl` (the built
   * decodeWorker.js).
   * @example const pool = new DecodePool(new URL('./decodeWorker.js', import.meta.url), 2);
   */
  constructor(workerUrl: URL, size: number) {
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = { worker: new Worker(workerUrl), busy: 0 };
      slot.worker.on('message', (reply: DecodeReply) => this.settle(reply));
      slot.worker.on('error', (e) => this.failAll(slot, e));
      slot.worker.unref(); // idle workers never hold the process open
      return slot;
    });
  }

  /**
   * The pixels of the image file at `path`. A file that cannot be read or
   * decoded rejects with the KilnError decoding in place would throw.
   */
  decode(path: string, options: { channels?: 1 | 3 | 4; name: string; subject: string }): Promise<Pixels> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    if (slot.busy++ === 0) slot.worker.ref(); // in flight: keep the process alive until it answers
    return new Promise<Pixels>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: slot });
      slot.worker.postMessage({ id, path, channels: options.channels, name: options.name } satisfies DecodeRequest);
    }).catch((e: Error & { decoding?: boolean; code?: string }) => {
      if (e instanceof KilnError) throw e;
      throw new KilnError(e.decoding ? e.message : `${options.subject}: cannot read "${path}": ${e.code ?? e.message}.`);
    });
  }

  /** Stops the workers (requests in flight reject). */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private settle(reply: DecodeReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (--p.worker.busy === 0) p.worker.worker.unref();
    if ('error' in reply) p.reject(Object.assign(new Error(reply.error), { decoding: reply.decoding, code: reply.code }));
    else p.resolve({ height: reply.height, width: reply.width, channels: reply.channels, data: reply.data });
  }

  private failAll(slot: Slot, e: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== slot) continue;
      this.pending.delete(id);
      p.reject(new KilnError(`decode worker failed: ${e.message}`));
    }
    slot.busy = 0;
    slot.worker.unref();
  }
}

let shared: DecodePool | null | undefined;

/**
 * The process's decode pool: one worker per core but one (at most 4), or none
 * when the built worker module is not there (kiln run from its sources) or
 * workers cannot start. `KILN_DECODE_WORKERS=0` turns it off.
 */
export function sharedDecodePool(): DecodePool | undefined {
  if (shared !== undefined) return shared ?? undefined;
  shared = null;
  const wanted = process.env.KILN_DECODE_WORKERS === undefined ? Math.min(4, availableParallelism() - 1) : Number(process.env.KILN_DECODE_WORKERS);
  const url = new URL('./decodeWorker.js', import.meta.url);
  if (!(wanted >= 1) || url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return undefined;
  try {
    shared = new DecodePool(url, Math.floor(wanted));
  } catch {
    shared = null;
  }
  return shared ?? undefined;
}
