/**
 * @file Sequence data, as Keras's utilities give it: sliding windows over a
 * time series (`timeseriesDatasetFromArray`, Keras's window semantics) and
 * ragged integer sequences padded or truncated to one length (`padSequences`).
 */
import { checkOptions } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import { nextSeed, permutation } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';
import { Dataset } from './dataset.js';

export interface TimeseriesOptions {
  /** Steps in each window. */
  sequenceLength: number;
  /** Steps between the starts of consecutive windows (default 1). */
  sequenceStride?: number;
  /** Steps between the samples of one window (default 1: every step). */
  samplingRate?: number;
  /** Windows per batch (default 128); null: single windows, unbatched. */
  batchSize?: number | null;
  /** Shuffle the windows, again at each pass (default false). */
  shuffle?: boolean;
  seed?: number;
  /** The first step windows are taken from (default 0). */
  startIndex?: number;
  /** One past the last step windows are taken from (default: the data's length). */
  endIndex?: number;
}

const TIMESERIES_KEYS = ['sequenceLength', 'sequenceStride', 'samplingRate', 'batchSize', 'shuffle', 'seed', 'startIndex', 'endIndex'];

type Series = Tensor | readonly number[] | readonly (readonly number[])[];

/** A series as step-major values: [steps, ...features]. */
function asSeries(who: string, what: string, x: Series): { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' } {
  if (x instanceof Tensor) {
    if (x.isSymbolic || x.rank === 0) throw new KilnError(`${who}: expected ${what} to be a concrete Tensor with a time axis first, got ${x.isSymbolic ? 'a symbolic one' : 'a scalar'}.`);
    const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
    const data = x.dataSync();
    return { data: dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data), shape: x.shape as number[], dtype };
  }
  if (!Array.isArray(x)) throw new KilnError(`${who}: expected ${what} to be a Tensor or an array, got ${x === null ? 'null' : typeof x}.`);
  const rows = x as readonly unknown[];
  const width = Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : 0;
  const flat: number[] = [];
  rows.forEach((r, i) => {
    const values = width ? (Array.isArray(r) && r.length === width ? r : null) : [r];
    if (!values) throw new KilnError(`${who}: expected every step of ${what} to hold ${width} values, got ${Array.isArray(r) ? r.length : typeof r} at step ${i}.`);
    for (const v of values) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new KilnError(`${who}: expected finite numbers in ${what}, got ${String(v)} at step ${i}.`);
      flat.push(v);
    }
  });
  return { data: Float32Array.from(flat), shape: width ? [rows.length, width] : [rows.length], dtype: 'float32' };
}

const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;

/**
 * Sliding windows over a time series, as Keras's `timeseries_dataset_from_array`:
 * window i holds steps startIndex + p_i + k·samplingRate (k = 0 … sequenceLength − 1)
 * of `data`, with p_i = i·sequenceStride for the windows that fit before
 * endIndex; its target is `targets[startIndex + p_i]` (pass `targets` shifted by
 * the horizon to predict ahead). With `batchSize`, [windows, targets] batches of
 * [b, sequenceLength, ...features] and [b, ...]; `shuffle` reorders the windows
 * with kiln's seeded generator (not NumPy's), again at each pass.
 * @example
 * // the past 10 steps predict the next one
 * const ds = kiln.utils.timeseriesDatasetFromArray(series.slice(0, -10), series.slice(10), { sequenceLength: 10, batchSize: 32 });
 */
export function timeseriesDatasetFromArray(data: Series, targets: Series | null, options: TimeseriesOptions): Dataset<[Tensor, Tensor] | Tensor> {
  const who = 'timeseriesDatasetFromArray';
  if (options === null || typeof options !== 'object') throw new KilnError(`${who}: expected options with sequenceLength, got ${String(options)}.`);
  checkOptions(who, options, TIMESERIES_KEYS);
  const { sequenceLength, sequenceStride = 1, samplingRate = 1, batchSize = 128, shuffle = false, seed = nextSeed() } = options;
  for (const [k, v] of Object.entries({ sequenceLength, sequenceStride, samplingRate })) {
    if (!positiveInt(v)) throw new KilnError(`${who}: expected ${k} to be a positive integer, got ${JSON.stringify(v)}.`);
  }
  if (batchSize !== null && !positiveInt(batchSize)) throw new KilnError(`${who}: expected batchSize to be a positive integer or null, got ${JSON.stringify(batchSize)}.`);
  const x = asSeries(who, 'data', data);
  const y = targets === null || targets === undefined ? undefined : asSeries(who, 'targets', targets);
  const steps = x.shape[0]!;
  const { startIndex = 0, endIndex = steps } = options;
  if (!Number.isInteger(startIndex) || startIndex < 0 || startIndex >= steps) throw new KilnError(`${who}: expected startIndex to be an integer in [0, ${steps}) (the data's steps), got ${JSON.stringify(startIndex)}.`);
  if (!Number.isInteger(endIndex) || endIndex <= startIndex || endIndex > steps) throw new KilnError(`${who}: expected endIndex to be an integer in (${startIndex}, ${steps}], got ${JSON.stringify(endIndex)}.`);
  let count = endIndex - startIndex - (sequenceLength - 1) * samplingRate;
  if (y) count = Math.min(count, y.shape[0]!);
  if (count <= 0) {
    throw new KilnError(`${who}: no window fits: steps ${startIndex} … ${endIndex - 1} hold ${endIndex - startIndex}, one window spans ${(sequenceLength - 1) * samplingRate + 1} (sequenceLength ${sequenceLength}, samplingRate ${samplingRate})${y && y.shape[0]! <= 0 ? ' and targets is empty' : ''}.`);
  }
  const starts = Int32Array.from({ length: Math.ceil(count / sequenceStride) }, (_, i) => i * sequenceStride);
  const stepSize = x.data.length / steps;
  const targetSize = y ? y.data.length / y.shape[0]! : 0;
  /** The windows (and targets) starting at `positions` (offsets from startIndex), as tensors. */
  const gather = (positions: Int32Array, batched: boolean): [Tensor, Tensor] | Tensor => {
    const windows = x.dtype === 'int32' ? new Int32Array(positions.length * sequenceLength * stepSize) : new Float32Array(positions.length * sequenceLength * stepSize);
    positions.forEach((p, i) => {
      for (let k = 0; k < sequenceLength; k++) {
        const from = (startIndex + p + k * samplingRate) * stepSize;
        windows.set(x.data.subarray(from, from + stepSize), (i * sequenceLength + k) * stepSize);
      }
    });
    const lead = batched ? [positions.length] : [];
    const xs = Tensor.concrete({ dtype: x.dtype, shape: [...lead, sequenceLength, ...x.shape.slice(1)], data: windows });
    if (!y) return xs;
    const values = y.dtype === 'int32' ? new Int32Array(positions.length * targetSize) : new Float32Array(positions.length * targetSize);
    positions.forEach((p, i) => values.set(y.data.subarray((startIndex + p) * targetSize, (startIndex + p + 1) * targetSize), i * targetSize));
    return [xs, Tensor.concrete({ dtype: y.dtype, shape: [...lead, ...y.shape.slice(1)], data: values })];
  };
  let pass = 0;
  const size = batchSize === null ? starts.length : Math.ceil(starts.length / batchSize);
  return new Dataset(function* () {
    const order = shuffle ? permutation(starts.length, (seed * 7919 + pass++) >>> 0).map((i) => starts[i]!) : starts;
    if (batchSize === null) {
      for (const p of order) yield gather(Int32Array.of(p), false);
      return;
    }
    for (let b = 0; b < order.length; b += batchSize) yield gather(order.subarray(b, b + batchSize), true);
  }, size);
}

export interface PadSequencesOptions {
  /** The length of every row (default: the longest sequence's). */
  maxlen?: number;
  dtype?: 'int32' | 'float32';
  /** Pad before ('pre', default) or after ('post') each sequence. */
  padding?: 'pre' | 'post';
  /** Cut sequences longer than maxlen at their start ('pre', default) or end ('post'). */
  truncating?: 'pre' | 'post';
  /** The padding value (default 0). */
  value?: number;
}

/**
 * Sequences of different lengths as one [n, maxlen] tensor, as Keras's
 * `pad_sequences`: shorter ones padded with `value`, longer ones cut, both at
 * the start unless told 'post'.
 * @example kiln.utils.padSequences([[1, 2, 3], [4]], { maxlen: 2 })   // [[2, 3], [0, 4]]
 */
export function padSequences(sequences: readonly (readonly number[])[], options: PadSequencesOptions = {}): Tensor {
  const who = 'padSequences';
  checkOptions(who, options, ['maxlen', 'dtype', 'padding', 'truncating', 'value']);
  if (!Array.isArray(sequences)) throw new KilnError(`${who}: expected a list of sequences (lists of numbers), got ${sequences === null ? 'null' : typeof sequences}.`);
  const { dtype = 'int32', padding = 'pre', truncating = 'pre', value = 0 } = options;
  if (dtype !== 'int32' && dtype !== 'float32') throw new KilnError(`${who}: expected dtype 'int32' or 'float32', got ${JSON.stringify(dtype)}.`);
  for (const [k, v] of Object.entries({ padding, truncating })) if (v !== 'pre' && v !== 'post') throw new KilnError(`${who}: expected ${k} 'pre' or 'post', got ${JSON.stringify(v)}.`);
  if (typeof value !== 'number' || Number.isNaN(value)) throw new KilnError(`${who}: expected value to be a number, got ${JSON.stringify(value)}.`);
  sequences.forEach((s, i) => {
    if (!Array.isArray(s)) throw new KilnError(`${who}: expected sequence ${i} to be a list of numbers, got ${s === null ? 'null' : typeof s}.`);
    s.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || (dtype === 'int32' && !Number.isInteger(v))) throw new KilnError(`${who}: expected ${dtype === 'int32' ? 'integers' : 'finite numbers'}, got ${String(v)} at sequence ${i}, position ${j}.`);
    });
  });
  const maxlen = options.maxlen ?? Math.max(0, ...sequences.map((s) => s.length));
  if (!Number.isInteger(maxlen) || maxlen < 0) throw new KilnError(`${who}: expected maxlen to be a non-negative integer, got ${JSON.stringify(maxlen)}.`);
  const out = dtype === 'int32' ? new Int32Array(sequences.length * maxlen).fill(value) : new Float32Array(sequences.length * maxlen).fill(value);
  sequences.forEach((s, i) => {
    const kept = s.length <= maxlen ? s : truncating === 'pre' ? s.slice(s.length - maxlen) : s.slice(0, maxlen);
    out.set(kept, i * maxlen + (padding === 'pre' ? maxlen - kept.length : 0));
  });
  return Tensor.concrete({ dtype, shape: [sequences.length, maxlen], data: out });
}
