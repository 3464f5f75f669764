/**
 * @file What a model with a fixed batch size needs (Keras's stateful recurrent
 * layers): the batch size its input or its stateful layers fix, the check of
 * every batch against it (a KilnError naming the layer that needs it), and the
 * bookkeeping of `resetStates` — which carried states must become zeros before
 * the next run. The states themselves are weights of the model (WeightSpec
 * `state`), updated by every compiled entry.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Layer } from '../layers/layer.js';
import type { WeightEntry } from './entries.js';
import type { Topology } from './model.js';

/** A layer whose states resetStates zeroes: recurrent layers and bidirectional with stateful: true. */
interface Resettable {
  readonly statesVersion: number;
  resetStates(): void;
}

const resettable = (layer: Layer): layer is Layer & Resettable => typeof (layer as Partial<Resettable>).statesVersion === 'number' && layer.fixedBatchSize !== undefined;

/**
 * The batch size a model runs at, when something fixes it: its inputs'
 * `batchSize` (told to its stateful layers) or its stateful layers' own. Two
 * different sizes are a KilnError naming them.
 * @example fixedBatchSize('Sequential "s"', topology) // 4, or undefined for any batch
 */
export function fixedBatchSize(subject: string, topology: Topology): number | undefined {
  const fromInput = topology.inputs.find((i) => i.batchSize !== undefined)?.batchSize;
  if (fromInput !== undefined) for (const { layer } of topology.layers) layer.adoptBatchSize(fromInput);
  const sources: [string, number][] = [
    ...topology.inputs.flatMap((i, k) => (i.batchSize !== undefined ? [[`input ${k}`, i.batchSize] as [string, number]] : [])),
    ...topology.layers.flatMap(({ layer }) => (layer.fixedBatchSize !== undefined ? [[`${layer.className} "${layer.name}"`, layer.fixedBatchSize] as [string, number]] : [])),
  ];
  const clash = sources.find(([, b]) => b !== sources[0]![1]);
  if (clash) throw new KilnError(`${subject}: expected one fixed batch size, got ${sources[0]![1]} (${sources[0]![0]}) and ${clash[1]} (${clash[0]}).`);
  return sources[0]?.[1];
}

/**
 * The layers whose states carry between batches.
 * @example statefulLayers(topology).map((l) => l.name) // ['lstm']
 */
export const statefulLayers = (topology: Topology): Layer[] => topology.layers.map((l) => l.layer).filter(resettable);

/**
 * Refuses a batch of `count` examples when the model's batch is fixed at
 * `batch`, naming the stateful layer that needs it (or the input that fixes it).
 * @example checkBatchSize(topology, 4, 'predict', 3) // KilnError: LSTM "lstm": stateful needs batches of exactly 4 …
 */
export function checkBatchSize(topology: Topology, batch: number | undefined, method: string, count: number, what = 'a batch'): void {
  if (batch === undefined || count === batch) return;
  const layer = statefulLayers(topology)[0];
  const who = layer ? `${layer.className} "${layer.name}": stateful needs` : `${method}: the model's input has a fixed batch size, so it needs`;
  throw new KilnError(`${who} batches of exactly ${batch} examples (its states are one row per example and carry from one batch to the next), got ${what} of ${count} in ${method}; give ${method} a number of examples divisible by ${batch}${method === 'predict' || method === 'evaluate' || method === 'fit' ? ` and batchSize ${batch}` : ''}.`);
}

/**
 * fit's batchSize and shuffle: a fixed batch size is the default one, and a
 * stateful model keeps its examples in order (its batches continue each
 * other), refusing shuffle: true rather than feeding wrong states.
 * @example fitBatching(topology, 4, {}) // { batchSize: 4, shuffle: false } when a layer is stateful
 */
export function fitBatching(topology: Topology | undefined, fixed: number | undefined, args: { batchSize?: number; shuffle?: boolean }): { batchSize: number; shuffle: boolean } {
  const stateful = topology ? statefulLayers(topology)[0] : undefined;
  const { shuffle = !stateful, batchSize = fixed ?? 32 } = args;
  if (stateful && shuffle) throw new KilnError(`fit: ${stateful.className} "${stateful.name}" is stateful (each batch continues the sequences of the one before), so shuffled batches would feed it the wrong states; expected shuffle false (the default for a stateful model), got true.`);
  return { batchSize, shuffle };
}

/**
 * predict's batch size when the model fixes one: `batchSize` (if given) and
 * the number of examples `n` must agree with it; undefined when none is fixed.
 * @example fixedPredictBatch(topology, 4, undefined, 8) // 4; with n = 6: KilnError (a last batch of 2)
 */
export function fixedPredictBatch(topology: Topology, fixed: number | undefined, batchSize: number | undefined, n: number): number | undefined {
  if (fixed === undefined) return undefined;
  if (batchSize !== undefined) checkBatchSize(topology, fixed, 'predict', batchSize, 'batchSize');
  checkBatchSize(topology, fixed, 'predict', n % fixed || fixed, 'a last batch');
  return fixed;
}

/**
 * The state weights to zero now: those of layers reset since the model last
 * looked (`seen` remembers each layer's statesVersion and is updated).
 * @example for (const name of pendingResets(weights, seen)) module.set(name, zeros);
 */
export function pendingResets(weights: readonly WeightEntry[], seen: Map<Layer, number>): WeightEntry[] {
  const due = new Set<Layer>();
  for (const w of weights) {
    if (!w.spec.state || !resettable(w.layer)) continue;
    const version = w.layer.statesVersion;
    if ((seen.get(w.layer) ?? 0) !== version) due.add(w.layer);
  }
  for (const layer of due) seen.set(layer, (layer as Layer & Resettable).statesVersion);
  return weights.filter((w) => w.spec.state && due.has(w.layer));
}
