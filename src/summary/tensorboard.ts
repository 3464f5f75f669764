/**
 * Keras' TensorBoard callback: event files for `fit` in `<logDir>/train` and
 * `<logDir>/validation`, with Keras' tags — `epoch_<log>` per epoch (loss,
 * metrics, `epoch_learning_rate`), `batch_<log>` every `updateFreq` batches,
 * `evaluation_<log>_vs_iterations` (validation, by optimizer step),
 * `<layer>/<weight>/histogram` and `<layer>/<weight>/image` every
 * `histogramFreq` epochs, and the model's graph at the start.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Callback, LayersModel, Logs, TrainingParams } from '../models/model.js';
import { graphDefOf, scopeRecorder } from './graphDef.js';
import { histogramValue, imageValue, scalarValue } from './plugins.js';
import type { RawImage } from './png.js';
import type { LogSink } from './sinks.js';
import { writeProfileTrace, type TraceSpan } from './profile.js';
import { EventFileWriter, joinPath } from './writer.js';

export interface TensorBoardArgs {
  /** The folder for the runs (default 'logs'); made when missing. */
  logDir?: string;
  /** Write weight histograms every this many epochs (default 0: never). */
  histogramFreq?: number;
  /** Write the model's graph when training starts (default true). */
  writeGraph?: boolean;
  /** Write the weights as images with the histograms (default false). */
  writeImages?: boolean;
  /** 'epoch' (default), 'batch' (every batch) or every n batches: when the `batch_*` scalars are written. */
  updateFreq?: 'epoch' | 'batch' | number;
  /**
   * Time these batches (1-based, a number or [first, last]; default 0: none) and
   * write them as a Chrome trace (`plugins/profile/<time>/<host>.trace.json.gz`,
   * open in Perfetto or chrome://tracing).
   */
  profileBatch?: number | readonly [number, number];
  /** Where the files go (default: the file system in Node, `kiln.summary.memoryLogs()` in a browser). */
  sink?: LogSink;
}

const who = 'tensorBoard';

function checkCount(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new KilnError(`${who}: expected ${key} to be a non-negative integer, got ${String(value)}.`);
  return value;
}

/** The one line `fit` prints when a tensorBoard callback is used. @example watchHint('logs') // 'TensorBoard logs go to logs; watch training with: npx kiln board --logdir logs  (or: tensorboard --logdir logs)' */
export function watchHint(logDir: string): string {
  const dir = /\s/.test(logDir) ? JSON.stringify(logDir) : logDir;
  return `TensorBoard logs go to ${dir}; watch training with: npx kiln board --logdir ${dir}  (or: tensorboard --logdir ${dir})`;
}

/**
 * A weight as Keras shows it: squeezed; a vector as a column, a matrix with its
 * longer side across, 3-d kernels one image per last-axis slice; 4-d only with
 * 1, 3 or 4 channels. Values are scaled min→0, max→255 (Keras clips to [0, 1],
 * which shows most weights as black).
 * @example weightImages([784, 128], kernel) // one 128×784 image
 */
export function weightImages(shape: readonly number[], data: Float32Array): RawImage[] | undefined {
  const dims = shape.filter((d) => d !== 1);
  let values: ArrayLike<number> = data;
  let images: number, height: number, width: number, channels: number;
  if (dims.length === 1) [images, height, width, channels] = [1, dims[0]!, 1, 1];
  else if (dims.length === 2) {
    let [r, c] = dims as [number, number];
    if (r > c) {
      values = transpose2d(data, r, c);
      [r, c] = [c, r];
    }
    [images, height, width, channels] = [1, r, c, 1];
  } else if (dims.length === 3) {
    const [a, b, c] = dims as [number, number, number];
    const out = new Float32Array(data.length); // [a, b, c] → [c, a, b]: one image per slice of the last axis
    for (let i = 0; i < a * b; i++) for (let k = 0; k < c; k++) out[k * a * b + i] = data[i * c + k]!;
    values = out;
    [images, height, width, channels] = [c, a, b, 1];
  } else if (dims.length === 4 && [1, 3, 4].includes(dims[3]!)) [images, height, width, channels] = dims as [number, number, number, number];
  else return undefined;
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max > min ? 255 / (max - min) : 0;
  const per = height * width * channels;
  const out: RawImage[] = [];
  for (let n = 0; n < Math.min(images, 3); n++) { // tf.summary.image's max_outputs = 3
    const bytes = new Uint8Array(per);
    for (let i = 0; i < per; i++) bytes[i] = Math.round((values[n * per + i]! - min) * scale) || 0;
    out.push({ width, height, channels: channels as 1 | 3 | 4, data: bytes });
  }
  return out;
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

/** Keras' TensorBoard callback for `model.fit`. @example new TensorBoard({ logDir: 'logs', histogramFreq: 1 }) */
export class TensorBoard implements Callback {
  readonly logDir: string;
  readonly histogramFreq: number;
  readonly writeGraph: boolean;
  readonly writeImages: boolean;
  /** Batches between `batch_*` scalars; 0 for 'epoch'. */
  readonly updateFreq: number;
  readonly profileBatch: readonly [number, number] | undefined;
  private readonly sink?: LogSink;
  private model?: LayersModel;
  private params?: TrainingParams;
  private train?: EventFileWriter;
  private validation?: EventFileWriter;
  /** Training batches in this fit (Keras' `_global_train_batch`). */
  private globalBatch = 0;
  /** Optimizer steps seen by this callback over all fits (for `evaluation_*_vs_iterations`). */
  private iterations = 0;
  private hinted = false;
  private spans: TraceSpan[] = [];
  private batchStart = 0;

  constructor(args: TensorBoardArgs = {}) {
    if (typeof args !== 'object' || args === null) throw new KilnError(`${who}: expected an options object, got ${String(args)}.`);
    const { logDir = 'logs', histogramFreq = 0, writeGraph = true, writeImages = false, updateFreq = 'epoch', profileBatch = 0, sink } = args;
    if (typeof logDir !== 'string' || logDir === '') throw new KilnError(`${who}: expected logDir to be a folder path, got ${JSON.stringify(logDir)}.`);
    this.logDir = logDir;
    this.histogramFreq = checkCount('histogramFreq', histogramFreq);
    this.writeGraph = Boolean(writeGraph);
    this.writeImages = Boolean(writeImages);
    if (updateFreq === 'epoch') this.updateFreq = 0;
    else if (updateFreq === 'batch') this.updateFreq = 1;
    else if (typeof updateFreq === 'number' && Number.isInteger(updateFreq) && updateFreq >= 1) this.updateFreq = updateFreq;
    else throw new KilnError(`${who}: expected updateFreq 'epoch', 'batch' or a positive integer, got ${JSON.stringify(updateFreq)}.`);
    const range = typeof profileBatch === 'number' ? [profileBatch, profileBatch] : profileBatch;
    if (!Array.isArray(range) || range.length !== 2 || !range.every((b) => Number.isInteger(b) && b >= 0) || range[0]! > range[1]!) {
      throw new KilnError(`${who}: expected profileBatch to be a batch number or [first, last] (non-negative, first <= last), got ${JSON.stringify(profileBatch)}.`);
    }
    this.profileBatch = range[1]! > 0 ? [Math.max(range[0]!, 1), range[1]!] : undefined;
    this.sink = sink;
  }

  setModel(model: LayersModel): void {
    this.model = model;
  }

  setParams(params: TrainingParams): void {
    this.params = params;
  }

  private writer(run: 'train' | 'validation'): EventFileWriter {
    const dir = joinPath(this.logDir, run);
    if (run === 'train') return (this.train ??= new EventFileWriter(dir, { sink: this.sink }));
    return (this.validation ??= new EventFileWriter(dir, { sink: this.sink }));
  }

  onTrainBegin(): void {
    const model = this.requireModel();
    this.globalBatch = 0;
    this.spans = [];
    const train = this.writer('train');
    if (!this.hinted && this.params?.verbose !== 0) {
      this.hinted = true;
      console.log(watchHint(this.logDir));
    }
    if (this.writeGraph) {
      const scopes = scopeRecorder();
      train.addGraph(graphDefOf(model.tracePredict(scopes.watch), scopes.scopeOf));
    }
  }

  onBatchBegin(): void {
    if (this.profiling(this.globalBatch + 1)) this.batchStart = now();
  }

  onBatchEnd(_batch: number, logs: Logs): void {
    this.globalBatch++;
    this.iterations++;
    if (this.profiling(this.globalBatch)) this.spans.push({ name: 'train_step', batch: this.globalBatch, startMs: this.batchStart, endMs: now() });
    if (this.updateFreq === 0 || this.globalBatch % this.updateFreq !== 0) return;
    this.writer('train').addSummary(Object.entries(logs).map(([k, v]) => scalarValue(`batch_${k}`, v)), this.globalBatch);
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const trainLogs: Logs = {};
    const valLogs: Logs = {};
    for (const [k, v] of Object.entries(logs)) {
      if (k.startsWith('val_')) valLogs[k.slice(4)] = v;
      else trainLogs[k] = v;
    }
    const lr = this.learningRate();
    if (lr !== undefined && trainLogs.learning_rate === undefined) trainLogs.learning_rate = lr;
    const train = this.writer('train');
    train.addSummary(Object.entries(trainLogs).map(([k, v]) => scalarValue(`epoch_${k}`, v)), epoch);
    if (Object.keys(valLogs).length > 0) {
      const validation = this.writer('validation');
      validation.addSummary(Object.entries(valLogs).map(([k, v]) => scalarValue(`epoch_${k}`, v)), epoch);
      validation.addSummary(Object.entries(valLogs).map(([k, v]) => scalarValue(`evaluation_${k}_vs_iterations`, v)), this.iterations);
    }
    if (this.histogramFreq > 0 && epoch % this.histogramFreq === 0) this.logWeights(train, epoch);
    await Promise.all([train.flush(), this.validation?.flush()]);
  }

  async onTrainEnd(): Promise<void> {
    if (this.spans.length > 0) await writeProfileTrace(this.logDir, this.spans, this.sink);
    this.spans = [];
    await Promise.all([this.train?.close(), this.validation?.close()]);
    this.train = this.validation = undefined;
  }

  private logWeights(train: EventFileWriter, epoch: number): void {
    const values = [];
    for (const w of this.requireModel().namedWeights()) {
      values.push(histogramValue(`${w.name}/histogram`, w.data));
      if (this.writeImages) {
        const images = weightImages(w.shape, w.data);
        if (images) values.push(imageValue(`${w.name}/image`, images));
      }
    }
    if (values.length > 0) train.addSummary(values, epoch);
  }

  private profiling(batch: number): boolean {
    return this.profileBatch !== undefined && batch >= this.profileBatch[0] && batch <= this.profileBatch[1];
  }

  /** The optimizer's learning rate now (a schedule's value at the current step). */
  private learningRate(): number | undefined {
    const lr = this.model?.optimizer?.learningRate;
    if (typeof lr === 'number') return lr;
    if (lr && typeof lr.valueAt === 'function') return lr.valueAt(this.iterations);
    return undefined;
  }

  private requireModel(): LayersModel {
    if (!this.model) throw new KilnError(`${who}: no model; pass the callback to model.fit({ callbacks }).`);
    return this.model;
  }
}

const now = () => (globalThis.performance ?? Date).now();

/**
 * Logs `fit` for TensorBoard (`tensorboard --logdir logs`) and `kiln board`.
 * @example await model.fit(x, y, { epochs: 5, validationSplit: 0.1, callbacks: [kiln.callbacks.tensorBoard({ logDir: 'logs/fit', histogramFreq: 1 })] });
 */
export function tensorBoard(args: TensorBoardArgs = {}): TensorBoard {
  return new TensorBoard(args);
}
