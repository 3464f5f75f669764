/**
 * @file Dropout, as Keras': in training, each value is zeroed with probability
 * `rate` and the survivors scaled by 1 / (1 − rate); at inference, the identity.
 * The draws come from the randomUniform op with the layer's seed and a step
 * counter kept as a non-trainable weight `step` that each training step
 * increments, so every step drops different values and a run is reproducible.
 */
import * as F from '../../compiler/functions/index.js';
import { nextSeed } from '../../compiler/random.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { assign } from '../../compiler/trace.js';
import { checkInputShape } from './core.js';
import * as initializers from './initializers.js';
import { Layer, type CallContext, type LayerArgs, type Shape, type WeightSpec } from './layer.js';

export interface DropoutArgs extends LayerArgs {
  /** The fraction of values dropped, in [0, 1). */
  rate: number;
  /** Default: a fresh seed per layer. */
  seed?: number;
}

export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  readonly seed: number;

  constructor(args: DropoutArgs) {
    super('Dropout', args);
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) this.fail(`expected rate in [0, 1), got ${JSON.stringify(rate) ?? String(rate)}`);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) this.fail(`expected an integer seed, got ${args.seed}`);
    this.rate = rate;
    this.seed = (args.seed ?? nextSeed()) >>> 0;
  }

  weights(inputShape: Shape): WeightSpec[] {
    checkInputShape(this.subject, inputShape);
    return [{ name: 'step', shape: [], initializer: initializers.zeros(), trainable: false }];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    return [...inputShape];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    if (!ctx?.training || this.rate === 0) return x;
    const step = this.weight(weights, 'step');
    if (step.isSymbolic) assign(step, F.add(step, 1));
    const u = F.randomUniformOp(x.type.shape, this.seed, step);
    return F.where(F.lt(u, this.rate), 0, F.div(x, 1 - this.rate));
  }

  override getConfig(): object {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

export const dropout = (args: DropoutArgs): Dropout => new Dropout(args);

/**
 * SpatialDropout2D, as Keras': drops whole channels of a [batch, height,
 * width, channels] input — one draw per (example, channel), broadcast over the
 * height and width — and scales the kept ones by 1 / (1 − rate). The draws
 * come from a step weight as Dropout's.
 */
export class SpatialDropout2D extends Layer {
  readonly className = 'SpatialDropout2D';
  readonly rate: number;
  readonly seed: number;

  constructor(args: DropoutArgs) {
    super('SpatialDropout2D', args);
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) this.fail(`expected rate in [0, 1), got ${JSON.stringify(rate) ?? String(rate)}`);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) this.fail(`expected an integer seed, got ${args.seed}`);
    this.rate = rate;
    this.seed = (args.seed ?? nextSeed()) >>> 0;
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [{ name: 'step', shape: [], initializer: initializers.zeros(), trainable: false }];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    return [...inputShape];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    if (!ctx?.training || this.rate === 0) return x;
    if (x.rank !== 4) this.fail(`expected an input [batch, height, width, channels], got ${formatType(x.type)}`);
    const step = this.weight(weights, 'step');
    if (step.isSymbolic) assign(step, F.add(step, 1));
    const [batch, , , channels] = x.type.shape;
    const u = F.randomUniformOp([batch!, 1, 1, channels!], this.seed, step);
    // kept channels scaled by 1 / (1 − rate), dropped ones 0; broadcast over height and width
    const mask = F.mul(F.cast(F.ge(u, this.rate), 'float32'), 1 / (1 - this.rate));
    return F.mul(x, mask);
  }

  override getConfig(): object {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

export const spatialDropout2d = (args: DropoutArgs): SpatialDropout2D => new SpatialDropout2D(args);
