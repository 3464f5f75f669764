/**
 * `kiln.variable`: mutable weights for custom training loops (tf.Variable). Outside
 * `kiln.compile` a variable holds a concrete tensor; while `kiln.compile` traces,
 * `read()` gives a parameter input of the trace and `assign` records its update, and
 * the compiled function copies the trained values back after each call.
 * @example
 * const w = kiln.variable(kiln.zeros([3, 1]));
 * const step = kiln.compile((x, y) => { ...; opt.applyGradients([[g, w.read()]]); return loss; });
 */
import { currentBuilder, type Builder } from '../compiler/builder.js';
import { checkOptions } from '../compiler/check.js';
import { KilnError } from '../compiler/errors.js';
import { tensor } from '../compiler/functions/creation.js';
import { valueAndGrad } from '../compiler/transforms.js';
import { Tensor, type NestedArray } from '../compiler/tensor.js';
import { formatType } from '../compiler/types.js';

/** What `kiln.compile` collects while it traces: variables read, states to initialise, per-call feeds. */
export interface VariableScope {
  readonly builder: Builder;
  readonly reads: Map<Variable, Tensor>;
  readonly initialStates: Map<string, Float32Array>;
  readonly feeds: Map<string, () => Float32Array>;
}

const scopes: VariableScope[] = [];

/** The innermost scope, if its builder is the one currently tracing. */
function activeScope(): VariableScope | undefined {
  const s = scopes[scopes.length - 1];
  return s && s.builder === currentBuilder() ? s : undefined;
}

/** Runs `fn` with a new variable scope for `builder` (used by `kiln.compile` while tracing). */
export function withVariableScope<T>(builder: Builder, fn: (scope: VariableScope) => T): T {
  const scope: VariableScope = { builder, reads: new Map(), initialStates: new Map(), feeds: new Map() };
  scopes.push(scope);
  try {
    return fn(scope);
  } finally {
    scopes.pop();
  }
}

/** Inside a compile scope: state `name` starts at `values` on the first call. No-op otherwise. */
export function registerInitialState(name: string, values: Float32Array): void {
  activeScope()?.initialStates.set(name, values);
}

/** Inside a compile scope: scalar input `name` is fed from `get()` on every call. No-op otherwise. */
export function registerFeed(name: string, get: () => Float32Array): void {
  activeScope()?.feeds.set(name, get);
}

const usedNames = new Set<string>();

function uniqueName(base: string): string {
  let name = base;
  for (let i = 1; usedNames.has(name); i++) name = `${base}_${i}`;
  usedNames.add(name);
  return name;
}

/** Stand-ins for variables while variableGrads traces its function (innermost last). */
const overrides: Map<Variable, Tensor>[] = [];

export class Variable {
  readonly name: string;
  readonly trainable: boolean;
  private current: Tensor;
  private writes = 0;

  constructor(initial: Tensor, name: string, trainable: boolean) {
    this.current = initial;
    this.name = name;
    this.trainable = trainable;
  }

  /** Bumped on every write of `value`, so a compiled function knows when to upload it. */
  get version(): number {
    return this.writes;
  }

  /** The concrete value (outside a compiled function). */
  get value(): Tensor {
    return this.current;
  }

  set value(v: Tensor) {
    this.check(v);
    this.current = v;
    this.writes++;
  }

  /** Inside `kiln.compile`'s trace, the parameter input of this variable; inside variableGrads, its traced stand-in; outside, its value. */
  read(): Tensor {
    const standIn = overrides[overrides.length - 1]?.get(this);
    if (standIn) return standIn;
    const scope = activeScope();
    if (!scope) return this.value;
    let t = scope.reads.get(this);
    if (!t) {
      // the name is the compiled module's input name: it must be free in this function
      const other = [...scope.reads.keys()].find((v) => v.name === this.name);
      if (other) throw new KilnError(`compile: two variables named "${this.name}" are used in one compiled function; give them distinct names (kiln.variable(value, { name })).`);
      if (/^arg_\d+$/.test(this.name) || scope.initialStates.has(this.name) || scope.feeds.has(this.name)) {
        throw new KilnError(`compile: variable "${this.name}" has the name of another input of the compiled function (its arguments are arg_0, arg_1, …; optimizer state and learning rates are <variable>/<slot>, <optimizer>/step, <optimizer>/learning_rate); rename the variable.`);
      }
      t = scope.builder.input(this.name, 'parameter', this.value.type);
      scope.reads.set(this, t);
    }
    return t;
  }

  /** Inside `kiln.compile`'s trace, records the update; outside, replaces the value. */
  assign(v: Tensor): void {
    const scope = activeScope();
    if (!scope) {
      this.value = v;
      return;
    }
    scope.builder.update(this.read(), v);
  }

  protected check(v: Tensor): void {
    if (!(v instanceof Tensor)) throw new KilnError(`Variable "${this.name}".assign: expected a Tensor, got ${typeof v}.`);
    if (v.isSymbolic) throw new KilnError(`Variable "${this.name}".assign: got a symbolic tensor ${formatType(v.type)} outside a compiled function.`);
    const a = this.value.type;
    if (v.dtype !== a.dtype || v.rank !== a.shape.length || v.shape.some((d, i) => d !== a.shape[i])) {
      throw new KilnError(`Variable "${this.name}".assign: expected a value of type ${formatType(a)}, got ${formatType(v.type)}.`);
    }
  }
}

/**
 * A mutable float32 weight for custom training loops.
 * @example const w = kiln.variable(kiln.zeros([3, 1]), { name: 'w' });
 */
export function variable(initial: Tensor | NestedArray, options: { name?: string; trainable?: boolean } = {}): Variable {
  checkOptions('variable', options, ['name', 'trainable']);
  const t = initial instanceof Tensor ? initial : tensor(initial, undefined, 'float32');
  if (t.isSymbolic) throw new KilnError(`variable: expected a concrete initial value, got a symbolic tensor ${formatType(t.type)}.`);
  if (t.dtype !== 'float32') throw new KilnError(`variable: expected a float32 initial value, got ${formatType(t.type)}.`);
  const name = options.name !== undefined ? options.name : uniqueName('variable');
  if (typeof name !== 'string' || name.length === 0) throw new KilnError(`variable: expected a non-empty name, got ${JSON.stringify(name)}.`);
  if (options.name !== undefined) usedNames.add(name);
  return new Variable(t, name, options.trainable ?? true);
}

/**
 * The value of `f` and its gradients with respect to `variables` (TF.js's
 * variableGrads; Keras's GradientTape.gradient over model.trainableWeights):
 * while `f` runs, each variable's `read()` gives a traced stand-in. Works eagerly
 * and inside `kiln.compile`, where it becomes part of the compiled step.
 * @example
 * const { value, grads } = kiln.variableGrads(() => kiln.losses.meanSquaredError(y, model.apply(x, { training: true }) as kiln.Tensor), model.trainableWeights);
 * await optimizer.applyGradients(grads.map((g, i) => [g, model.trainableWeights[i]!]));
 */
export function variableGrads(f: () => Tensor, variables: readonly Variable[]): { value: Tensor; grads: Tensor[] } {
  if (typeof f !== 'function') throw new KilnError(`variableGrads: expected a function returning a scalar loss, got ${typeof f}.`);
  if (!Array.isArray(variables) || variables.length === 0 || !variables.every((v) => v instanceof Variable)) throw new KilnError('variableGrads: expected a non-empty list of variables (kiln.variable, or model.trainableWeights).');
  const traced = (...ts: Tensor[]) => {
    overrides.push(new Map(variables.map((v, i) => [v, ts[i]!])));
    try {
      return f();
    } finally {
      overrides.pop();
    }
  };
  const { value, grad } = valueAndGrad(traced, variables.map((_, i) => i))(...variables.map((v) => v.read()));
  return { value, grads: grad };
}
