/**
 * @file The compilation pipeline as named steps: Graph → simplified → fused →
 * planned → AssemblyScript → wasm (cached by content). Each step is a pure
 * function of the one before; `compileGraph` runs them all.
 */
import { buildWasm, buildWasmSync, runtimeAsSources } from './build.js';
import { emitAssemblyScript, type EntryCode } from './emit/index.js';
import { KilnError } from './errors.js';
import { checkOptions, describe } from './check.js';
import { isGraph, type Graph } from './ir.js';
import { fuseElementwise } from './passes/fuseElementwise.js';
import { fuseEpilogues } from './passes/fuseEpilogues.js';
import { hoistScanAccumulators } from './passes/hoistScanAccumulators.js';
import { mergeScans } from './passes/mergeScans.js';
import { optimizeScanBodies } from './passes/scanBodies.js';
import { simplify } from './passes/simplify.js';
import { planMemory, type ModulePlan } from './plan.js';
import { hasBatch } from './types.js';
import { verify } from './verify.js';

export interface CompileOptions {
  /** Largest batch the module runs, when a graph has a batch dimension (default 64). */
  maxBatch?: number;
  /** Build the kernels with relaxed SIMD's fused multiply-add (default false: see `BuildOptions.relaxedSimd`); `kiln.compileModule` sets it from `kiln.setDeterministic`. */
  relaxedSimd?: boolean;
}

export interface CompiledEntry extends EntryCode {
  /** The graph as the user gave it, before simplification and fusion. */
  readonly input: Graph;
}

export interface CompiledModuleCode {
  readonly entries: readonly CompiledEntry[];
  readonly plan: ModulePlan;
  readonly source: string;
  readonly binary: Uint8Array;
  /** Messages for the module's run-time error codes (code 1 first). */
  readonly errors: readonly string[];
  /** Entries whose work threads can share, by their number in the module's `thread_run`. */
  readonly threaded: Readonly<Record<string, number>>;
  /** Whether the binary came from the cache. */
  readonly cached: boolean;
}

let library: Map<string, string> | undefined;
/** Every function runtime-as exports, by the file that defines it. */
function runtimeLibrary(): Map<string, string> {
  if (!library) {
    library = new Map();
    for (const [file, text] of Object.entries(runtimeAsSources())) {
      for (const m of text.matchAll(/export\s+function\s+(\w+)/g)) library.set(m[1]!, file);
    }
  }
  return library;
}

/** The steps a graph goes through before planning; scans that repeat a loop merge first, then scan bodies go through them (`optimizeScanBodies`). */
export function optimize(g: Graph): Graph {
  return verify(fuseEpilogues(verify(fuseElementwise(verify(simplify(verify(optimizeScanBodies(verify(mergeScans(verify(hoistScanAccumulators(g)))), optimize))))))));
}

/** Optimises, plans and emits named entry graphs: everything before the build. */
function emitEntries(graphs: Readonly<Record<string, Graph>>, options: CompileOptions) {
  if (graphs === null || typeof graphs !== 'object' || Array.isArray(graphs)) throw new KilnError(`compile: expected an object of entry graphs by name (from kiln.trace), got ${describe(graphs)}.`);
  const names = Object.keys(graphs);
  for (const name of names) if (!isGraph(graphs[name])) throw new KilnError(`compile: expected entry "${name}" to be a graph from kiln.trace, got ${describe(graphs[name])}.`);
  checkOptions('compile', options, ['maxBatch', 'relaxedSimd']);
  for (const name of names) if (!/^[A-Za-z_]\w*$/.test(name)) throw new KilnError(`compile: entry names must be identifiers, got "${name}".`);
  if (names.length === 0) throw new KilnError('compile: expected at least one entry graph.');
  const optimized = names.map((n) => optimize(graphs[n]!));
  optimized.forEach((g, e) => {
    for (const u of g.updates) {
      const target = g.inputs.find((i) => i.name === u.target)!;
      const output = g.outputs.find((o) => o.id === target.id);
      // the output would share the input's memory, which the update overwrites before outputs are read
      if (output) throw new KilnError(`compile: entry "${names[e]}" returns "${u.target}" unchanged as output "${output.name}" and also updates it; read it with module.get("${u.target}") instead.`);
    }
  });
  const dynamic = optimized.some((g) => g.nodes.some((n) => hasBatch(n.type.shape)));
  const maxBatch = dynamic ? options.maxBatch ?? 64 : 1;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new KilnError(`compile: expected maxBatch to be a positive integer, got ${String(options.maxBatch)}.`);
  const plan = planMemory(optimized, { maxBatch });
  const limit = 2 ** 32 - 2 ** 26; // wasm32 memory, less room for kernel scratch and static data
  if (plan.arenaBytes > limit) {
    throw new KilnError(`compile: the module needs ${plan.arenaBytes} bytes of memory at maxBatch ${maxBatch}; WebAssembly memory holds at most 4 GiB, so use a smaller maxBatch.`);
  }
  const entries = names.map((name, i) => ({ name, graph: optimized[i]!, plan: plan.entries[i]!, input: graphs[name]! }));
  const { source, errors, threaded } = emitAssemblyScript(entries, runtimeLibrary());
  return { entries, plan, source, errors, threaded, files: { 'model.ts': source, ...runtimeAsSources() } };
}

/** Compiles named entry graphs into one module; inputs of the same name share memory. */
export async function compileEntries(graphs: Readonly<Record<string, Graph>>, options: CompileOptions = {}): Promise<CompiledModuleCode> {
  const { files, ...emitted } = emitEntries(graphs, options);
  const { binary, source: from } = await buildWasm(files, { entries: ['model.ts'], relaxedSimd: options.relaxedSimd === true });
  return { ...emitted, binary, cached: from !== 'compiled' };
}

/** `compileEntries` that blocks until the module is built (Node: see `buildWasmSync`). */
export function compileEntriesSync(graphs: Readonly<Record<string, Graph>>, options: CompileOptions = {}): CompiledModuleCode {
  const { files, ...emitted } = emitEntries(graphs, options);
  const { binary, source: from } = buildWasmSync(files, { entries: ['model.ts'], relaxedSimd: options.relaxedSimd === true });
  return { ...emitted, binary, cached: from !== 'compiled' };
}
