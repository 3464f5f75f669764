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

export const formatVersion = 1;

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

export class KilnModule {
  private readonly exports: Record<string, unknown>;
  private readonly memory: WebAssembly.Memory;
  private readonly base: number;

  private constructor(readonly manifest: Manifest, instance: WebAssembly.Instance) {
    this.exports = instance.exports as Record<string, unknown>;
    this.memory = this.exports.memory as WebAssembly.Memory;
    this.base = (this.exports.arena_base as () => number)();
    const needed = this.base + manifest.arenaBytes;
    const missing = needed - this.memory.buffer.byteLength;
    if (missing > 0) {
      try {
        this.memory.grow(Math.ceil(missing / 65536));
      } catch {
        throw new KilnRuntimeError(`kiln runtime: the module needs ${needed} bytes of memory (at maxBatch ${manifest.maxBatch}), more than this engine grants; compile with a smaller maxBatch.`);
      }
    }
    for (const c of manifest.constants) this.view(c.dtype, c.offset, c.values.length).set(c.values);
  }

  private view(dtype: DType, offset: number, length: number): Float32Array | Int32Array {
    const at = this.base + offset;
    return dtype === 'float32' ? new Float32Array(this.memory.buffer, at, length) : new Int32Array(this.memory.buffer, at, length);
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
    const batch = this.bind(spec, inputs);
    (this.exports[entry] as (batch: number) => void)(batch);
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
    }
    for (const w of writes) w(); // nothing is written unless every input checks out
    return batch ?? 1;
  }

  /** Instantiates a compiled module. */
  static async load(wasm: BufferSource | WebAssembly.Module, manifest: Manifest): Promise<KilnModule> {
    checkManifest(manifest);
    const module = wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm);
    return new KilnModule(manifest, await WebAssembly.instantiate(module, imports));
  }

  /** Instantiates a compiled module synchronously (Node and workers; browsers refuse large modules on the main thread). */
  static loadSync(wasm: BufferSource | WebAssembly.Module, manifest: Manifest): KilnModule {
    checkManifest(manifest);
    const module = wasm instanceof WebAssembly.Module ? wasm : new WebAssembly.Module(wasm);
    return new KilnModule(manifest, new WebAssembly.Instance(module, imports));
  }
}

const imports = { env: { abort: () => { throw new KilnRuntimeError('kiln runtime: the module aborted (an internal error in kiln).'); } } };

function checkManifest(manifest: Manifest): void {
  if (manifest.format !== 'kiln-module' || manifest.version !== formatVersion) {
    throw new KilnRuntimeError(`kiln runtime: expected a kiln-module manifest of version ${formatVersion}, got ${String(manifest.format)} version ${String(manifest.version)}.`);
  }
}

/** Instantiates a compiled module from its wasm bytes and manifest. */
export function load(wasm: BufferSource | WebAssembly.Module, manifest: Manifest): Promise<KilnModule> {
  return KilnModule.load(wasm, manifest);
}

export { loadArtifact, encodeArtifact, Artifact, ARTIFACT_FORMAT_VERSION, type ArtifactManifest, type ArtifactParts, type ArtifactSource, type JsonValue } from './artifact.js';
export { crc32 } from './crc32.js';
