/**
 * @file Layer normalization, as TensorFlow.js' layerNormalization: each example
 * normalized over `axis` (default the last) to zero mean and unit variance, then
 * scaled by `gamma` and shifted by `beta` (both shaped like the normalized axes).
 * A composite of mean and variance, so its gradient comes from theirs.
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { checkInputShape, initializerConfig, type InitializerIdentifier } from './core.js';
import * as initializers from './initializers.js';
import { formatShape, Layer, type CallContext, type Initializer, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';

export interface LayerNormalizationArgs extends LayerArgs {
  /** Axes of the batched input to normalize over (negative from the end; 0, the batch, is not allowed). Default -1. */
  axis?: number | number[];
  /** Added to the variance. Default 1e-3. */
  epsilon?: number;
  /** Adds `beta`. Default true. */
  center?: boolean;
  /** Multiplies by `gamma`. Default true. */
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
}

/** `(x − mean) / sqrt(variance + epsilon) · gamma + beta`, the moments over `axis` of each example. */
export class LayerNormalization extends Layer {
  /** Passes its input's mask on (Keras' supports_masking). */
  override get supportsMasking(): boolean {
    return true;
  }

  static override readonly optionKeys = optionKeys<LayerNormalizationArgs>({ axis: true, epsilon: true, center: true, scale: true, betaInitializer: true, gammaInitializer: true, ...LAYER_KEYS });
  readonly className = 'LayerNormalization';
  readonly axis: readonly number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;

  constructor(args: LayerNormalizationArgs = {}) {
    super('LayerNormalization', args);
    const s = this.subject;
    const a = args?.axis ?? -1;
    const axes = typeof a === 'number' ? [a] : a;
    if (!Array.isArray(axes) || axes.length === 0 || !axes.every((d) => Number.isInteger(d) && d !== 0) || new Set(axes).size !== axes.length) {
      this.fail(`expected axis to be a nonzero integer or an array of distinct ones (0 is the batch axis), got ${JSON.stringify(a) ?? String(a)}`);
    }
    this.axis = [...axes];
    this.epsilon = args.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0) || !Number.isFinite(this.epsilon)) this.fail(`expected epsilon to be a finite number >= 0, got ${JSON.stringify(args.epsilon)}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = initializers.get(args.betaInitializer ?? 'zeros', s);
    this.gammaInitializer = initializers.get(args.gammaInitializer ?? 'ones', s);
  }

  /** The axes of a batched input of `rank`, sorted, or a KilnError. */
  private axesFor(rank: number, shown: string): number[] {
    const axes = this.axis.map((a) => (a < 0 ? a + rank : a));
    if (axes.some((a) => a <= 0 || a >= rank) || new Set(axes).size !== axes.length) {
      this.fail(`expected axis ${this.axis.length === 1 ? this.axis[0] : formatShape(this.axis)} to name non-batch axes of an input of rank ${rank}, got ${shown}`);
    }
    return axes.sort((p, q) => p - q);
  }

  /** gamma's and beta's shape: the input's sizes along the normalized axes. */
  private paramShape(inputShape: Shape): number[] {
    checkInputShape(this.subject, inputShape);
    return this.axesFor(inputShape.length + 1, `shape ${formatShape([null, ...inputShape])}`).map((a) => inputShape[a - 1]!);
  }

  weights(inputShape: Shape): WeightSpec[] {
    const shape = this.paramShape(inputShape);
    const specs: WeightSpec[] = [];
    if (this.scale) specs.push({ name: 'gamma', shape, initializer: this.gammaInitializer, trainable: this.trainable });
    if (this.center) specs.push({ name: 'beta', shape, initializer: this.betaInitializer, trainable: this.trainable });
    return specs;
  }

  computeOutputShape(inputShape: Shape): Shape {
    this.paramShape(inputShape);
    return [...inputShape];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.dtype !== 'float32') this.fail(`expected a float32 input, got ${formatType(x.type)}`);
    const axes = this.axesFor(x.rank, formatType(x.type));
    // gamma and beta [sizes along axes] reshaped to broadcast: 1 on every other axis
    const broadcast = x.type.shape.map((d, i) => (axes.includes(i) ? d : 1));
    const mean = F.mean(x, axes, true);
    const variance = F.variance(x, axes, true);
    let y = F.mul(F.sub(x, mean), F.rsqrt(F.add(variance, this.epsilon)));
    if (this.scale) y = F.mul(y, F.reshapeTo(this.weight(weights, 'gamma'), broadcast));
    if (this.center) y = F.add(y, F.reshapeTo(this.weight(weights, 'beta'), broadcast));
    return y;
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      axis: this.axis.length === 1 ? this.axis[0] : [...this.axis],
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: initializerConfig(this.betaInitializer),
      gammaInitializer: initializerConfig(this.gammaInitializer),
    };
  }
}

export const layerNormalization = (args: LayerNormalizationArgs = {}): LayerNormalization => new LayerNormalization(args);
