/**
 * `kiln.callbacks`: Keras' built-in training callbacks for `model.fit({ callbacks })`.
 * `fit` always returns the History; `fit({ verbose })` adds the progress display
 * (ProgbarLogger).
 *
 * @example
 * await model.fit(x, y, { epochs: 100, validationSplit: 0.2, callbacks: [
 *   kiln.callbacks.earlyStopping({ patience: 5, restoreBestWeights: true }),
 *   kiln.callbacks.reduceLROnPlateau({ factor: 0.5, patience: 2 }),
 *   kiln.callbacks.csvLogger({ path: 'training.csv' }),
 *   kiln.callbacks.modelCheckpoint({ filepath: 'best.kiln', saveBestOnly: true }),
 *   kiln.callbacks.tensorBoard({ logDir: 'logs/fit', histogramFreq: 1 }),   // then: npx kiln board --logdir logs
 * ] });
 */
import { checkOptions, checkPath, describe, optionKeys } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { Callback as Hooks, Logs, LayersModel, TrainingParams } from './model.js';

export { ProgbarLogger, type ProgbarOptions } from './progress.js';
export type { Logs, TrainingParams } from './sequential.js';

/**
 * A base for callbacks: keeps the model and the training parameters; override
 * the hooks you need.
 * @example class Printer extends kiln.callbacks.Callback { onEpochEnd(epoch: number, logs: kiln.callbacks.Logs) { console.log(epoch, logs.loss); } }
 */
export class Callback implements Hooks {
  model?: LayersModel;
  params?: TrainingParams;
  setModel(model: LayersModel): void { this.model = model; }
  setParams(params: TrainingParams): void { this.params = params; }
  onTrainBegin(_logs: Logs): void | Promise<void> {}
  onTrainEnd(_logs: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number, _logs: Logs): void | Promise<void> {}
  onEpochEnd(_epoch: number, _logs: Logs): void | Promise<void> {}
  onBatchBegin(_batch: number, _logs: Logs): void | Promise<void> {}
  onBatchEnd(_batch: number, _logs: Logs): void | Promise<void> {}

  protected requireModel(who: string): LayersModel {
    if (!this.model) throw new KilnError(`${who}: no model; pass the callback to model.fit({ callbacks }).`);
    return this.model;
  }

  /** The optimizer's learning rate, which must be a number (a schedule is traced into the step). */
  protected learningRate(who: string): number {
    const optimizer = this.requireModel(who).optimizer;
    const lr = optimizer?.learningRate;
    if (typeof lr !== 'number') throw new KilnError(`${who}: the optimizer's learningRate is a schedule; it is traced into the training step and cannot be changed by a callback.`);
    return lr;
  }

  protected setLearningRate(value: number): void {
    this.model!.optimizer!.learningRate = value;
  }
}

export type Mode = 'auto' | 'min' | 'max';

/** 'auto' means max for accuracies and AUC, min for the rest (Keras' rule). */
function direction(monitor: string, mode: Mode, who: string): 'min' | 'max' {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new KilnError(`${who}: expected mode 'auto', 'min' or 'max', got ${JSON.stringify(mode)}.`);
  if (mode !== 'auto') return mode;
  return /acc|auc/.test(monitor) ? 'max' : 'min';
}

function checkNumber(who: string, key: string, value: unknown, ok: (x: number) => boolean, expected: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) throw new KilnError(`${who}: expected ${key} ${expected}, got ${String(value)}.`);
}

const say = (verbose: number, text: string) => { if (verbose) console.log(text); };

export interface EarlyStoppingArgs {
  /** The log to watch (default 'val_loss'). */
  monitor?: string;
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  verbose?: 0 | 1;
  mode?: Mode;
  /** Training stops unless the monitored value gets better than this. */
  baseline?: number;
  /** When stopping, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching (default 0). */
  startFromEpoch?: number;
}

/** Keras' EarlyStopping: stops training when `monitor` has stopped improving for `patience` epochs. */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly baseline?: number;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  private readonly verbose: number;
  private readonly better: (a: number, b: number) => boolean;
  private readonly max: boolean;
  wait = 0;
  /** The epoch at which training was stopped, 0 when it was not. */
  stoppedEpoch = 0;
  best = Infinity;
  bestEpoch = 0;
  private bestWeights?: Tensor[];

  constructor(args: EarlyStoppingArgs = {}) {
    checkOptions('earlyStopping', args, optionKeys<EarlyStoppingArgs>({ monitor: true, minDelta: true, patience: true, verbose: true, mode: true, baseline: true, restoreBestWeights: true, startFromEpoch: true }));
    super();
    const { monitor = 'val_loss', minDelta = 0, patience = 0, verbose = 0, mode = 'auto', baseline, restoreBestWeights = false, startFromEpoch = 0 } = args;
    const who = 'earlyStopping';
    checkNumber(who, 'minDelta', minDelta, Number.isFinite, 'to be a finite number');
    checkNumber(who, 'patience', patience, (x) => Number.isInteger(x) && x >= 0, 'to be a non-negative integer');
    checkNumber(who, 'startFromEpoch', startFromEpoch, (x) => Number.isInteger(x) && x >= 0, 'to be a non-negative integer');
    if (baseline !== undefined) checkNumber(who, 'baseline', baseline, Number.isFinite, 'to be a finite number');
    this.baseline = baseline;
    this.monitor = monitor;
    this.minDelta = Math.abs(minDelta);
    this.patience = patience;
    this.restoreBestWeights = restoreBestWeights;
    this.startFromEpoch = startFromEpoch;
    this.verbose = verbose;
    const max = (this.max = direction(monitor, mode, who) === 'max');
    this.better = max ? (a, b) => a - this.minDelta > b : (a, b) => a + this.minDelta < b;
    this.best = max ? -Infinity : Infinity;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.max ? -Infinity : Infinity;
    this.bestEpoch = 0;
    this.bestWeights = undefined;
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    const current = logs[this.monitor];
    if (current === undefined) {
      console.warn(`earlyStopping: the monitored value "${this.monitor}" is not in the logs (available: ${Object.keys(logs).join(', ')}); skipping.`);
      return;
    }
    if (epoch < this.startFromEpoch) return;
    const model = this.requireModel('earlyStopping');
    if (this.restoreBestWeights && !this.bestWeights) this.bestWeights = model.getWeights();
    this.wait++;
    if (this.better(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = model.getWeights();
      // with a baseline, the wait restarts only once the baseline is beaten
      if (this.baseline === undefined || this.better(current, this.baseline)) {
        this.wait = 0;
        return;
      }
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) {
        say(this.verbose, `Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
        model.setWeights(this.bestWeights);
      }
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0) say(this.verbose, `Epoch ${this.stoppedEpoch + 1}: early stopping`);
  }
}

/**
 * Stops training when `monitor` has not improved for `patience` epochs.
 * @example kiln.callbacks.earlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })
 */
export function earlyStopping(args: EarlyStoppingArgs = {}): EarlyStopping {
  return new EarlyStopping(args);
}

export interface ReduceLROnPlateauArgs {
  /** Default 'val_loss'. */
  monitor?: string;
  /** new lr = lr · factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement before lowering the rate (default 10). */
  patience?: number;
  verbose?: 0 | 1;
  mode?: Mode;
  /** The least change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The rate is never lowered below this (default 0). */
  minLr?: number;
}

/** Keras' ReduceLROnPlateau: multiplies the learning rate by `factor` when `monitor` stalls. Adds `learning_rate` to the epoch logs. */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private readonly verbose: number;
  private readonly max: boolean;
  wait = 0;
  cooldownCounter = 0;
  best = Infinity;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    checkOptions('reduceLROnPlateau', args, optionKeys<ReduceLROnPlateauArgs>({ monitor: true, factor: true, patience: true, verbose: true, mode: true, minDelta: true, cooldown: true, minLr: true }));
    super();
    const { monitor = 'val_loss', factor = 0.1, patience = 10, verbose = 0, mode = 'auto', minDelta = 1e-4, cooldown = 0, minLr = 0 } = args;
    const who = 'reduceLROnPlateau';
    checkNumber(who, 'factor', factor, (x) => x >= 0 && x < 1, 'in [0, 1)');
    checkNumber(who, 'patience', patience, (x) => Number.isInteger(x) && x >= 0, 'to be a non-negative integer');
    checkNumber(who, 'minDelta', minDelta, Number.isFinite, 'to be a finite number');
    checkNumber(who, 'cooldown', cooldown, (x) => Number.isInteger(x) && x >= 0, 'to be a non-negative integer');
    checkNumber(who, 'minLr', minLr, (x) => Number.isFinite(x) && x >= 0, 'to be a finite number >= 0');
    this.monitor = monitor;
    this.factor = factor;
    this.patience = patience;
    this.minDelta = Math.abs(minDelta);
    this.cooldown = cooldown;
    this.minLr = minLr;
    this.verbose = verbose;
    this.max = direction(monitor, mode, who) === 'max';
    this.onTrainBegin();
  }

  private better(a: number, b: number): boolean {
    return this.max ? a > b + this.minDelta : a < b - this.minDelta;
  }

  override onTrainBegin(): void {
    this.best = this.max ? -Infinity : Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    const lr = this.learningRate('reduceLROnPlateau');
    logs.learning_rate = lr;
    const current = logs[this.monitor];
    if (current === undefined) {
      console.warn(`reduceLROnPlateau: the monitored value "${this.monitor}" is not in the logs (available: ${Object.keys(logs).join(', ')}); skipping.`);
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.better(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        if (lr > this.minLr) {
          const next = Math.max(lr * this.factor, this.minLr);
          this.setLearningRate(next);
          say(this.verbose, `Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${next}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/**
 * Lowers the learning rate when `monitor` has stopped improving.
 * @example kiln.callbacks.reduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2, minLr: 1e-5 })
 */
export function reduceLROnPlateau(args: ReduceLROnPlateauArgs = {}): ReduceLROnPlateau {
  return new ReduceLROnPlateau(args);
}

/** Keras' LearningRateScheduler: sets the learning rate at each epoch's start to `schedule(epoch, lr)`. Adds `learning_rate` to the epoch logs. */
export class LearningRateScheduler extends Callback {
  constructor(readonly schedule: (epoch: number, lr: number) => number, private readonly verbose: 0 | 1 = 0) {
    super();
    if (typeof schedule !== 'function') throw new KilnError(`learningRateScheduler: expected a function (epoch, lr) => lr, got ${typeof schedule}.`);
  }

  override onEpochBegin(epoch: number): void {
    const lr = this.schedule(epoch, this.learningRate('learningRateScheduler'));
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new KilnError(`learningRateScheduler: the schedule returned ${String(lr)} for epoch ${epoch}; expected a finite number >= 0.`);
    this.setLearningRate(lr);
    say(this.verbose, `Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }

  override onEpochEnd(_epoch: number, logs: Logs): void {
    logs.learning_rate = this.learningRate('learningRateScheduler');
  }
}

/**
 * Sets the learning rate at the start of each epoch (0-based) from the epoch and the current rate.
 * @example kiln.callbacks.learningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * Math.exp(-0.1)))
 */
export function learningRateScheduler(schedule: (epoch: number, lr: number) => number, args: { verbose?: 0 | 1 } = {}): LearningRateScheduler {
  checkOptions('learningRateScheduler', args, ['verbose']);
  return new LearningRateScheduler(schedule, args.verbose ?? 0);
}

/**
 * Keras' TerminateOnNaN: stops training (instead of `fit` throwing) at the first
 * batch whose loss is NaN or infinite. The compiled step never applies such a
 * step (nor one whose gradients are not finite, reported as a NaN loss), so the
 * model keeps the weights and optimizer state from before it.
 */
export class TerminateOnNaN extends Callback {
  override onBatchEnd(batch: number, logs: Logs): void {
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      console.log(`Batch ${batch}: Invalid loss, terminating training`);
      this.requireModel('terminateOnNaN').stopTraining = true;
    }
  }
}

/**
 * Stops training cleanly when the loss becomes NaN or infinite (without it, `fit` throws).
 * @example kiln.callbacks.terminateOnNaN()
 */
export function terminateOnNaN(): TerminateOnNaN {
  return new TerminateOnNaN();
}

export interface CSVLoggerArgs {
  /** The file to write (Node only). */
  path: string;
  /** Between values (default ','). */
  separator?: string;
  /** Add to an existing file instead of replacing it (default false); the header is written only to an empty or new file. */
  append?: boolean;
}

type Fs = typeof import('node:fs/promises');

/** Loads node:fs/promises when training starts, so merely importing kiln works in browsers. */
async function loadFs(): Promise<Fs> {
  const name = 'node:fs/promises'; // not a literal: bundlers leave it alone
  try {
    return (await import(/* @vite-ignore */ name)) as Fs;
  } catch {
    throw new KilnError('csvLogger: needs Node.js (node:fs); it cannot write files in a browser.');
  }
}

/**
 * Keras' CSVLogger: one row per epoch (the epoch, then the logs in name order).
 * Without `append`, the whole file is rewritten atomically (a temporary file
 * renamed over it) at each epoch's end; with it, each row is appended.
 */
export class CSVLogger extends Callback {
  readonly path: string;
  readonly separator: string;
  readonly append: boolean;
  private fs?: Fs;
  private keys?: string[];
  private text = '';
  private writeHeader = true;

  constructor(args: CSVLoggerArgs) {
    checkOptions('csvLogger', args, optionKeys<CSVLoggerArgs>({ path: true, separator: true, append: true }));
    super();
    if (!args || typeof args.path !== 'string' || args.path.length === 0) throw new KilnError(`csvLogger: expected a path, got ${JSON.stringify(args?.path)}.`);
    const { path, separator = ',', append = false } = args;
    if (typeof separator !== 'string' || separator.length === 0) throw new KilnError(`csvLogger: expected a non-empty separator, got ${JSON.stringify(separator)}.`);
    this.path = path;
    this.separator = separator;
    this.append = append;
  }

  override async onTrainBegin(): Promise<void> {
    this.fs = await loadFs();
    this.keys = undefined;
    this.text = '';
    this.writeHeader = true;
    if (this.append) {
      const size = await this.fs.stat(this.path).then((s) => s.size, () => 0);
      this.writeHeader = size === 0;
    }
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const fs = this.fs ?? (this.fs = await loadFs());
    this.keys ??= Object.keys(logs).sort();
    const sep = this.separator;
    let chunk = '';
    if (this.writeHeader) {
      chunk += ['epoch', ...this.keys].join(sep) + '\n';
      this.writeHeader = false;
    }
    chunk += [String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? '' : String(logs[k])))].join(sep) + '\n';
    if (this.append) {
      await fs.appendFile(this.path, chunk);
    } else {
      this.text += chunk;
      const tmp = `${this.path}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
      await fs.writeFile(tmp, this.text);
      await fs.rename(tmp, this.path);
    }
  }
}

/**
 * Writes each epoch's logs to a CSV file (Node only).
 * @example kiln.callbacks.csvLogger({ path: 'log.csv', separator: ';', append: true })
 */
export function csvLogger(args: CSVLoggerArgs): CSVLogger {
  return new CSVLogger(args);
}

// ---- ModelCheckpoint ----------------------------------------------------------------

export interface ModelCheckpointArgs {
  /**
   * Where to save; may hold `{epoch}` (1-based, `{epoch:03d}` zero-padded) and
   * `{<log name>}` / `{<log name>:.4f}` (e.g. `ckpt-{epoch:02d}-{val_loss:.3f}.kiln`).
   */
  filepath: string;
  monitor?: string;
  /** Save only when `monitor` improves on the best value so far. */
  saveBestOnly?: boolean;
  /** Save the weights (model.saveWeights) instead of the whole model with its optimizer state. */
  saveWeightsOnly?: boolean;
  mode?: Mode;
  /** The first value to beat (saveBestOnly). */
  initialValueThreshold?: number;
  verbose?: 0 | 1;
}

/** Fills `{epoch}`, `{epoch:03d}`, `{name}` and `{name:.Nf}` in a checkpoint path. */
export function formatCheckpointPath(template: string, epoch: number, logs: Logs): string {
  checkPath('formatCheckpointPath', template);
  if (!Number.isInteger(epoch) || epoch < 0) throw new KilnError(`formatCheckpointPath: expected epoch to be a non-negative integer (0 for the first), got ${describe(epoch)}.`);
  if (logs === null || typeof logs !== 'object') throw new KilnError(`formatCheckpointPath: expected logs to be an object of numbers by name, got ${describe(logs)}.`);
  return template.replace(/\{([A-Za-z_][\w]*)(?::(0?)(\d*)(?:\.(\d+))?([df]))?\}/g, (_whole, name: string, zero: string, width: string, digits: string | undefined, kind: string | undefined) => {
    const v = name === 'epoch' ? epoch + 1 : logs[name];
    if (v === undefined) throw new KilnError(`modelCheckpoint: the path ${JSON.stringify(template)} names {${name}}, which is not in the logs (available: epoch, ${Object.keys(logs).join(', ')}).`);
    let text = kind === 'd' ? String(Math.round(v)) : kind === 'f' || digits !== undefined ? v.toFixed(Number(digits ?? 6)) : String(v);
    if (width) text = text.padStart(Number(width), zero ? '0' : ' ');
    return text;
  });
}

/**
 * Keras' ModelCheckpoint: saves the model (or its weights) at the end of each
 * epoch, or only when `monitor` improves (`saveBestOnly`). Saves are atomic, so
 * an interrupted save leaves the previous checkpoint whole; a whole-model
 * checkpoint holds the optimizer's state, so `kiln.loadModel(path)` and
 * `fit({ initialEpoch })` resume exactly where it was written.
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  private readonly verbose: number;
  private readonly max: boolean;
  private readonly initial: number;
  best: number;

  constructor(args: ModelCheckpointArgs) {
    checkOptions('modelCheckpoint', args, optionKeys<ModelCheckpointArgs>({ filepath: true, monitor: true, saveBestOnly: true, saveWeightsOnly: true, mode: true, initialValueThreshold: true, verbose: true }));
    super();
    const who = 'modelCheckpoint';
    if (!args || typeof args.filepath !== 'string' || args.filepath === '') throw new KilnError(`${who}: expected { filepath } (a non-empty path), got ${JSON.stringify(args)}.`);
    const { monitor = 'val_loss', saveBestOnly = false, saveWeightsOnly = false, mode = 'auto', initialValueThreshold, verbose = 0 } = args;
    if (initialValueThreshold !== undefined) checkNumber(who, 'initialValueThreshold', initialValueThreshold, Number.isFinite, 'to be a finite number');
    this.filepath = args.filepath;
    this.monitor = monitor;
    this.saveBestOnly = saveBestOnly;
    this.saveWeightsOnly = saveWeightsOnly;
    this.verbose = verbose;
    this.max = direction(monitor, mode, who) === 'max';
    this.initial = initialValueThreshold ?? (this.max ? -Infinity : Infinity);
    this.best = this.initial;
  }

  override onTrainBegin(): void {
    this.best = this.initial;
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const model = this.requireModel('modelCheckpoint');
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) {
        console.warn(`modelCheckpoint: the monitored value "${this.monitor}" is not in the logs (available: ${Object.keys(logs).join(', ')}); skipping.`);
        return;
      }
      const improved = this.max ? current > this.best : current < this.best;
      if (!improved) {
        say(this.verbose, `Epoch ${epoch + 1}: ${this.monitor} did not improve from ${this.best.toFixed(5)}`);
        return;
      }
      say(this.verbose, `Epoch ${epoch + 1}: ${this.monitor} improved from ${this.best.toFixed(5)} to ${current.toFixed(5)}, saving the model to ${formatCheckpointPath(this.filepath, epoch, logs)}`);
      this.best = current;
    } else {
      say(this.verbose, `Epoch ${epoch + 1}: saving the model to ${formatCheckpointPath(this.filepath, epoch, logs)}`);
    }
    const path = formatCheckpointPath(this.filepath, epoch, logs);
    await (this.saveWeightsOnly ? model.saveWeights(path) : model.save(path));
  }
}

/**
 * Saves the model at the end of each epoch, or only its best version.
 * @example kiln.callbacks.modelCheckpoint({ filepath: 'best.kiln', monitor: 'val_accuracy', saveBestOnly: true })
 */
export function modelCheckpoint(args: ModelCheckpointArgs): ModelCheckpoint {
  return new ModelCheckpoint(args);
}

// ---- TensorBoard (src/summary/) --------------------------------------------------------
export { tensorBoard, TensorBoard, type TensorBoardArgs } from '../summary/tensorboard.js';
