/**
 * @file Dropout, as Keras': in training, each value is zeroed with probability
 * `rate` and the survivors scaled by 1 / (1 − rate); at inference, the identity.
 * The draws come from the randomUniform op with the layer's seed and a step
 * counter kept as a non-trainable weight `step` that each training step
 * increments, so every step drops different values and a run is reproducible.
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { nextSeed } from '../../compiler/random.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType, type Dim } from '../../compiler/types.js';
import { assign } from '../../compiler/trace.js';
import { checkInputShape } from './core.js';
import * as initializers from './initializers.js';
import { Layer, type CallContext, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';

export interface DropoutArgs extends LayerArgs {
  /** The fraction of values dropped, in [0, 1). */
  rate: number;
  /** Default: a fresh seed per layer. */
  seed?: number;
}

export class Dropout extends Layer {
  /** Passes its input's mask on (Keras' supports_masking). */
  override get supportsMasking(): boolean {
    return true;
  }

  static override readonly optionKeys = optionKeys<DropoutArgs>({ rate: true, seed: true, ...LAYER_KEYS });
  readonly className: string = 'Dropout';
  readonly rate: number;
  readonly seed: number;

  constructor(args: DropoutArgs, className = 'Dropout') {
    super(className, args);
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) this.fail(`expected rate in [0, 1), got ${JSON.stringify(rate) ?? String(rate)}`);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) this.fail(`expected an integer seed, got ${args.seed}`);
    this.rate = rate;
    this.seed = (args.seed ?? nextSeed()) >>> 0;
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [{ name: 'step', shape: [], initializer: initializers.zeros(), trainable: false, internal: true }];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    return [...inputShape];
  }

  /** The shape of the draws: one per value here; subclasses share draws across axes (broadcast). */
  protected noiseShape(x: Tensor): Dim[] {
    return [...x.type.shape];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    if (!ctx?.training || this.rate === 0) return x;
    const noise = this.noiseShape(x);
    const step = this.weight(weights, 'step');
    if (step.isSymbolic) assign(step, F.add(step, 1));
    const u = F.randomUniformOp(noise, this.seed, step);
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
 * height and width — and scales the kept ones by 1 / (1 − rate).
 */
export class SpatialDropout2D extends Dropout {
  override readonly className: string = 'SpatialDropout2D';

  constructor(args: DropoutArgs) {
    super(args, 'SpatialDropout2D');
  }

  override computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    return [...inputShape];
  }

  protected override noiseShape(x: Tensor): Dim[] {
    if (x.rank !== 4) this.fail(`expected an input [batch, height, width, channels], got ${formatType(x.type)}`);
    const [batch, , , channels] = x.type.shape;
    return [batch!, 1, 1, channels!];
  }
}

export const spatialDropout2d = (args: DropoutArgs): SpatialDropout2D => new SpatialDropout2D(args);
