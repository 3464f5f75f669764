/**
 * Compiling graphs to wasm modules that the runtime loader runs.
 */
import { compileEntries, compileEntriesSync, type CompileOptions as PipelineOptions, type CompiledModuleCode } from '../compiler/pipeline.js';
import type { Graph } from '../compiler/ir.js';
import { describe } from '../compiler/check.js';
import { KilnError } from '../compiler/errors.js';
import type { OpParams } from '../compiler/ops/index.js';
import { useRelaxedSimd } from './determinism.js';
import { KilnModule, load, type Manifest, type Slot } from './runtime/index.js';

/** compileModule's options; whether the kernels use relaxed SIMD follows `kiln.setDeterministic`, not an option. */
export type CompileOptions = Omit<PipelineOptions, 'relaxedSimd'>;

export interface Compiled extends CompiledModuleCode {
  readonly manifest: Manifest;
  readonly module: KilnModule;
}

/** The manifest the runtime needs to bind and read a compiled module's tensors. */
export function manifestOf(c: CompiledModuleCode): Manifest {
  const given = c as { entries?: unknown; plan?: unknown } | null;
  if (typeof given !== 'object' || given === null || !Array.isArray(given.entries) || !given.plan) throw new KilnError(`manifestOf: expected what compileEntries returned, got ${describe(c)}.`);
  const kinds = new Map(c.entries.flatMap((e) => e.graph.inputs.map((i) => [i.name, i.kind] as const)));
  const inputs: Slot[] = [...c.plan.inputs].map(([name, s]) => ({ name, dtype: s.type.dtype, shape: [...s.type.shape], offset: s.offset, kind: kinds.get(name)! }));
  const entries = Object.fromEntries(c.entries.map((e) => [e.name, {
    inputs: e.graph.inputs.map((i) => i.name),
    ...(Object.hasOwn(c.threaded, e.name) ? { thread: c.threaded[e.name]! } : {}),
    outputs: e.graph.outputs.map((o) => {
      const t = e.graph.nodes[o.id]!.type;
      return { name: o.name, dtype: t.dtype, shape: [...t.shape], offset: e.plan.slots[o.id]!.offset };
    }),
  }]));
  const constants = c.entries.flatMap((e) => e.graph.nodes.filter((n) => n.op === 'constant').map((n) => ({
    offset: e.plan.slots[n.id]!.offset, dtype: n.type.dtype, values: Array.from((n.params as OpParams['constant']).value),
  })));
  // version 2: the module keeps prepacked weights, which a loader must mark stale when it writes a parameter
  return { format: 'kiln-module', version: c.plan.packs.size ? 2 : 1, maxBatch: c.plan.maxBatch, arenaBytes: c.plan.arenaBytes, inputs, entries, constants, errors: [...c.errors] };
}

/**
 * Compiles named graphs into one wasm module (inputs of the same name share
 * memory, so a predict and a training step see the same parameters) and loads it.
 * @example const { module } = await kiln.compileModule({ predict: g }, { maxBatch: 32 });
 * module.run('predict', { input: new Float32Array(8) }).output;
 */
export async function compileModule(graphs: Readonly<Record<string, Graph>>, options: CompileOptions = {}): Promise<Compiled> {
  const compiled = await compileEntries(graphs, { ...options, relaxedSimd: useRelaxedSimd() });
  const manifest = manifestOf(compiled);
  return { ...compiled, manifest, module: await load(compiled.binary, manifest) };
}

/**
 * `compileModule` that blocks until the module is loaded (Node): what a
 * synchronous API (Keras' predict) uses to run compiled code from its first call.
 * @example const { module } = kiln.compileModuleSync({ predict: g }, { maxBatch: 32 });
 */
export function compileModuleSync(graphs: Readonly<Record<string, Graph>>, options: CompileOptions = {}): Compiled {
  const compiled = compileEntriesSync(graphs, { ...options, relaxedSimd: useRelaxedSimd() });
  const manifest = manifestOf(compiled);
  return { ...compiled, manifest, module: KilnModule.loadSync(compiled.binary, manifest) };
}
