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
 *
 * The model holds topology, weights and the compiled module; what it is given
 * to train on becomes batches in `dataAdapter.ts`, the batch and epoch loops
 * with the callbacks run in `trainer.ts`, and the three entries are traced in
 * `entries.ts` (as Keras 3 splits data adapters and trainer from the model).
 */
import * as F from '../../compiler/functions/index.js';
import { checkOptions, checkPath, describe } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import type { Graph } from '../../compiler/ir.js';
import { Tensor } from '../../compiler/tensor.js';
import { spec, trace } from '../../compiler/trace.js';
import { formatType } from '../../compiler/types.js';
import { compileModule, compileModuleSync } from '../compile.js';
import type { KilnModule } from '../runtime/index.js';
import { checkedWeights, type Layer, type Shape, type WeightSpec } from '../layers/layer.js';
import { SymbolicTensor } from '../layers/symbolic.js';
import { ModelLayer } from './nested.js';
import type { DType } from '../../compiler/types.js';
import type { Optimizer } from '../optimizers/index.js';
import { optimizerByName, resolveHeads, type CompileArgs, type Compiled, type Head } from './compileArgs.js';
import { batchesOf, checkData, checkLabelledData, datasetBatches, entryNames, fitBatches, range, rowRange } from './dataAdapter.js';
import { traceEntries, watchingLayers, type WeightEntry } from './entries.js';
import { fitLoop, runBatches, type FitArgs, type History, type Logs, type TrainerHost } from './trainer.js';
import { Dataset } from '../data/dataset.js';
import { CallQueue } from './callQueue.js';
import { ModelVariable } from './modelVariables.js';
import type { Variable } from '../variables.js';
import type { ExportOptions } from './export.js';
import type { SaveOptions } from './save.js';
import type { RowEncoder } from '../layers/preprocessing/rowEncoder.js';
import { predictRows, rowsSpecFor } from './rowInputs.js';
import { summaryLines } from './summaryTable.js';
import { methodOptions } from './methodOptions.js';
import { checkedOptimizerState, checkInputs, checkRestoredWeights } from './topology.js';
import type { Topology } from './topology.js';
import { checkBatchSize, fitBatching, fixedBatchSize, fixedPredictBatch, pendingResets, statefulLayers } from './statefulness.js';
import type { Row } from '../runtime/rows.js';

export type { CompileArgs } from './compileArgs.js';
export type { Callback, FitArgs, History, Logs, TrainingParams } from './trainer.js';
export type { InputSpec, LayerShapes, Topology } from './topology.js';
export { layerWeights } from './topology.js';


const size = (shape: Shape) => shape.reduce((x, y) => x * y, 1);

/** A predict-only module given the weights' values. */
function holding(module: KilnModule, parameters: readonly { name: string; data: Float32Array }[], maxBatch: number): { module: KilnModule; maxBatch: number } {
  for (const p of parameters) module.set(p.name, p.data);
  return { module, maxBatch };
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
  /** Optimizer state restored from a save, bound when the module is built instead of the initial state. */
  private restoredOptimizerState?: Record<string, Float32Array>;
  private graphs?: { trainStep: Graph; evaluate: Graph; predict: Graph; heads: readonly Head[] };
  /** Set by a callback to end `fit` after the current batch; `fit` resets it at its start. */
  stopTraining = false;
  /** The fixed batch size and stateful layers (see batchingInfo); undefined until asked, and after a change of structure. */
  private batching?: { batch?: number; stateful: Layer[] };
  /** Each stateful layer's statesVersion when this model last zeroed its states (see resetStates). */
  private readonly statesSeen = new Map<Layer, number>();

  protected constructor(name: string) {
    this.name = name;
  }

  /** The layers (in weight order, each once, with its shapes), the inputs and the outputs' shapes. */
  protected abstract topology(): Topology;

  /** Inside a trace: the outputs for `inputs` ([batch, ...shape] each), the weights bound by `<layer name>/<weight name>`. */
  protected abstract forward(inputs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, training: boolean): Tensor[];

  /** Whether topology() is known (a subclassed model's is once it is built). */
  protected hasTopology(): boolean {
    return true;
  }

  /** Called with x before it is checked against the inputs (a subclassed model builds itself from x's shapes). */
  protected prepare(_xs: readonly Tensor[]): void {}

  /** Drops the traced graphs and the module (the structure or the compile arguments changed). */
  protected invalidate(): void {
    this.module = undefined;
    this.predictModule = undefined;
    this.building = undefined;
    this.graphs = undefined;
    this.batching = undefined;
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
    if (typeof print !== 'function') throw new KilnError(`summary: expected a function to print each line with, got ${describe(print)}.`);
    const topology = this.topology();
    summaryLines(topology, this.publicWeights(topology), this.batch).forEach((l) => print(l));
  }

  /** The optimizer given to `compile` (undefined before): callbacks change its `learningRate`. */
  get optimizer(): Optimizer | undefined {
    return this.compiled?.optimizer;
  }

  /** Whether the training step takes per-example loss weights (`sample_weight`): every output's loss has a per-example form. */
  private get weighted(): boolean {
    return this.heads('fit').every((h) => h.loss.perExample !== undefined);
  }

  /** The model as the data adapters and the trainer see it. */
  private get host(): TrainerHost {
    return {
      model: this as LayersModel,
      prepare: (xs) => this.prepare(xs),
      topology: () => this.topology(),
      heads: (method) => this.heads(method),
      entryHeads: (method) => (this.heads(method), this.trace().heads),
      inputNames: () => this.inputNames(),
      outputNames: () => this.outputNames(),
      moduleFor: (batchSize) => this.moduleFor(batchSize),
      optimizer: (method) => this.requireCompiled(method).optimizer,
      weighted: () => this.weighted,
      stepped: () => { this.weightsVersion++; },
      beforeRun: (method, count) => {
        if (this.batch !== undefined) checkBatchSize(this.topology(), this.batch, method, count);
        this.syncStates();
      },
      hook: (fn) => this.calls.hook(fn),
    };
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

  /** The inputs as a row encoder must give them: name (undefined: unnamed), shape without the batch, dtype. @example model.inputSignature()   // [{ name: 'measures', shape: [4], dtype: 'float32' }, …] */
  inputSignature(): { name?: string; shape: number[]; dtype: 'float32' | 'int32' }[] {
    const names = this.inputNames();
    return this.topology().inputs.map((s, i) => ({ name: names?.[i], shape: [...s.shape], dtype: s.dtype }));
  }

  /** The row encoder that turns raw rows into this model's inputs (see setRowEncoder). */
  rowEncoder?: RowEncoder;

  /**
   * Gives the model the row encoder (`kiln.preprocessing.rowEncoder`) its inputs
   * come from, checked against the inputs; `save` keeps it, `export` writes it
   * into the artifact (the runtime's `predictRows`). undefined removes it.
   * @example model.setRowEncoder(encoder); model.predictRows([{ Island: 'Dream', … }]);
   */
  setRowEncoder(encoder: RowEncoder | undefined): void {
    if (encoder) rowsSpecFor(this as LayersModel, encoder, 'setRowEncoder');
    this.rowEncoder = encoder;
  }

  /** Predictions for raw rows (objects of column → value), encoded by the model's row encoder. @example model.predictRows(rows) */
  predictRows(rows: readonly Row[], args: { batchSize?: number } = {}): Output {
    return predictRows(this as LayersModel, this.rowEncoder, rows, args) as Output;
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
    const optimizer = typeof args.optimizer === 'string' ? (Object.hasOwn(optimizerByName, args.optimizer) ? optimizerByName[args.optimizer as keyof typeof optimizerByName]() : undefined) : args.optimizer;
    if (!optimizer || typeof (optimizer as { applyGradients?: unknown }).applyGradients !== 'function') throw new KilnError(`compile: unknown optimizer "${String(args.optimizer)}"; expected ${Object.keys(optimizerByName).join(', ')} or a kiln.optimizers object.`);
    if (this.module) this.currentValues(); // the weights the old module trained, kept for the new one
    this.compiled = { optimizer, args };
    this.invalidate();
    if (this.outputNames()) this.heads('compile'); // bad names fail now, not at the first fit
  }

  /** Specs of x (one per input) by entry name. */
  private inputSpecs(topology: Topology): Record<string, ReturnType<typeof spec>> {
    const names = entryNames('x', topology.inputs.length);
    const batch = fixedBatchSize(this.subject, topology) ?? null;
    return Object.fromEntries(topology.inputs.map((s, i) => [names[i]!, spec([batch, ...s.shape], s.dtype as DType)]));
  }

  /** The batch size every batch must have (a stateful layer's, or the input's batchSize), or undefined for any. */
  get batch(): number | undefined {
    return this.batchingInfo().batch;
  }

  /** The fixed batch size and the stateful layers, found once per structure (every batch asks). */
  private batchingInfo(): { batch?: number; stateful: Layer[] } {
    if (this.batching) return this.batching;
    const topology = this.topology();
    return (this.batching = { batch: fixedBatchSize(this.subject, topology), stateful: statefulLayers(topology) });
  }

  /**
   * Keras's reset_states: every stateful layer's states become zeros (the next
   * batch starts a new sequence). A layer's own `resetStates()` resets it alone.
   * @example await model.fit(xs, ys, { shuffle: false, batchSize: 4 }); model.resetStates();
   */
  resetStates(): void {
    for (const layer of this.batchingInfo().stateful) (layer as unknown as { resetStates(): void }).resetStates();
    this.syncStates();
  }

  /** Zeroes the states of the layers reset since the last run, wherever the model keeps them. */
  private syncStates(): void {
    const { stateful } = this.batchingInfo();
    if (!stateful.some((l) => (this.statesSeen.get(l) ?? 0) !== (l as unknown as { statesVersion: number }).statesVersion)) return;
    const due = pendingResets(this.weightEntries(), this.statesSeen);
    if (!due.length) return;
    const values = this.currentValues();
    for (const w of due) {
      const zeros = new Float32Array(size(w.spec.shape));
      values.set(w.name, zeros);
      this.module?.set(w.name, zeros);
      this.predictModule?.module.set(w.name, zeros);
    }
    this.weightsVersion++;
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
    const predict = () => trace((t: Record<string, Tensor>) => this.predictFrom(t, topology), specs);
    return watch ? watchingLayers(topology.layers.map((l) => l.layer), watch, predict) : predict();
  }

  private trace(): { trainStep: Graph; evaluate: Graph; predict: Graph; heads: readonly Head[] } {
    if (this.graphs) return this.graphs;
    const topology = this.topology();
    return (this.graphs = traceEntries({
      optimizer: this.requireCompiled('fit').optimizer,
      heads: this.heads('fit'),
      topology,
      weights: this.weightEntries(topology),
      weighted: this.weighted,
      batch: fixedBatchSize(this.subject, topology),
      inputSpecs: this.inputSpecs(topology),
      forward: (xs, weights, training) => this.forward(xs, weights, training),
    }));
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
    // the training module, else the predict-only one (a stateful layer's states change in predict too)
    const module = this.module ?? this.predictModule?.module;
    if (module) for (const w of weights) this.values.set(w.name, module.get(w.name).data as Float32Array);
    return this.values;
  }

  /** Threads that share the model's compiled runs now (kiln.setThreads; 1 before a module exists). */
  get threadCount(): number {
    return (this.module ?? this.predictModule?.module)?.threadCount ?? 1;
  }

  private async moduleFor(batchSize: number): Promise<KilnModule> {
    if (this.module && batchSize <= this.maxBatch) return this.module;
    if (this.building && batchSize <= this.maxBatch) return this.building;
    this.maxBatch = Math.max(batchSize, this.maxBatch, 32);
    const { heads: _, ...graphs } = this.trace();
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
      const list: readonly unknown[] = dataset ? [] : Array.isArray(x) ? x : [x];
      if (list.length && list.every((t) => t instanceof Tensor)) this.prepare(list as Tensor[]); // a subclassed model builds from x
      const { batchSize, shuffle } = fitBatching(this.hasTopology() ? this.topology() : undefined, this.hasTopology() ? this.batch : undefined, args);
      const { epochs = 1, verbose = 1, seed = 0, initialEpoch = 0, stepsPerEpoch } = args;
      if (!Number.isInteger(epochs) || epochs < 0) throw new KilnError(`fit: expected epochs to be a non-negative integer, got ${epochs}.`);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new KilnError(`fit: expected batchSize to be a positive integer, got ${batchSize}.`);
      if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new KilnError(`fit: expected initialEpoch to be a non-negative integer, got ${initialEpoch}.`);
      if (stepsPerEpoch !== undefined && (!Number.isInteger(stepsPerEpoch) || stepsPerEpoch < 1)) throw new KilnError(`fit: expected stepsPerEpoch to be a positive integer, got ${stepsPerEpoch}.`);
      if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new KilnError(`fit: expected verbose 0, 1 or 2, got ${String(verbose)}.`);
      if (dataset) {
        for (const key of ['batchSize', 'validationSplit'] as const) {
          if (args[key] !== undefined) throw new KilnError(`fit: ${key} does not apply to a Dataset (its batches give the batch size; pass validationData).`);
        }
      }
      const batches = await fitBatches(this.host, x, dataset ? undefined : yOrArgs as Tensor | readonly Tensor[], {
        batchSize, shuffle, seed, initialEpoch, stepsPerEpoch, validationSplit: args.validationSplit, validationData: args.validationData, classWeight: args.classWeight,
      });
      return fitLoop(this.host, batches, { epochs, initialEpoch, verbose, callbacks: args.callbacks });
    });
  }

  /** One optimizer step on one batch; returns the loss (and metrics, when compiled with some). */
  async trainOnBatch(x: Tensor | readonly Tensor[], y: Tensor | readonly Tensor[]): Promise<number | number[]> {
    return this.calls.run(async () => {
      const data = checkLabelledData(this.host, 'trainOnBatch', x, y);
      const n = data.xs[0]!.shape[0]!;
      const logs = await runBatches(this.host, 'trainOnBatch', 'trainStep', data, [range(0, n)], n);
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
        logs = await runBatches(this.host, 'evaluate', 'evaluate', undefined, datasetBatches(this.host, 'evaluate', steps === undefined ? x : x.take(steps)), 0);
      } else {
        checkOptions('evaluate', maybeArgs, methodOptions.evaluate);
        if (maybeArgs.batchSize !== undefined && (!Number.isInteger(maybeArgs.batchSize) || maybeArgs.batchSize < 1)) throw new KilnError(`evaluate: expected batchSize to be a positive integer, got ${describe(maybeArgs.batchSize)}.`);
        const data = checkLabelledData(this.host, 'evaluate', x, yOrArgs as Tensor | readonly Tensor[]);
        const batchSize = maybeArgs.batchSize ?? this.batch ?? 32;
        logs = await runBatches(this.host, 'evaluate', 'evaluate', data, batchesOf(data.xs[0]!.shape[0]!, batchSize), batchSize);
      }
      const values = Object.values(logs).map((v) => F.tensor(v));
      return values.length === 1 ? values[0]! : values;
    });
  }

  /**
   * Predictions for x (a Tensor, or a list of one per input), batch by batch, in
   * the compiled module: the training module once there is one, else a
   * predict-only module, built at the first predict (blocking, as Keras traces
   * its predict function; cached on disk, so later processes load it at once).
   * Every call runs the same compiled code, so predict gives the same bits
   * before and after `ready()`, fit or a reload. One Tensor per output.
   */
  predict(x: Tensor | readonly Tensor[], args: { batchSize?: number } = {}): Output {
    checkOptions('predict', args, methodOptions.predict);
    if (args.batchSize !== undefined && (!Number.isInteger(args.batchSize) || args.batchSize < 1)) throw new KilnError(`predict: expected batchSize to be a positive integer, got ${String(args.batchSize)}.`);
    const data = checkData(this.host, 'predict', x).xs;
    const topology = this.topology();
    const fixed = fixedPredictBatch(topology, this.batch, args.batchSize, data[0]!.shape[0]!);
    const compiled = this.module ? { module: this.module, maxBatch: this.maxBatch } : (this.predictModule ??= this.predictOnlyModule(Math.max(64, args.batchSize ?? 32)));
    const batchSize = fixed ?? Math.min(args.batchSize ?? 32, compiled.maxBatch);
    this.syncStates();
    const n = data[0]!.shape[0]!;
    const xNames = entryNames('x', data.length);
    const outNames = entryNames('output', topology.outputs.length);
    // each batch reads its rows in place and its outputs are copied once, from the module's memory into the result
    const results = topology.outputs.map((shape) => new Float32Array(n * size(shape)));
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(start + batchSize, n);
      const batch = Object.fromEntries(data.map((v, i) => [xNames[i]!, rowRange(v, start, end)]));
      const out = compiled.module.run('predict', batch, { views: true });
      outNames.forEach((name, k) => results[k]!.set(out[name]!.data as Float32Array, start * size(topology.outputs[k]!)));
    }
    const outputs = topology.outputs.map((shape, k) => Tensor.concrete({ dtype: 'float32', shape: [n, ...shape], data: results[k]! }));
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
    const batch = fixedBatchSize(this.subject, topology) ?? null;
    const inputs = topology.inputs.map((s, i) => ({ name: xNames[i]!, dtype: s.dtype, shape: [batch, ...s.shape] }));
    const outputs = entryNames('output', topology.outputs.length).map((name, i) => ({ name, dtype: 'float32' as const, shape: [batch, ...topology.outputs[i]!] }));
    if (entries.length === 1 && entries[0] === 'predict') {
      const predict = this.graphs?.predict ?? trace((t: Record<string, Tensor>) => this.predictFrom(t, topology), {
        ...this.inputSpecs(topology), ...Object.fromEntries(entriesW.map((w) => [w.name, spec([...w.spec.shape], 'float32', { kind: 'parameter' })])),
      });
      return { graphs: { predict }, inputs, outputs, parameters };
    }
    const all = this.trace();
    const heads = this.heads('export');
    const yNames = entryNames('y', topology.outputs.length);
    const labels = heads.map((h, i) => (h.loss.sparse ? { name: yNames[i]!, dtype: 'int32' as const, shape: [batch, ...topology.outputs[i]!.slice(0, -1)] } : { name: yNames[i]!, dtype: 'float32' as const, shape: [batch, ...topology.outputs[i]!] }));
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
    checkPath('export', path);
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
    checkOptions(`${this.subject}.apply`, options, ['training']);
    const xs = (Array.isArray(x) ? x : [x]) as readonly Tensor[];
    xs.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new KilnError(`${this.subject}.apply: expected a Tensor, a list of Tensors or a SymbolicTensor, got ${t === null ? 'null' : typeof t}${xs.length > 1 ? ` at ${i}` : ''}.`);
    });
    this.prepare(xs);
    checkInputs(`${this.subject}.apply`, xs, this.topology());
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
    checkRestoredWeights(subject, this.subject, entries, weights, partial);
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
    const state = checkedOptimizerState(subject, c.optimizer.className, specs, optimizer);
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
    checkPath('save', path);
    return this.calls.run(async () => {
      checkOptions('save', options, methodOptions.save);
      const { saveModel } = await import('./save.js');
      await saveModel(this as LayersModel, path, options);
    });
  }

  /** Writes every weight (`<layer>/<weight>`) to a safetensors file, atomically. */
  async saveWeights(path: string): Promise<void> {
    checkPath('saveWeights', path);
    return this.calls.run(async () => {
      const { saveWeights } = await import('./save.js');
      await saveWeights(this as LayersModel, path);
    });
  }

  /** Reads weights that `saveWeights` (or `save`) wrote; every weight's name and shape must match. */
  async loadWeights(path: string): Promise<void> {
    checkPath('loadWeights', path);
    return this.calls.run(async () => {
      const { loadWeights } = await import('./save.js');
      await loadWeights(this as LayersModel, path);
    });
  }

  /**
   * Builds the compiled module now: the training module when the model is
   * compiled (what fit would build), else a predict-only one — without blocking,
   * where the first predict would build it synchronously.
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
      this.predictModule = holding((await compileModule(graphs, { maxBatch })).module, parameters, maxBatch);
    });
  }

  /** A module of the predict entry alone, holding the current weights, built now (predict is synchronous). */
  private predictOnlyModule(maxBatch: number): { module: KilnModule; maxBatch: number } {
    const { graphs, parameters } = this.artifactParts(['predict']);
    return holding(compileModuleSync(graphs, { maxBatch }).module, parameters, maxBatch);
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
    if (!Array.isArray(weights) || weights.length !== entries.length) throw new KilnError(`setWeights: expected a list of ${entries.length} tensors (as getWeights gives), got ${Array.isArray(weights) ? `${weights.length}` : describe(weights)}.`);
    entries.forEach((w, i) => {
      const t = weights[i]!;
      if (!(t instanceof Tensor)) throw new KilnError(`setWeights: expected ${w.name} as a Tensor, got ${describe(t)}.`);
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
    this.syncStates();
    const module = this.module ?? this.predictModule?.module;
    if (module) return module.get(name).data as Float32Array;
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

