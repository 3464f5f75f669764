/**
 * @file What `model.compile` takes and what it resolves to: the optimizer (an
 * object or a name), and per output a loss, a loss weight and metrics with the
 * names they are logged under (`Head`).
 */
import { KilnError } from '../../compiler/errors.js';
import * as optimizers from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/index.js';
import { getLoss, type Loss } from './losses.js';
import { getMetric, type Metric } from './metrics.js';

export type LossIdentifier = string | Loss;
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

/** One output's part of the objective: its loss and weight, and its metrics with the names they are logged under. */
export interface Head {
  readonly output: string;
  readonly loss: Loss;
  readonly weight: number;
  readonly metrics: readonly { readonly log: string; readonly metric: Metric }[];
}

export interface Compiled {
  readonly optimizer: Optimizer;
  readonly args: CompileArgs;
  /** Per output; resolved once the outputs are known (a subclassed model's at its first call). */
  heads?: readonly Head[];
}

/** The optimizers `compile` knows by name, with Keras' defaults (SGD's learning rate 0.01). */
export const optimizerByName = {
  sgd: () => optimizers.sgd({ learningRate: 0.01 }),
  adam: () => optimizers.adam(),
  adamw: () => optimizers.adamw(),
  rmsprop: () => optimizers.rmsprop(),
  adagrad: () => optimizers.adagrad(),
};

export const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
export function resolveHeads(args: CompileArgs, outputs: readonly string[]): Head[] {
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
