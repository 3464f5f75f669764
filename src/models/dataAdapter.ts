/**
 * @file Data adapters, as Keras 3 splits them out of the model: whatever `fit`,
 * `evaluate` and `trainOnBatch` are given — tensors (one, or one per input or
 * output), records of features by input name, a Dataset of batches — becomes
 * checked, batch-major values in the model's input order, and `fit`'s epochs
 * become a stream of batches (shuffled row indices, or a Dataset's own batches,
 * with `stepsPerEpoch`, `validationSplit` and `classWeight`).
 */
import { KilnError } from '../../compiler/errors.js';
import type { Value } from '../../compiler/ops/op.js';
import { permutation } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { Dataset } from '../data/dataset.js';
import type { Shape } from '../layers/layer.js';
import { isRecord, type Head } from './compileArgs.js';
import type { InputSpec, Topology } from './model.js';

/** What the adapters need of a model. */
export interface DataTarget {
  /** Lets a model that builds itself on its first data (subclassed) do so. */
  prepare(xs: readonly Tensor[]): void;
  topology(): Topology;
  /** Each output's loss and metrics (throws when the model is not compiled). */
  heads(method: string): readonly Head[];
  inputNames(): string[] | undefined;
  outputNames(): string[] | undefined;
}

/** x (one value per model input) and y (one per output), batch-major. */
export interface Data {
  readonly xs: Value[];
  readonly ys: Value[];
}

/** The compiled entries' names for n inputs (labels, outputs): 'x' for one, 'x_0', 'x_1', … for several. */
export const entryNames = (prefix: string, n: number): string[] => (n === 1 ? [prefix] : Array.from({ length: n }, (_, i) => `${prefix}_${i}`));

/**
 * Whether every value is finite: x·0 is ±0 for finite x and NaN for NaN or ±∞, so
 * the sums stay zero exactly when all are (four sums: about 3× faster than
 * testing each value; a batch of 64 Fashion-MNIST images takes about 20 µs).
 */
function allFinite(d: Float32Array): boolean {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
  for (; i + 4 <= d.length; i += 4) {
    s0 += d[i]! * 0;
    s1 += d[i + 1]! * 0;
    s2 += d[i + 2]! * 0;
    s3 += d[i + 3]! * 0;
  }
  for (; i < d.length; i++) s0 += d[i]! * 0;
  return s0 + s1 + s2 + s3 === 0;
}

/** A NaN or infinity in the data is an error before training (it would flood the weights with NaN). */
function checkFinite(method: string, what: string, v: Value): void {
  if (v.dtype !== 'float32' || allFinite(v.data as Float32Array)) return;
  const width = v.data.length / Math.max(v.shape[0] ?? 1, 1);
  for (let i = 0; i < v.data.length; i++) {
    if (!Number.isFinite(v.data[i]!)) throw new KilnError(`${method}: ${what} holds ${v.data[i]} at example ${Math.floor(i / width)} (flat index ${i}); clean or impute the data first.`);
  }
}

/** Rows `index` of a batch-major value. */
export function rows(v: Value, index: Int32Array): Value {
  const first = index[0] ?? 0;
  if (index.every((r, i) => r === first + i)) return rowRange(v, first, first + index.length); // consecutive rows: a view, no copy
  const width = v.data.length / v.shape[0]!;
  const out = v.dtype === 'float32' ? new Float32Array(index.length * width) : new Int32Array(index.length * width);
  index.forEach((r, i) => out.set(v.data.subarray(r * width, (r + 1) * width), i * width));
  return { dtype: v.dtype, shape: [index.length, ...v.shape.slice(1)], data: out };
}

/** Rows start … end − 1 of `v`, as a view of its data (no copy). */
export function rowRange(v: Value, start: number, end: number): Value {
  const width = v.data.length / v.shape[0]!;
  return { dtype: v.dtype, shape: [end - start, ...v.shape.slice(1)], data: v.data.subarray(start * width, end * width) } as Value;
}

export const rowsOf = (data: Data, index: Int32Array): Data => ({ xs: data.xs.map((v) => rows(v, index)), ys: data.ys.map((v) => rows(v, index)) });

export const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);

/** Consecutive batches of rows 0 … n − 1. */
export function* batchesOf(n: number, batchSize: number): Generator<Int32Array> {
  for (let start = 0; start < n; start += batchSize) yield range(start, Math.min(start + batchSize, n));
}


export const sameShape = (a: readonly unknown[], b: Shape) => a.length === b.length && b.every((d, i) => d === a[i]);

/** x (and y) as values, checked against the model's inputs (and outputs): a Tensor, or a list of one per input (output). */
/** `checkData` for a method that trains or scores: the targets `y` must be given. */
export function checkLabelledData(target: DataTarget, method: string, x: Tensor | readonly Tensor[], y: Tensor | readonly Tensor[]): Data {
  if (y === undefined || y === null) throw new KilnError(`${method}: expected targets y (a Tensor, or a list of one per output) after x, got ${y === null ? 'null' : 'none'}.`);
  return checkData(target, method, x, y) as Data;
}

export function checkData(target: DataTarget, method: string, x: Tensor | readonly Tensor[], y?: Tensor | readonly Tensor[]): { xs: Value[]; ys?: Value[] } {
  const xs: readonly unknown[] = Array.isArray(x) ? x : [x];
  xs.forEach((t, i) => {
    const what = xs.length === 1 && !Array.isArray(x) ? 'x' : `x[${i}]`;
    if (!(t instanceof Tensor) || t.isSymbolic) throw new KilnError(`${method}: expected ${what} to be a concrete Tensor, got ${t instanceof Tensor ? 'a symbolic one' : typeof t}.`);
  });
  const tensors = xs as readonly Tensor[];
  target.prepare(tensors);
  const topology = target.topology();
  if (tensors.length !== topology.inputs.length) throw new KilnError(`${method}: expected x to be ${topology.inputs.length === 1 ? 'one Tensor' : `a list of ${topology.inputs.length} Tensors (one per input)`}, got ${Array.isArray(x) ? `a list of ${tensors.length}` : 'one Tensor'}.`);
  const n = tensors[0]!.shape[0];
  const values = tensors.map((t, i) => {
    const want = topology.inputs[i]!;
    const what = tensors.length === 1 ? 'x' : `x[${i}]`;
    if (!sameShape(t.shape.slice(1), want.shape)) throw new KilnError(`${method}: expected ${what} of shape [n,${want.shape.join(',')}], got ${formatType(t.type)}.`);
    if (t.shape[0] !== n) throw new KilnError(`${method}: expected every input to have ${String(n)} examples, got ${formatType(t.type)} for ${what}.`);
    const v = t.value!;
    checkFinite(method, what, v);
    if (v.dtype === want.dtype) return v;
    return { dtype: want.dtype, shape: v.shape, data: want.dtype === 'int32' ? Int32Array.from(v.data, Math.trunc) : Float32Array.from(v.data) } as Value;
  });
  if (y === undefined) return { xs: values };
  const heads = target.heads(method);
  const ys = Array.isArray(y) ? (y as readonly Tensor[]) : [y as Tensor];
  if (ys.length !== topology.outputs.length) throw new KilnError(`${method}: expected y to be ${topology.outputs.length === 1 ? 'one Tensor' : `a list of ${topology.outputs.length} Tensors (one per output)`}, got ${Array.isArray(y) ? `a list of ${ys.length}` : 'one Tensor'}.`);
  const labels = ys.map((t, i) => {
    if (!(t instanceof Tensor) || t.isSymbolic) throw new KilnError(`${method}: expected ${ys.length === 1 ? 'y' : `y[${i}]`} to be a concrete Tensor, got ${t instanceof Tensor ? 'a symbolic one' : typeof t}.`);
    if (t.shape[0] !== n) throw new KilnError(`${method}: expected as many labels as examples (${String(n)}), got ${formatType(t.type)}.`);
    let v = t.value!;
    const loss = heads[i]!.loss;
    const lossOf = heads.length === 1 ? `loss ${loss.name}` : `output "${heads[i]!.output}"'s loss ${loss.name}`;
    if (loss.sparse) {
      // one class index per prediction row: [n] for [n, classes], [n, steps] for a sequence's [n, steps, classes]
      const lead = topology.outputs[i]!.slice(0, -1);
      if (!sameShape(t.shape.slice(1), lead)) throw new KilnError(`${method}: ${lossOf} expects class indices of shape [n${lead.map((d) => `,${d}`).join('')}], got ${formatType(t.type)}.`);
      const classes = topology.outputs[i]![topology.outputs[i]!.length - 1]!;
      const what = ys.length === 1 ? 'y' : `y[${i}]`;
      v.data.forEach((label, k) => {
        if (!Number.isInteger(label) || label < 0 || label >= classes) {
          throw new KilnError(`${method}: ${lossOf} expects class indices in 0…${classes - 1}, got ${label} in ${what} at example ${k}.`);
        }
      });
      if (t.dtype !== 'int32') v = { dtype: 'int32', shape: v.shape, data: Int32Array.from(v.data) };
    } else {
      const out = topology.outputs[i]!;
      if (!sameShape(t.shape.slice(1), out)) throw new KilnError(`${method}: ${lossOf} expects labels of shape [n,${out.join(',')}], got ${formatType(t.type)}.`);
      if (t.dtype !== 'float32') v = { dtype: 'float32', shape: v.shape, data: Float32Array.from(v.data) };
      checkFinite(method, ys.length === 1 ? 'y' : `y[${i}]`, v);
    }
    return v;
  });
  return { xs: values, ys: labels };
}

/** A Dataset's elements, [x, y] or { xs, ys } batches, as checked data. */
export async function* datasetBatches(target: DataTarget, method: string, dataset: Dataset<unknown>): AsyncGenerator<Data> {
  for await (const e of dataset) {
    const [x, y] = Array.isArray(e) && e.length === 2 ? e : e !== null && typeof e === 'object' && 'xs' in e && 'ys' in e ? [e.xs, e.ys] : [];
    if (x === undefined || y === undefined) {
      throw new KilnError(`${method}: expected the dataset's elements to be [x, y] batches or { xs, ys }, got ${e instanceof Tensor ? formatType(e.type) : Array.isArray(e) ? `a list of ${e.length}` : typeof e}.`);
    }
    const byName = (part: unknown, what: 'x' | 'y') => (isRecord(part) && !(part instanceof Tensor) ? orderRecord(method, part, what, what === 'x' ? target.inputNames() : target.outputNames(), what === 'x' ? target.topology().inputs : undefined) : part);
    yield checkData(target, method, byName(x, 'x') as Tensor | readonly Tensor[], byName(y, 'y') as Tensor | readonly Tensor[]) as Data;
  }
}

/** Each training example's weight from `classWeight`: its class's weight, 1 when not given. */
export function classSampleWeights(target: DataTarget, method: string, y: Value, classWeight: Readonly<Record<number, number>>): Float32Array {
  const heads = target.heads(method);
  if (!heads.every((h) => h.loss.perExample !== undefined)) throw new KilnError(`${method}: classWeight needs losses with a per-example form (perExample); ${heads.filter((h) => !h.loss.perExample).map((h) => `loss ${h.loss.name}`).join(', ')} has none.`);
  for (const [k, w] of Object.entries(classWeight)) {
    if (!/^\d+$/.test(k)) throw new KilnError(`${method}: expected classWeight keys to be class indices (non-negative integers), got "${k}".`);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new KilnError(`${method}: expected classWeight[${k}] to be a finite number >= 0, got ${String(w)}.`);
  }
  const n = y.shape[0]!;
  const width = y.data.length / Math.max(n, 1);
  const classOf = (i: number): number => {
    if (y.dtype === 'int32' && y.shape.length === 1) return y.data[i]!;
    if (y.dtype === 'int32') throw new KilnError(`${method}: classWeight weights each example by its class, but the labels ${formatType({ dtype: 'int32', shape: y.shape })} give a class per step; expected labels of shape [n].`);
    if (width === 1) return y.data[i]! > 0.5 ? 1 : 0;
    let best = 0;
    for (let k = 1; k < width; k++) if (y.data[i * width + k]! > y.data[i * width + best]!) best = k;
    return best;
  };
  return Float32Array.from({ length: n }, (_, i) => classWeight[classOf(i)] ?? 1);
}

/**
 * A record of features (or labels) as the list the model takes, in the order of
 * its named inputs (outputs), as Keras feeds a dict by input name. A feature of
 * shape [n] feeds an input of shape [1] as [n, 1], as Keras expands it.
 */
function orderRecord(method: string, record: Readonly<Record<string, unknown>>, what: 'x' | 'y', names: readonly string[] | undefined, specs?: readonly InputSpec[]): Tensor[] {
  const keys = Object.keys(record);
  const kind = what === 'x' ? 'input' : 'output';
  if (!names) throw new KilnError(`${method}: got ${what} as a record (${keys.join(', ')}), but the model's ${kind}s have no names to match; build it with named kiln.input({ name }) layers, or pass a list.`);
  const missing = names.filter((n) => !(n in record));
  if (missing.length) throw new KilnError(`${method}: expected ${what} to have a key for every ${kind} (${names.join(', ')}), got ${keys.join(', ')}; missing ${missing.join(', ')}.`);
  const extra = keys.filter((k) => !names.includes(k));
  if (extra.length) throw new KilnError(`${method}: expected ${what}'s keys to name the model's ${kind}s (${names.join(', ')}), got ${extra.map((k) => `"${k}"`).join(', ')} too.`);
  return names.map((n, i) => {
    const t = record[n];
    if (!(t instanceof Tensor)) throw new KilnError(`${method}: expected ${what}.${n} to be a Tensor, got ${Array.isArray(t) ? 'a list (strings need a lookup layer or a map first)' : typeof t}.`);
    const spec = specs?.[i];
    return spec && t.rank === 1 && spec.shape.length === 1 && spec.shape[0] === 1 ? t.reshape([t.shape[0] as number, 1]) : t;
  });
}

/** What `fit` trains on: batches per epoch, and what it knows of them. */
export interface FitBatches {
  /** The examples when given as tensors (batches are row indices into them); undefined for a Dataset. */
  readonly data?: Data;
  /** Training examples (NaN for a Dataset: not known without a pass). */
  readonly samples: number;
  /** Batches per epoch (NaN when a Dataset's size is not known). */
  readonly steps: number;
  readonly batchSize: number;
  /** Each batch's example weights (classWeight). */
  readonly sampleWeights?: (batch: Int32Array | Data) => Float32Array;
  /** The next epoch's batches: one stream across epochs, so stepsPerEpoch may end an epoch mid-pass. */
  readonly epochBatches: () => Iterable<Int32Array | Data> | AsyncIterable<Int32Array | Data>;
  readonly validation?: Data | Dataset<unknown>;
}

export interface FitDataOptions {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly initialEpoch: number;
  readonly stepsPerEpoch?: number;
  readonly validationSplit?: number;
  readonly validationData?: readonly [Tensor | readonly Tensor[], Tensor | readonly Tensor[]] | Dataset<unknown>;
  readonly classWeight?: Readonly<Record<number, number>>;
}

/**
 * fit's batches from tensors (x, y) or from a Dataset of [x, y] batches. Tensors:
 * pass p is shuffled with seed·7919 + p + 1, validationSplit holds out the last
 * rows before shuffling. A Dataset: its first batch is read now (it sizes the
 * module) and each pass iterates it again.
 */
export async function fitBatches(target: DataTarget, x: Tensor | readonly Tensor[] | Dataset<unknown>, y: Tensor | readonly Tensor[] | undefined, options: FitDataOptions): Promise<FitBatches> {
  const { shuffle, seed, initialEpoch, stepsPerEpoch, classWeight } = options;
  let validation: Data | Dataset<unknown> | undefined = options.validationData instanceof Dataset ? options.validationData : undefined;
  if (x instanceof Dataset) {
    const dataset = x;
    let sampleWeights: ((batch: Int32Array | Data) => Float32Array) | undefined;
    if (classWeight) {
      classSampleWeights(target, 'fit', { dtype: 'int32', shape: [0], data: new Int32Array(0) }, classWeight); // checks the weights before training
      sampleWeights = (b) => classSampleWeights(target, 'fit', (b as Data).ys[0]!, classWeight);
    }
    if (dataset.size === Infinity && stepsPerEpoch === undefined) throw new KilnError('fit: the dataset is infinite (repeat() without a count); pass stepsPerEpoch.');
    target.heads('fit'); // not compiled: say so before reading any data
    // the first batch sizes the module: take it now, the first epoch starts with it
    const pass = () => datasetBatches(target, 'fit', dataset);
    let current = pass();
    const head = await current.next();
    if (head.done) throw new KilnError('fit: the dataset has no batches.');
    let pending: Data | undefined = head.value;
    const batchSize = pending.xs[0]!.shape[0]!;
    const next = async (): Promise<Data | undefined> => {
      if (pending) {
        const b = pending;
        pending = undefined;
        return b;
      }
      const r = await current.next();
      return r.done ? undefined : r.value;
    };
    const epochBatches = async function* () {
      if (stepsPerEpoch === undefined) { // one pass
        for (let b = await next(); b; b = await next()) yield b;
        current = pass();
        return;
      }
      // one stream of batches across epochs: at the end of a pass the dataset is iterated again
      for (let i = 0; i < stepsPerEpoch; i++) {
        let b = await next();
        if (!b) {
          current = pass();
          if (!(b = await next())) throw new KilnError('fit: the dataset has no batches.');
        }
        yield b;
      }
    };
    return { samples: NaN, steps: stepsPerEpoch ?? dataset.size ?? NaN, batchSize, sampleWeights, epochBatches, validation };
  }
  const batchSize = options.batchSize;
  const data = checkLabelledData(target, 'fit', x, y!);
  const n = data.xs[0]!.shape[0]!;
  let samples = n;
  if (options.validationData && !validation) validation = checkLabelledData(target, 'fit', (options.validationData as readonly [Tensor, Tensor])[0], (options.validationData as readonly [Tensor, Tensor])[1]);
  else if (options.validationSplit && !validation) {
    if (!(options.validationSplit > 0 && options.validationSplit < 1)) throw new KilnError(`fit: expected validationSplit in (0, 1), got ${options.validationSplit}.`);
    samples = Math.floor(n * (1 - options.validationSplit));
    validation = rowsOf(data, range(samples, n));
  }
  if (samples < 1) throw new KilnError(`fit: no training examples (${n} given, ${n - samples} held out for validation).`);
  // with several outputs, the classes are the first output's
  const rowWeights = classWeight ? classSampleWeights(target, 'fit', data.ys[0]!, classWeight) : undefined;
  const sampleWeights = rowWeights && ((b: Int32Array | Data) => Float32Array.from(b as Int32Array, (r) => rowWeights[r]!));
  const steps = stepsPerEpoch ?? Math.ceil(samples / batchSize);
  // one stream of batches across epochs: pass p is shuffled with seed·7919 + p + 1; without stepsPerEpoch each epoch is one pass
  const stream = (function* () {
    for (let p = initialEpoch; ; p++) {
      const order = shuffle ? permutation(samples, seed * 7919 + p + 1) : range(0, samples);
      for (let start = 0; start < samples; start += batchSize) yield order.subarray(start, Math.min(start + batchSize, samples));
    }
  })();
  const epochBatches = function* () {
    for (let i = 0; i < steps; i++) yield stream.next().value as Int32Array;
  };
  return { data, samples, steps, batchSize, sampleWeights, epochBatches, validation };
}
