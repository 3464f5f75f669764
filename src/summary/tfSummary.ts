/**
 * TF2's `tf.summary` for custom training loops: a file writer made default
 * (`writer.asDefault(fn)` / `writer.setAsDefault()`), then `scalar`, `histogram`,
 * `image` and `text` write to it at `step` (or the step set with `setStep`).
 * Each returns true when it wrote, false when there is no default writer (as TF's).
 */
import { KilnError } from '../../compiler/errors.js';
import { defaultBucketCount, histogramValue, imageValue, scalarValue, textValue, toRawImage } from './plugins.js';
import type { SummaryValueSpec } from './events.js';
import type { LogSink } from './sinks.js';
import { readScalar, readValues, type TensorLike } from './values.js';
import { EventFileWriter } from './writer.js';

let current: SummaryFileWriter | undefined;
let defaultStep: number | undefined;

/** A run's event file writer (`kiln.summary.createFileWriter`). @example const w = kiln.summary.createFileWriter('logs/a'); w.setAsDefault(); */
export class SummaryFileWriter {
  readonly writer: EventFileWriter;

  constructor(logDir: string, options: { flushMillis?: number; filenameSuffix?: string; sink?: LogSink } = {}) {
    this.writer = new EventFileWriter(logDir, { filenameSuffix: '.v2', ...options });
  }

  get logDir(): string {
    return this.writer.logDir;
  }

  /** Makes this the default writer until another is. */
  setAsDefault(step?: number): void {
    current = this;
    if (step !== undefined) setStep(step);
  }

  /** Runs `fn` with this as the default writer (awaiting it when it returns a promise), then restores the previous one. */
  asDefault<T>(fn: () => T, step?: number): T {
    const [previous, previousStep] = [current, defaultStep];
    this.setAsDefault(step);
    const restore = () => { current = previous; defaultStep = previousStep; };
    let result: T;
    try {
      result = fn();
    } catch (e) {
      restore();
      throw e;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Flushes and closes; if this was the default writer, there is none after. */
  async close(): Promise<void> {
    if (current === this) current = undefined;
    await this.writer.close();
  }
}

/**
 * A writer for the run folder `logDir` (made when missing), as tf.summary.create_file_writer.
 * @example const w = kiln.summary.createFileWriter('logs/custom'); w.asDefault(() => kiln.summary.scalar('loss', 0.3, { step: 1 }));
 */
export function createFileWriter(logDir: string, options: { flushMillis?: number; filenameSuffix?: string; sink?: LogSink } = {}): SummaryFileWriter {
  return new SummaryFileWriter(logDir, options);
}

/**
 * The step used when a summary call gives none (tf.summary.experimental.set_step).
 * @example kiln.summary.setStep(10); kiln.summary.scalar('loss', 0.2);
 */
export function setStep(step: number | undefined): void {
  if (step !== undefined && (!Number.isInteger(step) || step < 0)) throw new KilnError(`summary.setStep: expected a non-negative integer, got ${step}.`);
  defaultStep = step;
}

export interface SummaryArgs {
  /** Defaults to the step of `setStep` / `asDefault`; one of them is needed. */
  step?: number;
  description?: string;
}

function emit(who: string, name: string, args: SummaryArgs, value: () => SummaryValueSpec): boolean {
  if (typeof name !== 'string' || name === '') throw new KilnError(`summary.${who}: expected a non-empty name, got ${JSON.stringify(name)}.`);
  if (!current) return false;
  const step = args.step ?? defaultStep;
  if (step === undefined) throw new KilnError(`summary.${who} "${name}": no step; pass { step } or call kiln.summary.setStep(step) first.`);
  if (!Number.isInteger(step) || step < 0) throw new KilnError(`summary.${who} "${name}": expected step to be a non-negative integer, got ${step}.`);
  current.writer.addSummary([value()], step);
  return true;
}

/**
 * A scalar (NaN and ±Infinity are written as they are).
 * @example kiln.summary.scalar('loss', loss, { step })
 */
export function scalar(name: string, data: TensorLike, args: SummaryArgs = {}): boolean {
  return emit('scalar', name, args, () => scalarValue(name, readScalar(`summary.scalar "${name}"`, data), args.description));
}

/**
 * A histogram of the values (30 buckets by default).
 * @example kiln.summary.histogram('weights', w, { step, buckets: 50 })
 */
export function histogram(name: string, data: TensorLike, args: SummaryArgs & { buckets?: number } = {}): boolean {
  return emit('histogram', name, args, () => histogramValue(name, readValues(`summary.histogram "${name}"`, data).data, args.buckets ?? defaultBucketCount, args.description));
}

/**
 * Images from a [k, h, w, c] tensor (c = 1, 3 or 4): floats in [0, 1] or integers 0–255; at most `maxOutputs` (3) are kept.
 * @example kiln.summary.image('samples', xBatch.reshape([-1, 28, 28, 1]), { step, maxOutputs: 4 })
 */
export function image(name: string, data: TensorLike, args: SummaryArgs & { maxOutputs?: number } = {}): boolean {
  const { maxOutputs = 3 } = args;
  if (!Number.isInteger(maxOutputs) || maxOutputs < 1) throw new KilnError(`summary.image "${name}": expected maxOutputs to be a positive integer, got ${maxOutputs}.`);
  return emit('image', name, args, () => {
    const v = readValues(`summary.image "${name}"`, data);
    if (v.shape.length !== 4) throw new KilnError(`summary.image "${name}": expected a [k, h, w, c] tensor, got shape [${v.shape.join(',')}].`);
    const [k, h, w, c] = v.shape as [number, number, number, number];
    const per = h * w * c;
    const images = Array.from({ length: Math.min(k, maxOutputs) }, (_, i) => toRawImage(`summary.image "${name}"`, Array.prototype.slice.call(v.data, i * per, (i + 1) * per) as number[], h, w, c, v.float ? 255.5 : 1));
    return imageValue(name, images, args.description);
  });
}

/**
 * Markdown text: a string, or a list shown as a table.
 * @example kiln.summary.text('config', '| lr | 1e-3 |', { step: 0 })
 */
export function text(name: string, data: string | readonly string[], args: SummaryArgs = {}): boolean {
  return emit('text', name, args, () => textValue(name, data, args.description));
}
