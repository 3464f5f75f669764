/**
 * @file Keras's masks: `masking({ maskValue })`, which marks as padding the
 * steps whose features all equal `maskValue`, and the checks and conversions
 * the layers that read a mask share. A mask is a [batch, steps] tensor computed
 * inside the compiled graph (from the ids of an `embedding({ maskZero: true })`,
 * or from the features here); it travels beside the tensor it describes (see
 * `Layer.computeMask`) to the recurrent layers and the 1-D global poolings,
 * which read it.
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { checkInputShape } from './core.js';
import { Layer, LAYER_KEYS, type CallContext, type LayerArgs, type Shape, type WeightSpec } from './layer.js';
import { fail } from '../../compiler/functions/util.js';

/**
 * The mask a layer reads, checked against its input `x` [batch, steps, …] and
 * made bool [batch, steps]; `undefined` stays `undefined`. A mask of another
 * shape or dtype is a KilnError naming the layer (`subject`).
 * @example const keep = readMask('LSTM "lstm"', ctx.mask, x); // bool [batch, steps] or undefined
 */
export function readMask(subject: string, mask: Tensor | undefined, x: Tensor): Tensor | undefined {
  if (mask === undefined) return undefined;
  const want = x.type.shape.slice(0, 2);
  const shapeOk = mask.rank === 2 && mask.type.shape.every((d, i) => d === want[i]);
  if (!shapeOk || (mask.dtype !== 'bool' && mask.dtype !== 'float32' && mask.dtype !== 'int32')) {
    fail(subject, `expected a mask [${want.join(',')}] (bool, or 0/1 numbers: one per step of the input ${formatType(x.type)}), got ${formatType(mask.type)}`);
  }
  return mask.dtype === 'bool' ? mask : F.ne(mask, 0);
}

/**
 * `mask` (bool [batch, steps]) as float32 [batch, steps, 1]: 1 at real steps, 0 at padding.
 * @example const mean = F.div(F.sum(F.mul(x, maskWeights(mask)), 1), F.sum(maskWeights(mask), 1));
 */
export const maskWeights = (mask: Tensor): Tensor => F.expandDims(F.cast(mask, 'float32'), -1);

export interface MaskingArgs extends LayerArgs {
  /** A step whose features all equal it is padding (default 0). */
  maskValue?: number;
}

/**
 * Keras's Masking: a step of [batch, steps, features] whose features all equal
 * `maskValue` is masked for the layers after it (recurrent layers skip it,
 * poolings leave it out), and its features become 0.
 * @example
 * const model = kiln.sequential({ layers: [kiln.layers.masking({ maskValue: -1, inputShape: [20, 3] }), kiln.layers.lstm({ units: 8 })] });
 */
export class Masking extends Layer {
  static override readonly optionKeys = optionKeys<MaskingArgs>({ maskValue: true, ...LAYER_KEYS });
  readonly className = 'Masking';
  readonly maskValue: number;

  constructor(args: MaskingArgs = {}) {
    super('Masking', args);
    const v = args.maskValue ?? 0;
    if (typeof v !== 'number' || Number.isNaN(v)) this.fail(`expected maskValue to be a number, got ${JSON.stringify(v) ?? String(v)}`);
    this.maskValue = v;
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return [];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 2, '[batch, steps, features] ');
    return [...inputShape];
  }

  /** Real steps: any feature differs from maskValue. */
  override computeMask(x: Tensor): Tensor {
    return F.gt(F.max(F.cast(F.ne(x, this.maskValue), 'float32'), -1), 0);
  }

  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    if (x.rank !== 3 || x.dtype !== 'float32') this.fail(`expected a float32 input [batch, steps, features], got ${formatType(x.type)}`);
    return F.mul(x, maskWeights(this.computeMask(x)));
  }

  override getConfig(): object {
    return { ...super.getConfig(), maskValue: this.maskValue };
  }
}

/** @example kiln.layers.masking({ maskValue: 0 }) */
export const masking = (args: MaskingArgs = {}): Masking => new Masking(args);
