/**
 * @file A Keras-style model's three compiled entries, traced from its forward
 * pass: the training step (forward in training mode, the loss with its
 * regularization penalties, gradients, the optimizer's update with weight
 * constraints, all in one graph), evaluation and prediction. The entries' inputs
 * are the data (`x`, `y`, or `x_0`, … with several), the weights by name and,
 * for training, the optimizer's state and `sample_weight` (classWeight).
 */
import * as F from '../../compiler/functions/index.js';
import type { Graph } from '../../compiler/ir.js';
import { Tensor } from '../../compiler/tensor.js';
import { spec, trace } from '../../compiler/trace.js';
import { valueAndGrad } from '../../compiler/transforms.js';
import { KilnError } from '../../compiler/errors.js';
import { formatType } from '../../compiler/types.js';
import type { Layer, WeightSpec } from '../layers/layer.js';
import { tracedMasks } from '../layers/symbolic.js';
import type { Optimizer } from '../optimizers/index.js';
import { stepFlag } from '../optimizers/optimizer.js';
import type { Head } from './compileArgs.js';
import { entryNames } from './dataAdapter.js';
import { stepMean, type Metric } from './metrics.js';
import type { Topology } from './model.js';

/** A model's weight: `<layer name>/<weight name>`, its layer and spec. */
export interface WeightEntry {
  readonly name: string;
  readonly layer: Layer;
  readonly spec: WeightSpec;
}

/** What tracing the entries needs of a model. */
export interface EntryParts {
  readonly optimizer: Optimizer;
  readonly heads: readonly Head[];
  readonly topology: Topology;
  /** Every weight, bookkeeping included, in the model's order. */
  readonly weights: readonly WeightEntry[];
  /** Whether the training step takes per-example loss weights. */
  readonly weighted: boolean;
  /** A fixed batch size (a stateful model's), for the labels' and sample weights' specs; undefined: dynamic. */
  readonly batch?: number;
  /** Specs of x, one per input, by entry name. */
  readonly inputSpecs: Record<string, ReturnType<typeof spec>>;
  /** The forward pass inside a trace: inputs to outputs, the weights bound by name. */
  readonly forward: (inputs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, training: boolean) => Tensor[];
}

/**
 * The training step, evaluation and prediction of a compiled model, traced, and
 * the heads as the entries output them: the mean metrics of an output that
 * carries a mask or has steps ([batch, steps, …]) become means over its (real)
 * steps (`stepMean`: two totals, as Keras weights a metric by the mask).
 */
export function traceEntries(model: EntryParts): { trainStep: Graph; evaluate: Graph; predict: Graph; heads: readonly Head[] } {
  const { topology, weights, optimizer } = model;
  const params = Object.fromEntries(weights.map((w) => [w.name, spec([...w.spec.shape], 'float32', { kind: 'parameter' })]));
  const xNames = entryNames('x', topology.inputs.length);
  const yNames = entryNames('y', topology.outputs.length);
  const x = model.inputSpecs;
  const batch = model.batch ?? null;
  const y = Object.fromEntries(topology.outputs.map((s, i) => [yNames[i]!, model.heads[i]!.loss.sparse ? spec([batch, ...s.slice(0, -1)], 'int32') : spec([batch, ...s])]));
  const xsOf = (t: Record<string, Tensor>) => xNames.map((n) => t[n]!);
  const ysOf = (t: Record<string, Tensor>) => yNames.map((n) => t[n]!);
  // predict first: it shows which outputs carry a mask or have steps
  let stepwise: boolean[] = [];
  const predict = trace((t: Record<string, Tensor>) => {
    const outputs = model.forward(xsOf(t), t, false);
    stepwise = outputs.map((p) => tracedMasks.has(p) || p.rank > 2);
    return outputs.length === 1 ? outputs[0]! : outputs;
  }, { ...x, ...params });
  const heads = model.heads.map((h, i) => (stepwise[i] ? { ...h, metrics: h.metrics.map(({ log, metric }) => ({ log, metric: metric.values ? stepMean(metric, (p) => tracedMasks.get(p)) : metric })) } : h));
  // a ratio metric (precision, recall, auc) outputs its counts, `${log}_${part}`, for the trainer to total and combine
  const metricOutputs = (log: string, m: Metric, y: Tensor, p: Tensor): [string, Tensor][] => (m.parts ? m.parts.map((q) => [`${log}_${q.name}`, q.sum(y, p)]) : [[log, m.sum(y, p)]]);
  // the entries' outputs: the total loss, each output's loss (several outputs), each output's metrics
  const outputs = (labels: Tensor[], predictions: Tensor[], loss: Tensor, perHead: Tensor[]) => ({
    loss,
    ...(heads.length > 1 ? Object.fromEntries(heads.map((h, i) => [`${h.output}_loss`, perHead[i]!])) : {}),
    ...Object.fromEntries(heads.flatMap((h, i) => h.metrics.flatMap(({ log, metric }) => metricOutputs(log, metric, labels[i]!, predictions[i]!)))),
  });
  const sum = (ts: Tensor[]) => ts.slice(1).reduce((a, b) => F.add(a, b), ts[0]!);
  const weightedSum = (ls: Tensor[]) => sum(ls.map((l, i) => (heads[i]!.weight === 1 ? l : F.mul(l, heads[i]!.weight))));
  // Keras: an output carrying a mask (returnSequences over a masked input) weights its per-step losses by it
  const masked = (i: number, label: Tensor, prediction: Tensor, sampleWeight?: Tensor) => maskedLoss(heads[i]!, label, prediction, sampleWeight);
  const headLosses = (labels: Tensor[], predictions: Tensor[]) => predictions.map((p, i) => masked(i, labels[i]!, p) ?? heads[i]!.loss.fn(labels[i]!, p));
  const trainable = weights.filter((w) => w.spec.trainable && w.layer.trainable);
  const weighted = model.weighted;
  // each output's training loss: the mean of the examples' losses times their weights (ones unless classWeight)
  const trainLosses = weighted
    ? (t: Record<string, Tensor>, ps: Tensor[]) => {
      const labels = ysOf(t);
      return ps.map((p, i) => {
        const m = masked(i, labels[i]!, p, t.sample_weight!);
        if (m) return m;
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
      predictions = model.forward(xsOf(t), { ...all, ...Object.fromEntries(trainable.map((w, i) => [w.name, ps[i]!])) }, true);
      const penalties = trainable.flatMap((w, i) => (w.spec.regularizer ? [w.spec.regularizer.penalty(ps[i]!)] : []));
      perHead = trainLosses(t, predictions);
      return sum([weightedSum(perHead), ...penalties]);
    };
    const { value, grad } = valueAndGrad(objective, trainable.map((_, i) => i))(...trainable.map((w) => all[w.name]!));
    // Keras: each constrained weight's updated value is projected by its constraint
    const constraints = new Map(trainable.flatMap((w) => (w.spec.constraint ? [[all[w.name]!, w.spec.constraint] as const] : [])));
    optimizer.applyGradients(trainable.map((w, i) => [grad[i]!, all[w.name]!] as const), {
      constrain: (param, updated) => constraints.get(param)?.apply(updated) ?? updated,
      loss: value,
    });
    // a step skipped for a non-finite loss or gradient reports a NaN loss (the weights are those before it)
    return outputs(ysOf(t), predictions!, trainable.length ? F.add(value, stepFlag(grad, value)) : value, perHead);
  }, { ...x, ...y, ...(weighted ? { sample_weight: spec([batch]) } : {}), ...params });
  const evaluate = trace((t: Record<string, Tensor>) => {
    const predictions = model.forward(xsOf(t), t, false);
    const perHead = headLosses(ysOf(t), predictions);
    return outputs(ysOf(t), predictions, weightedSum(perHead), perHead);
  }, { ...x, ...y, ...params });
  return { trainStep, evaluate, predict, heads };
}

/**
 * Keras's masked loss: when `prediction` carries a mask (`tracedMasks`, set by
 * the forward pass), the per-step losses are weighted by it (and by the
 * examples' weights): Σ loss·mask·weight / (Σ mask + 1e-7) — masked steps count
 * for nothing and the mean is over the real steps. undefined without a mask.
 * @example maskedLoss(head, y, p) // for p [b, steps, units] with a [b, steps] mask: the mean over the real steps
 */
export function maskedLoss(head: Head, label: Tensor, prediction: Tensor, sampleWeight?: Tensor): Tensor | undefined {
  const mask = tracedMasks.get(prediction);
  if (!mask) return undefined;
  const { loss, output } = head;
  if (!loss.perExample) throw new KilnError(`compile: output "${output}" carries a mask (its steps are padding or real), but loss ${loss.name} has no per-step form to weight by it; expected a kiln.losses loss.`);
  let perStep = loss.perExample(label, prediction);
  const weights = F.cast(mask.dtype === 'bool' ? mask : F.ne(mask, 0), 'float32');
  while (perStep.rank > weights.rank) perStep = F.mean(perStep, -1);
  if (perStep.rank !== weights.rank || perStep.type.shape.some((d, k) => d !== weights.type.shape[k])) {
    throw new KilnError(`compile: output "${output}" carries a mask ${formatType(mask.type)}, but its loss ${loss.name} gives per-step values ${formatType(perStep.type)}; expected them to match.`);
  }
  let w = weights;
  if (sampleWeight) { // the examples' weights, spread over their steps
    let e = sampleWeight;
    while (e.rank < w.rank) e = F.expandDims(e, -1);
    w = F.mul(w, e);
  }
  return F.div(F.sum(F.mul(perStep, w)), F.add(F.sum(weights), 1e-7));
}

/**
 * Runs `traceFn` with each layer's call reported to `watch(layer, first, end)`:
 * the ids of the nodes it made (for views that group a graph by layer, as
 * TensorBoard's graph dashboard does). Layers with their own `call` property are
 * left alone; the patches are removed afterwards.
 */
export function watchingLayers<T>(layers: readonly Layer[], watch: (layerName: string, first: number, end: number) => void, traceFn: () => T): T {
  const patched: Layer[] = [];
  for (const layer of layers) {
    if (patched.includes(layer) || Object.prototype.hasOwnProperty.call(layer, 'call')) continue;
    patched.push(layer);
    for (const method of ['call', 'callMany', 'callOutputs'] as const) {
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
    return traceFn();
  } finally {
    for (const layer of patched) for (const method of ['call', 'callMany']) delete (layer as unknown as Record<string, unknown>)[method];
  }
}
