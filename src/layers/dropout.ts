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
