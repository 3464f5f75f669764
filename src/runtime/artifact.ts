/**
 * Portable artifacts: a compiled model that runs with `kiln/runtime` alone.
 *
 * An artifact is a manifest, the module's `.wasm` and the weights (safetensors),
 * either as a folder (`manifest.json`, `model.wasm`, `weights.safetensors`) or as
 * ONE safetensors file whose tensors are the weights plus `__kiln__/module.wasm`
 * (U8) and whose metadata `kiln.artifact` is the manifest. The manifest records
 * the format version, the entries (predict, and when exported trainStep and
 * evaluate) with their inputs' and outputs' names, shapes and dtypes, the
 * module's memory layout, the parameter table, user metadata (class names…) and
 * CRC-32 checksums of the wasm and of the weights; `loadArtifact` checks all of
 * it before anything runs.
 */
import { crc32 } from './crc32.js';
import { KilnRuntimeError } from './errors.js';
import { KilnModule, type InputData, type LoadOptions, type Manifest, type TensorData } from './index.js';
import type { RowCodec, RowsSpec } from './rows.js';
import { readSafetensors, writeSafetensors, type NamedArray } from './safetensors.js';

export const ARTIFACT_FORMAT_VERSION = 1;
const WASM_TENSOR = '__kiln__/module.wasm';
const MANIFEST_KEY = 'kiln.artifact';

/** A tensor the model reads or gives, without the batch dimension (null). */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly (number | null)[];
}

/** A JSON value, as export's metadata takes and the manifest keeps it. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface ArtifactManifest {
  readonly format: 'kiln-artifact';
  readonly version: number;
  readonly name: string;
  /** The model's inputs (x), outputs (predict's) and, with trainStep/evaluate, labels (y). */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly labels?: readonly TensorSpec[];
  /** The weights file's tensors: parameters (trainable or not), then optimizer state when trainStep is exported. */
  readonly parameters: readonly { readonly name: string; readonly shape: readonly number[]; readonly trainable: boolean }[];
  readonly optimizerState?: readonly string[];
  /** With trainStep: the learning-rate input and its value at export, and whether the step takes per-example weights. */
  readonly training?: { readonly learningRateInput: string; readonly learningRate: number; readonly sampleWeight?: string; readonly outputs: readonly string[] };
  /** The compiled module: entries, memory layout (arena offsets), constants, error messages. */
  readonly module: Manifest;
  readonly metadata: Readonly<Record<string, JsonValue>>;
  /** The row encoder (kiln/runtime/rows) that turns raw rows into the inputs, when the model had one. */
  readonly rows?: RowsSpec;
  /** CRC-32s of the wasm, of the weights (names and bytes in name order) and of the manifest itself (with this field's `manifest` empty). */
  readonly checksums: { readonly wasm: string; readonly weights: string; readonly manifest: string };
}

/** The three parts of an artifact, as a folder holds them. */
export interface ArtifactParts {
  readonly manifest: ArtifactManifest;
  readonly wasm: Uint8Array;
  readonly weights: Uint8Array;
}

const bytesOf = (d: ArrayBufferView) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
const utf8 = (s: string) => new TextEncoder().encode(s);

/** CRC-32 of named tensors: names and bytes, in name order (the same whichever container holds them). */
export function weightsChecksum(tensors: Readonly<Record<string, NamedArray>>): string {
  const names = Object.keys(tensors).filter((n) => n !== WASM_TENSOR).sort();
  return crc32(...names.flatMap((n) => [utf8(n), bytesOf(tensors[n]!.data)]));
}

/** The manifest's own checksum: its JSON with `checksums.manifest` empty. */
export function manifestChecksum(m: ArtifactManifest): string {
  return crc32(utf8(JSON.stringify({ ...m, checksums: { ...m.checksums, manifest: '' } })));
}

/** `m` with its own checksum filled in. */
export function sealManifest(m: ArtifactManifest): ArtifactManifest {
  return { ...m, checksums: { ...m.checksums, manifest: manifestChecksum(m) } };
}

/** One file (safetensors) holding the manifest, the wasm and the weights. */
export function encodeArtifact(parts: ArtifactParts): Uint8Array {
  if (parts === null || typeof parts !== 'object' || !(parts.wasm instanceof Uint8Array) || !(parts.weights instanceof Uint8Array)) throw new KilnRuntimeError(`kiln runtime: encodeArtifact: expected { manifest, wasm, weights } with the wasm and weights as Uint8Array bytes, got ${parts === null ? 'null' : typeof parts}.`);
  const { tensors } = readSafetensors(parts.weights, 'the weights');
  return writeSafetensors({ ...tensors, [WASM_TENSOR]: { dtype: 'uint8', shape: [parts.wasm.length], data: parts.wasm } }, { [MANIFEST_KEY]: JSON.stringify(parts.manifest) });
}

function fail(message: string): never {
  throw new KilnRuntimeError(`kiln runtime: ${message}`);
}

function checkManifest(m: unknown): ArtifactManifest {
  const a = m as ArtifactManifest;
  if (typeof a !== 'object' || a === null || a.format !== 'kiln-artifact') fail(`not a kiln artifact (manifest format ${JSON.stringify((a as { format?: unknown } | null)?.format ?? null)}, expected "kiln-artifact").`);
  if (a.version !== ARTIFACT_FORMAT_VERSION) fail(`the artifact is format version ${JSON.stringify(a.version)}; this runtime reads version ${ARTIFACT_FORMAT_VERSION}. Export it again with this kiln.`);
  for (const key of ['inputs', 'outputs', 'parameters'] as const) if (!Array.isArray(a[key])) fail(`the artifact manifest has no ${key} list.`);
  if (typeof a.module !== 'object' || a.module === null || typeof a.checksums !== 'object' || a.checksums === null) fail('the artifact manifest lacks the module layout or the checksums.');
  const sum = manifestChecksum(a);
  if (sum !== a.checksums.manifest) fail(`the artifact's manifest is corrupted (CRC-32 ${sum}, recorded ${String(a.checksums.manifest)}).`);
  return a;
}

type Bytes = ArrayBuffer | ArrayBufferView;
/** An artifact as loadArtifact takes it: one file's bytes (or the fetch Response that brings them), or a folder's three parts. */
export type ArtifactSource = Uint8Array | ArrayBuffer | Response | { manifest: ArtifactManifest | string; wasm: Bytes; weights: Bytes };
type Source = ArtifactSource;

const describeSource = (s: unknown): string =>
  s === null ? 'null' : typeof s === 'string' ? `the string ${JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s)}` : typeof s !== 'object' ? typeof s : ArrayBuffer.isView(s) ? (s as object).constructor.name : `an object with keys ${Object.keys(s).join(', ') || 'none'}`;

/** The source's parts, or a KilnRuntimeError saying what loadArtifact takes. */
async function checkSource(source: unknown): Promise<Uint8Array | { manifest: ArtifactManifest | string; wasm: Bytes; weights: Bytes }> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) fail(`loadArtifact: the response for ${source.url || 'the artifact'} is ${source.status} ${source.statusText}.`);
    return new Uint8Array(await source.arrayBuffer());
  }
  if (ArrayBuffer.isView(source)) return bytesOf(source);
  const parts = source as { manifest?: unknown; wasm?: unknown; weights?: unknown } | null;
  if (parts && typeof parts === 'object' && (typeof parts.manifest === 'string' || (typeof parts.manifest === 'object' && parts.manifest !== null)) && isBytes(parts.wasm) && isBytes(parts.weights)) {
    return parts as { manifest: ArtifactManifest | string; wasm: Bytes; weights: Bytes };
  }
  const hint = typeof source === 'string' ? ' (a path? in Node, loadArtifactFile from \'kiln/runtime/node\' reads a file or folder; in a browser, pass await fetch(url))' : '';
  return fail(`loadArtifact: expected the artifact's bytes (a Uint8Array or ArrayBuffer), a fetch Response, or a folder's { manifest, wasm, weights }, got ${describeSource(source)}${hint}.`);
}

const isBytes = (b: unknown): b is Bytes => b instanceof ArrayBuffer || ArrayBuffer.isView(b);

const asBytes = (b: Bytes): Uint8Array => (b instanceof Uint8Array ? b : ArrayBuffer.isView(b) ? bytesOf(b) : new Uint8Array(b));

/**
 * Loads an artifact — one file's bytes, or a folder's three parts — checking the
 * format version, both checksums and every parameter's shape before it runs.
 * `options.threads` sets how many threads share its runs (default `getThreads()`).
 * @example const model = await loadArtifact(await fetch('fashion.kiln-artifact'));
 * const { data } = model.predict(pixels); // the logits, [n, 10]
 */
export async function loadArtifact(given: Source, options: LoadOptions = {}): Promise<Artifact> {
  let manifest: ArtifactManifest;
  let wasm: Uint8Array;
  let tensors: Record<string, NamedArray>;
  const source = await checkSource(given);
  if (source instanceof Uint8Array) {
    const file = readSafetensors(source, 'the artifact');
    const text = file.metadata[MANIFEST_KEY];
    if (text === undefined) fail('not a kiln artifact: the file has no "kiln.artifact" manifest (a saved model loads with kiln.loadModel in the front end).');
    try {
      manifest = checkManifest(JSON.parse(text!));
    } catch (e) {
      if (e instanceof KilnRuntimeError) throw e;
      return fail('the artifact manifest is not valid JSON.');
    }
    const w = file.tensors[WASM_TENSOR];
    if (!w || w.dtype !== 'uint8') fail(`the artifact has no ${WASM_TENSOR}.`);
    wasm = w!.data as Uint8Array;
    tensors = file.tensors;
    delete tensors[WASM_TENSOR];
  } else {
    let m: unknown;
    try {
      m = typeof source.manifest === 'string' ? JSON.parse(source.manifest) : source.manifest;
    } catch {
      return fail('manifest.json is not valid JSON.');
    }
    manifest = checkManifest(m);
    wasm = asBytes(source.wasm);
    tensors = readSafetensors(asBytes(source.weights), 'weights.safetensors').tensors;
  }
  if (crc32(wasm) !== manifest.checksums.wasm) fail(`the artifact's wasm is corrupted (CRC-32 ${crc32(wasm)}, manifest says ${manifest.checksums.wasm}).`);
  const sum = weightsChecksum(tensors);
  if (sum !== manifest.checksums.weights) fail(`the artifact's weights are corrupted (CRC-32 ${sum}, manifest says ${manifest.checksums.weights}).`);
  const names = [...manifest.parameters.map((p) => p.name), ...(manifest.optimizerState ?? [])];
  const slots = new Map(manifest.module.inputs.map((s) => [s.name, s]));
  for (const name of names) {
    const t = tensors[name];
    const slot = slots.get(name);
    if (!t) fail(`the artifact's weights lack "${name}".`);
    if (!slot) fail(`the artifact's module has no input "${name}".`);
    const want = slot!.shape;
    if (t!.shape.length !== want.length || want.some((d, i) => d !== t!.shape[i])) fail(`weight "${name}" has shape [${t!.shape.join(',')}]; the module expects [${want.join(',')}].`);
  }
  let module: KilnModule;
  try {
    module = await KilnModule.load(wasm, manifest.module, options);
  } catch (e) {
    if (e instanceof KilnRuntimeError) throw e;
    return fail(`the artifact's wasm does not load: ${(e as Error).message}`);
  }
  for (const name of names) module.set(name, tensors[name]!.data as Float32Array);
  // the row encoder's code loads only for artifacts that carry one: the predict-only runtime stays small
  const rows = manifest.rows === undefined ? undefined : (await import('./rows.js')).rowCodecFor(manifest.rows, manifest.inputs, fail);
  return new Artifact(manifest, wasm, module, rows);
}

const isLossName = (k: string) => k === 'loss' || k.endsWith('_loss');
/** A ratio metric's count (precision, recall, AUC parts; a sequence's mean metric as total and count): totalled, never divided. */
const isPartName = (k: string) => /_(truePositives|falsePositives|falseNegatives|positives|negatives|total|count)$/.test(k);

/** x for each model input (one InputData, or a list in input order). */
type Inputs = InputData | readonly InputData[];

const rowsOf = (d: InputData): { data: ArrayLike<number> & { subarray?: unknown }; shape?: readonly number[] } =>
  ArrayBuffer.isView(d) || Array.isArray(d) ? { data: d as ArrayLike<number> } : (d as { data: ArrayLike<number>; shape?: readonly number[] });

/**
 * Every value of an input checked as the front end checks it: a number, finite;
 * for int32 inputs an integer in int32's range. One pass, no copy.
 */
function checkValues(what: string, spec: TensorSpec, data: ArrayLike<number>, width: number): void {
  const typed = ArrayBuffer.isView(data);
  const int = spec.dtype === 'int32';
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as unknown;
    if ((!typed && typeof v !== 'number') || !Number.isFinite(v as number) || (int && (!Number.isInteger(v) || (v as number) < -2147483648 || (v as number) > 2147483647))) {
      fail(`${what}: input "${spec.name}" holds ${typeof v === 'number' ? v : v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : typeof v} at example ${Math.floor(i / width)} (flat index ${i}); expected ${int ? 'an int32 integer' : 'a finite number'}.`);
    }
  }
}

/** A loaded artifact: predict (batched for you), and when exported trainStep and evaluate; weights read back and saved. */
export class Artifact {
  /** The user metadata given at export (class names, …). */
  readonly metadata: Readonly<Record<string, JsonValue>>;

  constructor(readonly manifest: ArtifactManifest, private readonly wasm: Uint8Array, readonly module: KilnModule, private readonly rows?: RowCodec) {
    this.metadata = manifest.metadata;
  }

  /**
   * Raw rows (objects of column → value) as the inputs, a list in input order,
   * encoded as the model was trained (for predictAll, trainStep, evaluate).
   */
  encodeRows(rows: readonly Readonly<Record<string, unknown>>[]): TensorData[] {
    if (!this.rows) fail('predictRows: this artifact has no row encoder; give the model one (model.setRowEncoder) before export.');
    return this.rows!.encode(rows) as TensorData[];
  }

  /**
   * The output for raw rows: unknown categories go to the OOV index; a missing
   * column or a wrong type is an error naming the row and the column.
   * @example artifact.predictRows([{ Island: 'Dream', Sex: 'FEMALE', 'Body Mass (g)': 3500, … }])
   */
  predictRows(rows: readonly Readonly<Record<string, unknown>>[]): TensorData {
    return this.predict(this.encodeRows(rows));
  }

  /** The size of the module's wasm, in bytes. */
  get wasmBytes(): number {
    return this.wasm.length;
  }

  /** The entry points: 'predict', and 'trainStep' and 'evaluate' when exported. */
  get entries(): string[] {
    return this.module.entries;
  }

  /** Named inputs of `specs` from x given positionally; checks the count; returns them with the number of rows. */
  private named(what: string, specs: readonly TensorSpec[], given: Inputs): { values: Record<string, InputData>; rows: number } {
    if (given === null || given === undefined || (typeof given !== 'object')) fail(`${what}: expected a typed array, an array of numbers or { data, shape }${specs.length > 1 ? ' per input, in a list' : ''}, got ${given === null ? 'null' : typeof given}.`);
    const list = specs.length === 1 && !(Array.isArray(given) && given.length === 1 && typeof given[0] === 'object') ? [given as InputData] : (given as readonly InputData[]);
    if (!Array.isArray(list) || list.length !== specs.length) fail(`${what}: expected ${specs.length} tensor${specs.length === 1 ? '' : 's'} (${specs.map((s) => s.name).join(', ')}), got ${Array.isArray(list) ? list.length : typeof list}.`);
    let rows: number | undefined;
    const values: Record<string, InputData> = {};
    specs.forEach((s, i) => {
      const d = rowsOf(list[i]!);
      const width = s.shape.reduce<number>((a, x) => a * (x ?? 1), 1);
      if (d.shape && (d.shape.length !== s.shape.length || s.shape.some((x, k) => x !== null && x !== d.shape![k]))) fail(`${what}: input "${s.name}" expected shape [${s.shape.map((x) => x ?? 'n').join(',')}], got [${d.shape.join(',')}].`);
      if (!d.data || d.data.length % width !== 0) fail(`${what}: input "${s.name}" has ${d.data?.length ?? 0} values, not a whole number of rows of ${width}.`);
      checkValues(what, s, d.data, width);
      const r = d.data.length / width;
      if (rows !== undefined && r !== rows) fail(`${what}: input "${s.name}" has ${r} rows, another input has ${rows}.`);
      rows = r;
      values[s.name] = list[i]!;
    });
    return { values, rows: rows ?? 0 };
  }

  /** Rows [from, to) of an input, as data with its shape. */
  private slice(spec: TensorSpec, d: InputData, from: number, to: number): InputData {
    const width = spec.shape.reduce<number>((a, x) => a * (x ?? 1), 1);
    const { data } = rowsOf(d);
    const part = ArrayBuffer.isView(data) ? (data as unknown as Float32Array).subarray(from * width, to * width) : Float32Array.from((data as number[]).slice(from * width, to * width));
    return { data: part as Float32Array, shape: spec.shape.map((x) => x ?? to - from) };
  }

  /**
   * The output for x (one input's data — a typed array or { data, shape } — or a
   * list in input order), any number of rows: run in batches of up to the
   * module's maxBatch. For a model with several outputs, use predictAll.
   */
  predict(x: Inputs): TensorData {
    if (this.manifest.outputs.length !== 1) fail(`predict: this model has ${this.manifest.outputs.length} outputs (${this.manifest.outputs.map((o) => o.name).join(', ')}); predictAll returns them all.`);
    return this.predictAll(x)[0]!;
  }

  /** Every output for x, in output order (see predict). */
  predictAll(x: Inputs): TensorData[] {
    const { values, rows } = this.named('predict', this.manifest.inputs, x);
    const max = this.manifest.module.maxBatch;
    const outs = this.manifest.outputs.map((o) => ({ o, data: new Float32Array(rows * o.shape.reduce<number>((a, d) => a * (d ?? 1), 1)) }));
    for (let from = 0; from < rows; from += max) {
      const to = Math.min(from + max, rows);
      const batch = Object.fromEntries(this.manifest.inputs.map((s) => [s.name, this.slice(s, values[s.name]!, from, to)]));
      const result = this.module.run('predict', batch, { views: true });
      for (const { o, data } of outs) {
        const r = result[o.name]!;
        data.set(r.data as Float32Array, from * (r.data.length / (to - from)));
      }
    }
    return outs.map(({ o, data }) => ({ dtype: 'float32' as const, shape: o.shape.map((d) => d ?? rows), data }));
  }

  /** Class-index labels (int32, one per row) within their output's classes, as the front end requires. */
  private checkClasses(what: string, labels: readonly TensorSpec[], values: Record<string, InputData>): void {
    labels.forEach((spec, i) => {
      if (spec.dtype !== 'int32') return; // class indices: [n], or [n, steps] for a sequence
      const out = this.manifest.outputs[i];
      const classes = out?.shape[out.shape.length - 1];
      if (typeof classes !== 'number') return;
      const { data } = rowsOf(values[spec.name]!);
      for (let k = 0; k < data.length; k++) {
        if (data[k]! < 0 || data[k]! >= classes) fail(`${what}: label "${spec.name}" expects class indices in 0…${classes - 1}, got ${data[k]} at example ${k}.`);
      }
    });
  }

  private labels(what: string): readonly TensorSpec[] {
    if (!this.manifest.labels || !this.entries.includes(what)) fail(`${what}: this artifact was exported without ${what} (export with entries ['predict', 'trainStep', 'evaluate']).`);
    return this.manifest.labels!;
  }

  /**
   * One optimizer step on one batch (at most maxBatch rows), in the module: the
   * weights and optimizer state it keeps change. Returns the loss and the metrics
   * over the batch (ratio metrics as their counts, `<metric>_<part>`).
   */
  trainStep(x: Inputs, y: Inputs, options: { learningRate?: number } = {}): Record<string, number> {
    const labels = this.labels('trainStep');
    const t = this.manifest.training!;
    const xs = this.named('trainStep', this.manifest.inputs, x);
    const ys = this.named('trainStep', labels, y);
    if (xs.rows !== ys.rows) fail(`trainStep: x has ${xs.rows} rows, y has ${ys.rows}.`);
    this.checkClasses('trainStep', labels, ys.values);
    const lr = options.learningRate ?? t.learningRate;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) fail(`trainStep: expected learningRate to be a finite number >= 0, got ${lr}.`);
    const inputs: Record<string, InputData> = { ...xs.values, ...ys.values, [t.learningRateInput]: new Float32Array([lr]) };
    if (t.sampleWeight) inputs[t.sampleWeight] = new Float32Array(xs.rows).fill(1);
    const out = this.module.run('trainStep', inputs);
    // losses are batch means; count metrics come as batch sums (means here); ratio metrics' parts stay totals
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, isLossName(k) || isPartName(k) ? v.data[0]! : v.data[0]! / xs.rows]));
  }

  /**
   * The loss and metrics over (x, y), any number of rows, in batches: losses are
   * means over the rows; count metrics too; ratio metrics (precision, recall,
   * AUC) come as their totalled parts (`<metric>_<part>`).
   */
  evaluate(x: Inputs, y: Inputs): Record<string, number> {
    const labels = this.labels('evaluate');
    const xs = this.named('evaluate', this.manifest.inputs, x);
    const ys = this.named('evaluate', labels, y);
    if (xs.rows !== ys.rows) fail(`evaluate: x has ${xs.rows} rows, y has ${ys.rows}.`);
    this.checkClasses('evaluate', labels, ys.values);
    const max = this.manifest.module.maxBatch;
    const totals: Record<string, number> = {};
    for (let from = 0; from < xs.rows; from += max) {
      const to = Math.min(from + max, xs.rows);
      const batch = {
        ...Object.fromEntries(this.manifest.inputs.map((s) => [s.name, this.slice(s, xs.values[s.name]!, from, to)])),
        ...Object.fromEntries(labels.map((s) => [s.name, this.slice(s, ys.values[s.name]!, from, to)])),
      };
      for (const [k, v] of Object.entries(this.module.run('evaluate', batch))) totals[k] = (totals[k] ?? 0) + v.data[0]! * (isLossName(k) ? to - from : 1);
    }
    return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, isPartName(k) ? v : v / xs.rows]));
  }

  /** The current parameters (and optimizer state), by name: copies. */
  getWeights(): Record<string, TensorData> {
    const names = [...this.manifest.parameters.map((p) => p.name), ...(this.manifest.optimizerState ?? [])];
    return Object.fromEntries(names.map((n) => [n, this.module.get(n)]));
  }

  /** The current weights as a safetensors file (what the front end's loadWeights reads). */
  saveWeights(): Uint8Array {
    const w = this.getWeights();
    const params = this.manifest.parameters.map((p) => p.name);
    return writeSafetensors(Object.fromEntries(params.map((n) => [n, { dtype: 'float32' as const, shape: w[n]!.shape, data: w[n]!.data as Float32Array }])), { format: 'kiln.weights', order: JSON.stringify(params) });
  }

  /** The artifact as one file with its current weights (after trainSteps, say), checksums updated. */
  toBytes(): Uint8Array {
    const w = this.getWeights();
    const tensors: Record<string, NamedArray> = Object.fromEntries(Object.entries(w).map(([n, t]) => [n, { dtype: 'float32' as const, shape: t.shape, data: t.data as Float32Array }]));
    const manifest = sealManifest({ ...this.manifest, checksums: { ...this.manifest.checksums, weights: weightsChecksum(tensors) } });
    return writeSafetensors({ ...tensors, [WASM_TENSOR]: { dtype: 'uint8', shape: [this.wasm.length], data: this.wasm } }, { [MANIFEST_KEY]: JSON.stringify(manifest) });
  }
}
