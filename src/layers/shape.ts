/**
 * @file Shape layers, as TensorFlow.js': permute (a transpose of the non-batch
 * axes, 1-based as Keras) and zeroPadding2d (zero rows and columns around NHWC
 * images).
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { checkDataFormat } from './conv.js';
import { checkInputShape } from './core.js';
import { formatShape, Layer, type CallContext, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';

// ---- Permute ----------------------------------------------------------------------

export interface PermuteArgs extends LayerArgs {
  /** A permutation of 1..rank (the batch dimension, 0, is excluded): [2, 1] swaps the two axes of each example. */
  dims: number[];
}

/** Transposes each example: output axis i is input axis dims[i] (1-based, batch excluded). */
export class Permute extends Layer {
  static override readonly optionKeys = optionKeys<PermuteArgs>({ dims: true, ...LAYER_KEYS });
  readonly className = 'Permute';
  readonly dims: readonly number[];
  constructor(args: PermuteArgs) {
    super('Permute', args);
    const d = args?.dims;
    const ok = Array.isArray(d) && d.length > 0 && d.every((a) => Number.isInteger(a) && a >= 1 && a <= d.length) && new Set(d).size === d.length;
    if (!ok) this.fail(`expected dims to be a permutation of 1..${Array.isArray(d) && d.length > 0 ? d.length : 'rank'} (the batch dimension excluded), got ${Array.isArray(d) ? formatShape(d) : JSON.stringify(d) ?? String(d)}`);
    this.dims = [...d];
  }
  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }
  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, this.dims.length, `for dims ${formatShape(this.dims)} `);
    return this.dims.map((a) => inputShape[a - 1]!);
  }
  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.rank !== this.dims.length + 1) this.fail(`expected an input of rank ${this.dims.length + 1} for dims ${formatShape(this.dims)}, got ${formatType(x.type)}`);
    return F.transpose(x, [0, ...this.dims]);
  }
  override getConfig(): object {
    return { ...super.getConfig(), dims: [...this.dims] };
  }
}

// ---- ZeroPadding2D ----------------------------------------------------------------

type Pair = readonly [number, number];

export interface ZeroPadding2DArgs extends LayerArgs {
  /** Default 1: one amount on every side, [height, width] (symmetric), or [[top, bottom], [left, right]]. */
  padding?: number | Pair | readonly [Pair, Pair];
  dataFormat?: 'channelsLast';
}

const nonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Adds zero rows at the top and bottom and zero columns at the left and right of [batch, H, W, C]. */
export class ZeroPadding2D extends Layer {
  static override readonly optionKeys = optionKeys<ZeroPadding2DArgs>({ padding: true, dataFormat: true, ...LAYER_KEYS });
  readonly className = 'ZeroPadding2D';
  readonly padding: readonly [Pair, Pair];
  constructor(args: ZeroPadding2DArgs = {}) {
    super('ZeroPadding2D', args);
    checkDataFormat(this.subject, args?.dataFormat);
    const p: unknown = args?.padding ?? 1;
    let pads: [Pair, Pair] | undefined;
    if (nonNegInt(p)) pads = [[p, p], [p, p]];
    else if (Array.isArray(p) && p.length === 2 && p.every(nonNegInt)) pads = [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
    else if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(nonNegInt))) pads = [[...p[0] as Pair], [...p[1] as Pair]];
    if (!pads) this.fail(`expected padding to be a non-negative integer, [height, width] or [[top, bottom], [left, right]], got ${JSON.stringify(p) ?? String(p)}`);
    this.padding = pads!;
  }
  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }
  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    const [[t, b], [l, r]] = this.padding;
    return [inputShape[0]! + t + b, inputShape[1]! + l + r, inputShape[2]!];
  }
  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.rank !== 4) this.fail(`expected an input [batch, height, width, channels], got ${formatType(x.type)}`);
    return F.pad(x, [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }
  override getConfig(): object {
    return { ...super.getConfig(), padding: this.padding.map((q) => [...q]), dataFormat: 'channelsLast' };
  }
}

export const permute = (args: PermuteArgs): Permute => new Permute(args);
export const zeroPadding2d = (args: ZeroPadding2DArgs = {}): ZeroPadding2D => new ZeroPadding2D(args);

// ---- RepeatVector -------------------------------------------------------------------

export interface RepeatVectorArgs extends LayerArgs {
  /** How many times to repeat each example's vector. */
  n: number;
}

/** Keras's RepeatVector: [batch, features] → [batch, n, features] (the vector repeated n times). */
export class RepeatVector extends Layer {
  static override readonly optionKeys = optionKeys<RepeatVectorArgs>({ n: true, ...LAYER_KEYS });
  readonly className = 'RepeatVector';
  readonly n: number;
  constructor(args: RepeatVectorArgs) {
    super('RepeatVector', args);
    if (!Number.isInteger(args?.n) || args.n < 1) this.fail(`expected n to be a positive integer, got ${JSON.stringify(args?.n)}`);
    this.n = args.n;
  }
  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }
  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 1, '[batch, features] ');
    return [this.n, inputShape[0]!];
  }
  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.rank !== 2) this.fail(`expected an input [batch, features], got ${formatType(x.type)}`);
    return F.tile(F.expandDims(x, 1), [1, this.n, 1]);
  }
  override getConfig(): object {
    return { ...super.getConfig(), n: this.n };
  }
}

export const repeatVector = (args: RepeatVectorArgs): RepeatVector => new RepeatVector(args);

// ---- TimeDistributed ----------------------------------------------------------------

export interface TimeDistributedArgs extends LayerArgs {
  /** The layer applied to every step: its weights are shared by all steps. */
  layer: Layer;
}

/**
 * Keras's TimeDistributed: applies `layer` to each step of [batch, steps, ...]
 * with the same weights, giving [batch, steps, ...layer's output]. The steps
 * are sliced and stacked in the graph (the layer's code appears once a step).
 */
export class TimeDistributed extends Layer {
  /** Passes its input's [batch, steps] mask on, as Keras's (the wrapped layer runs on every step). */
  override get supportsMasking(): boolean {
    return true;
  }

  static override readonly optionKeys = optionKeys<TimeDistributedArgs>({ layer: true, ...LAYER_KEYS });
  readonly className = 'TimeDistributed';
  readonly layer: Layer;
  constructor(args: TimeDistributedArgs) {
    super('TimeDistributed', args);
    if (!(args?.layer instanceof Layer)) this.fail(`expected layer to be a kiln layer, got ${args?.layer === null ? 'null' : typeof args?.layer}`);
    this.layer = args.layer;
  }
  private stepShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    if (inputShape.length < 2) this.fail(`expected an input [batch, steps, ...], got ${formatShape([null, ...inputShape])}`);
    return inputShape.slice(1);
  }
  weights(inputShape: Shape): WeightSpec[] {
    return this.layer.weights(this.stepShape(inputShape)).map((w) => ({ ...w, trainable: w.trainable && this.layer.trainable }));
  }
  computeOutputShape(inputShape: Shape): Shape {
    return [inputShape[0]!, ...this.layer.computeOutputShape(this.stepShape(inputShape))];
  }
  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor {
    if (x.rank < 3) this.fail(`expected an input [batch, steps, ...], got ${formatType(x.type)}`);
    const steps = x.type.shape[1] as number;
    const outs = Array.from({ length: steps }, (_, t) => this.layer.call(F.squeeze(F.sliceAxis(x, 1, t, t + 1), 1), weights, ctx));
    return F.stack(outs, 1);
  }
  override getConfig(): object {
    return { ...super.getConfig(), layer: { className: this.layer.className, config: this.layer.getConfig() } };
  }
}

/** @example kiln.layers.timeDistributed({ layer: kiln.layers.dense({ units: 8 }) }) */
export const timeDistributed = (args: TimeDistributedArgs): TimeDistributed => new TimeDistributed(args);
