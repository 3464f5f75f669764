/**
 * kiln/runtime: loads a compiled kiln module and runs it. Browser-safe, with no
 * dependencies: it imports nothing outside this folder, and needs only
 * `WebAssembly`. It checks every input's name, dtype and shape before any wasm
 * runs, so bad input is an error message, never a trap.
 *
 * @example
 * import { load } from 'kiln/runtime';
 * const m = await load(wasmBytes, manifest);
 * const { output } = m.run('predict', { input: { data: pixels, shape: [1, 784] } });
 */

/** The newest module manifest version this runtime reads (2: modules that keep prepacked weights, whose `packs_stale` it calls after writing a parameter or state). */
export const formatVersion = 2;

export type DType = 'float32' | 'int32' | 'bool';
export type TypedArray = Float32Array | Int32Array | Uint8Array;

export interface TensorData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

/** A named tensor at a fixed byte offset in the module's arena; 'B' is the batch dimension. */
export interface Slot {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly (number | 'B')[];
  readonly offset: number;
  readonly kind?: 'data' | 'parameter' | 'state' | 'scalar';
}

export interface Entry {
  /** Names of the inputs this entry reads. */
  readonly inputs: readonly string[];
  readonly outputs: readonly Slot[];
  /** Present when threads share this entry's work: its number in the module's `thread_run`. */
  readonly thread?: number;
}

export interface Manifest {
  readonly format: 'kiln-module';
  readonly version: number;
  readonly maxBatch: number;
  readonly arenaBytes: number;
  /** Every input of every entry; entries share an input by name. */
  readonly inputs: readonly Slot[];
  readonly entries: Readonly<Record<string, Entry>>;
  readonly constants: readonly { readonly offset: number; readonly dtype: DType; readonly values: readonly number[] }[];
  /** Messages for the module's run-time error codes; `{value}` is the offending value. */
  readonly errors: readonly string[];
}

import { KilnRuntimeError } from './errors.js';
import { memoryImportOf, oneThread } from './wasm.js';

export { KilnRuntimeError };

/** Anything `run` takes for one input: a typed array (or plain array) with or without a shape. */
export type InputData = TypedArray | Float64Array | readonly number[] | { readonly data: TypedArray | Float64Array | readonly number[]; readonly shape?: readonly number[] };

const fmt = (dtype: DType, shape: readonly (number | string)[]) => `${{ float32: 'f32', int32: 'i32', bool: 'bool' }[dtype]}[${shape.join(',')}]`;

function dtypeOf(data: InputData extends infer T ? T : never): DType | undefined {
  if (data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data)) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  return undefined;
}

/** What the runtime needs of the thread pool (`kiln/runtime/threads` installs it). */
export interface ThreadPoolHook {
  readonly size: number;
  /** Whether the calling thread may block in Atomics.wait (not a page's main thread). */
  readonly blocking: boolean;
  add(module: WebAssembly.Module, memory: WebAssembly.Memory, scratch: (tid: number) => number): number;
  /** Whether every worker has the module (runs before then use one thread: the same bits). */
  ready(id: number): boolean;
  remove(id: number): void;
  start(id: number, entry: number, batch: number, count: number): void;
  faulted(): boolean;
  close(): void;
}

let poolFactory: { create(count: number): ThreadPoolHook | undefined } | undefined;
let pool: ThreadPoolHook | undefined;
let threadCount = 1;
let warned = false;

/** Installs the thread pool (done by importing `kiln/runtime/threads`). */
export function installThreads(factory: { create(count: number): ThreadPoolHook | undefined }): void {
  poolFactory = factory;
}

/**
 * Sets how many threads share a module's work (modules loaded from now on; 1 =
 * one thread). Results are the same bits at any count. Threads need the pool
 * (`kiln/runtime/threads`, which kiln's Node entry points load) and, in a page,
 * cross-origin isolation; without them kiln warns once and runs on one thread.
 * @example setThreads(2);
 */
export function setThreads(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new KilnRuntimeError(`kiln runtime: setThreads expected a whole number of threads from 1 to 64, got ${String(count)}.`);
  threadCount = count;
}

/** How many threads modules loaded from now on use (`setThreads`). */
export function getThreads(): number {
  return threadCount;
}

/** The pool for `count` threads, started (or restarted larger) on first use; undefined (after one warning) when threads cannot run here. */
function poolFor(count: number): ThreadPoolHook | undefined {
  if (count <= 1) return undefined;
  if (pool && pool.size >= count) return pool;
  const why = !poolFactory ? 'the thread pool is not loaded (import "kiln/runtime/threads")' : undefined;
  let created: ThreadPoolHook | undefined;
  try {
    created = poolFactory?.create(count);
  } catch { /* a worker that fails to start: one thread */ }
  if (!created) {
    if (!warned) {
      warned = true;
      const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
      console.warn(`kiln: running on one thread: ${why ?? (isolated === false ? 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so SharedArrayBuffer is unavailable' : 'worker threads could not start here')}.`);
    }
    return undefined;
  }
  pool?.close();
  pool = created;
  return pool;
}

const released = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<{ pool: ThreadPoolHook; id: number }>(({ pool: p, id }) => { if (p === pool) p.remove(id); }) : undefined;

export interface LoadOptions {
  /** Threads that share this module's work (default: `getThreads()`). */
  threads?: number;
}

const SCRATCH_PAGES = 16; // a worker's kernel scratch, at most (checked against thread_scratch_bytes)

export class KilnModule {
  private readonly exports: Record<string, unknown>;
  private readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private threads?: { pool: ThreadPoolHook; id: number; count: number };

  private constructor(readonly manifest: Manifest, instance: WebAssembly.Instance, memory?: WebAssembly.Memory) {
    this.exports = instance.exports as Record<string, unknown>;
    this.memory = memory ?? (this.exports.memory as WebAssembly.Memory);
    this.base = (this.exports.arena_base as () => number)();
    this.reserve(this.base + manifest.arenaBytes);
    for (const c of manifest.constants) this.view(c.dtype, c.offset, c.values.length).set(c.values);
  }

  private reserve(needed: number): void {
    const missing = needed - this.memory.buffer.byteLength;
    if (missing > 0) {
      try {
        this.memory.grow(Math.ceil(missing / 65536));
      } catch {
        throw new KilnRuntimeError(`kiln runtime: the module needs ${needed} bytes of memory (at maxBatch ${this.manifest.maxBatch}), more than this engine grants; compile with a smaller maxBatch.`);
      }
    }
  }

  /** Hands a threaded module to the pool: each worker instantiates it over this memory, with its own kernel scratch past the arena. */
  private startThreads(module: WebAssembly.Module, threads: ThreadPoolHook, count: number): void {
    const scratch = Math.ceil(((this.exports.thread_scratch_bytes as () => number)()) / 64) * 64;
    if (scratch > SCRATCH_PAGES * 65536) throw new KilnRuntimeError('kiln runtime: internal: a thread needs more kernel scratch than the loader reserves.');
    const first = Math.ceil((this.base + this.manifest.arenaBytes) / 64) * 64;
    this.reserve(first + (count - 1) * scratch);
    (this.exports.thread_start as (id: number, blocking: boolean, scratch: number) => void)(0, threads.blocking, 0);
    const id = threads.add(module, this.memory, (tid) => first + (tid - 1) * scratch);
    this.threads = { pool: threads, id, count };
    released?.register(this, { pool: threads, id });
  }

  private view(dtype: DType, offset: number, length: number): Float32Array | Int32Array {
    const at = this.base + offset;
    return dtype === 'float32' ? new Float32Array(this.memory.buffer, at, length) : new Int32Array(this.memory.buffer, at, length);
  }

  /** Threads that share this module's runs now (1: this thread alone, or while the workers still instantiate the module). */
  get threadCount(): number {
    const t = this.threads;
    return t && t.pool === pool && t.pool.ready(t.id) ? Math.min(t.count, t.pool.size) : 1;
  }

  /** Resolves when the workers have the module: the thread count its runs use from then on. */
  async threaded(): Promise<number> {
    for (let waited = 0; this.threads && !this.threads.pool.ready(this.threads.id) && waited < 30_000; waited += 2) await new Promise((resolve) => setTimeout(resolve, 2));
    return this.threadCount;
  }

  /** Names of the entry points. */
  get entries(): string[] {
    return Object.keys(this.manifest.entries);
  }

  /**
   * Binds inputs, runs entry point `entry` and returns its outputs: copies, safe to
   * keep, or with `views: true` float32/int32 views into the module's memory that
   * the next run overwrites (no allocation: for large outputs read at once).
   */
  run(entry: string, inputs: Readonly<Record<string, InputData>>, options: { views?: boolean } = {}): Record<string, TensorData> {
    const spec = Object.hasOwn(this.manifest.entries, entry) ? this.manifest.entries[entry] : undefined;
    if (!spec) throw new KilnRuntimeError(`kiln runtime: no entry point "${entry}"; the module has ${this.entries.map((e) => `"${e}"`).join(', ')}.`);
    if (inputs === null || typeof inputs !== 'object') throw new KilnRuntimeError(`kiln runtime: run("${entry}") expected its inputs as an object of arrays by name, got ${inputs === null ? 'null' : typeof inputs}.`);
    const batch = this.bind(spec, inputs);
    const threads = this.threads;
    if (threads && spec.thread !== undefined && threads.pool === pool && pool.ready(threads.id)) {
      const count = Math.min(threads.count, pool.size); // fixed at load: setThreads applies to modules loaded after it
      (this.exports.thread_begin as (count: number) => void)(count);
      if (count > 1) threads.pool.start(threads.id, spec.thread, batch, count);
      (this.exports[entry] as (batch: number) => void)(batch);
      if (count > 1 && threads.pool.faulted()) throw new KilnRuntimeError(`kiln runtime: a worker thread failed while running "${entry}" (an internal error in kiln); call setThreads(1) to run on one thread.`);
    } else {
      (this.exports[entry] as (batch: number) => void)(batch);
    }
    const code = (this.exports.last_error_code as () => number)();
    if (code !== 0) {
      const value = (this.exports.last_error_value as () => number)();
      throw new KilnRuntimeError((this.manifest.errors[code - 1] ?? `kiln runtime: error ${code}`).replace('{value}', String(value)));
    }
    return Object.fromEntries(spec.outputs.map((o) => [o.name, this.read(o, batch, options.views ?? false)]));
  }

  /** Writes an input's value into the module's memory (a parameter or state it keeps between runs). */
  set(name: string, data: InputData): void {
    const slot = this.manifest.inputs.find((s) => s.name === name);
    if (!slot) throw new KilnRuntimeError(`kiln runtime: no input named "${name}"; inputs are ${this.manifest.inputs.map((s) => `"${s.name}"`).join(', ')}.`);
    this.bind({ inputs: [name], outputs: [] }, { [name]: data });
  }

  /** The current value of an input (a parameter after training steps, say). */
  get(name: string, batch = 1): TensorData {
    const slot = this.manifest.inputs.find((s) => s.name === name);
    if (!slot) throw new KilnRuntimeError(`kiln runtime: no input named "${name}"; inputs are ${this.manifest.inputs.map((s) => `"${s.name}"`).join(', ')}.`);
    return this.read(slot, batch);
  }

  private read(slot: Slot, batch: number, view = false): TensorData {
    const shape = slot.shape.map((d) => (d === 'B' ? batch : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = this.view(slot.dtype, slot.offset, n);
    const data = slot.dtype === 'bool' ? Uint8Array.from(raw, (v) => (v ? 1 : 0)) : view ? raw : raw.slice();
    return { dtype: slot.dtype, shape, data };
  }

  /** Checks and writes the given inputs; returns the batch size they agree on. */
  private bind(entry: Entry, inputs: Readonly<Record<string, InputData>>): number {
    const known = new Set(entry.inputs);
    for (const name of Object.keys(inputs)) {
      if (!known.has(name)) throw new KilnRuntimeError(`kiln runtime: unknown input "${name}"; inputs are ${[...known].map((n) => `"${n}"`).join(', ')}.`);
    }
    let batch: number | undefined;
    let persistent = false;
    const writes: (() => void)[] = [];
    for (const slot of this.manifest.inputs.filter((s) => known.has(s.name))) {
      const given = inputs[slot.name];
      if (given === undefined) {
        if (slot.kind === 'parameter' || slot.kind === 'state') continue; // keeps its value in memory
        throw new KilnRuntimeError(`kiln runtime: missing input "${slot.name}" (${fmt(slot.dtype, slot.shape)}).`);
      }
      const data = ArrayBuffer.isView(given) || Array.isArray(given) ? (given as TypedArray) : (given as { data: TypedArray }).data;
      const shape = ArrayBuffer.isView(given) || Array.isArray(given) ? undefined : (given as { shape?: readonly number[] }).shape;
      const dtype = dtypeOf(data);
      if (dtype !== slot.dtype) throw new KilnRuntimeError(`kiln runtime: input "${slot.name}" expected ${slot.dtype} data (${fmt(slot.dtype, slot.shape)}), got ${data?.constructor?.name ?? typeof data}.`);
      const staticSize = slot.shape.reduce<number>((a, d) => (d === 'B' ? a : a * d), 1);
      let b: number | undefined;
      if (shape) {
        const ok = shape.length === slot.shape.length && slot.shape.every((d, i) => d === 'B' || d === shape[i]);
        if (!ok) throw new KilnRuntimeError(`kiln runtime: input "${slot.name}" expected shape ${fmt(slot.dtype, slot.shape)}, got ${fmt(slot.dtype, shape)}.`);
        const axis = slot.shape.indexOf('B');
        if (axis >= 0) b = shape[axis];
        if (shape.reduce((x, y) => x * y, 1) !== data.length) throw new KilnRuntimeError(`kiln runtime: input "${slot.name}" has ${data.length} values for shape ${fmt(slot.dtype, shape)}.`);
      } else if (slot.shape.includes('B')) {
        if (staticSize === 0 || data.length % staticSize !== 0) throw new KilnRuntimeError(`kiln runtime: input "${slot.name}" has ${data.length} values, not a whole number of ${fmt(slot.dtype, slot.shape)} rows.`);
        b = data.length / staticSize;
      } else if (data.length !== staticSize) {
        throw new KilnRuntimeError(`kiln runtime: input "${slot.name}" expected ${staticSize} values (${fmt(slot.dtype, slot.shape)}), got ${data.length}.`);
      }
      if (b !== undefined) {
        if (b < 1 || b > this.manifest.maxBatch) throw new KilnRuntimeError(`kiln runtime: input "${slot.name}" has batch size ${b}; this module runs batches of 1 to ${this.manifest.maxBatch}.`);
        if (batch !== undefined && b !== batch) throw new KilnRuntimeError(`kiln runtime: input "${slot.name}" has batch size ${b}, but another input has ${batch}.`);
        batch = b;
      }
      writes.push(() => this.view(slot.dtype, slot.offset, data.length).set(data as ArrayLike<number>));
      if (slot.kind === 'parameter' || slot.kind === 'state') persistent = true;
    }
    for (const w of writes) w(); // nothing is written unless every input checks out
    // a weight the module keeps packed may have changed: its packed copy is stale
    if (persistent && this.exports.packs_stale) (this.exports.packs_stale as () => void)();
    return batch ?? 1;
  }

  /** Instantiates a compiled module (its bytes; a compiled `WebAssembly.Module` only for modules that define their own memory). */
  static async load(wasm: BufferSource | WebAssembly.Module, manifest: Manifest, options: LoadOptions = {}): Promise<KilnModule> {
    checkManifest(manifest);
    const plan = linking(wasm, manifest, options);
    const module = plan.module ?? (await WebAssembly.compile(plan.bytes!));
    return KilnModule.link(module, manifest, plan);
  }

  /** Instantiates a compiled module synchronously (Node and workers; browsers refuse large modules on the main thread). */
  static loadSync(wasm: BufferSource | WebAssembly.Module, manifest: Manifest, options: LoadOptions = {}): KilnModule {
    checkManifest(manifest);
    const plan = linking(wasm, manifest, options);
    return KilnModule.link(plan.module ?? new WebAssembly.Module(plan.bytes!), manifest, plan);
  }

  private static link(module: WebAssembly.Module, manifest: Manifest, plan: Linking): KilnModule {
    const env = plan.memory ? { ...imports.env, memory: plan.memory, kiln_wait: waiter(plan.memory) } : imports.env;
    const loaded = new KilnModule(manifest, new WebAssembly.Instance(module, { env }), plan.memory);
    if (plan.pool) loaded.startThreads(module, plan.pool, plan.count);
    return loaded;
  }
}

interface Linking {
  /** Bytes to compile, or the module as given. */
  readonly bytes?: Uint8Array<ArrayBuffer>;
  readonly module?: WebAssembly.Module;
  /** The memory to import (none: the module defines its own). */
  readonly memory?: WebAssembly.Memory;
  readonly pool?: ThreadPoolHook;
  readonly count: number;
}

/** How a module is linked: threaded over shared memory when threads are asked for, run here and the module splits work; else over ordinary memory. */
function linking(wasm: BufferSource | WebAssembly.Module, manifest: Manifest, options: LoadOptions): Linking {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > 64)) {
    throw new KilnRuntimeError(`kiln runtime: load expected threads to be a whole number from 1 to 64, got ${String(options.threads)}.`);
  }
  if (wasm instanceof WebAssembly.Module) {
    if (WebAssembly.Module.imports(wasm).some((i) => i.kind === 'memory')) throw new KilnRuntimeError('kiln runtime: pass the module\'s bytes, not a compiled WebAssembly.Module: the loader sets up the memory it imports.');
    return { module: wasm, count: 1 };
  }
  const bytes = (wasm instanceof Uint8Array ? wasm : ArrayBuffer.isView(wasm) ? new Uint8Array(wasm.buffer, wasm.byteOffset, wasm.byteLength) : new Uint8Array(wasm)) as Uint8Array<ArrayBuffer>;
  const memory = memoryImportOf(bytes);
  if (!memory) return { bytes, count: 1 };
  const count = options.threads ?? threadCount;
  const splits = Object.values(manifest.entries).some((e) => e.thread !== undefined);
  const threads = splits && memory.shared ? poolFor(count) : undefined;
  if (!threads) return { ...oneThread(bytes), count: 1 };
  const workers = Math.min(count, threads.size);
  const pages = memory.initial + Math.ceil(manifest.arenaBytes / 65536) + 1 + (workers - 1) * SCRATCH_PAGES;
  return { bytes, memory: new WebAssembly.Memory({ initial: memory.initial, maximum: Math.min(pages, memory.maximum ?? 65536), shared: true }), pool: threads, count: workers };
}

/** A threaded module's way to sleep until a word of its memory changes (at most 1 ms; the module re-checks). */
export function waiter(memory: WebAssembly.Memory): (at: number, expected: number) => void {
  let view: Int32Array | undefined;
  return (at, expected) => {
    if (view?.buffer !== memory.buffer) view = new Int32Array(memory.buffer);
    Atomics.wait(view, at >>> 2, expected, 1);
  };
}

const imports = { env: { abort: () => { throw new KilnRuntimeError('kiln runtime: the module aborted (an internal error in kiln).'); } } };

function checkManifest(manifest: Manifest): void {
  if (manifest === null || typeof manifest !== 'object') throw new KilnRuntimeError(`kiln runtime: expected a kiln-module manifest object, got ${manifest === null ? 'null' : typeof manifest}.`);
  if (manifest.format !== 'kiln-module' || !(manifest.version === 1 || manifest.version === formatVersion)) {
    throw new KilnRuntimeError(`kiln runtime: expected a kiln-module manifest of version 1 to ${formatVersion}, got ${String(manifest.format)} version ${String(manifest.version)}.`);
  }
}

/** Instantiates a compiled module from its wasm bytes and manifest. */
export function load(wasm: BufferSource | WebAssembly.Module, manifest: Manifest, options: LoadOptions = {}): Promise<KilnModule> {
  return KilnModule.load(wasm, manifest, options);
}

export { loadArtifact, encodeArtifact, Artifact, ARTIFACT_FORMAT_VERSION, type ArtifactManifest, type ArtifactParts, type ArtifactSource, type JsonValue } from './artifact.js';
export { crc32 } from './crc32.js';
