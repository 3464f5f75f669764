/**
 * What a Keras-style model is made of, as `LayersModel` sees it: its topology
 * (layers with the shapes their weights are made for, inputs, outputs' shapes),
 * a layer's share of the model's weights, and the checks that saved weights and
 * optimizer state fit the model before any of them is written.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import type { Layer, Shape } from '../layers/layer.js';
import { sameShape } from './dataAdapter.js';
import type { WeightEntry } from './entries.js';

/** One model input: its shape without the batch dimension, its dtype. */
export interface InputSpec {
  readonly shape: Shape;
  readonly dtype: 'float32' | 'int32';
  /** A fixed batch size (`kiln.input({ batchSize })`); undefined: any. */
  readonly batchSize?: number;
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

/** `layer`'s weights out of a model's (named `<layer name>/<weight name>`), by their own names. */
export function layerWeights(layer: Layer, weights: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  const prefix = `${layer.name}/`;
  return Object.fromEntries(Object.entries(weights).filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t]));
}

/**
 * Refuses inputs that do not fit the model's: their count, and each one's shape
 * after the batch dimension.
 * @example checkInputs('sequential_1.apply', [x], model.topology());
 */
export function checkInputs(subject: string, xs: readonly Tensor[], topology: Topology): void {
  if (xs.length !== topology.inputs.length) throw new KilnError(`${subject}: expected ${topology.inputs.length} input${topology.inputs.length === 1 ? '' : 's'}, got ${xs.length}.`);
  xs.forEach((t, i) => {
    const want = topology.inputs[i]!.shape;
    if (t.rank !== want.length + 1 || want.some((d, k) => d !== t.shape[k + 1])) throw new KilnError(`${subject}: expected input ${i} of shape [n,${want.join(',')}], got ${formatType(t.type)}.`);
  });
}

type Stored = { readonly shape: readonly number[]; readonly data: Float32Array };

/**
 * Refuses saved weights that do not fit the model (`owner`): names it does not
 * have, a weight it needs that is missing (unless `partial`; internal
 * bookkeeping weights may always be missing), a shape that differs.
 * @example checkRestoredWeights('loadWeights', 'sequential_1', entries, { 'dense_1/kernel': { shape: [3, 2], data } }, true);
 */
export function checkRestoredWeights(subject: string, owner: string, entries: readonly WeightEntry[], weights: Readonly<Record<string, Stored>>, partial: boolean): void {
  const known = new Set(entries.map((w) => w.name));
  const extra = Object.keys(weights).filter((n) => !known.has(n));
  if (extra.length) throw new KilnError(`${subject}: the file has weights this ${owner} does not: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}.`);
  for (const w of entries) {
    const given = weights[w.name];
    if (!given) {
      if (partial || w.spec.internal) continue;
      throw new KilnError(`${subject}: the file has no weight "${w.name}" (of shape [${w.spec.shape.join(',')}]), which ${owner} needs.`);
    }
    if (!sameShape(given.shape, w.spec.shape)) throw new KilnError(`${subject}: weight "${w.name}" has shape [${given.shape.join(',')}] in the file, expected [${w.spec.shape.join(',')}].`);
  }
}

/**
 * Saved optimizer state as the optimizer (`className`) expects it: every slot of
 * `specs`, at its shape, copied out of `given`.
 * @example const state = checkedOptimizerState('loadModel', 'Adam', specs, saved.optimizer);
 */
export function checkedOptimizerState(subject: string, className: string, specs: readonly { name: string; shape: readonly number[] }[], given: Readonly<Record<string, Stored>>): Record<string, Float32Array> {
  const state: Record<string, Float32Array> = {};
  for (const s of specs) {
    const g = given[s.name];
    if (!g) throw new KilnError(`${subject}: the file's optimizer state has no "${s.name}"; expected the state of ${className} for this model (save again, or load with includeOptimizer false).`);
    if (!sameShape(g.shape, s.shape)) throw new KilnError(`${subject}: optimizer state "${s.name}" has shape [${g.shape.join(',')}] in the file, expected [${s.shape.join(',')}].`);
    state[s.name] = Float32Array.from(g.data);
  }
  return state;
}
