/**
 * The functional API and subclassed models, on `LayersModel`'s machinery:
 * - `kiln.input({ shape })` gives a SymbolicTensor; `layer.apply(t)` records a
 *   call; `kiln.model({ inputs, outputs })` builds a `Functional` model that
 *   replays the recorded calls (several inputs and outputs, shared layers).
 * - `class M extends kiln.Model` with `this.track(layer)` in the constructor
 *   and a `call(x, { training })` that applies the layers to traced Tensors.
 */
import { checkOptions, checkRequiredOptions, optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { KilnError } from '../../compiler/errors.js';
import { formatType } from '../../compiler/types.js';
import { Tensor } from '../../compiler/tensor.js';
import { spec, trace } from '../../compiler/trace.js';
import { Layer, type CallContext, type Shape, type WeightSpec } from '../layers/layer.js';
import { invokeLayer, isMultiInput, outputShapeOf, setEagerRunner, splitCallInputs, SymbolicTensor, tracedMasks, withTensorApplier } from '../layers/symbolic.js';
import { LayersModel, layerWeights, type InputSpec, type LayerShapes, type Topology } from './model.js';

export { SymbolicTensor } from '../layers/symbolic.js';

const show = (shape: Shape) => `[null,${shape.join(',')}]`;

/** The layer behind `kiln.input`: no weights, passes its input through. */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  readonly dtype: 'float32' | 'int32';
  constructor(args: { shape: number[]; dtype?: 'float32' | 'int32'; name?: string; batchSize?: number }) {
    super('InputLayer', { name: args.name, inputShape: args.shape, batchSize: args.batchSize });
    if (args.dtype !== undefined && args.dtype !== 'float32' && args.dtype !== 'int32') this.fail(`expected dtype 'float32' or 'int32', got ${JSON.stringify(args.dtype)}`);
    this.dtype = args.dtype ?? 'float32';
  }
  weights(_inputShape: Shape): WeightSpec[] {
    return [];
  }
  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape];
  }
  call(x: Tensor, _weights?: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    return x;
  }
  override getConfig(): object {
    return { ...super.getConfig(), dtype: this.dtype };
  }
}

/**
 * A model input: a SymbolicTensor of `shape` (without the batch dimension);
 * `batchSize` fixes the batch (Keras's `Input(batch_size=…)`), as a stateful
 * recurrent layer needs: every batch then has exactly that many examples.
 * @example const x = kiln.input({ shape: [4] }); const y = kiln.layers.dense({ units: 3 }).apply(x);
 * @example const seq = kiln.input({ shape: [10, 1], batchSize: 4 }); kiln.layers.lstm({ units: 8, stateful: true }).apply(seq);
 */
export function input(args: { shape: number[]; dtype?: 'float32' | 'int32'; name?: string; batchSize?: number }): SymbolicTensor {
  if (!args || !Array.isArray(args.shape)) throw new KilnError(`input: expected { shape } (without the batch dimension), got ${JSON.stringify(args)}.`);
  checkOptions('input', args, ['shape', 'dtype', 'name', 'batchSize']);
  const layer = new InputLayer(args);
  return new SymbolicTensor(layer.inputShape!, layer.dtype, layer, []);
}

const list = <T>(x: T | readonly T[]): T[] => (Array.isArray(x) ? [...(x as readonly T[])] : [x as T]);

export interface FunctionalArgs {
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  name?: string;
}

/**
 * A model of layer calls recorded on symbolic tensors, from `outputs` back to
 * `inputs`. A layer applied several times (shared) has one set of weights;
 * weights are ordered by each layer's first call. With an array of outputs,
 * `predict` returns an array of Tensors.
 */
export class Functional extends LayersModel {
  protected readonly kind = 'Functional';
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  /** The distinct layers, inputs first, in the order of their first call. */
  readonly layers: readonly Layer[];
  /** The recorded calls to replay, in topological order (the inputs left out). */
  private readonly nodes: readonly SymbolicTensor[];
  private readonly shapes: readonly LayerShapes[];

  constructor(args: FunctionalArgs) {
    checkRequiredOptions('model', args, optionKeys<FunctionalArgs>({ inputs: true, outputs: true, name: true }));
    super(args.name ?? 'model');
    const inputs = list(args.inputs);
    const outputs = list(args.outputs);
    const subject = `Functional "${this.name}"`;
    if (inputs.length === 0 || outputs.length === 0) throw new KilnError(`${subject}: expected at least one input and one output.`);
    for (const t of [...inputs, ...outputs]) if (!(t instanceof SymbolicTensor)) throw new KilnError(`${subject}: expected inputs and outputs to be SymbolicTensors (from kiln.input and layer.apply), got ${typeof t}.`);
    for (const t of inputs) if (!(t.layer instanceof InputLayer)) throw new KilnError(`${subject}: expected each input to come from kiln.input, got the output of ${t.layer.className} "${t.layer.name}".`);
    if (new Set(inputs).size !== inputs.length) throw new KilnError(`${subject}: an input is given twice.`);
    // depth-first from each output, post-order: every call after the calls it reads
    const order: SymbolicTensor[] = [];
    const done = new Set<SymbolicTensor>(inputs);
    const visiting = new Set<SymbolicTensor>();
    const visit = (t: SymbolicTensor, output: number) => {
      if (done.has(t)) return;
      if (t.layer instanceof InputLayer) {
        throw new KilnError(`${subject}: output ${output} is not reachable from the model's inputs: it depends on input "${t.layer.name}" ${show(t.shape)}, which is not one of them (${inputs.map((i) => `"${i.layer.name}"`).join(', ')}).`);
      }
      if (visiting.has(t)) throw new KilnError(`${subject}: the calls form a cycle at ${t.layer.className} "${t.layer.name}".`);
      visiting.add(t);
      for (const i of t.inputs) visit(i, output);
      visiting.delete(t);
      done.add(t);
      order.push(t);
    };
    outputs.forEach((t, i) => visit(t, i));
    const layers: Layer[] = [];
    const shapes: LayerShapes[] = [];
    for (const t of [...inputs, ...order]) {
      if (layers.includes(t.layer)) continue;
      const clash = layers.find((l) => l.name === t.layer.name);
      if (clash) throw new KilnError(`${subject}: two different layers are named "${t.layer.name}"; layer names must be unique in a model.`);
      layers.push(t.layer);
      shapes.push({ layer: t.layer, inputShape: t.inputs.length ? t.inputs[0]!.shape : t.shape, outputShape: (t.record?.outputs[0] ?? t).shape });
    }
    this.inputs = inputs;
    this.outputs = outputs;
    this.nodes = order;
    this.layers = layers;
    this.shapes = shapes;
  }

  protected topology(): Topology {
    return {
      layers: this.shapes,
      inputs: this.inputs.map((t) => ({ shape: t.shape, dtype: t.dtype as 'float32' | 'int32', batchSize: t.batchSize })), // inputs come from kiln.input: float32 or int32
      outputs: this.outputs.map((t) => t.shape),
    };
  }

  /**
   * `{ className: 'Functional', config: { name, layers, nodes, inputs, outputs } }`:
   * each distinct layer's config once, then every call in topological order as
   * `{ layer: <name>, inputs: [<node index>, …] }` (the model's inputs first, with
   * no inputs), and the node indices of the model's inputs and outputs. A call
   * with initial states or a mask says how many of its inputs are states
   * (`initialState: n`) and that the last is the mask (`mask: true`); each output
   * of a call with several is a node naming its index (`output: k`).
   */
  toConfig(): { className: string; config: Record<string, unknown> } {
    const all = [...this.inputs, ...this.nodes];
    const index = new Map(all.map((t, i) => [t, i]));
    return {
      className: 'Functional',
      config: {
        name: this.name,
        layers: this.layers.map((l) => ({ className: l.className, config: l.getConfig() })),
        nodes: all.map((t) => ({
          layer: t.layer.name, inputs: t.inputs.map((i) => index.get(i)!),
          ...(t.record?.initialState ? { initialState: t.record.initialState } : {}),
          ...(t.record?.mask ? { mask: true } : {}),
          ...(t.record?.masks ? { masks: t.record.masks } : {}),
          ...(t.record?.attentionMask ? { attentionMask: true } : {}),
          ...(t.record && t.record.outputs.length > 1 ? { output: t.outputIndex } : {}),
        })),
        inputs: this.inputs.map((t) => index.get(t)!),
        outputs: this.outputs.map((t) => index.get(t)!),
      },
    };
  }

  /** The input layers' names ('input_1', or the name given to kiln.input). */
  protected override inputNames(): string[] {
    return this.inputs.map((t) => t.layer.name);
  }

  /** The layers producing the outputs, by name ('dense_2'; a layer giving two outputs: 'dense_2', 'dense_2_1'). */
  protected override outputNames(): string[] {
    const seen = new Map<string, number>();
    return this.outputs.map((t) => {
      const n = seen.get(t.layer.name) ?? 0;
      seen.set(t.layer.name, n + 1);
      return n === 0 ? t.layer.name : `${t.layer.name}_${n}`;
    });
  }

  protected forward(inputs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, training: boolean): Tensor[] {
    const values = new Map<SymbolicTensor, Tensor>(this.inputs.map((t, i) => [t, inputs[i]!]));
    // each tensor's Keras mask, computed in the trace by the layer that made it (none for most)
    const masks = new Map<SymbolicTensor, Tensor | undefined>();
    for (const node of this.nodes) {
      if (values.has(node)) continue; // another output of a call already made
      const split = splitCallInputs(node.record, node.inputs);
      const xs = split.inputs.map((i) => values.get(i)!);
      const many = isMultiInput(node.layer) ? node.layer : undefined;
      const mask = split.mask ? values.get(split.mask)! : many ? undefined : masks.get(split.inputs[0]!);
      // a list's masks: each given one, else the one its input carries (Keras's _keras_mask)
      const listMasks = many ? split.inputs.map((t, i) => (split.masks?.[i] ? values.get(split.masks[i]!)! : masks.get(t))) : undefined;
      const attentionMask = split.attentionMask ? values.get(split.attentionMask)! : undefined;
      const outs = invokeLayer(node.layer, xs, layerWeights(node.layer, weights), { training, mask, masks: listMasks, attentionMask, initialState: split.initialState?.map((s) => values.get(s)!) });
      const outMask = many ? many.computeMaskMany?.(xs, listMasks!) : node.layer.computeMask(xs[0]!, mask);
      (node.record?.outputs ?? [node]).forEach((t, i) => {
        values.set(t, outs[i]!);
        masks.set(t, i === 0 ? outMask : undefined);
      });
    }
    // each output's mask rides on it, for the loss (Keras's _keras_mask)
    for (const t of this.outputs) if (masks.get(t)) tracedMasks.set(values.get(t)!, masks.get(t)!);
    return this.outputs.map((t) => values.get(t)!);
  }
}

/**
 * A model from symbolic inputs to outputs (Keras' `tf.model`).
 * @example
 * const a = kiln.input({ shape: [4] }), b = kiln.input({ shape: [2] });
 * const h = kiln.layers.concatenate().apply([kiln.layers.dense({ units: 8 }).apply(a), kiln.layers.dense({ units: 8 }).apply(b)]);
 * const m = kiln.model({ inputs: [a, b], outputs: kiln.layers.dense({ units: 1 }).apply(h) });
 */
export function model(args: FunctionalArgs): Functional {
  return new Functional(args);
}

/** What a subclassed model's first `call` (traced with placeholder weights) found. */
interface Built {
  readonly inputs: readonly InputSpec[];
  readonly layers: readonly LayerShapes[];
  readonly outputs: readonly Shape[];
}

/**
 * A subclassed model: keep layers in properties (or lists in properties; they
 * are tracked when `call` first applies them, as Keras tracks attributes, or
 * explicitly with `this.track(layer)`) and write `call`, which applies them with
 * `layer.apply(x)` and may use any kiln function. The input
 * shape comes from `build(inputShape)` or the first fit/evaluate/predict's x.
 * Weights are ordered by each tracked layer's first use in `call`; a tracked
 * layer `call` never applies has none.
 * @example
 * class Mlp extends kiln.Model {
 *   dense1 = kiln.layers.dense({ units: 8, activation: 'relu' });
 *   dense2 = kiln.layers.dense({ units: 3 });
 *   call(x: kiln.Tensor) { return this.dense2.apply(this.dense1.apply(x)); }
 * }
 */
export abstract class Model extends LayersModel {
  protected readonly kind: string = 'Model';
  readonly layers: Layer[] = [];
  private built?: Built;

  constructor(args: { name?: string } = {}) {
    super(args.name ?? 'model');
  }

  /** The forward pass on traced tensors: one Tensor (or a list, one per input) in, one (or a list) out. */
  abstract call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor | Tensor[];

  /** Registers `layer` as one of the model's (its weights are the model's); returns it. */
  protected track<L extends Layer>(layer: L): L {
    if (!(layer instanceof Layer)) throw new KilnError(`${this.subject}: track expected a layer, got ${typeof layer}.`);
    if (this.layers.includes(layer)) return layer;
    if (this.layers.some((l) => l.name === layer.name)) throw new KilnError(`${this.subject}: a layer named "${layer.name}" is already tracked.`);
    this.layers.push(layer);
    this.built = undefined;
    this.invalidate();
    return layer;
  }

  /** Fixes the input shape(s) (without the batch dimension): traces `call` once to find each layer's shapes. */
  build(inputShape: Shape | readonly Shape[], dtype: 'float32' | 'int32' = 'float32'): void {
    const shapes: Shape[] = Array.isArray(inputShape) && Array.isArray(inputShape[0]) ? [...(inputShape as readonly Shape[])] : [inputShape as Shape];
    for (const s of shapes) if (!s.every((d) => Number.isInteger(d) && d > 0)) throw new KilnError(`${this.subject}: build expected an input shape (without the batch dimension) of positive integers, got [${s.join(',')}].`);
    const inputs = shapes.map((shape) => ({ shape: [...shape], dtype }));
    const found = new Map<Layer, LayerShapes>();
    let outputs: Tensor[] = [];
    // a stateful layer's own batchSize fixes the batch (tracked layers, and layers held in properties that call will track)
    const held = Object.values(this).flatMap((v) => (v instanceof Layer ? [v] : Array.isArray(v) ? v.filter((l): l is Layer => l instanceof Layer) : []));
    const batch = [...this.layers, ...held].map((l) => l.fixedBatchSize).find((b) => b !== undefined) ?? null;
    const specs = inputs.map((s) => spec([batch, ...s.shape], s.dtype));
    // placeholder weights (zeros): this trace only finds shapes
    trace((...xs: Tensor[]) => {
      outputs = this.run(xs, false, (layer, ts) => {
        const shapesIn = ts.map((t) => this.shapeOf(layer, t));
        const outputShape = outputShapeOf(layer, shapesIn);
        if (!found.has(layer)) found.set(layer, { layer, inputShape: shapesIn[0]!, outputShape });
        const w = Object.fromEntries(layer.weights(found.get(layer)!.inputShape).map((s) => [s.name, F.zeros([...s.shape])]));
        return w;
      });
      return outputs;
    }, specs);
    this.built = {
      inputs,
      layers: this.layers.filter((l) => found.has(l)).map((l) => found.get(l)!),
      outputs: outputs.map((t) => this.shapeOf(undefined, t)),
    };
    this.invalidate();
  }

  /** A traced tensor's shape without the batch dimension. */
  private shapeOf(layer: Layer | undefined, t: Tensor): Shape {
    const rest = t.type.shape.slice(1);
    if (t.rank < 1 || rest.some((d) => typeof d !== 'number')) throw new KilnError(`${this.subject}: ${layer ? `${layer.className} "${layer.name}" got` : 'call returned'} ${t.type.shape.length ? 'a tensor whose only dynamic dimension must be the batch' : 'a scalar, expected a batch'}.`);
    return rest as number[];
  }

  /** Runs the user's `call` with `layer.apply(tensor)` bound to `weightsOf(layer)`. */
  private run(xs: readonly Tensor[], training: boolean, weightsOf: (layer: Layer, xs: readonly Tensor[]) => Record<string, Tensor>): Tensor[] {
    return withTensorApplier((layer, ts, options) => {
      if (!this.layers.includes(layer)) {
        // a layer held in a property (or a list in one) is tracked when call first applies it, as Keras tracks attributes
        const held = Object.values(this).some((v) => v === layer || (Array.isArray(v) && v.includes(layer)));
        if (!held) throw new KilnError(`${this.subject}: call applied ${layer.className} "${layer.name}", which is neither a property of the model nor tracked; assign it to a property (this.dense = kiln.layers.dense(…)) or register it with this.track(layer).`);
        if (this.layers.some((l) => l.name === layer.name)) throw new KilnError(`${this.subject}: two layers are named "${layer.name}".`);
        this.layers.push(layer);
      }
      // a mask given, or the one the layer that made the input left on it (Keras' _keras_mask)
      const many = isMultiInput(layer) ? layer : undefined;
      const given = options.mask;
      if (many && given !== undefined && !Array.isArray(given)) throw new KilnError(`${layer.className} "${layer.name}": expected mask to be a list of ${ts.length} masks (one per input, undefined for none), got one mask.`);
      if (!many && Array.isArray(given)) throw new KilnError(`${layer.className} "${layer.name}": expected one mask (a Tensor), got a list of ${given.length}.`);
      const mask = many ? undefined : (given as Tensor | undefined) ?? tracedMasks.get(ts[0]!);
      const masks = many ? ts.map((t, i) => (given as readonly (Tensor | undefined)[] | undefined)?.[i] ?? tracedMasks.get(t)) : undefined;
      const outs = invokeLayer(layer, ts, weightsOf(layer, ts), { training, mask, masks, attentionMask: options.attentionMask, initialState: options.initialState });
      const outMask = many ? many.computeMaskMany?.(ts, masks!) : layer.computeMask(ts[0]!, mask);
      if (outMask) tracedMasks.set(outs[0]!, outMask);
      return outs;
    }, () => {
      const out = this.call(xs.length === 1 ? xs[0]! : [...xs], { training });
      const outs = Array.isArray(out) ? out : [out];
      if (outs.length === 0 || outs.some((t) => !(t instanceof Tensor))) throw new KilnError(`${this.subject}: call must return a Tensor or a non-empty list of Tensors.`);
      return outs;
    });
  }

  protected override hasTopology(): boolean {
    return this.built !== undefined;
  }

  protected override prepare(xs: readonly Tensor[]): void {
    if (this.built) return;
    const shapes = xs.map((x) => x.shape.slice(1) as number[]);
    this.build(shapes.length === 1 ? shapes[0]! : shapes, xs[0]!.dtype === 'int32' ? 'int32' : 'float32');
  }

  toConfig(): never {
    throw new KilnError(`${this.subject}: a subclassed model's forward pass is code, so it has no config to save; use model.saveWeights(path) and, to restore, build the model and call model.loadWeights(path).`);
  }

  protected override outputNames(): string[] | undefined {
    return this.built?.outputs.map((_, i) => `output_${i + 1}`);
  }

  protected topology(): Topology {
    if (!this.built) throw new KilnError(`${this.subject}: the model is not built; call model.build(inputShape) or fit/predict first.`);
    return this.built;
  }

  protected forward(inputs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, training: boolean): Tensor[] {
    return this.run(inputs, training, (layer) => layerWeights(layer, weights));
  }
}

/**
 * `layer.apply(tensor)` outside a model, as calling a Keras layer on a tensor:
 * the first call builds the layer's weights (in a one-layer model kept for the
 * layer, so later calls reuse them) and runs it in inference mode.
 */
const eagerModels = new WeakMap<Layer, LayersModel>();
setEagerRunner((layer, xs, asList) => {
  let wrapper = eagerModels.get(layer);
  if (!wrapper) {
    const inputs = xs.map((x) => input({ shape: x.shape.slice(1) as number[], dtype: x.dtype === 'int32' ? 'int32' : 'float32' }));
    const out = layer.apply(asList ? inputs : inputs[0]!) as SymbolicTensor | SymbolicTensor[];
    wrapper = model({ inputs, outputs: out });
    eagerModels.set(layer, wrapper);
  }
  const built = wrapper.nestingShapes().inputs;
  xs.forEach((x, i) => {
    const want = built[i];
    if (!want || x.rank !== want.length + 1 || want.some((d, k) => d !== x.shape[k + 1])) {
      throw new KilnError(`${layer.className} "${layer.name}": its first call on a tensor built it for inputs of shape [n,${want?.join(',')}], got ${formatType(x.type)}.`);
    }
  });
  return wrapper.apply(asList ? [...xs] : xs[0]!);
});
