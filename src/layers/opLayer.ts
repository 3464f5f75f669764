/**
 * @file Raw ops on functional-API tensors, as Keras' TFOpLambda: `kiln.mul(x, 2)`
 * with `x` from `kiln.input` or `layer.apply` records an `OpLambda` layer (no
 * weights) that applies the op when the model runs, so
 * `kiln.model({ inputs, outputs: kiln.mul(dense.apply(inp), 2) })` builds,
 * trains, saves and loads. The op's other arguments are kept as JSON (tensor
 * constants as nested arrays) so the layer saves with the model.
 */
import { KilnError } from '../../compiler/errors.js';
import * as F from '../../compiler/functions/index.js';
import { setFunctionalHook } from '../../compiler/functions/util.js';
import { Tensor } from '../../compiler/tensor.js';
import { spec, trace } from '../../compiler/trace.js';
import { BATCH, formatType, type DType } from '../../compiler/types.js';
import { Layer, LAYER_KEYS, uniqueLayerName, type CallContext, type LayerArgs, type Shape, type WeightSpec } from './layer.js';
import { SymbolicTensor, type MultiInputLayer } from './symbolic.js';

/** An argument of the recorded op: the i-th input, a tensor constant, or any JSON value (lists and options objects nest). */
type Template = { kiln: 'input'; index: number } | { kiln: 'tensor'; dtype: DType; shape: number[]; values: unknown } | number | string | boolean | null | Template[] | { [key: string]: Template };

export interface OpLambdaArgs extends LayerArgs {
  /** The op's name: a function of `kiln` (mul, reshape, softmax, …). */
  op: string;
  /** Its arguments, the symbolic inputs replaced by `{ kiln: 'input', index }`. */
  args: readonly Template[];
}

const ops = F as unknown as Record<string, ((...args: unknown[]) => Tensor) | undefined>;

const isMarker = (t: unknown, kind: 'input' | 'tensor'): boolean => typeof t === 'object' && t !== null && !Array.isArray(t) && (t as { kiln?: unknown }).kiln === kind;

/**
 * A weightless layer whose call is a function of kiln ops on its inputs (one, or
 * a list): its output's shape and dtype are traced through that function on
 * symbolic inputs, which must keep the batch dimension first. OpLambda (a raw op
 * on functional tensors) and Lambda (Keras' Lambda) are its two kinds.
 */
export abstract class TracedLayer extends Layer implements MultiInputLayer {
  readonly acceptsOne = true;
  /** The traced function's name in errors (the op, or `fn`). */
  protected abstract readonly traced: string;

  /** Runs the function on the inputs (batch first). */
  abstract callMany(xs: readonly Tensor[]): Tensor;

  weights(_inputShape: Shape): WeightSpec[] {
    return [];
  }

  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    return this.callMany([x]);
  }

  /** The output's type for inputs of `shapes` (no batch dimension), traced. */
  outputType(shapes: readonly Shape[], dtypes: readonly DType[]): { shape: Shape; dtype: DType } {
    let type: Tensor['type'] | undefined;
    trace((...ts: Tensor[]) => ((type = this.callMany(ts).type), F.zeros([])), shapes.map((s, i) => spec([null, ...s], dtypes[i] ?? 'float32')));
    const [first, ...rest] = type!.shape;
    if (first !== BATCH || rest.some((d) => d === BATCH)) {
      this.fail(`expected ${this.traced} to keep the batch dimension first (a layer maps a batch to a batch), got ${formatType(type!)} for inputs ${shapes.map((s) => `[null,${s.join(',')}]`).join(', ')}`);
    }
    return { shape: rest as number[], dtype: type!.dtype };
  }

  outputDtypeMany(shapes: readonly Shape[], dtypes: readonly DType[]): DType {
    return this.outputType(shapes, dtypes).dtype;
  }

  computeOutputShapeMany(shapes: readonly Shape[]): Shape {
    return this.outputType(shapes, []).shape;
  }

  computeOutputShape(inputShape: Shape): Shape {
    return this.computeOutputShapeMany([inputShape]);
  }
}

/**
 * A raw op applied to functional-API tensors: no weights; its call runs the op.
 * @example const y = kiln.mul(kiln.input({ shape: [4] }), 2); y.layer // OpLambda "mul"
 */
export class OpLambda extends TracedLayer {
  static override readonly optionKeys = [...Object.keys(LAYER_KEYS), 'op', 'args'] as const;
  readonly className = 'OpLambda';
  readonly op: string;
  readonly args: readonly Template[];
  private readonly fn: (...args: unknown[]) => Tensor;

  constructor(args: OpLambdaArgs) {
    super('OpLambda', args);
    const fn = typeof args.op === 'string' && Object.hasOwn(F, args.op) ? ops[args.op] : undefined;
    if (typeof fn !== 'function') this.fail(`expected op to be the name of a kiln op, got ${JSON.stringify(args.op)}`);
    if (!Array.isArray(args.args)) this.fail(`expected args to be a list, got ${JSON.stringify(args.args)}`);
    this.op = args.op;
    this.args = args.args;
    this.fn = fn!;
  }

  protected get traced(): string {
    return this.op;
  }

  /** Runs the op on traced tensors standing for the inputs (batch first). */
  callMany(xs: readonly Tensor[]): Tensor {
    const fill = (t: Template): unknown => {
      if (Array.isArray(t)) return t.map(fill);
      if (isMarker(t, 'input')) return xs[(t as { index: number }).index];
      if (isMarker(t, 'tensor')) {
        const c = t as { dtype: DType; shape: number[]; values: unknown };
        return F.tensor(c.values as never, { shape: c.shape, dtype: c.dtype });
      }
      if (typeof t === 'object' && t !== null) return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, fill(v as Template)]));
      return t;
    };
    const y = this.fn(...this.args.map(fill));
    if (!(y instanceof Tensor)) this.fail(`expected ${this.op} to return a Tensor, got ${typeof y}`);
    return y;
  }

  override getConfig(): object {
    return { ...super.getConfig(), op: this.op, args: this.args };
  }
}

/** The op's arguments as a template (functional tensors → input markers, tensors → constants), and the inputs in order. */
function templateOf(op: string, args: readonly unknown[]): { template: Template[]; inputs: SymbolicTensor[] } {
  const inputs: SymbolicTensor[] = [];
  const walk = (v: unknown, where: string): Template => {
    if (v instanceof SymbolicTensor) {
      const at = inputs.indexOf(v);
      return { kiln: 'input', index: at >= 0 ? at : inputs.push(v) - 1 };
    }
    if (v instanceof Tensor) {
      if (v.isSymbolic || v.lazy) throw new KilnError(`${op}: expected a concrete Tensor beside a functional-API tensor, got a traced or lazy ${formatType(v.type)} as ${where}.`);
      return { kiln: 'tensor', dtype: v.dtype, shape: [...v.shape] as number[], values: v.arraySync() };
    }
    if (Array.isArray(v)) return v.map((e, i) => walk(e, `${where}[${i}]`));
    if (v === undefined || v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return (v ?? null) as Template;
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, walk(e, `${where}.${k}`)]));
    throw new KilnError(`${op}: cannot record ${where} (${typeof v === 'function' ? 'a function' : (v as object).constructor?.name ?? typeof v}) in a functional model's op layer; expected tensors, numbers, strings, booleans, lists or plain objects.`);
  };
  const template = args.map((a, i) => walk(a, `argument ${i}`));
  // trailing undefined arguments are the op's defaults: drop them so JSON keeps the call's shape
  while (template.length && template[template.length - 1] === null && args[template.length - 1] === undefined) template.pop();
  return { template, inputs };
}

setFunctionalHook({
  is: (x): x is SymbolicTensor => x instanceof SymbolicTensor,
  record(op, _fn, args) {
    const { template, inputs } = templateOf(op, args);
    const layer = new OpLambda({ op, args: template, name: uniqueLayerName(op) });
    const { shape, dtype } = layer.outputType(inputs.map((x) => x.shape), inputs.map((x) => x.dtype));
    return new SymbolicTensor(shape, dtype, layer, inputs);
  },
});
