/**
 * @file Merge layers for the functional API: `add`, `multiply` (elementwise over
 * inputs of one shape) and `concatenate` (along an axis). They take a list of
 * inputs — `kiln.layers.add().apply([a, b])` — and have no weights.
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { checkInputShape } from './core.js';
import { formatShape, Layer, type CallContext, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';
import type { MultiInputLayer } from './symbolic.js';

/** A layer over a list of inputs; `call`/`computeOutputShape` on one input say so. */
export abstract class Merge extends Layer implements MultiInputLayer {
  static override readonly optionKeys = optionKeys<LayerArgs>(LAYER_KEYS);
  weights(_inputShape: Shape): WeightSpec[] {
    return [];
  }
  computeOutputShape(_inputShape: Shape): Shape {
    return this.fail('expected a list of at least 2 inputs (apply([a, b])), got one input');
  }
  call(_x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    return this.fail('expected a list of at least 2 inputs, got one input');
  }

  computeOutputShapeMany(shapes: readonly Shape[]): Shape {
    if (!Array.isArray(shapes) || shapes.length < 2) this.fail(`expected a list of at least 2 inputs, got ${Array.isArray(shapes) ? shapes.length : 'one'}`);
    shapes.forEach((s) => checkInputShape(this.subject, s));
    return this.mergedShape(shapes);
  }

  callMany(xs: readonly Tensor[], _weights: Readonly<Record<string, Tensor>>, _ctx: CallContext): Tensor {
    if (xs.length < 2) this.fail(`expected a list of at least 2 inputs, got ${xs.length}`);
    return this.merge(xs);
  }

  protected abstract mergedShape(shapes: readonly Shape[]): Shape;
  protected abstract merge(xs: readonly Tensor[]): Tensor;
}

/** Elementwise merges: all inputs of one shape. */
abstract class Elementwise extends Merge {
  protected mergedShape(shapes: readonly Shape[]): Shape {
    const first = shapes[0]!;
    shapes.forEach((s) => {
      if (s.length !== first.length || s.some((d, i) => d !== first[i])) this.fail(`expected inputs of one shape, got ${shapes.map((t) => formatShape([null, ...t])).join(' and ')}`);
    });
    return [...first];
  }
}

/** The elementwise sum of its inputs. */
export class Add extends Elementwise {
  readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super('Add', args);
  }
  protected merge(xs: readonly Tensor[]): Tensor {
    return xs.slice(1).reduce((a, b) => F.add(a, b), xs[0]!);
  }
}

/** The elementwise product of its inputs. */
export class Multiply extends Elementwise {
  readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) {
    super('Multiply', args);
  }
  protected merge(xs: readonly Tensor[]): Tensor {
    return xs.slice(1).reduce((a, b) => F.mul(a, b), xs[0]!);
  }
}

export interface ConcatenateArgs extends LayerArgs {
  /** The axis counted with the batch dimension (0 is the batch, not allowed); negative counts from the end. Default -1. */
  axis?: number;
}

/** Joins its inputs along `axis` (the other dimensions must agree). */
export class Concatenate extends Merge {
  static override readonly optionKeys = optionKeys<ConcatenateArgs>({ axis: true, ...LAYER_KEYS });
  readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    super('Concatenate', args);
    const axis = args.axis ?? -1;
    if (!Number.isInteger(axis) || axis === 0) this.fail(`expected axis to be a non-zero integer (0 is the batch dimension), got ${JSON.stringify(axis)}`);
    this.axis = axis;
  }
  /** The axis within a shape without the batch dimension. */
  private innerAxis(rank: number): number {
    const a = this.axis < 0 ? rank + 1 + this.axis : this.axis;
    if (a < 1 || a > rank) this.fail(`axis ${this.axis} is out of range for inputs of rank ${rank + 1}`);
    return a - 1;
  }
  protected mergedShape(shapes: readonly Shape[]): Shape {
    const first = shapes[0]!;
    const a = this.innerAxis(first.length);
    const ok = shapes.every((s) => s.length === first.length && s.every((d, i) => i === a || d === first[i]));
    if (!ok) this.fail(`expected inputs whose shapes agree except along axis ${this.axis}, got ${shapes.map((t) => formatShape([null, ...t])).join(' and ')}`);
    return first.map((d, i) => (i === a ? shapes.reduce((sum, s) => sum + s[i]!, 0) : d));
  }
  protected merge(xs: readonly Tensor[]): Tensor {
    const rank = xs[0]!.rank;
    if (xs.some((x) => x.rank !== rank)) this.fail(`expected inputs of one rank, got ${xs.map((x) => formatType(x.type)).join(' and ')}`);
    return F.concat(xs, this.innerAxis(rank - 1) + 1);
  }
  override getConfig(): object {
    return { ...super.getConfig(), axis: this.axis };
  }
}

export const add = (args: LayerArgs = {}): Add => new Add(args);
export const multiply = (args: LayerArgs = {}): Multiply => new Multiply(args);
export const concatenate = (args: ConcatenateArgs = {}): Concatenate => new Concatenate(args);
