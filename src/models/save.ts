/**
 * Saving and loading Keras-style models. A saved model is ONE safetensors file:
 *
 *   tensors   `weights/<layer>/<weight>`   every weight, bookkeeping state included
 *             `optimizer/<state name>`      the optimizer's slots and step (optional)
 *   metadata  format        'kiln.model'
 *             version       '1'
 *             model         the architecture, `model.toConfig()` as JSON
 *             training      compile's arguments as JSON (optimizer with its current
 *                           learning rate, losses, loss weights, metrics), when they
 *                           can be written (kiln's own losses and metrics)
 *             crc32         over the model and training strings and every tensor's
 *                           bytes in name order: a flipped bit anywhere is caught
 *             rows          the row encoder (`model.setRowEncoder`) as JSON, when
 *                           the model has one (then version 3: older kilns refuse
 *                           the file by its version, not by a failed checksum)
 *             user.<key>    the caller's metadata
 *
 * One file means one atomic write (temp file + rename). A loaded model resumes
 * training bit for bit: same weights, optimizer state and step, learning rate.
 */
import { KilnError } from '../../compiler/errors.js';
import { checkOptions, checkPath, describe } from '../../compiler/check.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { NpyArray } from '../io/npyArray.js';
import { crc32 } from '../runtime/crc32.js';
import * as layerModule from '../layers/index.js';
import type { Layer } from '../layers/layer.js';
import { refuseCode } from '../layers/lambda.js';
import { Merge } from '../layers/merge.js';
import * as optimizers from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/index.js';
import { Functional, input, InputLayer, type SymbolicTensor } from './functional.js';
import { splitCallInputs } from '../layers/symbolic.js';
import { losses, type Loss } from './losses.js';
import { metrics, type Metric } from './metrics.js';
import type { CompileArgs, LayersModel } from './model.js';
import { Sequential } from './sequential.js';
import { rowEncoderFromJSON } from '../layers/preprocessing/rowEncoder.js';
import type { RowsSpec } from '../runtime/rows.js';
import { rowsSpecFor } from './rowInputs.js';

export const MODEL_FORMAT = 'kiln.model';
/** Version 2: the checksum covers the user metadata too; version 1 files (without) still load. Version 3: a row encoder too. */
export const MODEL_FORMAT_VERSION = '2';
const ROWS_FORMAT_VERSION = '3';

type ClassConfig = { className: string; config: Record<string, unknown> };

// ---- layers -------------------------------------------------------------------------

/** Every layer class `getConfig` output can be revived with, by className. */
const L = layerModule;
const layerClasses: Record<string, new (args: never) => Layer> = {
  Dense: L.Dense, Activation: L.Activation, Flatten: L.Flatten, Reshape: L.Reshape, Permute: L.Permute, ZeroPadding2D: L.ZeroPadding2D,
  Conv1D: L.Conv1D, Conv2D: L.Conv2D, DepthwiseConv2D: L.DepthwiseConv2D, Conv2DTranspose: L.Conv2DTranspose,
  MaxPooling1D: L.MaxPooling1D, MaxPooling2D: L.MaxPooling2D, AveragePooling1D: L.AveragePooling1D, AveragePooling2D: L.AveragePooling2D,
  GlobalAveragePooling1D: L.GlobalAveragePooling1D, GlobalAveragePooling2D: L.GlobalAveragePooling2D, GlobalMaxPooling1D: L.GlobalMaxPooling1D, GlobalMaxPooling2D: L.GlobalMaxPooling2D,
  Embedding: L.Embedding, LayerNormalization: L.LayerNormalization, BatchNormalization: L.BatchNormalization,
  Dropout: L.Dropout, SpatialDropout2D: L.SpatialDropout2D, Add: L.Add, Multiply: L.Multiply, Concatenate: L.Concatenate, OpLambda: L.OpLambda,
  Normalization: L.Normalization, Rescaling: L.Rescaling, Discretization: L.Discretization, CategoryEncoding: L.CategoryEncoding,
  Resizing: L.Resizing, CenterCrop: L.CenterCrop, RandomFlip: L.RandomFlip, RandomBrightness: L.RandomBrightness, RandomContrast: L.RandomContrast,
  MultiHeadAttention: L.MultiHeadAttention, Attention: L.Attention, RepeatVector: L.RepeatVector, TimeDistributed: L.TimeDistributed,
  RandomRotation: L.RandomRotation, RandomZoom: L.RandomZoom, RandomTranslation: L.RandomTranslation, RandomCrop: L.RandomCrop,
  SimpleRNN: L.SimpleRNN, LSTM: L.LSTM, GRU: L.GRU, Bidirectional: L.Bidirectional, Masking: L.Masking,
  InputLayer,
} as unknown as Record<string, new (args: never) => Layer>;

/** A layer from `{ className, config }` as `layer.getConfig()` wrote it. */
export function layerFromConfig(c: ClassConfig, subject = 'loadModel'): Layer {
  if (c.className === 'Sequential' || c.className === 'Functional') { // a nested model
    const layer = modelFromConfig(c, subject).asLayer();
    if (c.config.trainable === false) layer.trainable = false;
    return layer;
  }
  refuseCode(subject, c); // a Lambda's function is not loaded from a file
  const Class = Object.hasOwn(layerClasses, c.className) ? layerClasses[c.className] : undefined;
  if (!Class) throw new KilnError(`${subject}: unknown layer class "${c.className}"; kiln knows ${Object.keys(layerClasses).sort().join(', ')}.`);
  const { batchInputShape, ...rest } = c.config as { batchInputShape?: (number | null)[] } & Record<string, unknown>;
  // a wrapper's inner layer comes as its own { className, config }
  if (isClassConfig(rest.layer)) rest.layer = layerFromConfig(rest.layer, subject);
  const args = batchInputShape ? { ...rest, inputShape: batchInputShape.slice(1), ...(typeof batchInputShape[0] === 'number' ? { batchSize: batchInputShape[0] } : {}) } : rest;
  return new Class(args as never);
}

const isClassConfig = (x: unknown): x is ClassConfig =>
  typeof x === 'object' && x !== null && typeof (x as ClassConfig).className === 'string' && typeof (x as ClassConfig).config === 'object' && (x as ClassConfig).config !== null;

/** A Sequential or Functional model from `model.toConfig()`'s output. */
export function modelFromConfig(c: unknown, subject = 'loadModel'): LayersModel {
  if (!isClassConfig(c)) throw new KilnError(`${subject}: expected the model's config to be { className, config }, got ${JSON.stringify(c)?.slice(0, 80)}.`);
  const config = c.config as { name?: string; layers?: ClassConfig[]; nodes?: { layer: string; inputs: number[]; initialState?: number; mask?: boolean; masks?: boolean[]; attentionMask?: boolean; output?: number }[]; inputs?: number[]; outputs?: number[] };
  if (!Array.isArray(config.layers) || !config.layers.every(isClassConfig)) throw new KilnError(`${subject}: expected the ${c.className} config to list its layers as { className, config }.`);
  if (c.className === 'Sequential') return new Sequential({ name: config.name, layers: config.layers.map((l) => layerFromConfig(l, subject)) });
  if (c.className !== 'Functional') throw new KilnError(`${subject}: unknown model class "${c.className}"; expected Sequential or Functional (a subclassed model saves only its weights).`);
  const { nodes, inputs, outputs } = config;
  if (!Array.isArray(nodes) || !Array.isArray(inputs) || !Array.isArray(outputs)) throw new KilnError(`${subject}: expected the Functional config to have nodes, inputs and outputs.`);
  const byName = new Map(config.layers.map((l) => [l.config.name as string, l]));
  const layers = new Map<string, Layer>();
  const tensors: SymbolicTensor[] = [];
  // the outputs of a call with several: each is a node, and they are one call
  const calls = new Map<string, SymbolicTensor | SymbolicTensor[]>();
  nodes.forEach((node, k) => {
    const lc = byName.get(node.layer);
    if (!lc) throw new KilnError(`${subject}: node ${k} calls layer "${node.layer}", which the config does not list.`);
    if (!Array.isArray(node.inputs) || node.inputs.some((i) => !Number.isInteger(i) || i < 0 || i >= k)) throw new KilnError(`${subject}: node ${k} ("${node.layer}") reads ${JSON.stringify(node.inputs)}; expected indices of earlier nodes.`);
    if (lc.className === 'InputLayer') {
      const batchShape = lc.config.batchInputShape as (number | null)[] | undefined;
      const batchSize = typeof batchShape?.[0] === 'number' ? { batchSize: batchShape[0] } : {};
      tensors.push(input({ shape: batchShape?.slice(1) as number[], dtype: lc.config.dtype as 'float32' | 'int32', name: node.layer, ...batchSize }));
      return;
    }
    let layer = layers.get(node.layer);
    if (!layer) layers.set(node.layer, (layer = layerFromConfig(lc, subject)));
    const n = node.initialState ?? 0;
    const masks = Array.isArray(node.masks) ? node.masks.map((m) => m === true) : undefined;
    const extra = n + (node.mask ? 1 : 0) + (masks?.filter((m) => m).length ?? 0) + (node.attentionMask ? 1 : 0);
    if (!Number.isInteger(n) || n < 0 || extra >= node.inputs.length) throw new KilnError(`${subject}: node ${k} ("${node.layer}") has ${node.inputs.length} inputs, too few for initialState ${JSON.stringify(node.initialState)}${node.mask || masks || node.attentionMask ? ' and its masks' : ''}.`);
    const key = JSON.stringify([node.layer, node.inputs, n, node.mask === true, masks, node.attentionMask === true]);
    let result = calls.get(key);
    if (!result) {
      const split = splitCallInputs({ initialState: n, mask: node.mask === true, masks, attentionMask: node.attentionMask === true, outputs: [] }, node.inputs.map((i) => tensors[i]!));
      const xs = split.inputs;
      const options = {
        ...(split.initialState ? { initialState: split.initialState } : {}), ...(split.mask ? { mask: split.mask } : {}),
        ...(split.masks ? { mask: split.masks } : {}), ...(split.attentionMask ? { attentionMask: split.attentionMask } : {}),
      };
      result = layer instanceof Merge || xs.length > 1 ? layer.apply(xs, options) : layer.apply(xs[0]!, options);
      calls.set(key, result);
    }
    const outputs = Array.isArray(result) ? result : [result];
    const output = outputs[node.output ?? 0];
    if (!output) throw new KilnError(`${subject}: node ${k} ("${node.layer}") names output ${JSON.stringify(node.output)}; the call gives ${outputs.length}.`);
    tensors.push(output);
  });
  const at = (i: number) => {
    if (!Number.isInteger(i) || !tensors[i]) throw new KilnError(`${subject}: the Functional config names node ${i} as an input or output; it has ${tensors.length} nodes.`);
    return tensors[i]!;
  };
  return new Functional({ name: config.name, inputs: inputs.map(at), outputs: outputs.map(at) });
}

// ---- compile arguments --------------------------------------------------------------

const optimizerFactories: Record<string, (config: never) => Optimizer> = {
  SGD: optimizers.sgd, Adam: optimizers.adam, AdamW: optimizers.adamw, RMSprop: optimizers.rmsprop, Adagrad: optimizers.adagrad,
} as unknown as Record<string, (config: never) => Optimizer>;

const scheduleFactories: Record<string, (config: never) => optimizers.LearningRateSchedule> = {
  ExponentialDecay: optimizers.schedules.exponentialDecay,
  InverseTimeDecay: optimizers.schedules.inverseTimeDecay,
  PiecewiseConstantDecay: optimizers.schedules.piecewiseConstantDecay,
  CosineDecay: optimizers.schedules.cosineDecay,
} as unknown as Record<string, (config: never) => optimizers.LearningRateSchedule>;

/** A loss or metric identifier as JSON, or undefined when it is the user's own function (it cannot be written). */
function lossToJson(l: string | Loss): unknown {
  if (typeof l === 'string') return l;
  return l.config && Object.hasOwn(losses, l.name) ? { className: l.name, config: l.config } : undefined;
}

function metricToJson(m: string | Metric): unknown {
  if (typeof m === 'string') return m;
  return m.factory ? { factory: m.factory.name, options: m.factory.options } : undefined;
}

/** Maps every leaf of a loss/metric argument (one, a list, a list of lists, a record) with `f`; undefined if any leaf is. */
function mapLeaves(x: unknown, leaf: (v: unknown) => boolean, f: (v: never) => unknown): unknown {
  if (leaf(x)) return f(x as never);
  if (Array.isArray(x)) {
    const out = x.map((v) => mapLeaves(v, leaf, f));
    return out.includes(undefined) ? undefined : out;
  }
  if (typeof x === 'object' && x !== null) {
    const out = Object.entries(x).map(([k, v]) => [k, mapLeaves(v, leaf, f)] as const);
    return out.some(([, v]) => v === undefined) ? undefined : Object.fromEntries(out);
  }
  return undefined;
}

const isLossLeaf = (v: unknown) => typeof v === 'string' || (typeof v === 'object' && v !== null && typeof (v as Loss).fn === 'function');
const isMetricLeaf = (v: unknown) => typeof v === 'string' || (typeof v === 'object' && v !== null && typeof (v as Metric).sum === 'function');

/** compile's arguments as JSON, or undefined when a loss, metric or optimizer is not one of kiln's own. */
export function trainingToJson(args: CompileArgs): string | undefined {
  const opt = typeof args.optimizer === 'string' ? undefined : args.optimizer;
  if (opt && !Object.hasOwn(optimizerFactories, opt.className)) return undefined;
  const loss = mapLeaves(args.loss, isLossLeaf, lossToJson);
  const metricsJson = args.metrics === undefined ? undefined : mapLeaves(args.metrics, isMetricLeaf, metricToJson);
  if (loss === undefined || (args.metrics !== undefined && metricsJson === undefined)) return undefined;
  return JSON.stringify({
    optimizer: typeof args.optimizer === 'string' ? args.optimizer : { className: opt!.className, config: opt!.getConfig() },
    loss, metrics: metricsJson, lossWeights: args.lossWeights,
  });
}

/** compile's arguments from `trainingToJson`'s output. */
export function trainingFromJson(json: string, subject = 'loadModel'): CompileArgs {
  const t = JSON.parse(json) as { optimizer: string | ClassConfig; loss: unknown; metrics?: unknown; lossWeights?: CompileArgs['lossWeights'] };
  let optimizer: CompileArgs['optimizer'];
  if (typeof t.optimizer === 'string') optimizer = t.optimizer as CompileArgs['optimizer'];
  else {
    const make = Object.hasOwn(optimizerFactories, t.optimizer.className) ? optimizerFactories[t.optimizer.className] : undefined;
    if (!make) throw new KilnError(`${subject}: unknown optimizer class "${t.optimizer.className}"; expected ${Object.keys(optimizerFactories).join(', ')}.`);
    const config = { ...t.optimizer.config };
    if (isClassConfig(config.learningRate)) {
      const s = config.learningRate;
      const schedule = Object.hasOwn(scheduleFactories, s.className) ? scheduleFactories[s.className] : undefined;
      if (!schedule) throw new KilnError(`${subject}: unknown learning-rate schedule "${s.className}"; expected ${Object.keys(scheduleFactories).join(', ')}.`);
      config.learningRate = schedule(s.config as never);
    }
    for (const k of Object.keys(config)) if (config[k] === null) delete config[k];
    optimizer = make(config as never);
  }
  const revive = (v: unknown): unknown => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.map(revive);
    const o = v as Record<string, unknown>;
    if (typeof o?.className === 'string' && Object.hasOwn(losses, o.className)) return (losses as unknown as Record<string, (c: unknown) => Loss>)[o.className]!(o.config);
    if (typeof o?.factory === 'string' && Object.hasOwn(metrics, o.factory)) return (metrics as unknown as Record<string, (c: unknown) => Metric>)[o.factory]!(o.options);
    if (typeof o === 'object' && o !== null) return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
    throw new KilnError(`${subject}: cannot read the training config entry ${JSON.stringify(v)}.`);
  };
  return {
    optimizer,
    loss: revive(t.loss) as CompileArgs['loss'],
    ...(t.metrics !== undefined ? { metrics: revive(t.metrics) as CompileArgs['metrics'] } : {}),
    ...(t.lossWeights !== undefined ? { lossWeights: t.lossWeights } : {}),
  };
}

// ---- the file -------------------------------------------------------------------------

type Named = Record<string, { shape: readonly number[]; data: Float32Array }>;

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The checksum: the metadata strings, every tensor's name and bytes in name order, then (version 2) each user entry's key and value in key order. */
function checksum(model: string, training: string, tensors: Named, user?: Readonly<Record<string, string>>, rows?: string): string {
  const names = Object.keys(tensors).sort();
  const entries = user ? Object.keys(user).sort().flatMap((k) => [utf8(k), utf8('='), utf8(user[k]!), utf8('\n')]) : [];
  return crc32(utf8(model), utf8(training), ...names.flatMap((n) => [utf8(n), bytesOf(tensors[n]!.data)]), ...entries, ...(rows !== undefined ? [utf8('rows='), utf8(rows)] : []));
}

export interface SaveOptions {
  /** Write the optimizer's state (slots and step) so training resumes exactly (default true). */
  includeOptimizer?: boolean;
  /** Strings stored with the model (class names, a description, …): `loadModel` gives them back as `model.metadata`. */
  metadata?: Record<string, string>;
  /** Save even when a weight holds NaN or ±Infinity (a diverged model); refused by default. */
  allowNonFinite?: boolean;
}

/**
 * Refuses weights (or optimizer state) holding NaN or ±Infinity, naming the first
 * and counting them: a diverged model is not written over a good file unless asked.
 */
export function checkFiniteWeights(subject: string, tensors: Readonly<Record<string, { data: Float32Array }>>): void {
  for (const [name, { data }] of Object.entries(tensors)) {
    const first = data.findIndex((v) => !Number.isFinite(v));
    if (first < 0) continue;
    let bad = 0;
    for (const v of data) if (!Number.isFinite(v)) bad++;
    throw new KilnError(`${subject}: weight "${name}" holds ${data[first]} at index ${first} (${bad} of ${data.length} values are not finite); the model diverged — restore a checkpoint or lower the learning rate, or pass { allowNonFinite: true } to write it anyway.`);
  }
}

/** The saved model's bytes (what `model.save` writes). */
export function encodeModel(model: LayersModel, options: SaveOptions = {}): Uint8Array {
  if (typeof (model as { toConfig?: unknown } | null)?.toConfig !== 'function') throw new KilnError(`save: expected a Keras-style model (kiln.sequential, kiln.model or a kiln.Model), got ${describe(model)}.`);
  const architecture = model.toConfig();
  refuseCode('save', architecture);
  const config = JSON.stringify(architecture);
  const args = model.compileArgs;
  const training = args ? trainingToJson(args) ?? '' : '';
  const state = model.captureState(options.includeOptimizer ?? true);
  if (!options.allowNonFinite) (checkFiniteWeights('save', state.weights), checkFiniteWeights('save', state.optimizer ?? {}));
  const tensors: Named = {
    ...Object.fromEntries(Object.entries(state.weights).map(([n, v]) => [`weights/${n}`, v])),
    ...Object.fromEntries(Object.entries(state.optimizer ?? {}).map(([n, v]) => [`optimizer/${n}`, v])),
  };
  const user = Object.entries(options.metadata ?? {}).map(([k, v]) => {
    if (typeof v !== 'string') throw new KilnError(`save: expected metadata values to be strings, got ${typeof v} for "${k}".`);
    return [`user.${k}`, v];
  });
  const userEntries = Object.fromEntries(user) as Record<string, string>;
  const rows = model.rowEncoder ? JSON.stringify(rowsSpecFor(model, model.rowEncoder, 'save')) : undefined;
  const metadata = {
    format: MODEL_FORMAT, version: rows === undefined ? MODEL_FORMAT_VERSION : ROWS_FORMAT_VERSION, model: config, training,
    crc32: checksum(config, training, tensors, userEntries, rows), ...(rows !== undefined ? { rows } : {}), ...userEntries,
  };
  return encodeSafetensors(Object.fromEntries(Object.entries(tensors).map(([n, v]) => [n, { dtype: 'float32', shape: [...v.shape], data: v.data }])), metadata);
}

/** float32 arrays of a decoded file, by name, under `prefix` (stripped). */
function float32Tensors(subject: string, tensors: Record<string, NpyArray>, prefix: string): Named {
  const out: Named = {};
  for (const [name, a] of Object.entries(tensors)) {
    if (!name.startsWith(prefix)) continue;
    if (a.dtype !== 'float32') throw new KilnError(`${subject}: tensor "${name}" is ${a.dtype}; expected float32.`);
    out[name.slice(prefix.length)] = { shape: a.shape, data: a.data as Float32Array };
  }
  return out;
}

/** A model from the bytes `encodeModel` wrote: built, compiled (unless `compile` is false or no training config was saved), weights and optimizer state restored. */
export function decodeModel(bytes: Uint8Array, options: { compile?: boolean; name?: string } = {}): LayersModel & { metadata: Record<string, string> } {
  checkOptions('loadModel', options, ['compile', 'name']);
  const subject = `loadModel${options.name ? ` "${options.name}"` : ''}`;
  const file = decodeSafetensors(bytes, options.name);
  const m = file.metadata ?? {};
  if (m.format !== MODEL_FORMAT) {
    throw new KilnError(`${subject}: not a kiln model file (its metadata has format ${JSON.stringify(m.format ?? null)}, expected "${MODEL_FORMAT}"); a file from saveWeights loads with model.loadWeights(path).`);
  }
  if (m.version !== MODEL_FORMAT_VERSION && m.version !== '1' && m.version !== ROWS_FORMAT_VERSION) throw new KilnError(`${subject}: the file is kiln model format version ${JSON.stringify(m.version)}; this kiln reads versions 1 to ${ROWS_FORMAT_VERSION}.`);
  if (typeof m.model !== 'string' || typeof m.training !== 'string') throw new KilnError(`${subject}: the file's metadata lacks the model or training entry.`);
  const all: Named = float32Tensors(subject, file.tensors, '');
  const user = Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith('user.'))) as Record<string, string>;
  const rows = m.version === ROWS_FORMAT_VERSION ? m.rows ?? '' : undefined;
  const sum = checksum(m.model, m.training, all, m.version === '1' ? undefined : user, rows);
  if (sum !== m.crc32) throw new KilnError(`${subject}: the file is corrupted (CRC-32 ${sum}, recorded ${String(m.crc32)}).`);
  let config: unknown;
  try {
    config = JSON.parse(m.model);
  } catch {
    throw new KilnError(`${subject}: the model config is not valid JSON.`);
  }
  const model = modelFromConfig(config, subject);
  const compile = (options.compile ?? true) && m.training !== '';
  if (compile) model.compile(trainingFromJson(m.training, subject));
  const optimizer = float32Tensors(subject, file.tensors, 'optimizer/');
  model.restoreState(subject, float32Tensors(subject, file.tensors, 'weights/'), compile && Object.keys(optimizer).length ? optimizer : undefined);
  if (rows !== undefined) {
    let spec: unknown;
    try {
      spec = JSON.parse(rows);
    } catch {
      throw new KilnError(`${subject}: the row encoder is not valid JSON.`);
    }
    model.setRowEncoder(rowEncoderFromJSON(spec as RowsSpec));
  }
  const metadata = Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith('user.')).map(([k, v]) => [k.slice(5), v]));
  return Object.assign(model, { metadata });
}

async function files() {
  return import('../io/files.js');
}

export async function saveModel(model: LayersModel, path: string, options: SaveOptions = {}): Promise<void> {
  const bytes = encodeModel(model, options);
  await (await files()).writeFileAtomic(path, bytes);
}

/** Reads a file `model.save` wrote. */
export async function loadModel(path: string, options: { compile?: boolean } = {}): Promise<LayersModel & { metadata: Record<string, string> }> {
  checkPath('loadModel', path);
  const bytes = await (await files()).readFileChecked(path, 'loadModel');
  return decodeModel(bytes, { ...options, name: path });
}

/** Every weight by `<layer>/<weight>`, as a safetensors file (plain names: other tools read it as is). */
export async function saveWeights(model: LayersModel, path: string): Promise<void> {
  const { weights } = model.captureState(false);
  // the model's order, so that a model built again (other layer names) can load them by position
  const order = JSON.stringify(Object.keys(weights));
  // plain safetensors carries no checksum: kiln adds a CRC-32 in the metadata (other readers ignore it) that loadWeights verifies
  const crc32 = checksum('', order, weights);
  const bytes = encodeSafetensors(Object.fromEntries(Object.entries(weights).map(([n, v]) => [n, { dtype: 'float32' as const, shape: v.shape, data: v.data }])), { format: 'kiln.weights', order, crc32 });
  await (await files()).writeFileAtomic(path, bytes);
}

export async function loadWeights(model: LayersModel, path: string): Promise<void> {
  const bytes = await (await files()).readFileChecked(path, 'loadWeights');
  const subject = `loadWeights "${path}"`;
  const file = decodeSafetensors(bytes, path);
  // a whole-model file holds its weights under weights/
  const prefix = file.metadata?.format === MODEL_FORMAT ? 'weights/' : '';
  let weights = float32Tensors(subject, file.tensors, prefix);
  const recorded = file.metadata?.format === 'kiln.weights' ? file.metadata.crc32 : undefined;
  if (recorded !== undefined) { // present in files saveWeights wrote; a file from another tool has none to check
    const sum = checksum('', file.metadata!.order ?? '', weights);
    if (sum !== recorded) throw new KilnError(`${subject}: the file is corrupted (CRC-32 ${sum}, recorded ${recorded}).`);
  }
  // by name when the names match (the same model, or one loaded from its config); else by position, as Keras
  const wanted = Object.keys(model.captureState(false).weights);
  const order = file.metadata?.order ? (JSON.parse(file.metadata.order) as string[]) : undefined;
  if (!wanted.every((n) => n in weights) && order && order.length === wanted.length && order.every((n) => n in weights)) {
    weights = Object.fromEntries(order.map((n, i) => [wanted[i]!, weights[n]!]));
  }
  model.restoreState(subject, weights);
}

