/**
 * What every optimizer shares (Keras 3's `BaseOptimizer`): the learning rate as
 * a runtime scalar input or a schedule of the step, gradient clipping, decoupled
 * weight decay, the step counter, and the state inputs that carry slots (moments,
 * accumulators) from one step to the next. `applyGradients` runs inside
 * `kiln.trace`: the whole update becomes part of the traced training step.
 *
 * One step, in Keras 3's order (t = steps already taken, 0 at the first step):
 *   lr = schedule(t), or the scalar input `<name>/learning_rate`
 *   g  = clip(g): clipnorm       g · c / max(‖g‖, c)            per parameter
 *                 globalClipnorm g · c · min(1/‖G‖, 1/c)        ‖G‖ over all gradients
 *                 clipvalue      clip(g, −c, c)
 *   w  ← w − w · (lr · weightDecay)                              (BaseOptimizer.apply_weight_decay)
 *   w, slots ← the optimizer's own rule, with the decayed w
 *   t  ← t + 1
 *
 * The step is a float32 state (`<name>/step`), exact up to 2²⁴ ≈ 16.7 million
 * steps; Keras counts in int64.
 *
 * PyTorch differs on weight decay: `weight_decay` of SGD, Adagrad, RMSprop and
 * Adam adds wd · w to the gradient (L2, coupled: it goes through momentum and the
 * adaptive denominators); only AdamW decays the weights as Keras does, and with
 * default 0.01 instead of 0.004. PyTorch has no clipnorm options on optimizers
 * (`clip_grad_norm_` is a global clipnorm, `clip_grad_value_` a clipvalue).
 *
 * `convention: 'pytorch'` (what `kiln.optim` uses) switches each rule to
 * PyTorch's form, next to the Keras form in each file: weightDecay becomes the
 * coupled L2 term g ← g + wd · w (except AdamW's, which stays decoupled), and
 * each optimizer moves its ε and learning rate where PyTorch puts them, and
 * the momentum (SGD, RMSprop) or β₁ (Adam, AdamW) becomes a runtime scalar input
 * `<name>/momentum` or `<name>/beta1` as the learning rate is, so a scheduler
 * that cycles it (OneCycleLR) never recompiles the step.
 */
import { checkOptions } from '../../compiler/check.js';
import { currentBuilder, type Builder } from '../../compiler/builder.js';
import { userError } from '../../compiler/errors.js';
import * as F from '../../compiler/functions/index.js';
import { Tensor } from '../../compiler/tensor.js';
import { captureOrigin } from '../../compiler/source.js';
import { assign } from '../../compiler/trace.js';
import { formatType, sameType, type TensorType } from '../../compiler/types.js';
import { isSchedule, type LearningRateSchedule } from './schedules.js';
import { registerFeed, registerInitialState, Variable } from '../variables.js';

export interface OptimizerOptions {
  /** A number (a runtime scalar input, changeable between steps) or a schedule of the step. */
  learningRate?: number | LearningRateSchedule;
  /** Clip each gradient to this L2 norm. */
  clipnorm?: number;
  /** Clip each gradient element to [−clipvalue, clipvalue]. */
  clipvalue?: number;
  /** Scale all gradients together so their joint L2 norm is at most this. */
  globalClipnorm?: number;
  /** Decoupled weight decay: w ← w − lr · weightDecay · w before each update. */
  weightDecay?: number;
  /** Prefix of the step and learning-rate inputs (default 'optimizer'), so two optimizers can share a module. */
  name?: string;
  /** Whose update formulas to follow (default 'keras'); 'pytorch' is what `kiln.optim` uses. */
  convention?: 'keras' | 'pytorch';
}

/** A slot: one state tensor per parameter, named `<parameter>/<slot>`, starting at `initial`. */
export interface Slot {
  readonly name: string;
  readonly initial: number;
}

/** Scalars computed once per step and shared by every parameter's update. */
export interface StepScalars {
  /** The learning rate of this step. */
  readonly lr: Tensor;
  /** Steps already taken (0 at the first step). */
  readonly step: Tensor;
  /** Others an optimizer's `prepare` adds (Adam's bias-corrected step size). */
  readonly [name: string]: Tensor;
}

/** The value a state or parameter is assigned, from its new and its old value (the gate of a skipped step). */
export type Keep = (next: Tensor, old: Tensor) => Tensor;

/** A state input the caller binds at the first run. */
export interface StateSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Every element's value at the first step. */
  readonly initial: number;
}

/** One parameter's new weight and new slot values. */
export interface Updated {
  readonly w: Tensor;
  readonly slots: Readonly<Record<string, Tensor>>;
}

/** A gradient and what it updates: a traced parameter, or a variable (kiln.variable, model.trainableWeights). */
export type GradientPair = readonly [grad: Tensor, param: Tensor | Variable];

export interface ApplyGradientsOptions {
  /**
   * The value each parameter is assigned, from its updated value (Keras'
   * weight constraints, applied right after the optimizer's update; the
   * optimizer's states are not constrained).
   */
  constrain?: (param: Tensor, updated: Tensor) => Tensor;
  /**
   * The step's loss: a step whose loss is not finite is skipped like one whose
   * gradients are not (see `skipNonFinite`).
   */
  loss?: Tensor;
  /**
   * Skip the whole update — parameters, optimizer state and step count — when
   * any gradient (or the given loss) holds NaN or ±Infinity, or a gradient is
   * past 2⁶³ (its square, in Adam's or RMSprop's second moment, would
   * overflow), as PyTorch's GradScaler and Keras' LossScaleOptimizer skip such
   * steps. Default true. The check is one four-lane pass over the gradients
   * inside the compiled step (0.2–0.3% of the README CNN's step, about 2% of a
   * small MLP's: bench/nonfinite-check.mjs). Not caught: an update that
   * overflows from such gradients through an absurd learning rate (1e38);
   * `save` and `export` still refuse the weights it makes.
   */
  skipNonFinite?: boolean;
}

/**
 * The option keys every optimizer takes (see `optionKeys` in compiler/check.ts).
 * @example static override readonly optionKeys = optionKeys<SgdOptions>({ momentum: true, nesterov: true, dampening: true, ...OPTIMIZER_KEYS });
 */
/**
 * Inside a trace: 0 when the gradients (and the loss, if given) are all finite
 * and every gradient is below `GRADIENT_LIMIT` in magnitude, NaN otherwise — the flag `applyGradients` gates its update on. A train step
 * adds it to the loss it reports, so a skipped step reads as a non-finite loss
 * (the same nodes: the graph computes the flag once).
 * @example const loss = F.add(value, stepFlag(grads, value));
 */
export function stepFlag(grads: readonly Tensor[], loss?: Tensor): Tensor {
  // a gradient past 2⁶³ also skips the step: its square (Adam's, RMSprop's, Adagrad's second moment) would overflow float32
  return [...grads.map((g) => F.nonFinite(g, { limit: GRADIENT_LIMIT })), ...(loss ? [F.nonFinite(loss)] : [])].reduce((a, b) => F.add(a, b));
}

/** The largest gradient magnitude a step applies: 2⁶³, whose square (and the sum of two) float32 still holds. */
export const GRADIENT_LIMIT = 2 ** 63;

export const OPTIMIZER_KEYS = { learningRate: true, clipnorm: true, clipvalue: true, globalClipnorm: true, weightDecay: true, name: true, convention: true } as const;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Checks an option of `optimizer`: a finite number with `ok` true. */
export function checkOption(optimizer: string, key: string, value: unknown, ok: (x: number) => boolean, expected: string): void {
  if (!finite(value) || !ok(value)) throw userError(optimizer, `expected ${key} ${expected}, got ${String(value)}`, captureOrigin());
}

export abstract class Optimizer<Options extends OptimizerOptions = OptimizerOptions> {
  readonly name: string;
  private rate: number | LearningRateSchedule;

  /**
   * @param subject the factory name used in messages ('sgd', 'adam', …)
   * @param className Keras' class name ('SGD', 'Adam', …), for saving
   */
  /** The option keys the constructor accepts, listed once per class with `optionKeys`; others are refused. */
  static readonly optionKeys?: readonly string[];

  constructor(protected readonly subject: string, readonly className: string, protected readonly options: Options, defaultLearningRate: number) {
    checkOptions(subject, options, (new.target as unknown as { optionKeys?: readonly string[] }).optionKeys ?? Object.keys(OPTIMIZER_KEYS));
    const { learningRate = defaultLearningRate, clipnorm, clipvalue, globalClipnorm, weightDecay, name = 'optimizer' } = options;
    if (!isSchedule(learningRate)) checkOption(subject, 'learningRate', learningRate, (x) => x >= 0, '>= 0 or a schedule');
    for (const [key, value] of Object.entries({ clipnorm, clipvalue, globalClipnorm })) {
      if (value !== undefined) checkOption(subject, key, value, (x) => x > 0, '> 0');
    }
    const clips = Object.entries({ clipnorm, clipvalue, globalClipnorm }).filter(([, v]) => v !== undefined);
    if (clips.length > 1) throw userError(subject, `expected at most one of clipnorm, clipvalue and globalClipnorm, got ${clips.map(([k, v]) => `${k}=${v}`).join(', ')}`, captureOrigin());
    if (weightDecay !== undefined) checkOption(subject, 'weightDecay', weightDecay, (x) => x >= 0, '>= 0');
    if (typeof name !== 'string' || name.length === 0) throw userError(subject, `expected a non-empty name, got ${JSON.stringify(name)}`, captureOrigin());
    this.name = name;
    this.rate = learningRate;
  }

  /**
   * The learning rate. A number may be changed between steps without
   * recompiling (`inputs()` passes it to each run); a schedule is fixed, as in Keras.
   * @example opt.learningRate = 0.01; module.run('step', { x, y, ...opt.inputs() });
   */
  get learningRate(): number | LearningRateSchedule {
    return this.rate;
  }

  set learningRate(value: number | LearningRateSchedule) {
    if (isSchedule(this.rate) || isSchedule(value)) throw userError(`${this.subject}.learningRate`, 'a schedule is traced into the step, so it can neither be set nor replaced; trace a new step with a new optimizer instead', captureOrigin());
    checkOption(`${this.subject}.learningRate`, 'learningRate', value, (x) => x >= 0, '>= 0');
    this.rate = value;
  }

  /** The slots this optimizer keeps per parameter, in the order their states are created. */
  protected abstract slots(): readonly Slot[];

  /**
   * Hyperparameters taken as runtime scalar inputs `<name>/<key>` (changeable
   * between steps without recompiling), by key, with their values; `update`
   * finds each in its scalars under the same key. None in Keras' convention.
   */
  protected runtimeHyperparameters(): Readonly<Record<string, number>> {
    return {};
  }

  /** Scalars of this step shared by all parameters (bias corrections, …). */
  protected prepare(scalars: StepScalars): StepScalars {
    return scalars;
  }

  /**
   * One parameter's update: its clipped gradient, its weight after weight decay
   * and its slots' states → the new weight and new slot values.
   */
  /**
   * One parameter's new value and new slots. Every new slot value goes through
   * `keep(next, old)` before anything reads it, so a skipped step (see
   * `skipNonFinite`) leaves the state as it was and the new weight is computed
   * from the state it keeps.
   */
  protected abstract update(g: Tensor, w: Tensor, slots: Readonly<Record<string, Tensor>>, scalars: StepScalars, keep: Keep): Updated;

  /** The options given, with defaults filled in; a schedule as `{ className, config }`. */
  getConfig(): Record<string, unknown> {
    const lr = this.learningRate;
    const common = { name: this.name, learningRate: isSchedule(lr) ? { className: lr.className, config: lr.getConfig() } : lr };
    const { clipnorm, clipvalue, globalClipnorm, weightDecay } = this.options;
    return { ...common, ...this.ownConfig(), weightDecay, clipnorm, clipvalue, globalClipnorm };
  }

  protected abstract ownConfig(): Record<string, unknown>;

  /** Whether the rules follow PyTorch's formulas. */
  protected get pytorch(): boolean { return this.options.convention === 'pytorch'; }

  /** Whether weightDecay shrinks the weights directly (Keras; PyTorch's AdamW) rather than adding wd · w to the gradient. */
  protected get decoupledDecay(): boolean { return !this.pytorch; }

  get stepName(): string { return `${this.name}/step`; }
  get learningRateName(): string { return `${this.name}/learning_rate`; }

  /**
   * The state inputs `applyGradients` creates for `params` (parameter name →
   * shape, in the order of the pairs), slot by slot, then the step.
   * @example adam.stateSpecs({ w: { shape: [3, 2] } }) // w/m, w/v (zeros), optimizer/step (0)
   */
  stateSpecs(params: Readonly<Record<string, { readonly shape: readonly number[] }>>): StateSpec[] {
    const perSlot = this.slots().flatMap((s) => Object.entries(params).map(([p, { shape }]) => ({ name: `${p}/${s.name}`, shape: [...shape], initial: s.initial })));
    return [...perSlot, { name: this.stepName, shape: [], initial: 0 }];
  }

  /**
   * Initial values of every state, to pass to the first `module.run` (states then
   * stay in the module's memory): slots at their initial value (zeros, or
   * Adagrad's initialAccumulatorValue) and the step at 0.
   * @example module.run('trainStep', { x, y, ...weights, ...opt.initialState({ w: { shape: [3, 2] } }), ...opt.inputs() })
   */
  initialState(params: Readonly<Record<string, { readonly shape: readonly number[] }>>): Record<string, Float32Array> {
    return Object.fromEntries(this.stateSpecs(params).map((s) => [s.name, new Float32Array(s.shape.reduce((a, d) => a * d, 1)).fill(s.initial)]));
  }

  /**
   * The scalar inputs every run must pass: the learning rate when it is a
   * number (nothing with a schedule), and with `convention: 'pytorch'` the
   * momentum or β₁ (`<name>/momentum`, `<name>/beta1`).
   */
  inputs(): Record<string, Float32Array> {
    const lr = this.learningRate;
    const hyper = Object.entries(this.runtimeHyperparameters()).map(([k, v]) => [`${this.name}/${k}`, new Float32Array([v])] as const);
    return Object.fromEntries([...(isSchedule(lr) ? [] : [[this.learningRateName, new Float32Array([lr])] as const]), ...hyper]);
  }

  private eagerSteps = new Map<string, (...grads: Tensor[]) => Promise<unknown>>();

  /**
   * applyGradients outside a trace (a custom loop run eagerly): one compiled
   * update per set of variables, made on first use and kept, whose module holds
   * the optimizer's state between calls; the variables receive the new values.
   */
  private applyEagerly(subject: string, pairs: readonly GradientPair[], options: ApplyGradientsOptions): Promise<void> {
    if (!Array.isArray(pairs) || pairs.length === 0) throw userError(subject, 'expected a non-empty list of [gradient, variable] pairs', captureOrigin());
    const vars = pairs.map(([, w], i) => {
      if (!(w instanceof Variable)) throw userError(subject, `outside kiln.compile, expected [gradient, variable] pairs (kiln.variable, model.trainableWeights) so the update has somewhere to go, got a ${w instanceof Tensor ? 'Tensor' : typeof w} at ${i}`, captureOrigin());
      return w;
    });
    const grads = pairs.map(([g], i) => {
      if (!(g instanceof Tensor) || g.isSymbolic) throw userError(subject, `expected concrete gradient tensors, got ${g instanceof Tensor ? 'a symbolic one' : typeof g} at ${i}`, captureOrigin());
      return g;
    });
    return this.runEagerStep(vars, grads, options); // the checks above throw at once; the step itself is async
  }

  private async runEagerStep(vars: readonly Variable[], grads: readonly Tensor[], options: ApplyGradientsOptions): Promise<void> {
    const key = vars.map((v) => v.name).join('\n');
    let step = this.eagerSteps.get(key);
    if (!step) {
      const { compile } = await import('../jit.js');
      step = compile((...gs: Tensor[]) => {
        this.applyGradients(gs.map((g, i) => [g, vars[i]!] as const), options);
        return F.mul(gs[0]!, 0);
      });
      this.eagerSteps.set(key, step);
    }
    await step(...grads);
  }

  /**
   * Inside `kiln.trace`: updates every parameter from its gradient, and the
   * optimizer's state, as part of the traced step.
   * @example
   * const step = kiln.trace(({ x, y, w }) => {
   *   const { value, grad } = kiln.valueAndGrad((w) => kiln.meanSquaredError(y, kiln.matmul(x, w)))(w);
   *   opt.applyGradients([[grad, w]]);
   *   return { loss: value };
   * }, { x: kiln.spec([null, 3]), y: kiln.spec([null, 2]), w: kiln.spec([3, 2], 'float32', { kind: 'parameter' }) });
   * @param options.constrain maps each parameter's updated value to the value assigned (constraints)
   */
  applyGradients(given: readonly GradientPair[], options: ApplyGradientsOptions = {}): void | Promise<void> {
    const subject = `${this.subject}.applyGradients`;
    const b = currentBuilder();
    if (!b) return this.applyEagerly(subject, given, options);
    const pairs = given.map(([g, w]) => [g, w instanceof Variable ? w.read() : w] as const);
    const names = this.checkPairs(subject, b, pairs);
    const hyperNames = Object.keys(this.runtimeHyperparameters()).map((k) => [k, `${this.name}/${k}`] as const);
    const created = [this.stepName, this.learningRateName, ...hyperNames.map(([, n]) => n), ...this.slots().flatMap((s) => names.map((p) => `${p}/${s.name}`))];
    const taken = created.find((n) => b.inputs.some((i) => i.name === n));
    if (taken) throw userError(subject, `the trace already has an input named "${taken}"; call applyGradients once per trace, or give each optimizer its own name`, captureOrigin());
    const origin = captureOrigin();
    const scalar: TensorType = { dtype: 'float32', shape: [] };
    const step = b.input(this.stepName, 'state', scalar, origin);
    const lr = isSchedule(this.learningRate) ? this.learningRate(step) : b.input(this.learningRateName, 'scalar', scalar, origin);
    const params = pairs.map(([, w]) => w);
    const grads = this.clip(pairs.map(([g]) => g));
    // every slot's states for all parameters consecutively, in the order of the pairs: the plan can then update each slot in one loop
    const states = this.slots().map((s) => params.map((w, i) => b.input(`${names[i]}/${s.name}`, 'state', w.type, origin)));
    // for kiln.compile with kiln.variable (no-ops otherwise): the states' initial values and the learning-rate feed
    for (const [name, values] of Object.entries(this.initialState(Object.fromEntries(params.map((w, i) => [names[i]!, { shape: w.shape as number[] }]))))) registerInitialState(name, values);
    if (!isSchedule(this.learningRate)) registerFeed(this.learningRateName, () => this.inputs()[this.learningRateName]!);
    const hyper = Object.fromEntries(hyperNames.map(([k, n]) => [k, b.input(n, 'scalar', scalar, origin)]));
    for (const [, n] of hyperNames) registerFeed(n, () => this.inputs()[n]!);
    const scalars = this.prepare({ lr, step, ...hyper });
    const wd = this.options.weightDecay;
    const decay = wd && this.decoupledDecay ? F.mul(scalars.lr, wd) : undefined;
    // 0, or NaN when a gradient or the loss is not finite: then every assignment below keeps the old value
    const bad = options.skipNonFinite === false ? undefined : stepFlag(pairs.map(([g]) => g), options.loss);
    // every value is kept when the step is skipped (one mask for the whole step: a per-value finiteness test measured 2% more)
    const ok = bad ? F.eq(bad, 0) : undefined;
    const keep: Keep = ok ? (next, old) => F.where(ok, next, old) : (next) => next;
    params.forEach((w, i) => {
      const decayed = decay ? F.sub(w, F.mul(w, decay)) : w;
      const g = wd && !this.decoupledDecay ? F.add(grads[i]!, F.mul(w, wd)) : grads[i]!; // PyTorch's L2 form
      const slots = Object.fromEntries(this.slots().map((s, k) => [s.name, states[k]![i]!]));
      const next = this.update(g, decayed, slots, scalars, keep);
      for (const s of this.slots()) assign(slots[s.name]!, next.slots[s.name]!);
      assign(w, keep(options.constrain ? options.constrain(w, next.w) : next.w, w));
    });
    assign(step, keep(F.add(step, 1), step));
  }

  /** The parameter names of `pairs`, checking every pair. */
  private checkPairs(subject: string, b: Builder, pairs: readonly GradientPair[]): string[] {
    const fail = (message: string): never => { throw userError(subject, message, captureOrigin()); };
    if (!Array.isArray(pairs) || pairs.length === 0) fail(`expected a non-empty array of [gradient, parameter] pairs, got ${Array.isArray(pairs) ? 'an empty array' : typeof pairs}`);
    return pairs.map((pair, k) => {
      if (!Array.isArray(pair) || pair.length !== 2) fail(`expected pair ${k} to be [gradient, parameter], got ${Array.isArray(pair) ? `an array of ${pair.length}` : typeof pair}`);
      const [g, w] = pair;
      if (!(w instanceof Tensor)) return fail(`expected the parameter of pair ${k} to be a Tensor, got ${typeof w}`);
      const input = w.builder === b ? b.inputs.find((i) => i.id === w.id) : undefined;
      if (!input || input.kind !== 'parameter') {
        const what = input ? `${input.kind} input "${input.name}"` : !w.isSymbolic ? 'a concrete tensor' : w.builder === b ? 'a computed tensor' : 'a tensor of another trace';
        fail(`expected the parameter of pair ${k} to be a parameter input of the current trace (kiln.spec(shape, 'float32', { kind: 'parameter' })), got ${what} ${formatType(w.type)}`);
      }
      if (!(g instanceof Tensor) || !sameType(g.type, w.type)) fail(`expected the gradient of "${input!.name}" to be ${formatType(w.type)}, got ${g instanceof Tensor ? formatType(g.type) : typeof g}`);
      if (pairs.findIndex(([, v]) => v === w) !== k) fail(`parameter "${input!.name}" appears in more than one pair`);
      return input!.name;
    });
  }

  /** Keras 3's `_clip_gradients`: at most one of clipnorm, globalClipnorm, clipvalue. */
  private clip(grads: Tensor[]): Tensor[] {
    const { clipnorm, clipvalue, globalClipnorm } = this.options;
    if (clipnorm !== undefined) return grads.map((g) => F.div(F.mul(g, clipnorm), F.maximum(F.sqrt(F.sum(F.square(g))), clipnorm)));
    if (globalClipnorm !== undefined) {
      const norm = F.sqrt(grads.map((g) => F.sum(F.square(g))).reduce((a, b) => F.add(a, b)));
      // finite norm: min(1/‖G‖, 1/c) · c; an infinite or NaN norm makes the scale NaN, as in Keras
      const scale = F.add(F.mul(F.minimum(F.reciprocal(norm), 1 / globalClipnorm), globalClipnorm), F.sub(norm, norm));
      return grads.map((g) => F.mul(g, scale));
    }
    if (clipvalue !== undefined) return grads.map((g) => F.clip(g, -clipvalue, clipvalue));
    return grads;
  }
}
