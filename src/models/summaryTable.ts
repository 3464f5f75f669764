/**
 * @file `model.summary()`'s table, as Keras prints it: each layer with its
 * output shape (the batch dimension as the model fixes it, or null) and its
 * parameter count, then the totals. Bookkeeping weights (dropout's step
 * counter, a stateful layer's carried states) are not parameters.
 */
import type { WeightEntry } from './entries.js';
import type { Topology } from './model.js';

const size = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);

/**
 * The summary's lines for a model's topology and its public weights.
 * @example summaryLines(topology, weights, undefined).forEach((l) => console.log(l));
 */
export function summaryLines(topology: Topology, weights: readonly WeightEntry[], batch: number | undefined): string[] {
  const rows = topology.layers.map(({ layer: l, outputShape }) => {
    const params = weights.filter((w) => w.layer === l).reduce((a, w) => a + size(w.spec.shape), 0);
    return [`${l.name} (${l.className})`, `[${batch ?? 'null'},${outputShape.join(',')}]`, String(params)];
  });
  const header = ['Layer (type)', 'Output shape', 'Param #'];
  const widths = [0, 1, 2].map((c) => Math.max(...[header, ...rows].map((r) => r[c]!.length)) + 2);
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('');
  const rule = '_'.repeat(widths.reduce((a, b) => a + b, 0));
  const total = weights.reduce((a, w) => a + size(w.spec.shape), 0);
  const trainable = weights.filter((w) => w.spec.trainable && w.layer.trainable).reduce((a, w) => a + size(w.spec.shape), 0);
  return [rule, line(header), '='.repeat(rule.length), ...rows.map(line), '='.repeat(rule.length),
    `Total params: ${total}`, `Trainable params: ${trainable}`, `Non-trainable params: ${total - trainable}`, rule];
}
