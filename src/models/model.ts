/**
 * `LayersModel`: what every Keras-style model shares — compile, fit, evaluate,
 * predict, trainOnBatch, weights, summary, callbacks. A model's training step,
 * evaluation and prediction are traced once into three entries of ONE compiled
 * wasm module. The entries share the weights by name (`<layer name>/<weight
 * name>`), so training updates what predict reads; the optimizer's whole update
 * runs inside the training entry. Subclasses give the layers (in weight order,
 * each with the input shape its weights are made for), the inputs and the
 * forward pass: `Sequential` (a stack), `Functional` (`kiln.model`) and `Model`
 * (subclassed, a user `call`).
 */
import * as F from '../../compiler/functions/index.js';
import { checkOptions, optionKeys } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import type { Graph } from '../../compiler/ir.js';
import type { Value } from '../../compiler/ops/op.js';
import { interpret } from '../../compiler/interpret.js';
import { Tensor } from '../../compiler/tensor.js';
import { spec, trace } from '../../compiler/trace.js';
import { valueAndGrad } from '../../compiler/transforms.js';
import { uniformAt } from '../../compiler/random.js';
import { formatType } from '../../compiler/types.js';
import { compileModule } from '../compile.js';
import type { InputData, KilnModule } from '../runtime/index.js';
import { checkedWeights, type Layer, type Shape, type WeightSpec } from '../layers/layer.js';
import { SymbolicTensor } from '../layers/symbolic.js';
import { ModelLayer } from './nested.js';
import type { DType } from '../../compiler/types.js';
import * as optimizers from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/index.js';
import { stepFlag } from '../optimizers/optimizer.js';
import { getLoss, type Loss } from './losses.js';
import { getMetric, type Metric } from './metrics.js';
import { ProgbarLogger } from './progress.js';
import { Dataset } from '../data/dataset.js';
import { CallQueue } from './callQueue.js';
import { ModelVariable } from './modelVariables.js';
import type { Variable } from '../variables.js';
import type { ExportOptions } from './export.js';
import type { SaveOptions } from './save.js';


type LossIdentifier = string | Loss;
type MetricIdentifier = string | Metric;

export interface CompileArgs {
  optimizer: Optimizer | 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';
  /** One loss for every output, or one per output: a list in output order, or a record by output name. */
  loss: LossIdentifier | readonly LossIdentifier[] | Readonly<Record<string, LossIdentifier>>;
  /**
   * Metric names, or metric objects (`metrics.topKCategoricalAccuracy({ k: 3 })`):
   * a list for every output, or per output — a list of lists in output order, or a
   * record by output name. With several outputs they are logged as `<output>_<metric>`.
   */
  metrics?: readonly MetricIdentifier[] | readonly (readonly MetricIdentifier[])[] | Readonly<Record<string, MetricIdentifier | readonly MetricIdentifier[]>>;
  /** Each output's weight in the total loss (1 when left out): a list in output order, or a record by output name. */
  lossWeights?: readonly number[] | Readonly<Record<string, number>>;
}

export type Logs = Record<string, number>;

/** What `fit` tells callbacks before training (Keras' `callback.params`). */
export interface TrainingParams {
  /** The index one past the last epoch (`fit`'s `epochs`). */
  epochs: number;
  /** The first epoch's index (`fit`'s `initialEpoch`). */
  initialEpoch: number;
  /** Batches per epoch. */
  steps: number;
  batchSize: number;
  /** Training examples (validation held out). */
  samples: number;
  verbose: 0 | 1 | 2;
}

/**
 * Hooks `fit` calls, with Keras' names and order: onTrainBegin, then per epoch
 * onEpochBegin, onBatchBegin/onBatchEnd per batch, onEpochEnd; onTrainEnd last.
 * Batch logs hold the running means of the loss and metrics over the epoch so far;
 * epoch logs add `val_*` values. A callback may set `model.stopTraining = true`
 * (training stops after the current batch's hooks, the epoch ends normally),
 * read and restore weights (`model.getWeights()`/`setWeights`) and change
 * `model.optimizer.learningRate` (a number) between steps.
 * Extend `kiln.callbacks.Callback` or pass a plain object.
 */
export interface Callback {
  /** Called by `fit` before any hook. */
  setModel?(model: LayersModel): void;
  setParams?(params: TrainingParams): void;
  onTrainBegin?(logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the examples, taken from the end before shuffling, held out for validation. */
  validationSplit?: number;
  /** (x, y) held out: each a Tensor, or a list of Tensors for several inputs or outputs; or a Dataset of [x, y] (or { xs, ys }) batches. */
  validationData?: readonly [Tensor | readonly Tensor[], Tensor | readonly Tensor[]] | Dataset<unknown>;
  /**
   * 0: silent; 1: a progress bar redrawn in place when stdout is a terminal, one
   * line per epoch otherwise (and in browsers, on the console); 2: one line per epoch.
   */
  verbose?: 0 | 1 | 2;
  seed?: number;
  callbacks?: Callback | readonly Callback[];
  /** The epoch to start at (to resume training): epochs initialEpoch … epochs − 1 run. */
  initialEpoch?: number;
  /**
   * Batches per epoch; the data is cycled through, reshuffled at each pass (a
   * Dataset is iterated again, applying its own shuffling). Default: one pass.
   */
  stepsPerEpoch?: number;
  /**
   * Weights of each class (class index → weight, 1 when left out): each training
   * example's loss is multiplied by its class's weight. Labels are class indices
   * (sparse losses) or one-hot rows (the class is the row's argmax; a single
   * column counts as classes 0/1).
   */
  classWeight?: Readonly<Record<number, number>>;
}

/** The option keys of each model method, one list a method: anything else is refused (as Keras refuses unknown kwargs). */
const methodOptions = {
  compile: optionKeys<CompileArgs>({ optimizer: true, loss: true, metrics: true, lossWeights: true }),
  fit: optionKeys<FitArgs>({
    epochs: true, batchSize: true, shuffle: true, validationSplit: true, validationData: true, verbose: true,
    seed: true, callbacks: true, initialEpoch: true, stepsPerEpoch: true, classWeight: true,
  }),
  evaluate: ['batchSize'],
  evaluateDataset: ['steps'],
  predict: ['batchSize'],
  save: optionKeys<SaveOptions>({ includeOptimizer: true, metadata: true, allowNonFinite: true }),
  export: optionKeys<ExportOptions>({ entries: true, maxBatch: true, folder: true, metadata: true, allowNonFinite: true }),
} as const;

export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}

interface WeightEntry {
  readonly name: string;
  readonly layer: Layer;
  readonly spec: WeightSpec;
}

/** One output's part of the objective: its loss and weight, and its metrics with the names they are logged under. */
interface Head {
  readonly output: string;
  readonly loss: Loss;
  readonly weight: number;
  readonly metrics: readonly { readonly log: string; readonly metric: Metric }[];
}

interface Compiled {
  readonly optimizer: Optimizer;
  readonly args: CompileArgs;
  /** Per output; resolved once the outputs are known (a subclassed model's at its first call). */
  heads?: readonly Head[];
}

const optimizerByName = {
  sgd: () => optimizers.sgd({ learningRate: 0.01 }),
  adam: () => optimizers.adam(),
  adamw: () => optimizers.adamw(),
  rmsprop: () => optimizers.rmsprop(),
  adagrad: () => optimizers.adagrad(),
};

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `value` per output: the same for all, a list in output order, or a record by output name (`what` names the compile argument). */
function perOutput<T>(what: string, outputs: readonly string[], value: T | readonly T[] | Readonly<Record<string, T>>, isOne: (v: unknown) => v is T, missing?: T): T[] {
  if (isOne(value)) return outputs.map(() => value);
  if (Array.isArray(value)) {
    if (value.length !== outputs.length) throw new KilnError(`compile: expected ${what} to be one for every output or a list of ${outputs.length} (one per output: ${outputs.join(', ')}), got a list of ${value.length}.`);
    return [...value];
  }
  if (isRecord(value)) {
    const unknown = Object.keys(value).filter((k) => !outputs.includes(k));
    if (unknown.length) throw new KilnError(`compile: ${what} names ${unknown.map((k) => `"${k}"`).join(', ')}, which ${unknown.length === 1 ? 'is not an output' : 'are not outputs'}; the outputs are ${outputs.map((k) => `"${k}"`).join(', ')}.`);
    return outputs.map((o) => {
      const v = Object.hasOwn(value, o) ? (value as Record<string, T>)[o] : missing;
      if (v === undefined) throw new KilnError(`compile: ${what} gives nothing for output "${o}"; expected one entry per output (${outputs.join(', ')}).`);
      return v;
    });
  }
  throw new KilnError(`compile: expected ${what} to be one for every output, a list or a record by output name, got ${typeof value}.`);
}

const isLossId = (v: unknown): v is LossIdentifier => typeof v === 'string' || (isRecord(v) && typeof v.fn === 'function');
const isMetricId = (v: unknown): v is MetricIdentifier => typeof v === 'string' || (isRecord(v) && typeof v.name === 'string' && (typeof v.sum === 'function'));
const isMetricList = (v: unknown): v is readonly MetricIdentifier[] => Array.isArray(v) && v.every(isMetricId);

/** The losses, weights and metrics of each output, from compile's arguments. */
function resolveHeads(args: CompileArgs, outputs: readonly string[]): Head[] {
  const lossList = perOutput('loss', outputs, args.loss, isLossId).map(getLoss);
  const weights = args.lossWeights === undefined ? outputs.map(() => 1) : perOutput('lossWeights', outputs, args.lossWeights, (v): v is number => typeof v === 'number', 1);
  weights.forEach((w, i) => {
    if (!Number.isFinite(w)) throw new KilnError(`compile: expected lossWeights for output "${outputs[i]}" to be a finite number, got ${String(w)}.`);
  });
  // a flat list applies to every output; a list of lists or a record is per output
  const given = args.metrics ?? [];
  const metricLists: (readonly MetricIdentifier[])[] = isMetricList(given)
    ? outputs.map(() => given)
    : perOutput('metrics', outputs, given as readonly (readonly MetricIdentifier[])[] | Readonly<Record<string, MetricIdentifier | readonly MetricIdentifier[]>>, isMetricList, []).map((m) => (Array.isArray(m) ? m : [m as MetricIdentifier]));
  return outputs.map((output, i) => {
    const seen = new Set<string>();
    const metrics = metricLists[i]!.map((id) => {
      const metric = getMetric(id, lossList[i]!);
      if (seen.has(metric.name)) throw new KilnError(`compile: metric "${metric.name}" is given twice${outputs.length > 1 ? ` for output "${output}"` : ''}.`);
      seen.add(metric.name);
      return { log: outputs.length === 1 ? metric.name : `${output}_${metric.name}`, metric };
    });
    return { output, loss: lossList[i]!, weight: weights[i]!, metrics };
  });
}

/** A NaN or infinity in the data is an error before training (it would flood the weights with NaN). */
function checkFinite(method: string, what: string, v: Value): void {
  if (v.dtype !== 'float32') return;
  const width = v.data.length / Math.max(v.shape[0] ?? 1, 1);
  for (let i = 0; i < v.data.length; i++) {
    if (!Number.isFinite(v.data[i]!)) throw new KilnError(`${method}: ${what} holds ${v.data[i]} at example ${Math.floor(i / width)} (flat index ${i}); clean or impute the data first.`);
  }
}

/** Rows `index` of a batch-major value. */
function rows(v: Value, index: Int32Array): Value {
  const width = v.data.length / v.shape[0]!;
  const out = v.dtype === 'float32' ? new Float32Array(index.length * width) : new Int32Array(index.length * width);
  index.forEach((r, i) => out.set(v.data.subarray(r * width, (r + 1) * width), i * width));
  return { dtype: v.dtype, shape: [index.length, ...v.shape.slice(1)], data: out };
}

const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);

/** Consecutive batches of rows 0 … n − 1. */
function* batchesOf(n: number, batchSize: number): Generator<Int32Array> {
  for (let start = 0; start < n; start += batchSize) yield range(start, Math.min(start + batchSize, n));
}

function permutation(n: number, seed: number): Int32Array {
  const order = range(0, n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniformAt(seed, i) * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** One model input: its shape without the batch dimension, its dtype. */
export interface InputSpec {
  readonly shape: Shape;
  readonly dtype: 'float32' | 'int32';
}

/** A model's layer, with the input shape its weights are made for and its output shape (both without the batch dimension). */
export interface LayerShapes {
  readonly layer: Layer;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
}

/** What a model is, for `LayersModel`: its layers in weight order (each once), its inputs, its outputs' shapes. */
export interface Topology {
  readonly layers: readonly LayerShapes[];
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly Shape[];
}

/** x (one value per model input) and y (one per output), batch-major. */
interface Data {
  readonly xs: Value[];
  readonly ys: Value[];
}

/** The compiled entries' names for n inputs (labels, outputs): 'x' for one, 'x_0', 'x_1', … for several. */
const entryNames = (prefix: string, n: number): string[] => (n === 1 ? [prefix] : Array.from({ length: n }, (_, i) => `${prefix}_${i}`));

const rowsOf = (data: Data, index: Int32Array): Data => ({ xs: data.xs.map((v) => rows(v, index)), ys: data.ys.map((v) => rows(v, index)) });

const size = (shape: Shape) => shape.reduce((x, y) => x * y, 1);

const sameShape = (a: readonly unknown[], b: Shape) => a.length === b.length && b.every((d, i) => d === a[i]);

/** `layer`'s weights out of a model's (named `<layer name>/<weight name>`), by their own names. */
export function layerWeights(layer: Layer, weights: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  const prefix = `${layer.name}/`;
  return Object.fromEntries(Object.entries(weights).filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t]));
}

/**
 * The machinery every model shares. Subclasses give `topology()` (layers with
 * shapes, inputs, outputs) and `forward` (inputs to outputs inside a trace, the
 * weights bound by `<layer name>/<weight name>`); `Output` is what `predict`
 * returns (one Tensor, or one per output).
 */
export abstract class LayersModel<Output extends Tensor | Tensor[] = Tensor | Tensor[]> {
  readonly name: string;
  /** 'Sequential', 'Functional', 'Model': the subject of the model's errors. */
  protected abstract readonly kind: string;
  private compiled?: Compiled;
  private module?: KilnModule;
  /** fit, evaluate, trainOnBatch, ready, save, export … take turns (see CallQueue). */
  private readonly calls = new CallQueue();
  /** Bumped on every change of the weights, so variables over them (trainableWeights) know. */
  weightsVersion = 0;
  private variableMap?: Map<string, ModelVariable>;
  private building?: Promise<KilnModule>;
  private maxBatch = 0;
  private readonly values = new Map<string, Float32Array>();
  /** A predict-only module that `ready()` builds for a model not compiled for training. */
  private predictModule?: { readonly module: KilnModule; readonly maxBatch: number };
  private warnedInterpreting = false;
  /** Optimizer state restored from a save, bound when the module is built instead of the initial state. */
  private restoredOptimizerState?: Record<string, Float32Array>;
  private graphs?: { trainStep: Graph; evaluate: Graph; predict: Graph };
  /** Set by a callback to end `fit` after the current batch; `fit` resets it at its start. */
  stopTraining = false;

  protected constructor(name: string) {
    this.name = name;
  }

  /** The layers (in weight order, each once, with its shapes), the inputs and the outputs' shapes. */
  protected abstract topology(): Topology;

  /** Inside a trace: the outputs for `inputs` ([batch, ...shape] each), the weights bound by `<layer name>/<weight name>`. */
  protected abstract forward(inputs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, training: boolean): Tensor[];

  /** Called with x before it is checked against the inputs (a subclassed model builds itself from x's shapes). */
  protected prepare(_xs: readonly Tensor[]): void {}

  /** Drops the traced graphs and the module (the structure or the compile arguments changed). */
  protected invalidate(): void {
    this.module = undefined;
    this.predictModule = undefined;
    this.building = undefined;
    this.graphs = undefined;
  }

  /** `<Kind> "<name>"`: the subject of this model's errors. */
  get subject(): string {
    return `${this.kind} "${this.name}"`;
  }

  private weightEntries(topology = this.topology()): WeightEntry[] {
    return topology.layers.flatMap(({ layer, inputShape }) => checkedWeights(layer, inputShape).map((spec) => ({ name: `${layer.name}/${spec.name}`, layer, spec })));
  }

  /** The weights in Keras' sense: without bookkeeping state (dropout's step counter). */
  private publicWeights(topology = this.topology()): WeightEntry[] {
    return this.weightEntries(topology).filter((w) => !w.spec.internal);
  }

  countParams(): number {
    return this.publicWeights().reduce((a, w) => a + size(w.spec.shape), 0);
  }

  /** Prints a Keras-like table: layer, output shape, parameters, totals. */
  summary(print: (line: string) => void = console.log): void {
    const topology = this.topology();
    const weights = this.publicWeights(topology);
    const rowsOut = topology.layers.map(({ layer: l, outputShape }) => {
      const params = weights.filter((w) => w.layer === l).reduce((a, w) => a + size(w.spec.shape), 0);
      return [`${l.name} (${l.className})`, `[null,${outputShape.join(',')}]`, String(params)];
    });
    const widths = [0, 1, 2].map((c) => Math.max(...[['Layer (type)', 'Output shape', 'Param #'], ...rowsOut].map((r) => r[c]!.length)) + 2);
    const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('');
    const rule = '_'.repeat(widths.reduce((a, b) => a + b, 0));
    const total = this.countParams();
    const trainable = weights.filter((w) => w.spec.trainable && w.layer.trainable).reduce((a, w) => a + size(w.spec.shape), 0);
    [rule, line(['Layer (type)', 'Output shape', 'Param #']), '='.repeat(rule.length), ...rowsOut.map(line), '='.repeat(rule.length),
      `Total params: ${total}`, `Trainable params: ${trainable}`, `Non-trainable params: ${total - trainable}`, rule].forEach((l) => print(l));
  }

  /** The optimizer given to `compile` (undefined before): callbacks change its `learningRate`. */
  get optimizer(): Optimizer | undefined {
    return this.compiled?.optimizer;
  }

  /** Whether the training step takes per-example loss weights (`sample_weight`): every output's loss has a per-example form. */
  private get weighted(): boolean {
    return this.heads('fit').every((h) => h.loss.perExample !== undefined);
  }

  /**
   * The outputs' names, for per-output losses, metrics and logs (undefined while
   * unknown: a subclassed model before its first call). Default 'output_1', ….
   */
  protected outputNames(): string[] | undefined {
    return this.topology().outputs.map((_, i) => `output_${i + 1}`);
  }

  /** The inputs' names, by which a record of features feeds them (undefined: the model's inputs have none). */
  protected inputNames(): string[] | undefined {
    return undefined;
  }

  /** Each output's loss, weight and metrics (compile's arguments resolved against the outputs). */
  private heads(method: string): readonly Head[] {
    const c = this.requireCompiled(method);
    if (c.heads) return c.heads;
    const names = this.outputNames();
    if (!names) throw new KilnError(`${this.subject}: the model's outputs are not known yet; call model.build(inputShape) before ${method}.`);
    return (c.heads = resolveHeads(c.args, names));
  }

  /**
   * Sets the optimizer, loss(es), loss weights and metrics; the module is built at
   * the first fit, evaluate or trainOnBatch. With several outputs the total loss is
   * the weighted sum of the outputs' losses, and each output's loss and metrics are
   * logged as `<output>_loss`, `<output>_<metric>`. Compiling again keeps the
   * weights; the optimizer's state starts over with the new optimizer.
   */
  compile(args: CompileArgs): void {
    if (args === undefined || args === null || typeof args !== 'object') throw new KilnError(`compile: expected { optimizer, loss, metrics? }, got ${String(args)}.`);
    checkOptions('compile', args, methodOptions.compile);
    const optimizer = typeof args.optimizer === 'string' ? optimizerByName[args.optimizer]?.() : args.optimizer;
    if (!optimizer) throw new KilnError(`compile: unknown optimizer "${String(args.optimizer)}"; expected ${Object.keys(optimizerByName).join(', ')} or a kiln.optimizers object.`);
    if (this.module) this.currentValues(); // the weights the old module trained, kept for the new one
    this.compiled = { optimizer, args };
    this.invalidate();
    if (this.outputNames()) this.heads('compile'); // bad names fail now, not at the first fit
  }

  /** Specs of x (one per input) by entry name. */
  private inputSpecs(topology: Topology): Record<string, ReturnType<typeof spec>> {
    const names = entryNames('x', topology.inputs.length);
    return Object.fromEntries(topology.inputs.map((s, i) => [names[i]!, spec([null, ...s.shape], s.dtype as DType)]));
  }

  /** The forward pass on the traced record's inputs, as the trace's outputs (one tensor, or 'output_0', …). */
  private predictFrom(t: Record<string, Tensor>, topology: Topology): Tensor | Tensor[] {
    const outputs = this.forward(entryNames('x', topology.inputs.length).map((n) => t[n]!), t, false);
    return outputs.length === 1 ? outputs[0]! : outputs;
  }

  /**
   * The predict graph, traced afresh; `watch(layer, first, end)` hears which
   * nodes (ids first … end-1) each call of a top-level layer made, for views that
   * group the graph by layer (TensorBoard's graph dashboard).
   * @example const g = model.tracePredict((name, first, end) => console.log(name, first, end));
   */
  tracePredict(watch?: (layerName: string, first: number, end: number) => void): Graph {
    const topology = this.topology();
    const specs = { ...this.inputSpecs(topology), ...Object.fromEntries(this.weightEntries(topology).map((w) => [w.name, spec([...w.spec.shape], 'float32', { kind: 'parameter' })])) };
    if (!watch) return trace((t: Record<string, Tensor>) => this.predictFrom(t, topology), specs);
    const patched: Layer[] = [];
    for (const { layer } of topology.layers) {
      if (patched.includes(layer) || Object.prototype.hasOwnProperty.call(layer, 'call')) continue;
      patched.push(layer);
      for (const method of ['call', 'callMany'] as const) {
        const original = (layer as unknown as Record<string, unknown>)[method];
        if (typeof original !== 'function') continue;
        (layer as unknown as Record<string, unknown>)[method] = (x: Tensor | readonly Tensor[], ...rest: unknown[]) => {
          const builder = (Array.isArray(x) ? x[0] : (x as Tensor))?.builder;
          const first = builder?.nodes.length ?? 0;
          const out = (original as (...a: unknown[]) => Tensor).call(layer, x, ...rest);
          if (builder) watch(layer.name, first, builder.nodes.length);
          return out;
        };
      }
    }
    try {
      return trace((t: Record<string, Tensor>) => this.predictFrom(t, topology), specs);
    } finally {
      for (const layer of patched) for (const method of ['call', 'callMany']) delete (layer as unknown as Record<string, unknown>)[method];
    }
  }

  private trace(): { trainStep: Graph; evaluate: Graph; predict: Graph } {
    if (this.graphs) return this.graphs;
    const c = this.requireCompiled('fit');
    const heads = this.heads('fit');
    const topology = this.topology();
    const weights = this.weightEntries(topology);
    const params = Object.fromEntries(weights.map((w) => [w.name, spec([...w.spec.shape], 'float32', { kind: 'parameter' })]));
    const xNames = entryNames('x', topology.inputs.length);
    const yNames = entryNames('y', topology.outputs.length);
    const x = this.inputSpecs(topology);
    const y = Object.fromEntries(topology.outputs.map((s, i) => [yNames[i]!, heads[i]!.loss.sparse ? spec([null], 'int32') : spec([null, ...s])]));
    const xsOf = (t: Record<string, Tensor>) => xNames.map((n) => t[n]!);
    const ysOf = (t: Record<string, Tensor>) => yNames.map((n) => t[n]!);
    // a ratio metric (precision, recall, auc) outputs its counts, `${log}_${part}`, for runOver to total and combine
    const metricOutputs = (log: string, m: Metric, y: Tensor, p: Tensor): [string, Tensor][] => (m.parts ? m.parts.map((q) => [`${log}_${q.name}`, q.sum(y, p)]) : [[log, m.sum(y, p)]]);
    // the entries' outputs: the total loss, each output's loss (several outputs), each output's metrics
    const outputs = (labels: Tensor[], predictions: Tensor[], loss: Tensor, perHead: Tensor[]) => ({
      loss,
      ...(heads.length > 1 ? Object.fromEntries(heads.map((h, i) => [`${h.output}_loss`, perHead[i]!])) : {}),
      ...Object.fromEntries(heads.flatMap((h, i) => h.metrics.flatMap(({ log, metric }) => metricOutputs(log, metric, labels[i]!, predictions[i]!)))),
    });
    const sum = (ts: Tensor[]) => ts.slice(1).reduce((a, b) => F.add(a, b), ts[0]!);
    const weightedSum = (ls: Tensor[]) => sum(ls.map((l, i) => (heads[i]!.weight === 1 ? l : F.mul(l, heads[i]!.weight))));
    const headLosses = (labels: Tensor[], predictions: Tensor[]) => predictions.map((p, i) => heads[i]!.loss.fn(labels[i]!, p));
    const trainable = weights.filter((w) => w.spec.trainable && w.layer.trainable);
    const weighted = this.weighted;
    // each output's training loss: the mean of the examples' losses times their weights (ones unless classWeight)
    const trainLosses = weighted
      ? (t: Record<string, Tensor>, ps: Tensor[]) => {
        const labels = ysOf(t);
        return ps.map((p, i) => {
          let e = heads[i]!.loss.perExample!(labels[i]!, p);
          while (e.rank > 1) e = F.mean(e, -1);
          return F.mean(F.mul(e, t.sample_weight!));
        });
      }
      : (t: Record<string, Tensor>, ps: Tensor[]) => headLosses(ysOf(t), ps);
    const trainStep = trace((t: Record<string, Tensor>) => {
      const all = Object.fromEntries(weights.map((w) => [w.name, t[w.name]!]));
      let predictions: Tensor[] | undefined; // one forward pass: layers with state (batch norm) update it once
      let perHead: Tensor[] = [];
      // Keras: the training loss adds the regularization losses of the trainable weights (evaluation's loss does not)
      const objective = (...ps: Tensor[]) => {
        predictions = this.forward(xsOf(t), { ...all, ...Object.fromEntries(trainable.map((w, i) => [w.name, ps[i]!])) }, true);
        const penalties = trainable.flatMap((w, i) => (w.spec.regularizer ? [w.spec.regularizer.penalty(ps[i]!)] : []));
        perHead = trainLosses(t, predictions);
        return sum([weightedSum(perHead), ...penalties]);
      };
      const { value, grad } = valueAndGrad(objective, trainable.map((_, i) => i))(...trainable.map((w) => all[w.name]!));
      // Keras: each constrained weight's updated value is projected by its constraint
      const constraints = new Map(trainable.flatMap((w) => (w.spec.constraint ? [[all[w.name]!, w.spec.constraint] as const] : [])));
      c.optimizer.applyGradients(trainable.map((w, i) => [grad[i]!, all[w.name]!] as const), {
        constrain: (param, updated) => constraints.get(param)?.apply(updated) ?? updated,
        loss: value,
      });
      // a step skipped for a non-finite loss or gradient reports a NaN loss (the weights are those before it)
      return outputs(ysOf(t), predictions!, trainable.length ? F.add(value, stepFlag(grad, value)) : value, perHead);
    }, { ...x, ...y, ...(weighted ? { sample_weight: spec([null]) } : {}), ...params });
    const evaluate = trace((t: Record<string, Tensor>) => {
      const predictions = this.forward(xsOf(t), t, false);
      const perHead = headLosses(ysOf(t), predictions);
      return outputs(ysOf(t), predictions, weightedSum(perHead), perHead);
    }, { ...x, ...y, ...params });
    const predict = trace((t: Record<string, Tensor>) => this.predictFrom(t, topology), { ...x, ...params });
    return (this.graphs = { trainStep, evaluate, predict });
  }

  private requireCompiled(method: string): Compiled {
    if (!this.compiled) throw new KilnError(`${this.subject}: call model.compile({ optimizer, loss }) before ${method}.`);
    return this.compiled;
  }

  /** The weights' current values: from the module once it holds them, else the initial ones. */
  private currentValues(): Map<string, Float32Array> {
    const weights = this.weightEntries();
    weights.forEach((w, i) => {
      if (!this.values.has(w.name)) this.values.set(w.name, w.spec.initializer.init(w.spec.shape, 1000 + i));
    });
    if (this.module) for (const w of weights) this.values.set(w.name, this.module.get(w.name).data as Float32Array);
    return this.values;
  }

  private async moduleFor(batchSize: number): Promise<KilnModule> {
    if (this.module && batchSize <= this.maxBatch) return this.module;
    if (this.building && batchSize <= this.maxBatch) return this.building;
    this.maxBatch = Math.max(batchSize, this.maxBatch, 32);
    const graphs = this.trace();
    const c = this.requireCompiled('fit');
    this.building = compileModule(graphs, { maxBatch: this.maxBatch }).then(({ module }) => {
      // the weights and optimizer state as they are now that the module is ready, not when it was asked for
      const values = this.currentValues();
      // a module outgrown by a larger batch: the same graphs, so its optimizer state carries over
      const previous = this.module;
      for (const [name, data] of values) module.set(name, data);
      const weights = this.weightEntries().filter((w) => w.spec.trainable && w.layer.trainable);
      for (const [name, data] of Object.entries(c.optimizer.initialState(Object.fromEntries(weights.map((w) => [w.name, { shape: w.spec.shape }]))))) {
        module.set(name, previous ? previous.get(name).data : this.restoredOptimizerState?.[name] ?? data);
      }
      this.module = module;
      return module;
    });
    return this.building;
  }

  /** x (and y) as values, checked against the model's inputs (and outputs): a Tensor, or a list of one per input (output). */
  private checkData(method: string, x: Tensor | readonly Tensor[], y?: Tensor | readonly Tensor[]): { xs: Value[]; ys?: Value[] } {
    const xs: readonly unknown[] = Array.isArray(x) ? x : [x];
    xs.forEach((t, i) => {
      const what = xs.length === 1 && !Array.isArray(x) ? 'x' : `x[${i}]`;
      if (!(t instanceof Tensor) || t.isSymbolic) throw new KilnError(`${method}: expected ${what} to be a concrete Tensor, got ${t instanceof Tensor ? 'a symbolic one' : typeof t}.`);
    });
    const tensors = xs as readonly Tensor[];
    this.prepare(tensors);
    const topology = this.topology();
    if (tensors.length !== topology.inputs.length) throw new KilnError(`${method}: expected x to be ${topology.inputs.length === 1 ? 'one Tensor' : `a list of ${topology.inputs.length} Tensors (one per input)`}, got ${Array.isArray(x) ? `a list of ${tensors.length}` : 'one Tensor'}.`);
    const n = tensors[0]!.shape[0];
    const values = tensors.map((t, i) => {
      const want = topology.inputs[i]!;
      const what = tensors.length === 1 ? 'x' : `x[${i}]`;
      if (!sameShape(t.shape.slice(1), want.shape)) throw new KilnError(`${method}: expected ${what} of shape [n,${want.shape.join(',')}], got ${formatType(t.type)}.`);
      if (t.shape[0] !== n) throw new KilnError(`${method}: expected every input to have ${String(n)} examples, got ${formatType(t.type)} for ${what}.`);
      const v = t.value!;
      checkFinite(method, what, v);
      if (v.dtype === want.dtype) return v;
      return { dtype: want.dtype, shape: v.shape, data: want.dtype === 'int32' ? Int32Array.from(v.data, Math.trunc) : Float32Array.from(v.data) } as Value;
    });
    if (y === undefined) return { xs: values };
    const heads = this.heads(method);
    const ys = Array.isArray(y) ? (y as readonly Tensor[]) : [y as Tensor];
    if (ys.length !== topology.outputs.length) throw new KilnError(`${method}: expected y to be ${topology.outputs.length === 1 ? 'one Tensor' : `a list of ${topology.outputs.length} Tensors (one per output)`}, got ${Array.isArray(y) ? `a list of ${ys.length}` : 'one Tensor'}.`);
    const labels = ys.map((t, i) => {
      if (!(t instanceof Tensor) || t.isSymbolic) throw new KilnError(`${method}: expected ${ys.length === 1 ? 'y' : `y[${i}]`} to be a concrete Tensor, got ${t instanceof Tensor ? 'a symbolic one' : typeof t}.`);
      if (t.shape[0] !== n) throw new KilnError(`${method}: expected as many labels as examples (${String(n)}), got ${formatType(t.type)}.`);
      let v = t.value!;
      const loss = heads[i]!.loss;
      const lossOf = heads.length === 1 ? `loss ${loss.name}` : `output "${heads[i]!.output}"'s loss ${loss.name}`;
      if (loss.sparse) {
        if (t.rank !== 1) throw new KilnError(`${method}: ${lossOf} expects class indices of shape [n], got ${formatType(t.type)}.`);
        const classes = topology.outputs[i]![topology.outputs[i]!.length - 1]!;
        const what = ys.length === 1 ? 'y' : `y[${i}]`;
        v.data.forEach((label, k) => {
          if (!Number.isInteger(label) || label < 0 || label >= classes) {
            throw new KilnError(`${method}: ${lossOf} expects class indices in 0…${classes - 1}, got ${label} in ${what} at example ${k}.`);
          }
        });
        if (t.dtype !== 'int32') v = { dtype: 'int32', shape: v.shape, data: Int32Array.from(v.data) };
      } else {
        const out = topology.outputs[i]!;
        if (!sameShape(t.shape.slice(1), out)) throw new KilnError(`${method}: ${lossOf} expects labels of shape [n,${out.join(',')}], got ${formatType(t.type)}.`);
        if (t.dtype !== 'float32') v = { dtype: 'float32', shape: v.shape, data: Float32Array.from(v.data) };
        checkFinite(method, ys.length === 1 ? 'y' : `y[${i}]`, v);
      }
      return v;
    });
    return { xs: values, ys: labels };
  }

  /**
   * Runs `entry` over `batches` (row indices of `data`, or batches of their own,
   * from a Dataset); returns the mean loss and metrics
   * over the examples run. `hooks.end` gets the running means after each batch and
   * says whether to stop. A non-finite training loss throws unless a hook
   * stopped training (terminateOnNaN).
   */
  private async runOver(
    method: string, entry: 'trainStep' | 'evaluate', data: Data | undefined, batches: Iterable<Int32Array | Data> | AsyncIterable<Int32Array | Data>, batchSize: number,
    hooks: { begin?: (batch: number) => Promise<void>; end?: (batch: number, logs: Logs) => Promise<boolean> } = {},
    sampleWeights?: (batch: Int32Array | Data) => Float32Array,
  ): Promise<Logs> {
    if (batchSize) await this.moduleFor(batchSize); // 0: sized by the batches (a Dataset's)
    const c = this.requireCompiled(method);
    const heads = this.heads(method);
    const training = entry === 'trainStep';
    // batch means (losses, weighted by the batch's size) and batch sums (metrics), totalled; ratio metrics' parts totalled apart
    const lossLogs = ['loss', ...(heads.length > 1 ? heads.map((h) => `${h.output}_loss`) : [])];
    const metrics = heads.flatMap((h) => h.metrics);
    const totals: Logs = Object.fromEntries([...lossLogs, ...metrics.filter((m) => !m.metric.parts).map((m) => m.log)].map((k) => [k, 0]));
    const counts: Record<string, Record<string, Float64Array>> = {};
    let seen = 0;
    const means = (): Logs => ({
      ...Object.fromEntries(lossLogs.map((k) => [k, totals[k]! / seen])),
      ...Object.fromEntries(metrics.map(({ log, metric }) => [log, metric.parts ? metric.combine!(counts[log]!) : totals[log]! / seen])),
    });
    let batch = 0;
    for await (const item of batches) { // the last batch may be smaller: same module
      await hooks.begin?.(batch);
      const part = item instanceof Int32Array ? rowsOf(data!, item) : item;
      const count = part.xs[0]!.shape[0]!;
      const module = await this.moduleFor(count); // a larger batch (from a Dataset) recompiles
      const xNames = entryNames('x', part.xs.length);
      const yNames = entryNames('y', part.ys.length);
      const inputs: Record<string, InputData> = {
        ...Object.fromEntries(part.xs.map((v, i) => [xNames[i]!, v])),
        ...Object.fromEntries(part.ys.map((v, i) => [yNames[i]!, v])),
      };
      if (training) {
        Object.assign(inputs, c.optimizer.inputs());
        if (this.weighted) inputs.sample_weight = { data: sampleWeights ? sampleWeights(item) : new Float32Array(count).fill(1), shape: [count] };
      }
      // the compiled step skips its own update when its loss or a gradient is not finite, and then reports a NaN loss
      const out = module.run(entry, inputs);
      if (training) this.weightsVersion++;
      const lossValue = out.loss!.data[0]!;
      for (const k of lossLogs) totals[k]! += out[k]!.data[0]! * count; // losses are batch means; metrics are batch sums
      for (const { log, metric } of metrics) {
        if (!metric.parts) {
          totals[log]! += out[log]!.data[0]!;
          continue;
        }
        const into = (counts[log] ??= {});
        for (const q of metric.parts) {
          const v = out[`${log}_${q.name}`]!.data;
          const total = (into[q.name] ??= new Float64Array(v.length));
          for (let i = 0; i < v.length; i++) total[i]! += v[i]!;
        }
      }
      seen += count;
      const stop = hooks.end ? await hooks.end(batch, means()) : false;
      if (training && !Number.isFinite(lossValue) && !stop) {
        throw new KilnError(`${method}: the loss or its gradients became non-finite at batch ${batch}; that step was not applied, so the model keeps the weights from before it. Lower the learning rate or check the data (kiln.callbacks.terminateOnNaN() stops training instead of throwing).`);
      }
      batch++;
      if (stop) break;
    }
    return seen ? means() : totals;
  }

  /** A Dataset's elements, [x, y] or { xs, ys } batches, as checked data. */
  private async *datasetBatches(method: string, dataset: Dataset<unknown>): AsyncGenerator<Data> {
    for await (const e of dataset) {
      const [x, y] = Array.isArray(e) && e.length === 2 ? e : e !== null && typeof e === 'object' && 'xs' in e && 'ys' in e ? [e.xs, e.ys] : [];
      if (x === undefined || y === undefined) {
        throw new KilnError(`${method}: expected the dataset's elements to be [x, y] batches or { xs, ys }, got ${e instanceof Tensor ? formatType(e.type) : Array.isArray(e) ? `a list of ${e.length}` : typeof e}.`);
      }
      const byName = (part: unknown, what: 'x' | 'y') => (isRecord(part) && !(part instanceof Tensor) ? orderRecord(method, part, what, what === 'x' ? this.inputNames() : this.outputNames(), what === 'x' ? this.topology().inputs : undefined) : part);
      yield this.checkData(method, byName(x, 'x') as Tensor | readonly Tensor[], byName(y, 'y') as Tensor | readonly Tensor[]) as Data;
    }
  }

  /** Each training example's weight from `classWeight`: its class's weight, 1 when not given. */
  private sampleWeights(method: string, y: Value, classWeight: Readonly<Record<number, number>>): Float32Array {
    if (!this.weighted) throw new KilnError(`${method}: classWeight needs losses with a per-example form (perExample); ${this.heads(method).filter((h) => !h.loss.perExample).map((h) => `loss ${h.loss.name}`).join(', ')} has none.`);
    for (const [k, w] of Object.entries(classWeight)) {
      if (!/^\d+$/.test(k)) throw new KilnError(`${method}: expected classWeight keys to be class indices (non-negative integers), got "${k}".`);
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new KilnError(`${method}: expected classWeight[${k}] to be a finite number >= 0, got ${String(w)}.`);
    }
    const n = y.shape[0]!;
    const width = y.data.length / Math.max(n, 1);
    const classOf = (i: number): number => {
      if (y.dtype === 'int32' && y.shape.length === 1) return y.data[i]!;
      if (width === 1) return y.data[i]! > 0.5 ? 1 : 0;
      let best = 0;
      for (let k = 1; k < width; k++) if (y.data[i * width + k]! > y.data[i * width + best]!) best = k;
      return best;
    };
    return Float32Array.from({ length: n }, (_, i) => classWeight[classOf(i)] ?? 1);
  }

  /**
   * Trains epochs initialEpoch … epochs − 1 over (x, y) in shuffled batches, calling
   * the callbacks' hooks; returns the History. x is a Tensor, or a list of one per
   * input; y likewise per output. Or a Dataset whose elements are [x, y] batches
   * (or { xs, ys }): each epoch iterates it again (its own shuffle reshuffles), the
   * batch size is its batches' (fit's batchSize, shuffle, validationSplit and
   * classWeight do not apply).
   * @example const history = await model.fit(xs, ys, { epochs: 5, batchSize: 64, validationSplit: 0.1, callbacks: [kiln.callbacks.earlyStopping({ patience: 2 })] });
   * @example await model.fit(kiln.data.fromTensors([xs, ys]).shuffle(1024, { seed: 0 }).batch(64), { epochs: 5 });
   */
  async fit(x: Tensor | readonly Tensor[], y: Tensor | readonly Tensor[], args?: FitArgs): Promise<History>;
  async fit(dataset: Dataset<unknown>, args?: FitArgs): Promise<History>;
  async fit(x: Tensor | readonly Tensor[] | Dataset<unknown>, yOrArgs?: Tensor | readonly Tensor[] | FitArgs, maybeArgs?: FitArgs): Promise<History> {
    return this.calls.run(async () => {
      const dataset = x instanceof Dataset ? x : undefined;
      const args = ((dataset ? yOrArgs : maybeArgs) ?? {}) as FitArgs;
      checkOptions('fit', args, methodOptions.fit);
      const { epochs = 1, shuffle = true, verbose = 1, seed = 0, initialEpoch = 0, stepsPerEpoch } = args;
      let batchSize = args.batchSize ?? 32;
      if (!Number.isInteger(epochs) || epochs < 0) throw new KilnError(`fit: expected epochs to be a non-negative integer, got ${epochs}.`);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new KilnError(`fit: expected batchSize to be a positive integer, got ${batchSize}.`);
      if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new KilnError(`fit: expected initialEpoch to be a non-negative integer, got ${initialEpoch}.`);
      if (stepsPerEpoch !== undefined && (!Number.isInteger(stepsPerEpoch) || stepsPerEpoch < 1)) throw new KilnError(`fit: expected stepsPerEpoch to be a positive integer, got ${stepsPerEpoch}.`);
      if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new KilnError(`fit: expected verbose 0, 1 or 2, got ${String(verbose)}.`);
      let data: Data | undefined;
      let trainCount: number;
      let steps: number;
      let sampleWeights: ((batch: Int32Array | Data) => Float32Array) | undefined;
      let epochBatches: () => Iterable<Int32Array | Data> | AsyncIterable<Int32Array | Data>;
      let validation: Data | Dataset<unknown> | undefined = args.validationData instanceof Dataset ? args.validationData : undefined;
      if (dataset) {
        for (const key of ['batchSize', 'validationSplit'] as const) {
          if (args[key] !== undefined) throw new KilnError(`fit: ${key} does not apply to a Dataset (its batches give the batch size; pass validationData).`);
        }
        const classWeight = args.classWeight;
        if (classWeight) {
          this.sampleWeights('fit', { dtype: 'int32', shape: [0], data: new Int32Array(0) }, classWeight); // checks the weights before training
          sampleWeights = (b) => this.sampleWeights('fit', (b as Data).ys[0]!, classWeight);
        }
        if (dataset.size === Infinity && stepsPerEpoch === undefined) throw new KilnError('fit: the dataset is infinite (repeat() without a count); pass stepsPerEpoch.');
        this.requireCompiled('fit');
        // the first batch sizes the module: take it now, the first epoch starts with it
        const pass = () => this.datasetBatches('fit', dataset);
        let current = pass();
        const head = await current.next();
        if (head.done) throw new KilnError('fit: the dataset has no batches.');
        let pending: Data | undefined = head.value;
        batchSize = pending.xs[0]!.shape[0]!;
        const next = async (): Promise<Data | undefined> => {
          if (pending) {
            const b = pending;
            pending = undefined;
            return b;
          }
          const r = await current.next();
          return r.done ? undefined : r.value;
        };
        trainCount = NaN; // not known without a pass
        steps = stepsPerEpoch ?? dataset.size ?? NaN;
        epochBatches = async function* () {
          if (stepsPerEpoch === undefined) { // one pass
            for (let b = await next(); b; b = await next()) yield b;
            current = pass();
            return;
          }
          // one stream of batches across epochs: at the end of a pass the dataset is iterated again
          for (let i = 0; i < stepsPerEpoch; i++) {
            let b = await next();
            if (!b) {
              current = pass();
              if (!(b = await next())) throw new KilnError('fit: the dataset has no batches.');
            }
            yield b;
          }
        };
      } else {
        const trainData = (data = this.checkData('fit', x as Tensor | readonly Tensor[], yOrArgs as Tensor | readonly Tensor[]) as Data);
        const n = trainData.xs[0]!.shape[0]!;
        trainCount = n;
        if (args.validationData && !validation) validation = this.checkData('fit', (args.validationData as readonly [Tensor, Tensor])[0], (args.validationData as readonly [Tensor, Tensor])[1]) as Data;
        else if (args.validationSplit && !validation) {
          if (!(args.validationSplit > 0 && args.validationSplit < 1)) throw new KilnError(`fit: expected validationSplit in (0, 1), got ${args.validationSplit}.`);
          trainCount = Math.floor(n * (1 - args.validationSplit));
          validation = rowsOf(trainData, range(trainCount, n));
        }
        if (trainCount < 1) throw new KilnError(`fit: no training examples (${n} given, ${n - trainCount} held out for validation).`);
        // with several outputs, the classes are the first output's
        const rowWeights = args.classWeight ? this.sampleWeights('fit', trainData.ys[0]!, args.classWeight) : undefined;
        sampleWeights = rowWeights && ((b) => Float32Array.from(b as Int32Array, (r) => rowWeights[r]!));
        steps = stepsPerEpoch ?? Math.ceil(trainCount / batchSize);
        // one stream of batches across epochs: pass p is shuffled with seed·7919 + p + 1; without stepsPerEpoch each epoch is one pass
        const count = trainCount;
        const stream = (function* () {
          for (let pass = initialEpoch; ; pass++) {
            const order = shuffle ? permutation(count, seed * 7919 + pass + 1) : range(0, count);
            for (let start = 0; start < count; start += batchSize) yield order.subarray(start, Math.min(start + batchSize, count));
          }
        })();
        epochBatches = function* () {
          for (let i = 0; i < steps; i++) yield stream.next().value as Int32Array;
        };
      }
      const given = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks as Callback];
      // the progress display first, so its epoch line comes before what other callbacks print
      const callbacks: Callback[] = [...(verbose ? [new ProgbarLogger({ mode: verbose === 2 ? 'lines' : 'auto' })] : []), ...given];
      const params: TrainingParams = { epochs, initialEpoch, steps, batchSize, samples: trainCount, verbose };
      for (const cb of callbacks) (cb.setModel?.(this as LayersModel), cb.setParams?.(params));
      const history: History = { epoch: [], history: {} };
      this.stopTraining = false;
      await this.moduleFor(batchSize); // compile before onTrainBegin, so callbacks read trained-on weights
      for (const cb of callbacks) await this.calls.hook(() => cb.onTrainBegin?.({}));
      let last: Logs = {};
      for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        for (const cb of callbacks) await this.calls.hook(() => cb.onEpochBegin?.(epoch, {}));
        const logs = await this.runOver('fit', 'trainStep', data, epochBatches(), batchSize, {
          begin: async (b) => { for (const cb of callbacks) await this.calls.hook(() => cb.onBatchBegin?.(b, {})); },
          end: async (b, l) => {
            for (const cb of callbacks) await this.calls.hook(() => cb.onBatchEnd?.(b, l));
            return this.stopTraining;
          },
        }, sampleWeights);
        if (validation) {
          const val = validation instanceof Dataset
            ? await this.runOver('fit', 'evaluate', undefined, this.datasetBatches('fit', validation), 0)
            : await this.runOver('fit', 'evaluate', validation, batchesOf(validation.xs[0]!.shape[0]!, batchSize), batchSize);
          for (const [k, v] of Object.entries(val)) logs[`val_${k}`] = v;
        }
        for (const cb of callbacks) await this.calls.hook(() => cb.onEpochEnd?.(epoch, logs));
        // after the callbacks, as Keras' History: it records what they add (learning_rate)
        history.epoch.push(epoch);
        for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
        last = logs;
      }
      for (const cb of callbacks) await this.calls.hook(() => cb.onTrainEnd?.(last));
      return history;
    });
  }

  /** One optimizer step on one batch; returns the loss (and metrics, when compiled with some). */
  async trainOnBatch(x: Tensor | readonly Tensor[], y: Tensor | readonly Tensor[]): Promise<number | number[]> {
    return this.calls.run(async () => {
      const data = this.checkData('trainOnBatch', x, y) as Data;
      const n = data.xs[0]!.shape[0]!;
      const logs = await this.runOver('trainOnBatch', 'trainStep', data, [range(0, n)], n);
      return Object.keys(logs).length > 1 ? Object.values(logs) : logs.loss!;
    });
  }

  /**
   * The loss and metrics over (x, y), or over a Dataset of [x, y] (or { xs, ys })
   * batches (its first `steps` batches when given): a scalar Tensor, or one per
   * value when there are metrics.
   */
  async evaluate(x: Tensor | readonly Tensor[], y: Tensor | readonly Tensor[], args?: { batchSize?: number }): Promise<Tensor | Tensor[]>;
  async evaluate(dataset: Dataset<unknown>, args?: { steps?: number }): Promise<Tensor | Tensor[]>;
  async evaluate(x: Tensor | readonly Tensor[] | Dataset<unknown>, yOrArgs?: Tensor | readonly Tensor[] | { steps?: number }, maybeArgs: { batchSize?: number } = {}): Promise<Tensor | Tensor[]> {
    return this.calls.run(async () => {
      let logs: Logs;
      if (x instanceof Dataset) {
        checkOptions('evaluate', yOrArgs, methodOptions.evaluateDataset);
        const { steps } = (yOrArgs ?? {}) as { steps?: number };
        if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new KilnError(`evaluate: expected steps to be a positive integer, got ${steps}.`);
        if (x.size === Infinity && steps === undefined) throw new KilnError('evaluate: the dataset is infinite (repeat() without a count); pass steps.');
        this.requireCompiled('evaluate');
        logs = await this.runOver('evaluate', 'evaluate', undefined, this.datasetBatches('evaluate', steps === undefined ? x : x.take(steps)), 0);
      } else {
        checkOptions('evaluate', maybeArgs, methodOptions.evaluate);
        const data = this.checkData('evaluate', x, yOrArgs as Tensor | readonly Tensor[]) as Data;
        const batchSize = maybeArgs.batchSize ?? 32;
        logs = await this.runOver('evaluate', 'evaluate', data, batchesOf(data.xs[0]!.shape[0]!, batchSize), batchSize);
      }
      const values = Object.values(logs).map((v) => F.tensor(v));
      return values.length === 1 ? values[0]! : values;
    });
  }

  /**
   * Predictions for x (a Tensor, or a list of one per input), batch by batch: in
   * the compiled module once one exists (after fit, evaluate or trainOnBatch),
   * else in the reference interpreter. One Tensor per output.
   */
  predict(x: Tensor | readonly Tensor[], args: { batchSize?: number } = {}): Output {
    checkOptions('predict', args, methodOptions.predict);
    const data = this.checkData('predict', x).xs;
    const topology = this.topology();
    const compiled = this.module ? { module: this.module, maxBatch: this.maxBatch } : this.predictModule;
    const batchSize = Math.min(args.batchSize ?? 32, compiled ? compiled.maxBatch : Infinity);
    const n = data[0]!.shape[0]!;
    const xNames = entryNames('x', data.length);
    const outNames = entryNames('output', topology.outputs.length);
    const chunks: Value[][] = outNames.map(() => []);
    // the module holds the weights; only the interpreter (no module yet) needs them on the host
    const entries = compiled ? [] : this.weightEntries(topology);
    const values = compiled ? undefined : this.currentValues();
    const weights = Object.fromEntries(entries.map((w) => [w.name, { dtype: 'float32' as const, shape: w.spec.shape, data: values!.get(w.name)! }]));
    const graph = compiled ? undefined : trace((t: Record<string, Tensor>) => this.predictFrom(t, topology), { ...this.inputSpecs(topology), ...Object.fromEntries(entries.map((w) => [w.name, spec([...w.spec.shape], 'float32', { kind: 'parameter' })])) });
    for (let start = 0; start < n; start += batchSize) {
      const index = range(start, Math.min(start + batchSize, n));
      const batch = Object.fromEntries(data.map((v, i) => [xNames[i]!, rows(v, index)]));
      const t0 = performance.now();
      const out = compiled ? compiled.module.run('predict', batch) : interpret(graph!, { ...batch, ...weights }).outputs;
      outNames.forEach((name, k) => chunks[k]!.push(out[name] as Value));
      if (!compiled && start === 0 && !this.warnedInterpreting && (performance.now() - t0) * Math.ceil(n / batchSize) > 2000) {
        this.warnedInterpreting = true;
        console.warn(`${this.subject}: predict runs in kiln's reference interpreter until the model is compiled, which is slow for this model; call \`await model.ready()\` (or fit, evaluate, trainOnBatch) first.`);
      }
    }
    const outputs = topology.outputs.map((shape, k) => {
      const out = new Float32Array(n * size(shape));
      let offset = 0;
      for (const c of chunks[k]!) (out.set(c.data, offset), (offset += c.data.length));
      return Tensor.concrete({ dtype: 'float32', shape: [n, ...shape], data: out });
    });
    return (outputs.length === 1 ? outputs[0]! : outputs) as Output;
  }

  /**
   * The architecture as `{ className, config }` (Keras-like: the layers' configs
   * and, for a functional model, how they are connected). A subclassed model has
   * none: its forward pass is code — save its weights instead.
   */
  abstract toConfig(): { className: string; config: Record<string, unknown> };

  /**
   * What an artifact needs (`model.export`): the traced entries asked for (predict
   * alone needs no compile), the model's inputs, outputs and labels by their entry
   * names, and the parameters with their current values.
   */
  artifactParts(entries: readonly ('predict' | 'trainStep' | 'evaluate')[]): {
    graphs: Record<string, Graph>;
    inputs: { name: string; dtype: 'float32' | 'int32'; shape: (number | null)[] }[];
    outputs: { name: string; dtype: 'float32' | 'int32'; shape: (number | null)[] }[];
    labels?: { name: string; dtype: 'float32' | 'int32'; shape: (number | null)[] }[];
    parameters: { name: string; shape: number[]; trainable: boolean; data: Float32Array }[];
    optimizer?: Optimizer;
    sampleWeight?: string;
  } {
    const topology = this.topology();
    const entriesW = this.weightEntries(topology);
    const values = this.currentValues();
    const parameters = entriesW.map((w) => ({ name: w.name, shape: [...w.spec.shape], trainable: w.spec.trainable && w.layer.trainable, data: values.get(w.name)!.slice() }));
    const xNames = entryNames('x', topology.inputs.length);
    const inputs = topology.inputs.map((s, i) => ({ name: xNames[i]!, dtype: s.dtype, shape: [null, ...s.shape] }));
    const outputs = entryNames('output', topology.outputs.length).map((name, i) => ({ name, dtype: 'float32' as const, shape: [null, ...topology.outputs[i]!] }));
    if (entries.length === 1 && entries[0] === 'predict') {
      const predict = this.graphs?.predict ?? trace((t: Record<string, Tensor>) => this.predictFrom(t, topology), {
        ...this.inputSpecs(topology), ...Object.fromEntries(entriesW.map((w) => [w.name, spec([...w.spec.shape], 'float32', { kind: 'parameter' })])),
      });
      return { graphs: { predict }, inputs, outputs, parameters };
    }
    const all = this.trace();
    const heads = this.heads('export');
    const yNames = entryNames('y', topology.outputs.length);
    const labels = heads.map((h, i) => (h.loss.sparse ? { name: yNames[i]!, dtype: 'int32' as const, shape: [null] } : { name: yNames[i]!, dtype: 'float32' as const, shape: [null, ...topology.outputs[i]!] }));
    return {
      graphs: Object.fromEntries(entries.map((e) => [e, all[e]])), inputs, outputs, labels, parameters,
      optimizer: entries.includes('trainStep') ? this.compiled!.optimizer : undefined,
      sampleWeight: entries.includes('trainStep') && this.weighted ? 'sample_weight' : undefined,
    };
  }

  /**
   * Writes a portable artifact that `kiln/runtime` runs without the compiler:
   * one file, or a folder (`manifest.json`, `model.wasm`, `weights.safetensors`)
   * when `folder` is true. `entries` defaults to ['predict']; with 'trainStep' the
   * artifact also trains (the optimizer's state is included).
   */
  async export(path: string, options: ExportOptions = {}): Promise<{ wasmBytes: number; weightsBytes: number }> {
    return this.calls.run(async () => {
      checkOptions('export', options, methodOptions.export);
      const { exportModel } = await import('./export.js');
      return exportModel(this as LayersModel, path, options);
    });
  }

  /** The optimizer state the training module holds (or was restored with), by input name; undefined before training. */
  optimizerStateValues(): Record<string, Float32Array> | undefined {
    const c = this.compiled;
    if (!c) return undefined;
    const trainable = this.weightEntries().filter((w) => w.spec.trainable && w.layer.trainable);
    const specs = c.optimizer.stateSpecs(Object.fromEntries(trainable.map((w) => [w.name, { shape: w.spec.shape }])));
    if (this.module) return Object.fromEntries(specs.map((s) => [s.name, (this.module!.get(s.name).data as Float32Array).slice()]));
    if (this.restoredOptimizerState) return { ...this.restoredOptimizerState };
    return c.optimizer.initialState(Object.fromEntries(trainable.map((w) => [w.name, { shape: w.spec.shape }])));
  }

  private layerView?: Layer;

  /** This model as a layer of another (see ./nested.ts): one input, one output. */
  asLayer(): Layer {
    return (this.layerView ??= new ModelLayer(this as LayersModel));
  }

  /**
   * Functional API: applies this model, as a layer, to a SymbolicTensor (from
   * `kiln.input` or a layer's apply) — Keras' model nesting.
   */
  apply(x: SymbolicTensor): SymbolicTensor;
  /**
   * On tensors: runs the model now (eagerly, or as part of a `kiln.compile` trace)
   * with its current weights, read through its variables — what Keras's
   * `model(x, training=True)` does in a custom loop. Batch norm's moving
   * statistics update only inside `kiln.compile`.
   * @example const logits = model.apply(xBatch, { training: true }) as kiln.Tensor;
   */
  apply(x: Tensor | readonly Tensor[], options?: { training?: boolean }): Tensor | Tensor[];
  apply(x: SymbolicTensor | Tensor | readonly Tensor[], options: { training?: boolean } = {}): SymbolicTensor | Tensor | Tensor[] {
    if (x instanceof SymbolicTensor) return this.asLayer().apply(x);
    const xs = (Array.isArray(x) ? x : [x]) as readonly Tensor[];
    xs.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new KilnError(`${this.subject}.apply: expected a Tensor, a list of Tensors or a SymbolicTensor, got ${t === null ? 'null' : typeof t}${xs.length > 1 ? ` at ${i}` : ''}.`);
    });
    this.prepare(xs);
    const topology = this.topology();
    if (xs.length !== topology.inputs.length) throw new KilnError(`${this.subject}.apply: expected ${topology.inputs.length} input${topology.inputs.length === 1 ? '' : 's'}, got ${xs.length}.`);
    xs.forEach((t, i) => {
      const want = topology.inputs[i]!.shape;
      if (t.rank !== want.length + 1 || want.some((d, k) => d !== t.shape[k + 1])) throw new KilnError(`${this.subject}.apply: expected input ${i} of shape [n,${want.join(',')}], got ${formatType(t.type)}.`);
    });
    const weights = Object.fromEntries(this.modelVariables().map((v) => [v.name, v.read()]));
    const outputs = this.forward(xs, weights, options.training ?? false);
    return outputs.length === 1 ? outputs[0]! : outputs;
  }

  /** For nesting: the inputs' and outputs' shapes (without the batch dimension). */
  nestingShapes(): { inputs: Shape[]; outputs: Shape[] } {
    const t = this.topology();
    return { inputs: t.inputs.map((i) => [...i.shape]), outputs: t.outputs.map((o) => [...o]) };
  }

  /** For nesting: this model's weights as one layer's (`<layer>/<weight>`), starting from their current values. */
  nestedWeights(): WeightSpec[] {
    const values = this.currentValues();
    return this.weightEntries().map((w) => {
      const value = values.get(w.name)!.slice();
      return { ...w.spec, name: w.name, trainable: w.spec.trainable && w.layer.trainable, initializer: { className: 'Constant', config: {}, init: () => value.slice() } };
    });
  }

  /** For nesting: the forward pass of one input, with this model's weights bound by `<layer>/<weight>`. */
  nestedCall(x: Tensor, weights: Readonly<Record<string, Tensor>>, training: boolean): Tensor {
    return this.forward([x], weights, training)[0]!;
  }

  /** The compile arguments (undefined before compile), for saving. */
  get compileArgs(): CompileArgs | undefined {
    return this.compiled?.args;
  }

  /**
   * Everything training left in the model: every weight by `<layer>/<weight>`
   * (bookkeeping state included) and, when asked and a module has trained, the
   * optimizer's state (slots and step) by its input names. What `save` writes.
   */
  captureState(includeOptimizer = true): { weights: Record<string, { shape: number[]; data: Float32Array }>; optimizer?: Record<string, { shape: number[]; data: Float32Array }> } {
    const entries = this.weightEntries();
    const values = this.currentValues();
    const weights = Object.fromEntries(entries.map((w) => [w.name, { shape: [...w.spec.shape], data: values.get(w.name)!.slice() }]));
    const c = this.compiled;
    if (!includeOptimizer || !c) return { weights };
    const trainable = entries.filter((w) => w.spec.trainable && w.layer.trainable);
    const specs = c.optimizer.stateSpecs(Object.fromEntries(trainable.map((w) => [w.name, { shape: w.spec.shape }])));
    const state = this.module ? (name: string) => this.module!.get(name).data as Float32Array : (name: string) => this.restoredOptimizerState?.[name];
    const optimizer: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const s of specs) {
      const data = state(s.name);
      if (data) optimizer[s.name] = { shape: [...s.shape], data: data.slice() };
    }
    return Object.keys(optimizer).length ? { weights, optimizer } : { weights };
  }

  /**
   * Restores what `captureState` gave: weights by name (each checked against the
   * model's shape; every weight must be given unless `partial`), and the
   * optimizer's state, bound when the training module is built (or at once).
   */
  restoreState(subject: string, weights: Readonly<Record<string, { shape: readonly number[]; data: Float32Array }>>, optimizer?: Readonly<Record<string, { shape: readonly number[]; data: Float32Array }>>, partial = false): void {
    const entries = this.weightEntries();
    const known = new Set(entries.map((w) => w.name));
    const extra = Object.keys(weights).filter((n) => !known.has(n));
    if (extra.length) throw new KilnError(`${subject}: the file has weights this ${this.subject} does not: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}.`);
    for (const w of entries) {
      const given = weights[w.name];
      if (!given) {
        if (partial || w.spec.internal) continue;
        throw new KilnError(`${subject}: the file has no weight "${w.name}" (of shape [${w.spec.shape.join(',')}]), which ${this.subject} needs.`);
      }
      if (!sameShape(given.shape, w.spec.shape)) throw new KilnError(`${subject}: weight "${w.name}" has shape [${given.shape.join(',')}] in the file, expected [${w.spec.shape.join(',')}].`);
    }
    for (const w of entries) {
      const given = weights[w.name];
      if (!given) continue;
      const data = Float32Array.from(given.data);
      this.values.set(w.name, data);
      this.module?.set(w.name, data);
      this.predictModule?.module.set(w.name, data);
    }
    this.weightsVersion++;
    if (!optimizer) return;
    const c = this.requireCompiled(subject);
    const trainable = entries.filter((w) => w.spec.trainable && w.layer.trainable);
    const specs = c.optimizer.stateSpecs(Object.fromEntries(trainable.map((w) => [w.name, { shape: w.spec.shape }])));
    const state: Record<string, Float32Array> = {};
    for (const s of specs) {
      const given = optimizer[s.name];
      if (!given) throw new KilnError(`${subject}: the file's optimizer state has no "${s.name}"; expected the state of ${c.optimizer.className} for this model (save again, or load with includeOptimizer false).`);
      if (!sameShape(given.shape, s.shape)) throw new KilnError(`${subject}: optimizer state "${s.name}" has shape [${given.shape.join(',')}] in the file, expected [${s.shape.join(',')}].`);
      state[s.name] = Float32Array.from(given.data);
    }
    this.restoredOptimizerState = state;
    if (this.module) for (const [name, data] of Object.entries(state)) this.module.set(name, data);
  }

  /**
   * Saves the model to one file (safetensors): the architecture and compile
   * arguments as JSON metadata, every weight, and the optimizer's state unless
   * `includeOptimizer` is false, with a CRC-32 over all of it. The write is atomic:
   * a failure leaves any previous file whole. Load it with `kiln.loadModel(path)`.
   */
  async save(path: string, options: SaveOptions = {}): Promise<void> {
    return this.calls.run(async () => {
      checkOptions('save', options, methodOptions.save);
      const { saveModel } = await import('./save.js');
      await saveModel(this as LayersModel, path, options);
    });
  }

  /** Writes every weight (`<layer>/<weight>`) to a safetensors file, atomically. */
  async saveWeights(path: string): Promise<void> {
    return this.calls.run(async () => {
      const { saveWeights } = await import('./save.js');
      await saveWeights(this as LayersModel, path);
    });
  }

  /** Reads weights that `saveWeights` (or `save`) wrote; every weight's name and shape must match. */
  async loadWeights(path: string): Promise<void> {
    return this.calls.run(async () => {
      const { loadWeights } = await import('./save.js');
      await loadWeights(this as LayersModel, path);
    });
  }

  /**
   * Builds the compiled module now, so that `predict` runs compiled: the training
   * module when the model is compiled (what fit would build), else a predict-only
   * one. Otherwise the first fit, evaluate or trainOnBatch builds it, and predict
   * runs in the reference interpreter until then.
   * @example const model = await kiln.loadModel('fashion.kiln'); await model.ready(); model.predict(images);
   */
  async ready(maxBatch = 64): Promise<void> {
    return this.calls.run(async () => {
      if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new KilnError(`ready: expected maxBatch to be a positive integer, got ${String(maxBatch)}.`);
      if (this.compiled) {
        await this.moduleFor(maxBatch);
        return;
      }
      if (this.predictModule && this.predictModule.maxBatch >= maxBatch) return;
      const { graphs, parameters } = this.artifactParts(['predict']);
      const { module } = await compileModule(graphs, { maxBatch });
      for (const p of parameters) module.set(p.name, p.data);
      this.predictModule = { module, maxBatch };
    });
  }

  /** The weights' values, layer by layer, as Keras orders them. */
  getWeights(): Tensor[] {
    const values = this.currentValues();
    return this.publicWeights().map((w) => Tensor.concrete({ dtype: 'float32', shape: w.spec.shape, data: values.get(w.name)!.slice() }));
  }

  /**
   * The weights by name (`<layer>/<weight>`), in getWeights' order, without
   * copying: the data may be a view of the module's memory, valid until the next step.
   * @example for (const w of model.namedWeights()) console.log(w.name, w.shape);
   */
  namedWeights(): { name: string; shape: number[]; data: Float32Array }[] {
    const values = this.currentValues();
    return this.publicWeights().map((w) => ({ name: w.name, shape: [...w.spec.shape], data: values.get(w.name)! }));
  }

  setWeights(weights: readonly Tensor[]): void {
    const entries = this.publicWeights();
    if (weights.length !== entries.length) throw new KilnError(`setWeights: expected ${entries.length} tensors, got ${weights.length}.`);
    entries.forEach((w, i) => {
      const t = weights[i]!;
      if (t.rank !== w.spec.shape.length || w.spec.shape.some((d, k) => d !== t.shape[k])) throw new KilnError(`setWeights: expected ${w.name} of shape [${w.spec.shape.join(',')}], got ${formatType(t.type)}.`);
      const data = Float32Array.from(t.dataSync());
      this.values.set(w.name, data);
      this.module?.set(w.name, data);
      this.predictModule?.module.set(w.name, data);
    });
    this.weightsVersion++;
  }

  /**
   * The trainable weights as variables (TF.js's `model.trainableWeights`): for
   * custom loops with `kiln.variableGrads` and `optimizer.applyGradients`, eagerly
   * or inside `kiln.compile`. Reading and writing them reads and writes the model.
   */
  get trainableWeights(): Variable[] {
    return this.modelVariables().filter((v) => v.trainable);
  }

  /** The other weights (batch norm's moving statistics …) as variables. */
  get nonTrainableWeights(): Variable[] {
    return this.modelVariables().filter((v) => !v.trainable && !this.internalWeight(v.name));
  }

  private internalWeight(name: string): boolean {
    return this.weightEntries().some((w) => w.name === name && w.spec.internal);
  }

  /** One variable per weight (bookkeeping included), made once per model structure. */
  private modelVariables(): ModelVariable[] {
    const entries = this.weightEntries();
    if (!this.variableMap || this.variableMap.size !== entries.length || entries.some((w) => !this.variableMap!.has(w.name))) {
      this.variableMap = new Map(entries.map((w) => [w.name, new ModelVariable(this, w.name, w.spec.shape, w.spec.trainable && w.layer.trainable)]));
    }
    return [...this.variableMap.values()];
  }

  /** A weight's current value (a copy). */
  readWeight(name: string): Float32Array {
    if (this.module) return this.module.get(name).data as Float32Array;
    const v = this.currentValues().get(name);
    if (!v) throw new KilnError(`${this.subject}: no weight "${name}".`);
    return v.slice();
  }

  /** Replaces one weight's value everywhere the model keeps it. */
  writeWeight(name: string, data: Float32Array): void {
    this.currentValues();
    this.values.set(name, data);
    this.module?.set(name, data);
    this.predictModule?.module.set(name, data);
    this.weightsVersion++;
  }
}


/**
 * A record of features (or labels) as the list the model takes, in the order of
 * its named inputs (outputs), as Keras feeds a dict by input name. A feature of
 * shape [n] feeds an input of shape [1] as [n, 1], as Keras expands it.
 */
function orderRecord(method: string, record: Readonly<Record<string, unknown>>, what: 'x' | 'y', names: readonly string[] | undefined, specs?: readonly InputSpec[]): Tensor[] {
  const keys = Object.keys(record);
  const kind = what === 'x' ? 'input' : 'output';
  if (!names) throw new KilnError(`${method}: got ${what} as a record (${keys.join(', ')}), but the model's ${kind}s have no names to match; build it with named kiln.input({ name }) layers, or pass a list.`);
  const missing = names.filter((n) => !(n in record));
  if (missing.length) throw new KilnError(`${method}: expected ${what} to have a key for every ${kind} (${names.join(', ')}), got ${keys.join(', ')}; missing ${missing.join(', ')}.`);
  const extra = keys.filter((k) => !names.includes(k));
  if (extra.length) throw new KilnError(`${method}: expected ${what}'s keys to name the model's ${kind}s (${names.join(', ')}), got ${extra.map((k) => `"${k}"`).join(', ')} too.`);
  return names.map((n, i) => {
    const t = record[n];
    if (!(t instanceof Tensor)) throw new KilnError(`${method}: expected ${what}.${n} to be a Tensor, got ${Array.isArray(t) ? 'a list (strings need a lookup layer or a map first)' : typeof t}.`);
    const spec = specs?.[i];
    return spec && t.rank === 1 && spec.shape.length === 1 && spec.shape[0] === 1 ? t.reshape([t.shape[0] as number, 1]) : t;
  });
}
