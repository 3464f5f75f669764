/**
 * @file Weight constraints, as Keras': a projection applied to a parameter's
 * new value right after each optimizer step. A layer takes them as
 * `kernelConstraint`, `biasConstraint` (`embeddingsConstraint`), by name
 * ('maxNorm', 'nonNeg', 'unitNorm', 'minMaxNorm', Keras' snake_case too) or
 * as an object. Norms are over `axis` (Keras' default 0: for a Dense kernel
 * [inputDim, units], each unit's column of incoming weights).
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { fail } from '../../compiler/functions/util.js';
import type { Tensor } from '../../compiler/tensor.js';

export interface Constraint {
  readonly className: string;
  readonly config: object;
  /** The constrained value of `w` (same shape). */
  apply(w: Tensor): Tensor;
}

export type ConstraintName = 'maxNorm' | 'nonNeg' | 'unitNorm' | 'minMaxNorm' | 'max_norm' | 'non_neg' | 'unit_norm' | 'min_max_norm';
/** A constraint by name or object, as the layers' `…Constraint` options. */
export type ConstraintIdentifier = ConstraintName | Constraint;
type Axis = number | number[];

/** Keras' backend epsilon. */
const EPSILON = 1e-7;

function checkAxis(subject: string, axis: unknown): Axis {
  const ok = (a: unknown) => Number.isInteger(a);
  if (!(ok(axis) || (Array.isArray(axis) && axis.every(ok)))) fail(subject, `expected axis to be an integer or a list of integers, got ${JSON.stringify(axis)}`);
  return Array.isArray(axis) ? [...axis] : (axis as number);
}

function checkNumber(subject: string, key: string, v: unknown, ok: (x: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(subject, `expected ${key} ${expected}, got ${JSON.stringify(v) ?? String(v)}`);
  return v as number;
}

const norms = (w: Tensor, axis: Axis) => F.sqrt(F.sum(F.square(w), axis, true));

export interface MaxNormArgs { maxValue?: number; axis?: Axis }
/** `w · clip(‖w‖, 0, maxValue) / (ε + ‖w‖)`, norms over `axis`. */
export function maxNorm(options: MaxNormArgs = {}): Constraint {
  const s = 'constraints.maxNorm';
  checkOptions(s, options, optionKeys<MaxNormArgs>({ maxValue: true, axis: true }));
  const { maxValue = 2, axis = 0 } = options;
  const m = checkNumber(s, 'maxValue', maxValue, (x) => x >= 0, '>= 0');
  const a = checkAxis(s, axis);
  return {
    className: 'MaxNorm',
    config: { maxValue: m, axis: a },
    apply: (w) => {
      const n = norms(w, a);
      return F.mul(w, F.div(F.clip(n, 0, m), F.add(n, EPSILON)));
    },
  };
}

/** `w · (w ≥ 0)`. */
export function nonNeg(options: Record<never, never> = {}): Constraint {
  checkOptions('constraints.nonNeg', options, []);
  return { className: 'NonNeg', config: {}, apply: (w) => F.mul(w, F.cast(F.ge(w, 0), 'float32')) };
}

export interface UnitNormArgs { axis?: Axis }
/** `w / (ε + ‖w‖)`, norms over `axis`. */
export function unitNorm(options: UnitNormArgs = {}): Constraint {
  checkOptions('constraints.unitNorm', options, ['axis']);
  const a = checkAxis('constraints.unitNorm', options.axis ?? 0);
  return { className: 'UnitNorm', config: { axis: a }, apply: (w) => F.div(w, F.add(norms(w, a), EPSILON)) };
}

export interface MinMaxNormArgs { minValue?: number; maxValue?: number; rate?: number; axis?: Axis }
/** `w · (rate · clip(‖w‖, minValue, maxValue) + (1 − rate) · ‖w‖) / (ε + ‖w‖)`, norms over `axis`. */
export function minMaxNorm(options: MinMaxNormArgs = {}): Constraint {
  const s = 'constraints.minMaxNorm';
  checkOptions(s, options, optionKeys<MinMaxNormArgs>({ minValue: true, maxValue: true, rate: true, axis: true }));
  const { minValue = 0, maxValue = 1, rate = 1, axis = 0 } = options;
  const lo = checkNumber(s, 'minValue', minValue, (x) => x >= 0, '>= 0');
  const hi = checkNumber(s, 'maxValue', maxValue, (x) => x >= lo, `>= minValue (${lo})`);
  const r = checkNumber(s, 'rate', rate, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  const a = checkAxis(s, axis);
  return {
    className: 'MinMaxNorm',
    config: { minValue: lo, maxValue: hi, rate: r, axis: a },
    apply: (w) => {
      const n = norms(w, a);
      const desired = F.add(F.mul(F.clip(n, lo, hi), r), F.mul(n, 1 - r));
      return F.mul(w, F.div(desired, F.add(n, EPSILON)));
    },
  };
}

const byClass: Record<string, (config: object) => Constraint> = {
  MaxNorm: (c) => maxNorm(c as MaxNormArgs),
  NonNeg: () => nonNeg(),
  UnitNorm: (c) => unitNorm(c as UnitNormArgs),
  MinMaxNorm: (c) => minMaxNorm(c as MinMaxNormArgs),
};

/** The constraint names `get` accepts (Keras' snake_case forms also work). */
export const constraintNames: readonly string[] = ['maxNorm', 'nonNeg', 'unitNorm', 'minMaxNorm'];

const camel = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A constraint from a name ('maxNorm', 'non_neg', …, with default options), a
 * `{ className, config }` (as getConfig reports it) or a Constraint, returned as is.
 */
export function get(identifier: ConstraintIdentifier | { className: string; config?: object }, subject = 'constraints.get'): Constraint {
  if (typeof identifier === 'object' && identifier !== null) {
    if (typeof (identifier as Constraint).apply === 'function') return identifier as Constraint;
    const { className, config = {} } = identifier as { className: string; config?: object };
    const make = byClass[className];
    if (make) return make(config);
  }
  if (typeof identifier === 'string') {
    const key = camel(identifier);
    const make = byClass[key.charAt(0).toUpperCase() + key.slice(1)];
    if (make) return make({});
  }
  return fail(subject, `unknown constraint ${typeof identifier === 'string' ? `'${identifier}'` : JSON.stringify(identifier)}; expected a Constraint or one of ${constraintNames.map((n) => `'${n}'`).join(', ')}`);
}

/** `{ className, config }` of a constraint (undefined stays undefined), for getConfig. */
export const serialize = (c: Constraint | undefined): object | undefined => (c ? { className: c.className, config: c.config } : undefined);
