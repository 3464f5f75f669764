/**
 * @file Batch normalization, as Keras': in training, each channel is normalised
 * by the batch's mean and (biased) variance over every axis but the channel axis,
 * and the moving statistics take `moving·momentum + batch·(1 − momentum)`; at
 * inference, the moving statistics normalise. gamma and beta are trainable;
 * moving_mean and moving_variance are non-trainable weights the training step
 * assigns.
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { assign } from '../../compiler/trace.js';
import { formatType } from '../../compiler/types.js';
import { checkInputShape, initializerConfig, type InitializerIdentifier } from './core.js';
import * as initializers from './initializers.js';
import { formatShape, Layer, type CallContext, type Initializer, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';

export interface BatchNormalizationArgs extends LayerArgs {
  /** The channel axis (with the batch dimension counted); default -1. */
  axis?: number;
  momentum?: number;
  epsilon?: number;
  /** Add the learned offset beta; default true. */
  center?: boolean;
  /** Multiply by the learned scale gamma; default true. */
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
  movingVarianceInitializer?: InitializerIdentifier;
}

export class BatchNormalization extends Layer {
  static override readonly optionKeys = optionKeys<BatchNormalizationArgs>({
    axis: true, momentum: true, epsilon: true, center: true, scale: true,
    betaInitializer: true, gammaInitializer: true, movingMeanInitializer: true, movingVarianceInitializer: true, ...LAYER_KEYS,
  });
  readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;

  constructor(args: BatchNormalizationArgs = {}) {
    super('BatchNormalization', args);
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!Number.isInteger(this.axis)) this.fail(`expected an integer axis, got ${this.axis}`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) this.fail(`expected momentum in [0, 1], got ${this.momentum}`);
    if (!(this.epsilon > 0)) this.fail(`expected a positive epsilon, got ${this.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = initializers.get(args.betaInitializer ?? 'zeros', this.subject);
    this.gammaInitializer = initializers.get(args.gammaInitializer ?? 'ones', this.subject);
    this.movingMeanInitializer = initializers.get(args.movingMeanInitializer ?? 'zeros', this.subject);
    this.movingVarianceInitializer = initializers.get(args.movingVarianceInitializer ?? 'ones', this.subject);
  }

  /** The channel axis of an input of `rank` (batch included); never the batch axis. */
  private channelAxis(rank: number, shape: readonly (number | null | string)[]): number {
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    if (axis < 1 || axis >= rank) this.fail(`expected axis in [-${rank - 1}, ${rank - 1}] and not the batch axis, got ${this.axis} for an input of shape ${formatShape(shape.map((d) => (typeof d === 'number' ? d : null)))}`);
    return axis;
  }

  weights(inputShape: Shape): WeightSpec[] {
    checkInputShape(this.subject, inputShape);
    const channels = inputShape[this.channelAxis(inputShape.length + 1, [null, ...inputShape]) - 1]!;
    const weight = (name: string, initializer: Initializer, trainable: boolean): WeightSpec => ({ name, shape: [channels], initializer, trainable });
    return [
      ...(this.scale ? [weight('gamma', this.gammaInitializer, this.trainable)] : []),
      ...(this.center ? [weight('beta', this.betaInitializer, this.trainable)] : []),
      weight('moving_mean', this.movingMeanInitializer, false),
      weight('moving_variance', this.movingVarianceInitializer, false),
    ];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    return [...inputShape];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, ctx?: CallContext): Tensor {
    const axis = this.channelAxis(x.rank, x.type.shape);
    const movingMean = this.weight(weights, 'moving_mean');
    if (x.type.shape[axis] !== movingMean.type.shape[0]) this.fail(`expected ${movingMean.type.shape[0]} channels on axis ${axis}, got ${formatType(x.type)}`);
    // [C] → broadcastable against x: [C, 1, …, 1] with a 1 for every axis after the channel axis
    const perChannel = (t: Tensor) => (axis === x.rank - 1 ? t : F.reshapeTo(t, [t.type.shape[0]!, ...Array<number>(x.rank - 1 - axis).fill(1)]));
    let mean = movingMean;
    let variance = this.weight(weights, 'moving_variance');
    if (ctx?.training) {
      const axes = x.type.shape.map((_, d) => d).filter((d) => d !== axis);
      [mean, variance] = [F.mean(x, axes), F.variance(x, axes)];
      if (movingMean.isSymbolic) {
        const movingVariance = this.weight(weights, 'moving_variance');
        assign(movingMean, F.add(F.mul(movingMean, this.momentum), F.mul(mean, 1 - this.momentum)));
        assign(movingVariance, F.add(F.mul(movingVariance, this.momentum), F.mul(variance, 1 - this.momentum)));
      }
    }
    let y = F.mul(F.sub(x, perChannel(mean)), perChannel(F.rsqrt(F.add(variance, this.epsilon))));
    if (this.scale) y = F.mul(y, perChannel(this.weight(weights, 'gamma')));
    if (this.center) y = F.add(y, perChannel(this.weight(weights, 'beta')));
    return y;
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      axis: this.axis, momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale,
      betaInitializer: initializerConfig(this.betaInitializer),
      gammaInitializer: initializerConfig(this.gammaInitializer),
      movingMeanInitializer: initializerConfig(this.movingMeanInitializer),
      movingVarianceInitializer: initializerConfig(this.movingVarianceInitializer),
    };
  }
}

export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);
