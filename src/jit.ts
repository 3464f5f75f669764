/**
 * `kiln.compile(fn)`: a function traced once per input signature and run as a
 * compiled wasm module, like tf.function, torch.compile or jax.jit.
 */
import { checkOptions, optionKeys } from '../compiler/check.js';
import { KilnError } from '../compiler/errors.js';
import { Tensor } from '../compiler/tensor.js';
import { spec, trace, type Spec, type TraceOutput } from '../compiler/trace.js';
import { formatType } from '../compiler/types.js';
import { currentBuilder } from '../compiler/builder.js';
import { compileModule, type Compiled } from './compile.js';
import { withVariableScope, type Variable, type VariableScope } from './variables.js';

/** What a compiled signature keeps about the variables and optimizer states its trace used. */
interface VariableBindings {
  readonly variables: readonly Variable[];
  /** Variables the graph assigns: copied back after every call. */
  readonly updated: readonly Variable[];
  readonly initialStates: ReadonlyMap<string, Float32Array>;
  readonly feeds: ReadonlyMap<string, () => Float32Array>;
  /** The version of each variable last written to (or read back from) the module. */
  readonly synced: Map<Variable, number>;
  initialised: boolean;
}

/** Optimizer state shared by a compiled function's signatures: which signature's module holds the latest values. */
interface StateOwner {
  module?: import('./runtime/index.js').KilnModule;
}

export interface JitOptions {
  /** Input specs; with `null` leading dimensions the module runs any batch up to maxBatch. */
  specs?: readonly Spec[];
  maxBatch?: number;
}

type Result = Tensor | Tensor[] | Record<string, Tensor>;

/**
 * Compiles `fn` on first call (per input signature) and runs it in wasm.
 * @example const f = kiln.compile((x) => kiln.relu(kiln.matmul(x, w)));
 * const y = await f(kiln.ones([4, 3]));
 */
export function compile(fn: (...args: Tensor[]) => TraceOutput, options: JitOptions = {}): (...args: Tensor[]) => Promise<Result> {
  checkOptions('compile', options, optionKeys<JitOptions>({ specs: true, maxBatch: true }));
  const cache = new Map<string, Promise<{ compiled: Compiled; shape: 'single' | 'array' | 'record'; names: string[]; bindings: VariableBindings }>>();
  // every signature traces the same optimizer state; it lives in the module that ran last and moves with the calls
  const stateOwner: StateOwner = {};
  /** The results of the last call, while they are views of a module's memory. */
  const views: WeakRef<Tensor>[] = [];
  return async (...args: Tensor[]) => {
    for (const [i, a] of args.entries()) {
      if (!(a instanceof Tensor) || a.isSymbolic) throw new KilnError(`compile: expected concrete Tensor arguments, got ${a instanceof Tensor ? `symbolic ${formatType(a.type)}` : typeof a} as argument ${i}.`);
    }
    const specs = options.specs ?? args.map((a, i) => spec(a.shape as number[], a.dtype, { name: `arg_${i}` }));
    if (specs.length !== args.length) throw new KilnError(`compile: expected ${specs.length} arguments, got ${args.length}.`);
    const key = args.map((a) => formatType(a.type)).join(';');
    let entry = cache.get(options.specs ? 'specs' : key);
    if (!entry) {
      entry = (async () => {
        let shape: 'single' | 'array' | 'record' = 'single';
        let scope: VariableScope | undefined;
        const g = trace((...xs: Tensor[]) => {
          const out = withVariableScope(currentBuilder()!, (s) => {
            scope = s;
            return fn(...xs);
          });
          shape = out instanceof Tensor ? 'single' : Array.isArray(out) ? 'array' : 'record';
          return out;
        }, specs.map((s, i) => ({ ...s, name: `arg_${i}` })));
        const compiled = await compileModule({ run: g }, options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch });
        const variables = [...scope!.reads.keys()];
        const targets = new Set(g.updates.map((u) => u.target));
        const bindings: VariableBindings = {
          variables,
          updated: variables.filter((v) => targets.has(v.name)),
          initialStates: scope!.initialStates,
          feeds: scope!.feeds,
          synced: new Map(),
          initialised: false,
        };
        return { compiled, shape, names: g.outputs.map((o) => o.name), bindings };
      })();
      cache.set(options.specs ? 'specs' : key, entry);
    }
    const { compiled, shape, names, bindings } = await entry;
    const module = compiled.module;
    for (const v of bindings.variables) {
      if (bindings.synced.get(v) === v.version) continue;
      module.set(v.name, { data: v.value.value!.data as Float32Array, shape: v.value.value!.shape });
      bindings.synced.set(v, v.version);
    }
    if (stateOwner.module && stateOwner.module !== module) {
      for (const name of bindings.initialStates.keys()) {
        if (stateOwner.module.manifest.inputs.some((s) => s.name === name)) module.set(name, stateOwner.module.get(name).data);
      }
      bindings.initialised = true;
    }
    if (!bindings.initialised) {
      for (const [name, values] of bindings.initialStates) module.set(name, values);
      bindings.initialised = true;
    }
    if (bindings.initialStates.size) stateOwner.module = module;
    const feeds = Object.fromEntries([...bindings.feeds].map(([name, get]) => [name, get()]));
    // the last call's results still read the module's memory: they take their own copy before it is overwritten
    for (const ref of views.splice(0)) ref.deref()?.ownValues();
    const outputs = module.run('run', { ...feeds, ...Object.fromEntries(args.map((a, i) => [`arg_${i}`, { data: a.value!.data as Float32Array, shape: a.value!.shape }])) }, { views: true });
    for (const v of bindings.updated) {
      v.value = Tensor.concrete(module.get(v.name));
      bindings.synced.set(v, v.version);
    }
    // results are views of the module's memory (no copy); reading one (data(), dataSync()) copies it once
    const tensors = names.map((n) => Tensor.concrete(outputs[n]!));
    for (const t of tensors) views.push(new WeakRef(t));
    if (shape === 'single') return tensors[0]!;
    if (shape === 'array') return tensors;
    return Object.fromEntries(names.map((n, i) => [n, tensors[i]!]));
  };
}
