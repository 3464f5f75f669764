/**
 * Learning-rate schedules, as in Keras 3 (`keras.optimizers.schedules`). A
 * schedule is a function from the optimizer's step — a float32 scalar tensor in
 * the traced graph, the number of steps already taken (0 at the first step) —
 * to the learning-rate tensor, built from kiln ops: the step is a runtime value,
 * so a new step never recompiles. `valueAt(step)` evaluates the same formula in
 * plain JS (float64) for tests and logging.
 *
 * Formulas (t = step):
 * - exponentialDecay: lr₀ · rate^(t / steps), with floor(t / steps) when staircase
 * - inverseTimeDecay: lr₀ / (1 + rate · t / steps), with floor(t / steps) when staircase
 * - piecewiseConstantDecay: values[0] while t ≤ b₀, values[i] for b₍ᵢ₋₁₎ < t ≤ bᵢ, values[n] after b₍ₙ₋₁₎
 * - cosineDecay: lr₀ · ((1 − α) · ½(1 + cos(π · min(t, steps) / steps)) + α); with
 *   warmupTarget, a linear ramp lr₀ → warmupTarget over warmupSteps first, then the
 *   cosine from warmupTarget over the next decaySteps
 *
 * PyTorch's `lr_scheduler` classes differ in kind rather than formula: they
 * mutate the optimizer's lr once per `scheduler.step()` (usually per epoch);
 * Keras and kiln evaluate the schedule at every optimizer step.
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { userError } from '../../compiler/errors.js';
import { captureOrigin } from '../../compiler/source.js';
import type { Tensor } from '../../compiler/tensor.js';

export interface LearningRateSchedule {
  /** The learning rate at `step` (a float32 scalar tensor), as a float32 scalar tensor. */
  (step: Tensor): Tensor;
  /** Keras' class name, for saving: 'ExponentialDecay', 'CosineDecay', … */
  readonly className: string;
  /** The same formula in plain JS (float64). */
  valueAt(step: number): number;
  getConfig(): Record<string, unknown>;
}

/**
 * Whether `x` is a schedule (a function with `valueAt`) rather than a number.
 * @example isSchedule(kiln.optimizers.schedules.cosineDecay({ initialLearningRate: 1, decaySteps: 10 })) // true
 */
export function isSchedule(x: unknown): x is LearningRateSchedule {
  return typeof x === 'function' && typeof (x as Partial<LearningRateSchedule>).valueAt === 'function';
}

function schedule(className: string, config: Record<string, unknown>, inGraph: (step: Tensor) => Tensor, valueAt: (step: number) => number): LearningRateSchedule {
  const frozen = Object.freeze({ ...config });
  return Object.assign((step: Tensor) => inGraph(step), { className, valueAt, getConfig: () => ({ ...frozen }) });
}

function check(subject: string, ok: boolean, message: string): void {
  if (!ok) throw userError(subject, message, captureOrigin());
}

const isFinite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function checkDecay(subject: string, o: { initialLearningRate: number; decaySteps: number; decayRate: number }): void {
  check(subject, isFinite(o.initialLearningRate), `expected a finite initialLearningRate, got ${String(o.initialLearningRate)}`);
  check(subject, isFinite(o.decaySteps) && o.decaySteps > 0, `expected decaySteps > 0, got ${String(o.decaySteps)}`);
  check(subject, isFinite(o.decayRate), `expected a finite decayRate, got ${String(o.decayRate)}`);
}

export interface DecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in whole periods of decaySteps (default false). */
  staircase?: boolean;
}

/**
 * `initialLearningRate · decayRate^(step / decaySteps)`.
 * @example kiln.optimizers.sgd({ learningRate: kiln.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1000, decayRate: 0.96 }) })
 */
const decayKeys = optionKeys<DecayOptions>({ initialLearningRate: true, decaySteps: true, decayRate: true, staircase: true });

export function exponentialDecay(options: DecayOptions): LearningRateSchedule {
  checkOptions('exponentialDecay', options, decayKeys);
  checkDecay('exponentialDecay', options);
  const { initialLearningRate, decaySteps, decayRate, staircase = false } = options;
  const periods = (t: Tensor) => (staircase ? F.floor(F.div(t, decaySteps)) : F.div(t, decaySteps));
  const periodsJs = (t: number) => (staircase ? Math.floor(t / decaySteps) : t / decaySteps);
  return schedule('ExponentialDecay', { initialLearningRate, decaySteps, decayRate, staircase },
    (t) => F.mul(F.pow(decayRate, periods(t)), initialLearningRate),
    (t) => initialLearningRate * decayRate ** periodsJs(t));
}

/**
 * `initialLearningRate / (1 + decayRate · step / decaySteps)`.
 * @example kiln.optimizers.schedules.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 }).valueAt(2) // 0.05
 */
export function inverseTimeDecay(options: DecayOptions): LearningRateSchedule {
  checkOptions('inverseTimeDecay', options, decayKeys);
  checkDecay('inverseTimeDecay', options);
  const { initialLearningRate, decaySteps, decayRate, staircase = false } = options;
  const periods = (t: Tensor) => (staircase ? F.floor(F.div(t, decaySteps)) : F.div(t, decaySteps));
  const periodsJs = (t: number) => (staircase ? Math.floor(t / decaySteps) : t / decaySteps);
  return schedule('InverseTimeDecay', { initialLearningRate, decaySteps, decayRate, staircase },
    (t) => F.div(initialLearningRate, F.add(F.mul(periods(t), decayRate), 1)),
    (t) => initialLearningRate / (1 + decayRate * periodsJs(t)));
}

export interface PiecewiseConstantOptions {
  /** Increasing step boundaries. */
  boundaries: readonly number[];
  /** One more value than boundaries: values[i] applies up to and including boundaries[i]. */
  values: readonly number[];
}

/**
 * A step function: `values[0]` while step ≤ boundaries[0], `values[i]` while
 * boundaries[i−1] < step ≤ boundaries[i], the last value after the last boundary.
 * @example kiln.optimizers.schedules.piecewiseConstantDecay({ boundaries: [100, 200], values: [0.1, 0.01, 0.001] })
 */
export function piecewiseConstantDecay(options: PiecewiseConstantOptions): LearningRateSchedule {
  checkOptions('piecewiseConstantDecay', options, optionKeys<PiecewiseConstantOptions>({ boundaries: true, values: true }));
  const subject = 'piecewiseConstantDecay';
  const { boundaries, values } = options;
  check(subject, Array.isArray(boundaries) && boundaries.length > 0 && boundaries.every(isFinite), `expected a non-empty array of finite boundaries, got ${JSON.stringify(boundaries)}`);
  check(subject, boundaries.every((b, i) => i === 0 || b > boundaries[i - 1]!), `expected increasing boundaries, got [${boundaries.join(',')}]`);
  check(subject, Array.isArray(values) && values.every(isFinite) && values.length === boundaries.length + 1,
    `expected ${boundaries.length + 1} finite values (one more than boundaries), got ${Array.isArray(values) ? `[${values.join(',')}]` : String(values)}`);
  // the value of the first boundary not below the step; built from the last boundary back
  const inGraph = (t: Tensor) => boundaries.reduceRight<Tensor | number>((rest, b, i) => F.where(F.le(t, b), values[i]!, rest), values[values.length - 1]!) as Tensor;
  const valueAt = (t: number) => {
    const i = boundaries.findIndex((b) => t <= b);
    return values[i < 0 ? values.length - 1 : i]!;
  };
  return schedule('PiecewiseConstantDecay', { boundaries: [...boundaries], values: [...values] }, inGraph, valueAt);
}

export interface CosineDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** The floor, as a fraction of the rate the decay starts from (default 0). */
  alpha?: number;
  /** With a warmup: the rate reached after warmupSteps, from which the cosine decays. */
  warmupTarget?: number;
  warmupSteps?: number;
}

/**
 * Cosine decay (SGDR without restarts), with an optional linear warmup.
 * @example kiln.optimizers.schedules.cosineDecay({ initialLearningRate: 0, warmupTarget: 1e-3, warmupSteps: 100, decaySteps: 1000 })
 */
export function cosineDecay(options: CosineDecayOptions): LearningRateSchedule {
  checkOptions('cosineDecay', options, optionKeys<CosineDecayOptions>({ initialLearningRate: true, decaySteps: true, alpha: true, warmupTarget: true, warmupSteps: true }));
  const subject = 'cosineDecay';
  const { initialLearningRate, decaySteps, alpha = 0, warmupTarget, warmupSteps = 0 } = options;
  check(subject, isFinite(initialLearningRate), `expected a finite initialLearningRate, got ${String(initialLearningRate)}`);
  check(subject, isFinite(decaySteps) && decaySteps > 0, `expected decaySteps > 0, got ${String(decaySteps)}`);
  check(subject, isFinite(alpha), `expected a finite alpha, got ${String(alpha)}`);
  check(subject, warmupTarget === undefined || isFinite(warmupTarget), `expected a finite warmupTarget, got ${String(warmupTarget)}`);
  check(subject, isFinite(warmupSteps) && warmupSteps >= 0, `expected warmupSteps >= 0, got ${String(warmupSteps)}`);
  const config = { initialLearningRate, decaySteps, alpha, warmupTarget, warmupSteps };
  const decay = (t: Tensor, from: number) => F.mul(F.add(F.mul(F.mul(F.add(F.cos(F.mul(F.div(t, decaySteps), Math.PI)), 1), 0.5), 1 - alpha), alpha), from);
  const decayJs = (t: number, from: number) => from * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * (t / decaySteps))) + alpha);
  if (warmupTarget === undefined) {
    return schedule('CosineDecay', config, (t) => decay(F.minimum(t, decaySteps), initialLearningRate), (t) => decayJs(Math.min(t, decaySteps), initialLearningRate));
  }
  const end = decaySteps + warmupSteps;
  const warmup = (t: Tensor) => F.add(F.mul(F.div(t, warmupSteps), warmupTarget - initialLearningRate), initialLearningRate);
  const warmupJs = (t: number) => (warmupTarget - initialLearningRate) * (t / warmupSteps) + initialLearningRate;
  // both branches are computed; the warmup one is unused (and may divide by zero) once t ≥ warmupSteps
  return schedule('CosineDecay', config,
    (t) => {
      const s = F.minimum(t, end);
      return F.where(F.lt(s, warmupSteps), warmup(s), decay(F.sub(s, warmupSteps), warmupTarget));
    },
    (t) => {
      const s = Math.min(t, end);
      return s < warmupSteps ? warmupJs(s) : decayJs(s - warmupSteps, warmupTarget);
    });
}
