/**
 * `model.export(path)`: a portable artifact (see src/runtime/artifact.ts for the
 * format) — the chosen entries compiled into one wasm module, the parameters
 * (and, with trainStep, the optimizer's state) as safetensors, and a manifest
 * with checksums. Written atomically: one file, or a folder whose manifest is
 * written last (a loader that finds a manifest finds files that match it).
 */
import type { JsonValue } from '../runtime/artifact.js';
import { KilnError } from '../../compiler/errors.js';
import { describe } from '../../compiler/check.js';
import { compileEntries } from '../../compiler/pipeline.js';
import { manifestOf } from '../compile.js';
import { ARTIFACT_FORMAT_VERSION, encodeArtifact, sealManifest, type ArtifactManifest, type ArtifactParts } from '../runtime/artifact.js';
import { crc32 } from '../runtime/crc32.js';
import { writeSafetensors, type NamedArray } from '../runtime/safetensors.js';
import { weightsChecksum } from '../runtime/artifact.js';
import type { LayersModel } from './model.js';
import { rowsSpecFor } from './rowInputs.js';

export type ExportEntry = 'predict' | 'trainStep' | 'evaluate';

export interface ExportOptions {
  /** Default ['predict']. */
  entries?: readonly ExportEntry[];
  /** The largest batch one run takes (default 64); predict and evaluate split larger inputs. */
  maxBatch?: number;
  /** Write a folder (manifest.json, model.wasm, weights.safetensors) instead of one file. */
  folder?: boolean;
  /** Anything JSON can hold (class names as a list, a description …), kept in the manifest: the runtime gives it back as `artifact.metadata`. */
  metadata?: Record<string, JsonValue>;
  /** Export even when a weight holds NaN or ±Infinity; refused by default. */
  allowNonFinite?: boolean;
}

/** Whether `a` survives a JSON round trip as `b` (no functions, undefined, NaN, class instances, …). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === null || typeof a !== 'object') return Object.is(a, b) || (typeof a === 'number' && a === b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (Object.getPrototypeOf(a) !== Object.prototype || b === null || typeof b !== 'object') return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The artifact's parts, compiled and checksummed, in memory. */
export async function artifactOf(model: LayersModel, options: ExportOptions = {}): Promise<ArtifactParts> {
  if (typeof (model as { artifactParts?: unknown } | null)?.artifactParts !== 'function') throw new KilnError(`export: expected a Keras-style model (kiln.sequential, kiln.model or a kiln.Model), got ${describe(model)}.`);
  const entries: ExportEntry[] = [...new Set<ExportEntry>(options.entries ?? ['predict'])];
  const known: ExportEntry[] = ['predict', 'trainStep', 'evaluate'];
  for (const e of entries) if (!known.includes(e)) throw new KilnError(`export: unknown entry "${String(e)}"; expected ${known.join(', ')}.`);
  if (!entries.includes('predict')) throw new KilnError('export: the entries must include "predict".');
  const maxBatch = options.maxBatch ?? 64;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new KilnError(`export: expected maxBatch to be a positive integer, got ${String(maxBatch)}.`);
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    let json: string | undefined;
    try {
      json = JSON.stringify(v);
    } catch {
      json = undefined;
    }
    if (json === undefined || !sameJson(v, JSON.parse(json))) throw new KilnError(`export: expected metadata values that JSON can hold (strings, numbers, booleans, null, lists, plain objects), got ${typeof v === 'object' ? (v as object)?.constructor?.name ?? 'object' : typeof v} for "${k}".`);
  }
  const rows = model.rowEncoder ? rowsSpecFor(model, model.rowEncoder, 'export') : undefined; // a mismatch fails before compiling
  const parts = model.artifactParts(entries);
  if (!options.allowNonFinite) {
    const { checkFiniteWeights } = await import('./save.js');
    checkFiniteWeights('export', Object.fromEntries(parts.parameters.map((p) => [p.name, p])));
  }
  const compiled = await compileEntries(parts.graphs, { maxBatch });
  const manifestModule = manifestOf(compiled);
  const tensors: Record<string, NamedArray> = Object.fromEntries(parts.parameters.map((p) => [p.name, { dtype: 'float32' as const, shape: p.shape, data: p.data }]));
  let optimizerState: string[] | undefined;
  let training: ArtifactManifest['training'];
  if (parts.optimizer) {
    const state = model.optimizerStateValues()!;
    const slots = new Map(manifestModule.inputs.map((s) => [s.name, s]));
    optimizerState = Object.keys(state).filter((n) => slots.has(n));
    for (const n of optimizerState) tensors[n] = { dtype: 'float32', shape: slots.get(n)!.shape as number[], data: state[n]! };
    const lr = parts.optimizer.learningRate;
    training = {
      learningRateInput: parts.optimizer.learningRateName,
      learningRate: typeof lr === 'number' ? lr : NaN,
      ...(parts.sampleWeight ? { sampleWeight: parts.sampleWeight } : {}),
      outputs: compiled.entries.find((e) => e.name === 'trainStep')!.graph.outputs.map((o) => o.name),
    };
  }
  const weights = writeSafetensors(tensors, { format: 'kiln.weights' });
  const manifest: ArtifactManifest = sealManifest({
    format: 'kiln-artifact', version: ARTIFACT_FORMAT_VERSION, name: model.name,
    inputs: parts.inputs, outputs: parts.outputs, ...(parts.labels && entries.length > 1 ? { labels: parts.labels } : {}),
    parameters: parts.parameters.map(({ name, shape, trainable }) => ({ name, shape, trainable })),
    ...(optimizerState ? { optimizerState } : {}), ...(training ? { training } : {}),
    ...(rows ? { rows } : {}),
    module: manifestModule, metadata: { ...options.metadata },
    checksums: { wasm: crc32(compiled.binary), weights: weightsChecksum(tensors), manifest: '' },
  });
  return { manifest, wasm: compiled.binary, weights };
}

export async function exportModel(model: LayersModel, path: string, options: ExportOptions = {}): Promise<{ wasmBytes: number; weightsBytes: number }> {
  const parts = await artifactOf(model, options);
  const { writeFileAtomic, writeFolderAtomic } = await import('../io/files.js');
  if (options.folder) {
    // the three files replace the folder as a whole: never new weights beside an old manifest
    await writeFolderAtomic(path, { 'model.wasm': parts.wasm, 'weights.safetensors': parts.weights, 'manifest.json': new TextEncoder().encode(JSON.stringify(parts.manifest, null, 1)) });
  } else {
    await writeFileAtomic(path, encodeArtifact(parts));
  }
  // the weights' own bytes (parameters and optimizer state, no file header): the figure `kiln info` shows too
  const { readSafetensors } = await import('../runtime/safetensors.js');
  const weightsBytes = Object.values(readSafetensors(parts.weights, 'weights').tensors).reduce((a, t) => a + t.data.byteLength, 0);
  return { wasmBytes: parts.wasm.length, weightsBytes };
}

/** Reads an artifact file or folder (Node) with the runtime's loader: kiln/runtime/node's, here too. */
export { loadArtifactFile } from '../runtime/node.js';
