/**
 * @file The trainer, as Keras 3 splits it out of the model: runs a compiled
 * entry (the training step, or evaluation) over batches, totalling the loss and
 * metrics, and runs `fit`'s epochs with the callbacks' hooks in Keras' order and
 * validation after each epoch. The model supplies the module and the compile
 * arguments (`TrainerHost`); the data adapters supply the batches.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { InputData, KilnModule } from '../runtime/index.js';
import type { Optimizer } from '../optimizers/index.js';
import { Dataset } from '../data/dataset.js';
import type { Head } from './compileArgs.js';
import { batchesOf, datasetBatches, entryNames, rowsOf, type Data, type DataTarget, type FitBatches } from './dataAdapter.js';
import type { LayersModel } from './model.js';
import { ProgbarLogger } from './progress.js';

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

export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}

/** What the trainer needs of a model, beyond the data adapters' view of it. */
export interface TrainerHost extends DataTarget {
  readonly model: LayersModel;
  /** The compiled module for batches up to `batchSize` rows (built, or rebuilt larger, on demand). */
  moduleFor(batchSize: number): Promise<KilnModule>;
  heads(method: string): readonly Head[];
  /** The heads as the compiled entries output their metrics (a sequence output's mean metrics as step means). */
  entryHeads(method: string): readonly Head[];
  optimizer(method: string): Optimizer;
  /** Whether the training step takes per-example weights (`sample_weight`). */
  weighted(): boolean;
  /** Called after each training step: the weights changed. */
  stepped(): void;
  /** Called before each batch of `count` examples runs: a model with a fixed batch size checks it; reset states are zeroed. */
  beforeRun(method: string, count: number): void;
  /** Runs a callback's hook (it may call the model's own methods). */
  hook(fn: () => void | Promise<void>): Promise<void>;
}

/**
 * Runs `entry` over `batches` (row indices of `data`, or batches of their own,
 * from a Dataset); returns the mean loss and metrics
 * over the examples run. `hooks.end` gets the running means after each batch and
 * says whether to stop. A non-finite training loss throws unless a hook
 * stopped training (terminateOnNaN).
 */
export async function runBatches(
  host: TrainerHost, method: string, entry: 'trainStep' | 'evaluate', data: Data | undefined, batches: Iterable<Int32Array | Data> | AsyncIterable<Int32Array | Data>, batchSize: number,
  hooks: { begin?: (batch: number) => Promise<void>; end?: (batch: number, logs: Logs) => Promise<boolean> } = {},
  sampleWeights?: (batch: Int32Array | Data) => Float32Array,
): Promise<Logs> {
  if (batchSize) await host.moduleFor(batchSize); // 0: sized by the batches (a Dataset's)
  const heads = host.entryHeads(method);
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
    host.beforeRun(method, count);
    const module = await host.moduleFor(count); // a larger batch (from a Dataset) recompiles
    const xNames = entryNames('x', part.xs.length);
    const yNames = entryNames('y', part.ys.length);
    const inputs: Record<string, InputData> = {
      ...Object.fromEntries(part.xs.map((v, i) => [xNames[i]!, v])),
      ...Object.fromEntries(part.ys.map((v, i) => [yNames[i]!, v])),
    };
    if (training) {
      Object.assign(inputs, host.optimizer(method).inputs());
      if (host.weighted()) inputs.sample_weight = { data: sampleWeights ? sampleWeights(item) : new Float32Array(count).fill(1), shape: [count] };
    }
    // the compiled step skips its own update when its loss or a gradient is not finite, and then reports a NaN loss
    const out = module.run(entry, inputs);
    if (training) host.stepped();
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

/**
 * fit's epochs initialEpoch … epochs − 1 over `batches`, with the callbacks'
 * hooks (the progress display first when `verbose`) and validation after each
 * epoch; returns the History.
 */
export async function fitLoop(host: TrainerHost, batches: FitBatches, args: { epochs: number; initialEpoch: number; verbose: 0 | 1 | 2; callbacks?: Callback | readonly Callback[] }): Promise<History> {
  const { epochs, initialEpoch, verbose } = args;
  const { data, steps, batchSize, samples, sampleWeights, epochBatches, validation } = batches;
  const model = host.model;
  const given = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks as Callback];
  given.forEach((cb, i) => {
    if (cb === null || typeof cb !== 'object') throw new KilnError(`fit: expected callbacks to be callback objects (kiln.callbacks.*, a Callback subclass or a plain object of hooks), got ${cb === null ? 'null' : typeof cb}${given.length > 1 ? ` at ${i}` : ''}.`);
  });
  // the progress display first, so its epoch line comes before what other callbacks print
  const callbacks: Callback[] = [...(verbose ? [new ProgbarLogger({ mode: verbose === 2 ? 'lines' : 'auto' })] : []), ...given];
  const params: TrainingParams = { epochs, initialEpoch, steps, batchSize, samples, verbose };
  for (const cb of callbacks) (cb.setModel?.(model), cb.setParams?.(params));
  const history: History = { epoch: [], history: {} };
  model.stopTraining = false;
  await host.moduleFor(batchSize); // compile before onTrainBegin, so callbacks read trained-on weights
  for (const cb of callbacks) await host.hook(() => cb.onTrainBegin?.({}));
  let last: Logs = {};
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    for (const cb of callbacks) await host.hook(() => cb.onEpochBegin?.(epoch, {}));
    const logs = await runBatches(host, 'fit', 'trainStep', data, epochBatches(), batchSize, {
      begin: async (b) => { for (const cb of callbacks) await host.hook(() => cb.onBatchBegin?.(b, {})); },
      end: async (b, l) => {
        for (const cb of callbacks) await host.hook(() => cb.onBatchEnd?.(b, l));
        return model.stopTraining;
      },
    }, sampleWeights);
    if (validation) {
      const val = validation instanceof Dataset
        ? await runBatches(host, 'fit', 'evaluate', undefined, datasetBatches(host, 'fit', validation), 0)
        : await runBatches(host, 'fit', 'evaluate', validation, batchesOf(validation.xs[0]!.shape[0]!, batchSize), batchSize);
      for (const [k, v] of Object.entries(val)) logs[`val_${k}`] = v;
    }
    for (const cb of callbacks) await host.hook(() => cb.onEpochEnd?.(epoch, logs));
    // after the callbacks, as Keras' History: it records what they add (learning_rate)
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
    last = logs;
  }
  for (const cb of callbacks) await host.hook(() => cb.onTrainEnd?.(last));
  return history;
}
