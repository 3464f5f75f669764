/**
 * @file Numeric preprocessing layers, as Keras's: Normalization (mean and
 * variance given or adapted), Rescaling, Discretization (bin boundaries given or
 * adapted from quantiles) and CategoryEncoding (one-hot, multi-hot, counts).
 * They compile into the model's graph like any layer; what `adapt` learns is
 * stored in the layer's config and its non-trainable weights, so it travels with
 * `model.save` and exported artifacts.
 */
import { optionKeys } from '../../../compiler/check.js';
import { KilnError } from '../../../compiler/errors.js';
import * as F from '../../../compiler/functions/index.js';
import { Tensor } from '../../../compiler/tensor.js';
import { Dataset } from '../../data/dataset.js';
import { checkInputShape } from '../core.js';
import { formatShape, Layer, LAYER_KEYS, type Initializer, type LayerArgs, type Shape, type WeightSpec } from '../layer.js';

/** What `adapt` reads: a Tensor, nested arrays of numbers, or a Dataset of Tensors (batches). */
export type AdaptData = Tensor | number[] | number[][] | Dataset<Tensor>;

/** The values of `data`, one batch at a time, as [rows, ...] float64 blocks with their shapes. */
async function* batchesOf(subject: string, data: AdaptData): AsyncGenerator<{ values: Float64Array; shape: number[] }> {
  const one = (t: unknown, where: string) => {
    if (Array.isArray(t)) t = F.tensor(t as number[][]);
    if (!(t instanceof Tensor) || !t.value) throw new KilnError(`${subject}: adapt expected a Tensor, arrays of numbers or a Dataset of Tensors, got ${t === null ? 'null' : Array.isArray(t) ? 'a list' : typeof t}${where}.`);
    return { values: Float64Array.from(t.value.data), shape: [...t.value.shape] };
  };
  if (data instanceof Dataset) {
    let i = 0;
    for await (const b of data) yield one(b, ` in element ${i++}`);
  } else yield one(data, '');
}

/** An initializer giving fixed values (what adapt learned, or what was passed). */
class Values implements Initializer {
  readonly className = 'Values';
  constructor(readonly values: readonly number[]) {}
  get config(): object {
    return { values: this.values };
  }
  init(shape: Shape): Float32Array {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== this.values.length) throw new KilnError(`internal: ${this.values.length} values for a weight of shape ${formatShape(shape)}`);
    return Float32Array.from(this.values);
  }
}

const numbers = (subject: string, what: string, v: unknown): number[] | undefined => {
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'number' ? [v] : v instanceof Tensor ? [...v.dataSync()] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new KilnError(`${subject}: expected ${what} to be a finite number or a list of them, got ${JSON.stringify(v)}.`);
  return list as number[];
};

export interface NormalizationArgs extends LayerArgs {
  /** The axis (or axes) that keep their own mean and variance (default -1, the features); null: one mean and variance for all. */
  axis?: number | number[] | null;
  /** Means to use instead of adapting (one per feature, or one for all). */
  mean?: number | number[];
  /** Variances to use instead of adapting. */
  variance?: number | number[];
  /** Undo the normalization instead: x · sqrt(variance) + mean. */
  invert?: boolean;
}

/**
 * `(x − mean) / max(sqrt(variance), 1e-7)` per feature, as Keras's Normalization:
 * `adapt(data)` learns the mean and (population) variance, or they are given.
 * @example
 * const norm = kiln.layers.normalization({ inputShape: [4] });
 * await norm.adapt(xTrain);   // per-feature mean and variance
 * const model = kiln.sequential({ layers: [norm, kiln.layers.dense({ units: 1 })] });
 */
export class Normalization extends Layer {
  readonly className = 'Normalization';
  static override readonly optionKeys = optionKeys<NormalizationArgs>({ axis: true, mean: true, variance: true, invert: true, ...LAYER_KEYS });
  readonly axis: readonly number[];
  readonly invert: boolean;
  private mean?: number[];
  private variance?: number[];

  constructor(args: NormalizationArgs = {}) {
    super('Normalization', args);
    const a = args.axis === undefined ? -1 : args.axis;
    const axes = a === null ? [] : typeof a === 'number' ? [a] : a;
    if (!Array.isArray(axes) || axes.some((d) => !Number.isInteger(d) || d === 0)) this.fail(`expected axis to be a nonzero integer, a list of them, or null, got ${JSON.stringify(a)}`);
    this.axis = [...axes];
    this.invert = args.invert ?? false;
    this.mean = numbers(this.subject, 'mean', args.mean);
    this.variance = numbers(this.subject, 'variance', args.variance);
    if ((this.mean === undefined) !== (this.variance === undefined)) this.fail('expected mean and variance together (or neither, then adapt)');
    if (this.variance?.some((v) => v < 0)) this.fail(`expected variance >= 0, got ${JSON.stringify(args.variance)}`);
  }

  /** The kept axes of a batched input of `rank` (1 … rank − 1). */
  private keptAxes(rank: number, shape: readonly number[]): number[] {
    const axes = this.axis.map((d) => (d < 0 ? d + rank : d));
    if (axes.some((d) => d <= 0 || d >= rank)) this.fail(`expected axis ${JSON.stringify(this.axis)} to name non-batch axes of an input of shape ${formatShape(shape)}`);
    return [...new Set(axes)].sort((p, q) => p - q);
  }

  /** mean's and variance's shape: the input's sizes on the kept axes, 1 elsewhere (so they broadcast). */
  private statShape(inputShape: Shape): number[] {
    checkInputShape(this.subject, inputShape);
    const kept = this.keptAxes(inputShape.length + 1, [NaN, ...inputShape]);
    return inputShape.map((d, i) => (kept.includes(i + 1) ? d : 1));
  }

  /**
   * Learns the per-feature mean and variance of `data` (a Tensor, arrays, or a
   * Dataset of batches, read in one streaming pass, in float64).
   */
  async adapt(data: AdaptData): Promise<void> {
    let count: Float64Array | undefined;
    let sum: Float64Array | undefined;
    let sumSq: Float64Array | undefined;
    let shape: number[] | undefined;
    for await (const b of batchesOf(this.subject, data)) {
      const rank = b.shape.length;
      if (rank < 1) this.fail('adapt expected data with a batch dimension, got a scalar');
      const kept = this.keptAxes(rank, b.shape);
      const featureShape = b.shape.map((d, i) => (kept.includes(i) ? d : 1)).slice(1);
      if (shape && featureShape.join() !== shape.join()) this.fail(`adapt expected batches of one feature shape, got ${formatShape(featureShape)} after ${formatShape(shape)}`);
      shape = featureShape;
      const features = featureShape.reduce((a, c) => a * c, 1);
      count ??= new Float64Array(features);
      sum ??= new Float64Array(features);
      sumSq ??= new Float64Array(features);
      const strides = b.shape.map((_, i) => b.shape.slice(i + 1).reduce((a, c) => a * c, 1));
      for (let flat = 0; flat < b.values.length; flat++) {
        let feature = 0;
        for (const k of kept) feature = feature * b.shape[k]! + (Math.floor(flat / strides[k]!) % b.shape[k]!);
        const v = b.values[flat]!;
        if (!Number.isFinite(v)) this.fail(`adapt expected finite numbers, got ${v} at index ${flat}`);
        count[feature]!++;
        sum[feature]! += v;
        sumSq[feature]! += v * v;
      }
    }
    if (!count || count.some((c) => c === 0)) this.fail('adapt expected some data, got none');
    this.mean = Array.from(sum!, (s, i) => s / count![i]!);
    this.variance = Array.from(sumSq!, (s, i) => Math.max(0, s / count![i]! - this.mean![i]! ** 2));
  }

  weights(inputShape: Shape): WeightSpec[] {
    const shape = this.statShape(inputShape);
    if (!this.mean || !this.variance) this.fail('expected adapt(data) to be called, or mean and variance given, before the model is built');
    const size = shape.reduce((a, b) => a * b, 1);
    const fit = (v: number[], what: string) => {
      if (v.length === size) return v;
      if (v.length === 1) return new Array<number>(size).fill(v[0]!);
      return this.fail(`expected ${what} of ${size} values (the input's features, shape ${formatShape(shape)}) or one, got ${v.length}`);
    };
    return [
      { name: 'mean', shape, initializer: new Values(fit(this.mean!, 'mean')), trainable: false },
      { name: 'variance', shape, initializer: new Values(fit(this.variance!, 'variance')), trainable: false },
    ];
  }

  computeOutputShape(inputShape: Shape): Shape {
    this.statShape(inputShape);
    return [...inputShape];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>): Tensor {
    const std = F.maximum(F.sqrt(this.weight(weights, 'variance')), 1e-7);
    const mean = this.weight(weights, 'mean');
    return this.invert ? F.add(F.mul(x, std), mean) : F.div(F.sub(x, mean), std);
  }

  override getConfig(): object {
    return { ...super.getConfig(), axis: this.axis.length === 0 ? null : this.axis.length === 1 ? this.axis[0] : [...this.axis], mean: this.mean, variance: this.variance, invert: this.invert };
  }
}

export interface RescalingArgs extends LayerArgs {
  /** The factor (e.g. 1/255). */
  scale: number;
  /** Added after scaling (default 0). */
  offset?: number;
}

/**
 * `x · scale + offset`, as Keras's Rescaling.
 * @example kiln.layers.rescaling({ scale: 1 / 255 })
 */
export class Rescaling extends Layer {
  readonly className = 'Rescaling';
  static override readonly optionKeys = optionKeys<RescalingArgs>({ scale: true, offset: true, ...LAYER_KEYS });
  readonly scale: number;
  readonly offset: number;

  constructor(args: RescalingArgs) {
    super('Rescaling', args ?? ({} as RescalingArgs));
    const { scale, offset = 0 } = args ?? {};
    if (typeof scale !== 'number' || !Number.isFinite(scale)) this.fail(`expected scale to be a finite number, got ${JSON.stringify(scale)}`);
    if (typeof offset !== 'number' || !Number.isFinite(offset)) this.fail(`expected offset to be a finite number, got ${JSON.stringify(offset)}`);
    this.scale = scale;
    this.offset = offset;
  }

  weights(): WeightSpec[] {
    return [];
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape];
  }

  call(x: Tensor): Tensor {
    const scaled = F.mul(x.dtype === 'float32' ? x : F.cast(x, 'float32'), this.scale);
    return this.offset === 0 ? scaled : F.add(scaled, this.offset);
  }

  override getConfig(): object {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

export interface DiscretizationArgs extends LayerArgs {
  /** Sorted bin edges: bucket i holds boundaries[i−1] ≤ x < boundaries[i]. */
  binBoundaries?: number[];
  /** With adapt: the number of bins, split at quantiles of the data. */
  numBins?: number;
}

/**
 * The int32 bucket of each value, as Keras's Discretization: given edges, or
 * `numBins` quantile edges learnt by `adapt`.
 * @example kiln.layers.discretization({ binBoundaries: [0, 18, 65] })   // 4 buckets
 */
export class Discretization extends Layer {
  readonly className = 'Discretization';
  static override readonly optionKeys = optionKeys<DiscretizationArgs>({ binBoundaries: true, numBins: true, ...LAYER_KEYS });
  readonly numBins?: number;
  private boundaries?: number[];

  constructor(args: DiscretizationArgs = {}) {
    super('Discretization', args);
    this.boundaries = numbers(this.subject, 'binBoundaries', args.binBoundaries);
    if (this.boundaries?.some((b, i) => i > 0 && b <= this.boundaries![i - 1]!)) this.fail(`expected binBoundaries in increasing order, got ${JSON.stringify(args.binBoundaries)}`);
    if (args.numBins !== undefined && (!Number.isInteger(args.numBins) || args.numBins < 2)) this.fail(`expected numBins to be an integer >= 2, got ${JSON.stringify(args.numBins)}`);
    if (this.boundaries && args.numBins !== undefined) this.fail('expected binBoundaries or numBins, not both');
    this.numBins = args.numBins;
  }

  /** Learns `numBins − 1` edges at the data's quantiles (exact, from the sorted values). */
  async adapt(data: AdaptData): Promise<void> {
    if (this.numBins === undefined) this.fail('adapt needs numBins');
    const all: number[] = [];
    for await (const b of batchesOf(this.subject, data)) for (const v of b.values) if (Number.isFinite(v)) all.push(v);
    if (all.length === 0) this.fail('adapt expected some finite data, got none');
    all.sort((p, q) => p - q);
    const edges = Array.from({ length: this.numBins! - 1 }, (_, i) => all[Math.min(all.length - 1, Math.floor(((i + 1) * all.length) / this.numBins!))]!);
    this.boundaries = edges.filter((e, i) => i === 0 || e > edges[i - 1]!); // repeated values collapse bins
  }

  /** The learnt or given edges. */
  get binBoundaries(): readonly number[] | undefined {
    return this.boundaries;
  }

  weights(): WeightSpec[] {
    if (!this.boundaries) this.fail('expected adapt(data) to be called, or binBoundaries given, before the model is built');
    return [];
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape];
  }

  call(x: Tensor): Tensor {
    const edges = F.tensor(this.boundaries!);
    const above = F.cast(F.ge(F.expandDims(x.dtype === 'float32' ? x : F.cast(x, 'float32'), -1), edges), 'int32');
    return F.sum(above, -1);
  }

  override getConfig(): object {
    return { ...super.getConfig(), binBoundaries: this.boundaries, numBins: this.numBins };
  }
}

export interface CategoryEncodingArgs extends LayerArgs {
  /** How many categories (indices 0 … numTokens − 1). */
  numTokens: number;
  /** 'one_hot' (one index per example), 'multi_hot' (default) or 'count', over the last axis. */
  outputMode?: 'one_hot' | 'multi_hot' | 'count';
}

/**
 * Integer categories as vectors of `numTokens`, as Keras's CategoryEncoding.
 * Indices outside 0 … numTokens − 1 give no 1 (a zero row).
 * @example kiln.layers.categoryEncoding({ numTokens: 3, outputMode: 'one_hot' })   // [n] or [n,1] → [n,3]
 */
export class CategoryEncoding extends Layer {
  readonly className = 'CategoryEncoding';
  static override readonly optionKeys = optionKeys<CategoryEncodingArgs>({ numTokens: true, outputMode: true, ...LAYER_KEYS });
  readonly numTokens: number;
  readonly outputMode: 'one_hot' | 'multi_hot' | 'count';

  constructor(args: CategoryEncodingArgs) {
    super('CategoryEncoding', args ?? ({} as CategoryEncodingArgs));
    const { numTokens, outputMode = 'multi_hot' } = args ?? {};
    if (!Number.isInteger(numTokens) || numTokens < 1) this.fail(`expected numTokens to be a positive integer, got ${JSON.stringify(numTokens)}`);
    if (!['one_hot', 'multi_hot', 'count'].includes(outputMode)) this.fail(`expected outputMode to be one_hot, multi_hot or count, got ${JSON.stringify(outputMode)}`);
    this.numTokens = numTokens;
    this.outputMode = outputMode;
  }

  weights(): WeightSpec[] {
    return [];
  }

  computeOutputShape(inputShape: Shape): Shape {
    if (this.outputMode === 'one_hot') {
      if (inputShape.length === 0 || (inputShape.length === 1 && inputShape[0] === 1)) return [this.numTokens];
      return [...inputShape, this.numTokens];
    }
    if (inputShape.length === 0) return [this.numTokens];
    return [...inputShape.slice(0, -1), this.numTokens];
  }

  call(x: Tensor): Tensor {
    let indices = x.dtype === 'int32' ? x : F.cast(x, 'int32');
    if (this.outputMode === 'one_hot') {
      if (indices.rank === 2 && indices.shape[1] === 1) indices = F.squeeze(indices, -1);
      return F.oneHot(indices, this.numTokens);
    }
    if (indices.rank === 1) indices = F.expandDims(indices, -1);
    const hot = F.oneHot(indices, this.numTokens); // [..., k, numTokens]
    return this.outputMode === 'count' ? F.sum(hot, -2) : F.max(hot, -2);
  }

  override getConfig(): object {
    return { ...super.getConfig(), numTokens: this.numTokens, outputMode: this.outputMode };
  }
}

/** @example kiln.layers.normalization({ axis: -1 }) */
export const normalization = (args?: NormalizationArgs): Normalization => new Normalization(args);
/** @example kiln.layers.rescaling({ scale: 1 / 255 }) */
export const rescaling = (args: RescalingArgs): Rescaling => new Rescaling(args);
/** @example kiln.layers.discretization({ numBins: 4 }) */
export const discretization = (args?: DiscretizationArgs): Discretization => new Discretization(args);
/** @example kiln.layers.categoryEncoding({ numTokens: 4, outputMode: 'count' }) */
export const categoryEncoding = (args: CategoryEncodingArgs): CategoryEncoding => new CategoryEncoding(args);
