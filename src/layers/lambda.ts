/**
 * @file Keras' Lambda layer: a function of kiln ops, applied as a layer (no
 * weights). It runs traced into the compiled step like any layer, and exported
 * artifacts carry it (they hold the compiled graph); but a saved model file
 * cannot, since its function is code: `model.save` refuses it, as Keras refuses
 * to load one unless safe mode is off. Raw ops on functional-API tensors
 * (`kiln.mul(x, 2)`, saved as OpLambda) need no Lambda.
 */
import { KilnError } from '../../compiler/errors.js';
import { Tensor } from '../../compiler/tensor.js';
import { LAYER_KEYS, type LayerArgs } from './layer.js';
import { TracedLayer } from './opLayer.js';

export interface LambdaArgs extends LayerArgs {
  /** kiln ops on the input (a list of inputs when the layer is applied to several), batch first; it must keep the batch dimension first. */
  fn: (x: Tensor | Tensor[]) => Tensor;
}

/**
 * A function of kiln ops as a layer (Keras' Lambda).
 * @example const halve = kiln.layers.lambda({ fn: (x) => kiln.mul(x as kiln.Tensor, 0.5) });
 */
export class Lambda extends TracedLayer {
  static override readonly optionKeys = [...Object.keys(LAYER_KEYS), 'fn'] as const;
  readonly className = 'Lambda';
  protected readonly traced = 'fn';
  readonly fn: (x: Tensor | Tensor[]) => Tensor;

  constructor(args: LambdaArgs) {
    super('Lambda', args);
    if (typeof args?.fn !== 'function') this.fail(`expected fn to be a function of kiln ops, got ${args?.fn === null ? 'null' : typeof args?.fn}`);
    this.fn = args.fn;
  }

  callMany(xs: readonly Tensor[]): Tensor {
    const y = this.fn(xs.length === 1 ? xs[0]! : [...xs]);
    if (!(y instanceof Tensor)) this.fail(`expected fn to return a Tensor, got ${y === null ? 'null' : Array.isArray(y) ? 'a list' : typeof y}`);
    return y;
  }

  /** For the architecture's record only: the function's source, which nothing loads (see `refuseCode`). */
  override getConfig(): object {
    return { ...super.getConfig(), function: String(this.fn).slice(0, 1000) };
  }
}

/** `new Lambda(args)`. @example kiln.layers.lambda({ fn: (x) => kiln.square(x as kiln.Tensor) }) */
export const lambda = (args: LambdaArgs): Lambda => new Lambda(args);

/** Throws when a model's config holds a Lambda layer: a saved file cannot carry its function. */
export function refuseCode(subject: string, config: unknown): void {
  const walk = (c: unknown): void => {
    if (Array.isArray(c)) return c.forEach(walk);
    if (typeof c !== 'object' || c === null) return;
    const o = c as { className?: unknown; config?: { name?: unknown } };
    if (o.className === 'Lambda') {
      throw new KilnError(`${subject}: layer "${String(o.config?.name)}" is a Lambda layer, whose function is code that a saved model cannot carry; save the weights (model.saveWeights) and rebuild the model in code, or export an artifact (model.export), which holds the compiled function.`);
    }
    Object.values(o).forEach(walk);
  };
  walk(config);
}
