/**
 * `kiln.nn.Module`: PyTorch's module. Parameters (`kiln.nn.Parameter`), buffers
 * and submodules assigned to own properties are found by scanning the object
 * (in assignment order, as PyTorch registers them), so no registration call is
 * needed. A KilnError thrown inside `forward` is prefixed with the module's
 * class and name: `Linear "fc2": matmul: expected … (at net.ts:12).`
 * @example
 * class Net extends kiln.nn.Module {
 *   fc = new kiln.nn.Linear(784, 10);
 *   forward(x: kiln.Tensor) { return this.fc.forward(x); }
 * }
 */
import { KilnError, userError } from '../../../compiler/errors.js';
import { captureOrigin } from '../../../compiler/source.js';
import { Tensor } from '../../../compiler/tensor.js';
import { formatType } from '../../../compiler/types.js';
import { loadSafetensors, saveSafetensors } from '../../io/files.js';
import { isBuffer, isParameter, storageOf } from '../tensors.js';

const wrapped = new WeakSet<KilnError>();

/** A forward hook: sees (and may replace, by returning it) the module's output. */
export type ForwardHook = (module: Module, args: unknown[], output: unknown) => unknown;
/** A forward pre-hook: sees (and may replace, by returning them) the module's arguments. */
export type ForwardPreHook = (module: Module, args: unknown[]) => unknown[] | undefined | void;
/** What `registerForwardHook` returns: `remove()` takes the hook off. */
export interface RemovableHandle { remove(): void }
const forwardHooks = new WeakMap<Module, { pre: ForwardPreHook[]; post: ForwardHook[] }>();

function addHook<K extends 'pre' | 'post'>(module: Module, kind: K, hook: { pre: ForwardPreHook; post: ForwardHook }[K]): RemovableHandle {
  if (typeof hook !== 'function') throw new KilnError(`${module.constructor.name}.register${kind === 'pre' ? 'ForwardPreHook' : 'ForwardHook'}: expected a function, got ${typeof hook}.`);
  let hooks = forwardHooks.get(module);
  if (!hooks) forwardHooks.set(module, (hooks = { pre: [], post: [] }));
  const list = hooks[kind] as unknown[];
  list.push(hook);
  return { remove: () => { const i = list.indexOf(hook); if (i >= 0) list.splice(i, 1); } };
}
const named = new WeakSet<Module>();

/** PyTorch's spelling of a dotted name: 'bn.runningMean' → 'bn.running_mean'. */
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export abstract class Module {
  /** Training mode (dropout active, batch norm on batch statistics); see train()/eval(). */
  training = true;
  /** The path of this module in its parent (set when the parent lists its modules). */
  name: string | undefined;

  constructor() {
    // forward is the subclass's prototype method here: wrap it so errors name the module
    const forward = (this as unknown as { forward: (...a: unknown[]) => unknown }).forward;
    Object.defineProperty(this, 'forward', {
      enumerable: false,
      value: (...args: unknown[]) => {
        if (!named.has(this)) { // the first forward names the submodules, so their errors can say which one failed
          named.add(this);
          this.namedModules();
        }
        try {
          const hooks = forwardHooks.get(this);
          if (!hooks) return forward.apply(this, args);
          for (const h of [...hooks.pre]) args = (h(this, args) as unknown[] | undefined) ?? args;
          let out = forward.apply(this, args);
          for (const h of [...hooks.post]) out = h(this, args, out) ?? out;
          return out;
        } catch (e) {
          if (!(e instanceof KilnError) || wrapped.has(e)) throw e;
          const err = new KilnError(`${this.constructor.name}${this.name ? ` "${this.name}"` : ''}: ${e.message}`);
          wrapped.add(err);
          throw err;
        }
      },
    });
  }

  abstract forward(...args: never[]): unknown;

  /** Own properties that are submodules, parameters or buffers, in assignment order. */
  private entries(): [string, Module | Tensor][] {
    return Object.entries(this).filter((e): e is [string, Module | Tensor] => e[1] instanceof Module || isParameter(e[1]) || isBuffer(e[1]));
  }

  /**
   * PyTorch's `register_forward_hook`: `hook(module, args, output)` runs after each
   * forward; a value it returns replaces the output.
   * @example const h = net.fc1.registerForwardHook((m, args, out) => console.log(m.name, out)); h.remove();
   */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    return addHook(this, 'post', hook);
  }

  /**
   * PyTorch's `register_forward_pre_hook`: `hook(module, args)` runs before each
   * forward; an array it returns replaces the arguments.
   * @example net.registerForwardPreHook((m, args) => [args[0]]);
   */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    return addHook(this, 'pre', hook);
  }

  /** Direct submodules with their names. */
  namedChildren(): [string, Module][] {
    return this.entries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] { return this.namedChildren().map(([, m]) => m); }

  /** This module and every submodule, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.namedChildren()) {
      const path = prefix ? `${prefix}.${n}` : n;
      m.name ??= path;
      out.push(...m.namedModules(path));
    }
    return out;
  }

  modules(): Module[] { return this.namedModules().map(([, m]) => m); }

  private namedTensors(kind: 'parameter' | 'buffer'): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [n, t] of m.entries()) {
        if (!(t instanceof Tensor) || seen.has(t) || (kind === 'parameter' ? !isParameter(t) : !isBuffer(t))) continue;
        seen.add(t);
        const full = path ? `${path}.${n}` : n;
        const s = storageOf(t, 'Module');
        if (/^(parameter|buffer)(_\d+)?$/.test(s.label)) s.label = full; // name storages after their first owner, for messages
        out.push([full, t]);
      }
    }
    return out;
  }

  /** Parameters with dotted names ('fc1.weight'), each once. */
  namedParameters(): [string, Tensor][] { return this.namedTensors('parameter'); }
  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }
  namedBuffers(): [string, Tensor][] { return this.namedTensors('buffer'); }
  buffers(): Tensor[] { return this.namedBuffers().map(([, t]) => t); }

  /** Sets training mode on this module and every submodule. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this { return this.train(false); }

  /** Calls `fn` on every submodule and then this module (e.g. custom initialisation). */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /** Clears the gradients of every parameter. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) p.grad = options.setToNone === false && p.grad ? Tensor.concrete({ dtype: 'float32', shape: p.shape as number[], data: new Float32Array(p.size) }) : undefined;
  }

  /** Parameters and buffers by dotted name, as concrete tensors in PyTorch's layouts and names ('bn.running_mean'), so torch loads it. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()].map(([n, t]) => [snakeCase(n), Tensor.concrete(storageOf(t, 'stateDict').read())]));
  }

  /**
   * Copies values in by name (PyTorch layouts); `strict` (default) requires exactly
   * this module's names. A torch state dict loads as is: a name may also be given
   * in torch's snake_case ('bn.running_mean' for 'bn.runningMean'), and
   * 'num_batches_tracked' entries (a counter kiln does not keep) are skipped.
   */
  loadStateDict(dict: Readonly<Record<string, Tensor>>, options: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    if (dict === null || typeof dict !== 'object') throw userError('loadStateDict', `expected a state dict (an object of tensors by name), got ${dict === null ? 'null' : typeof dict}`, captureOrigin());
    const own = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const keyOf = new Map([...own.keys()].map((k) => [k, k in dict ? k : snakeCase(k)]));
    const used = new Set(keyOf.values());
    const missingKeys = [...own.keys()].filter((k) => !(keyOf.get(k)! in dict));
    const unexpectedKeys = Object.keys(dict).filter((k) => !used.has(k) && !/(^|\.)num_batches_tracked$/.test(k));
    if ((options.strict ?? true) && (missingKeys.length || unexpectedKeys.length)) {
      throw userError(`${this.constructor.name}.loadStateDict`, `expected the keys of this module; missing ${JSON.stringify(missingKeys)}, unexpected ${JSON.stringify(unexpectedKeys)}`, captureOrigin());
    }
    for (const [k, t] of own) {
      const v = dict[keyOf.get(k)!];
      if (!v) continue;
      if (v.dtype !== t.dtype || v.rank !== t.rank || v.shape.some((d, i) => d !== t.shape[i])) {
        throw userError(`${this.constructor.name}.loadStateDict`, `expected "${k}" of type ${formatType(t.type)}, got ${formatType(v.type)}`, captureOrigin());
      }
      storageOf(t, 'loadStateDict').write(v.value!);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Writes stateDict() to a safetensors file (atomically). */
  async save(path: string): Promise<void> {
    await saveSafetensors(path, this.stateDict());
  }

  /** Reads a safetensors file (e.g. from torch's safetensors.torch.save_file) into this module. */
  async load(path: string, options: { strict?: boolean } = {}): Promise<void> {
    const { tensors } = await loadSafetensors(path);
    this.loadStateDict(tensors, options);
  }
}
