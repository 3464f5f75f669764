/**
 * `EventFileWriter`: one run's event file. Events are framed into records as
 * they come and kept in a queue; the queue is written to the file every
 * `flushMillis` (default 1 s), when it holds `maxQueueBytes`, on `flush()` and on
 * `close()`, and (in Node) when the process exits. Each write holds whole
 * records appended in order, so a crash leaves every record written so far
 * readable; only what was still queued is lost.
 */
import { KilnError } from '../../compiler/errors.js';
import { encodeEvent, fileVersion, frameRecord, type EventSpec, type SummaryValueSpec } from './events.js';
import { defaultSink, isNode, type LogSink } from './sinks.js';

export interface EventFileWriterOptions {
  /** Where files go (default: the file system in Node, `memoryLogs()` in a browser). */
  sink?: LogSink;
  /** Longest time an event waits in memory (default 1000 ms). */
  flushMillis?: number;
  /** Queue size that forces a write (default 1 MiB). */
  maxQueueBytes?: number;
  /** Appended to the file name (TF2 uses '.v2'). */
  filenameSuffix?: string;
}

let fileCounter = 0;
const open = new Set<EventFileWriter>();
let exitHookInstalled = false;

/** Joins path parts with '/', without doubling separators. @example joinPath('logs/', 'train') // 'logs/train' */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/').replace(/\/{2,}/g, '/');
}

function installExitHook(): void {
  if (exitHookInstalled || !isNode()) return;
  exitHookInstalled = true;
  const p = (globalThis as { process?: { on(event: string, f: () => void): void } }).process;
  p?.on('exit', () => {
    for (const w of open) w.flushSync(); // a sync sink writes here; an async one cannot
  });
}

/**
 * Writes one event file in `logDir` (made when missing), named as TensorBoard
 * expects: `events.out.tfevents.<seconds>.<host>.<pid>.<n>`.
 * @example
 * const w = new EventFileWriter('logs/run1');
 * w.addSummary([scalarValue('loss', 0.5)], 1);
 * await w.close();
 */
export class EventFileWriter {
  readonly logDir: string;
  /** The event file's path. */
  readonly path: string;
  private readonly sink: LogSink;
  private readonly flushMillis: number;
  private readonly maxQueueBytes: number;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private pending: Promise<void> = Promise.resolve();
  private failure?: unknown;
  private closed = false;

  constructor(logDir: string, options: EventFileWriterOptions = {}) {
    if (typeof logDir !== 'string' || logDir === '') throw new KilnError(`EventFileWriter: expected a log folder path, got ${JSON.stringify(logDir)}.`);
    const { flushMillis = 1000, maxQueueBytes = 1 << 20, filenameSuffix = '' } = options;
    if (!(flushMillis >= 0)) throw new KilnError(`EventFileWriter: expected flushMillis >= 0, got ${flushMillis}.`);
    this.sink = options.sink ?? defaultSink();
    this.logDir = logDir;
    this.flushMillis = flushMillis;
    this.maxQueueBytes = maxQueueBytes;
    const seconds = String(Math.floor(Date.now() / 1000)).padStart(10, '0');
    this.path = joinPath(logDir, `events.out.tfevents.${seconds}.${this.sink.host}.${this.sink.pid}.${fileCounter++}${filenameSuffix}`);
    const made = this.sink.makeDir(logDir);
    if (made instanceof Promise) this.chain(() => made);
    this.addEvent({ wallTime: Date.now() / 1000, fileVersion });
    this.flushSync(); // the file exists (and is known to be writable) from the start
    open.add(this);
    installExitHook();
  }

  /** Queues one event. */
  addEvent(event: EventSpec): void {
    if (this.closed) throw new KilnError(`EventFileWriter: "${this.path}" is closed.`);
    const record = frameRecord(encodeEvent(event));
    this.queue.push(record);
    this.queued += record.length;
    if (this.queued >= this.maxQueueBytes) this.flushSync();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        try {
          this.flushSync();
        } catch (e) {
          this.failure = e; // reported by the next flush, addEvent or close
        }
      }, this.flushMillis);
      (this.timer as { unref?: () => void }).unref?.(); // a pending flush does not keep Node alive; the exit hook writes it
    }
  }

  /** Queues a Summary of `values` at `step`. */
  addSummary(values: readonly SummaryValueSpec[], step: number, wallTime = Date.now() / 1000): void {
    if (!Number.isInteger(step)) throw new KilnError(`summary: expected an integer step, got ${step}.`);
    this.addEvent({ wallTime, step, summary: values });
  }

  /** Queues a serialized GraphDef. */
  addGraph(graphDef: Uint8Array, wallTime = Date.now() / 1000): void {
    this.addEvent({ wallTime, graphDef });
  }

  /** Hands the queue to the sink now (a sync sink writes it before returning). */
  flushSync(): void {
    if (this.timer !== undefined) (clearTimeout(this.timer), (this.timer = undefined));
    if (this.queue.length === 0) return;
    const chunk = concat(this.queue, this.queued);
    this.queue = [];
    this.queued = 0;
    this.chain(() => this.sink.append(this.path, chunk));
  }

  /** Writes what is queued; resolves once the sink has it (rejects with the sink's error). */
  async flush(): Promise<void> {
    this.flushSync();
    await this.pending;
    this.rethrow();
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    open.delete(this);
    this.chain(() => this.sink.close(this.path));
    await this.pending;
    this.rethrow();
  }

  /** Runs `step` after what is pending; a sync sink's error is thrown here and now. */
  private chain(step: () => void | Promise<void>): void {
    this.rethrow();
    let result: void | Promise<void>;
    if (this.pendingDone) {
      result = step();
      if (!(result instanceof Promise)) return;
    } else {
      result = this.pending.then(step);
    }
    this.pendingDone = false;
    this.pending = result.then(() => { this.pendingDone = true; }, (e) => { this.failure = e; this.pendingDone = true; });
  }

  private pendingDone = true;

  private rethrow(): void {
    if (this.failure !== undefined) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}
