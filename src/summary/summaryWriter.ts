/**
 * PyTorch's `torch.utils.tensorboard.SummaryWriter`, in camelCase:
 * addScalar, addScalars, addHistogram, addImage, addImages, addText, addGraph,
 * addHparams, flush, close — with PyTorch's tags and folders (addScalars writes
 * one run per key as `<logDir>/<mainTag>_<key>`, addText tags `<tag>/text_summary`,
 * addHparams a run of its own below logDir). Values are written in TensorBoard's
 * current plugin formats (scalars as tensors, histograms as [k, 3] buckets).
 */
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { LayersModel } from '../models/model.js';
import type { Module } from '../torch/nn/module.js';
import { graphDefOf, scopeRecorder } from './graphDef.js';
import { moduleGraphDef } from './moduleGraph.js';
import { defaultBucketCount, histogramValue, hparamsExperimentValue, hparamsSessionEndValue, hparamsSessionStartValue, imageValue, scalarValue, SessionStatus, textValue, toRawImage, type HParamValue } from './plugins.js';
import type { RawImage } from './png.js';
import { defaultSink, type LogSink } from './sinks.js';
import { readScalar, readValues, type TensorLike } from './values.js';
import { EventFileWriter, joinPath } from './writer.js';

export interface SummaryWriterOptions {
  /** Added to the default folder name (`runs/<date>_<host><comment>`). */
  comment?: string;
  /** Longest time an event waits in memory, in seconds (default 1; PyTorch's is 120). */
  flushSecs?: number;
  filenameSuffix?: string;
  /** Where files go (default: the file system in Node, `kiln.summary.memoryLogs()` in a browser). */
  sink?: LogSink;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** PyTorch's default run folder: `runs/Dec05_12-00-00_<host><comment>`. */
function defaultLogDir(host: string, comment: string): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `runs/${months[d.getMonth()]}${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}_${host}${comment}`;
}

/** Image layouts PyTorch accepts. */
type ImageFormat = 'CHW' | 'HWC' | 'HW' | 'NCHW' | 'NHWC';

/** [h, w, c] bytes of one image (dataformats CHW, HWC or HW). */
function toImage(who: string, data: ArrayLike<number>, shape: readonly number[], format: 'CHW' | 'HWC' | 'HW', float: boolean): RawImage {
  if (shape.length !== format.length) throw new KilnError(`${who}: expected a ${format.length}-d image for dataformats '${format}', got shape [${shape.join(',')}].`);
  const size = (axis: string) => (format.includes(axis) ? shape[format.indexOf(axis)]! : 1);
  const [h, w, c] = [size('H'), size('W'), size('C')];
  if (format === 'CHW') {
    const hwc = new Float32Array(h * w * c);
    for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) hwc[i * c + k] = data[k * h * w + i]!;
    data = hwc;
  }
  return toRawImage(who, data, h, w, c, float ? 255 : 1);
}

/** PyTorch's make_grid for add_images: up to 8 images a row, no padding, black where there is none. */
function grid(who: string, data: ArrayLike<number>, shape: readonly number[], format: 'NCHW' | 'NHWC', float: boolean): RawImage {
  if (shape.length !== 4) throw new KilnError(`${who}: expected a 4-d batch of images for dataformats '${format}', got shape [${shape.join(',')}].`);
  const n = shape[0]!;
  const per = shape[1]! * shape[2]! * shape[3]!;
  const images = Array.from({ length: n }, (_, i) => toImage(who, Array.prototype.slice.call(data, i * per, (i + 1) * per) as number[], shape.slice(1), format === 'NCHW' ? 'CHW' : 'HWC', float));
  const { width: w, height: h, channels: c } = images[0]!;
  const cols = Math.min(n, 8), rows = Math.ceil(n / cols);
  const out = new Uint8Array(rows * h * cols * w * c);
  images.forEach((im, i) => {
    const [gy, gx] = [Math.floor(i / cols), i % cols];
    for (let y = 0; y < h; y++) out.set(im.data.subarray(y * w * c, (y + 1) * w * c), ((gy * h + y) * cols * w + gx * w) * c);
  });
  return { width: cols * w, height: rows * h, channels: c, data: out };
}

/**
 * Writes TensorBoard event files from a custom training loop, as PyTorch's SummaryWriter.
 * @example
 * const writer = new kiln.utils.tensorboard.SummaryWriter('runs/exp1');
 * for (let step = 0; step < 100; step++) writer.addScalar('Loss/train', loss, step);
 * writer.close();
 */
export class SummaryWriter {
  readonly logDir: string;
  private readonly sink: LogSink;
  private readonly options: SummaryWriterOptions;
  private main?: EventFileWriter;
  private readonly others = new Map<string, EventFileWriter>();

  constructor(logDir?: string, options: SummaryWriterOptions = {}) {
    if (logDir !== undefined && (typeof logDir !== 'string' || logDir === '')) throw new KilnError(`SummaryWriter: expected a log folder path, got ${JSON.stringify(logDir)}.`);
    const { flushSecs = 1 } = options;
    if (!(typeof flushSecs === 'number' && flushSecs >= 0)) throw new KilnError(`SummaryWriter: expected flushSecs >= 0, got ${String(flushSecs)}.`);
    this.sink = options.sink ?? defaultSink();
    this.options = options;
    this.logDir = logDir ?? defaultLogDir(this.sink.host, options.comment ?? '');
    this.fileWriter(); // the folder and file exist now; an unwritable folder fails here
  }

  /** PyTorch's get_logdir. */
  getLogdir(): string {
    return this.logDir;
  }

  private fileWriter(dir?: string): EventFileWriter {
    const make = (d: string) => new EventFileWriter(d, { sink: this.sink, flushMillis: (this.options.flushSecs ?? 1) * 1000, filenameSuffix: this.options.filenameSuffix });
    if (dir === undefined) return (this.main ??= make(this.logDir));
    let w = this.others.get(dir);
    if (!w) this.others.set(dir, (w = make(dir)));
    return w;
  }

  private write(who: string, values: Parameters<EventFileWriter['addSummary']>[0], step: number | undefined, walltime: number | undefined, dir?: string): void {
    if (step !== undefined && (!Number.isInteger(step) || step < 0)) throw new KilnError(`${who}: expected globalStep to be a non-negative integer, got ${step}.`);
    this.fileWriter(dir).addSummary(values, step ?? 0, walltime ?? Date.now() / 1000);
  }

  /** One scalar; NaN and ±Infinity are written as they are. */
  addScalar(tag: string, scalarValue_: TensorLike, globalStep?: number, walltime?: number): void {
    this.write('addScalar', [scalarValue(checkTag('addScalar', tag), readScalar(`addScalar "${tag}"`, scalarValue_))], globalStep, walltime);
  }

  /** Several scalars on one chart: each key is a run `<logDir>/<mainTag>_<key>` holding tag `mainTag`. */
  addScalars(mainTag: string, tagScalarDict: Readonly<Record<string, TensorLike>>, globalStep?: number, walltime?: number): void {
    checkTag('addScalars', mainTag);
    if (typeof tagScalarDict !== 'object' || tagScalarDict === null) throw new KilnError(`addScalars: expected a record of values, got ${String(tagScalarDict)}.`);
    for (const [key, v] of Object.entries(tagScalarDict)) {
      this.write('addScalars', [scalarValue(mainTag, readScalar(`addScalars "${mainTag}/${key}"`, v))], globalStep, walltime, joinPath(this.logDir, `${mainTag.replace(/\//g, '_')}_${key}`));
    }
  }

  /** A histogram of the values (30 buckets, or `bins`). */
  addHistogram(tag: string, values: TensorLike, globalStep?: number, bins: number | 'tensorflow' = 'tensorflow', walltime?: number): void {
    const v = readValues(`addHistogram "${tag}"`, values);
    this.write('addHistogram', [histogramValue(checkTag('addHistogram', tag), v.data, bins === 'tensorflow' ? defaultBucketCount : bins)], globalStep, walltime);
  }

  /** One image: float values in [0, 1] (×255) or integers 0–255; dataformats 'CHW' (default), 'HWC' or 'HW'. */
  addImage(tag: string, imgTensor: TensorLike, globalStep?: number, walltime?: number, dataformats: ImageFormat = 'CHW'): void {
    const who = `addImage "${tag}"`;
    if (dataformats !== 'CHW' && dataformats !== 'HWC' && dataformats !== 'HW') throw new KilnError(`${who}: expected dataformats 'CHW', 'HWC' or 'HW', got ${JSON.stringify(dataformats)}.`);
    const v = readValues(who, imgTensor);
    this.write('addImage', [imageValue(checkTag('addImage', tag), [toImage(who, v.data, v.shape, dataformats, v.float)])], globalStep, walltime);
  }

  /** A batch of images as one grid (8 a row); dataformats 'NCHW' (default) or 'NHWC'. */
  addImages(tag: string, imgTensor: TensorLike, globalStep?: number, walltime?: number, dataformats: ImageFormat = 'NCHW'): void {
    const who = `addImages "${tag}"`;
    if (dataformats !== 'NCHW' && dataformats !== 'NHWC') throw new KilnError(`${who}: expected dataformats 'NCHW' or 'NHWC', got ${JSON.stringify(dataformats)}.`);
    const v = readValues(who, imgTensor);
    this.write('addImages', [imageValue(checkTag('addImages', tag), [grid(who, v.data, v.shape, dataformats, v.float)])], globalStep, walltime);
  }

  /** Markdown text, tagged `<tag>/text_summary`. */
  addText(tag: string, textString: string, globalStep?: number, walltime?: number): void {
    if (typeof textString !== 'string') throw new KilnError(`addText "${tag}": expected a string, got ${typeof textString}.`);
    this.write('addText', [textValue(`${checkTag('addText', tag)}/text_summary`, [textString])], globalStep, walltime);
  }

  /**
   * The graph of a PyTorch-style module run on `inputToModel` (nodes scoped by
   * submodule), or of a Keras-style model (scoped by layer; no input needed).
   */
  addGraph(model: Module | LayersModel, inputToModel?: Tensor | readonly Tensor[]): void {
    let graphDef: Uint8Array;
    if (typeof (model as LayersModel)?.tracePredict === 'function') {
      const scopes = scopeRecorder();
      graphDef = graphDefOf((model as LayersModel).tracePredict(scopes.watch), scopes.scopeOf);
    } else if (typeof (model as Module)?.namedModules === 'function') {
      const inputs = inputToModel === undefined ? [] : Array.isArray(inputToModel) ? inputToModel : [inputToModel as Tensor];
      if (inputs.length === 0) throw new KilnError('addGraph: expected inputToModel (a Tensor, or a list of them) to run the module on.');
      graphDef = moduleGraphDef(model as Module, inputs);
    } else throw new KilnError(`addGraph: expected a kiln.nn.Module or a Keras-style model, got ${model === null ? 'null' : typeof model}.`);
    this.fileWriter().addGraph(graphDef);
  }

  /**
   * One hparams session: its hyperparameters and final metrics, in a run of its
   * own (`<logDir>/<runName>`, default the time in seconds), as PyTorch writes it.
   */
  addHparams(hparamDict: Readonly<Record<string, HParamValue>>, metricDict: Readonly<Record<string, number>>, options: { hparamDomainDiscrete?: Readonly<Record<string, readonly HParamValue[]>>; runName?: string; globalStep?: number } = {}): void {
    const who = 'addHparams';
    if (typeof hparamDict !== 'object' || hparamDict === null || typeof metricDict !== 'object' || metricDict === null) throw new KilnError(`${who}: expected a record of hparams and a record of metrics.`);
    const now = Date.now() / 1000;
    const dir = joinPath(this.logDir, options.runName ?? String(now));
    this.write(who, [hparamsExperimentValue(who, hparamDict, Object.keys(metricDict), now, options.hparamDomainDiscrete)], options.globalStep, now, dir);
    this.write(who, [hparamsSessionStartValue(who, hparamDict, now)], options.globalStep, now, dir);
    this.write(who, [hparamsSessionEndValue(SessionStatus.SUCCESS, now)], options.globalStep, now, dir);
    for (const [k, v] of Object.entries(metricDict)) this.write(who, [scalarValue(k, readScalar(`${who} metric "${k}"`, v))], options.globalStep, now, dir);
  }

  /** Writes everything queued. */
  async flush(): Promise<void> {
    await Promise.all([this.main, ...this.others.values()].map((w) => w?.flush()));
  }

  /** Flushes and closes every file. */
  async close(): Promise<void> {
    await Promise.all([this.main, ...this.others.values()].map((w) => w?.close()));
  }
}

function checkTag(who: string, tag: unknown): string {
  if (typeof tag !== 'string' || tag === '') throw new KilnError(`${who}: expected a non-empty tag, got ${JSON.stringify(tag)}.`);
  return tag;
}
