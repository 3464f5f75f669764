/**
 * @file Gradient checking: compares reverse-mode gradients with central finite
 * differences along one random direction, all in float64, as JAX's check_grads
 * does. Tests use it on every op; users can use it on their own functions.
 */
import { KilnError } from './errors.js';
import { interpret } from './interpret.js';
import type { Value } from './ops/op.js';
import { autodiff } from './passes/autodiff.js';
import { normals } from './random.js';
import { Tensor } from './tensor.js';
import { describe } from './check.js';
import { spec, trace } from './trace.js';

export interface GradCheckOptions {
  /** Finite-difference step (default 1e-4: float64 keeps the roundoff far below the O(eps²) truncation). */
  eps?: number;
  /** Allowed |analytic - numeric| <= atol + rtol * |numeric| (defaults 1e-6, 1e-4). */
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradCheckResult {
  analytic: number;
  numeric: number;
  error: number;
  tolerance: number;
}

const asFloat64 = (v: Value): Value => (v.dtype === 'float32' ? { ...v, data: Float64Array.from(v.data) } : v);

/**
 * Directional derivative of `<f(args), c>` (random cotangent c) along a random
 * direction, by reverse mode and by central differences.
 */
export function gradientError(f: (...args: Tensor[]) => Tensor, args: readonly Tensor[], options: GradCheckOptions = {}): GradCheckResult {
  if (typeof f !== 'function') throw new KilnError(`gradientError: expected a function of tensors, got ${describe(f)}.`);
  if (!Array.isArray(args) || args.some((a) => !(a instanceof Tensor))) throw new KilnError(`gradientError: expected a list of Tensor arguments, got ${describe(args)}.`);
  const eps = options.eps ?? 1e-4;
  const seed = options.seed ?? 7;
  const names = args.map((_, i) => `arg_${i}`);
  const g = trace(f as (...xs: never[]) => Tensor, args.map((t, i) => spec(t.type.shape as number[], t.dtype, { name: names[i] })));
  const outType = g.nodes[g.outputs[0]!.id]!.type;
  const floats = args.flatMap((t, i) => (t.dtype === 'float32' && t.value!.data.length > 0 ? [i] : []));
  if (floats.length === 0) throw new KilnError('gradcheck: no float32 argument to differentiate.');
  const dg = autodiff(g, { of: 'output', wrt: floats.map((i) => names[i]!), cotangent: 'cotangent' });
  const base = Object.fromEntries(args.map((t, i) => [names[i]!, asFloat64(t.value!)]));
  const outSize = (outType.shape as number[]).reduce((a, b) => a * b, 1);
  const cotangent: Value = { dtype: 'float32', shape: outType.shape as number[], data: normals(outSize, seed + 1) };
  const directions = floats.map((i, k) => normals(args[i]!.value!.data.length, seed + 100 + k));

  const { outputs } = interpret(dg, { ...base, cotangent }, { precision: 'float64' });
  let analytic = 0;
  floats.forEach((i, k) => {
    const grad = outputs[`grad_${names[i]}`]!.data;
    directions[k]!.forEach((d, j) => (analytic += grad[j]! * d));
  });

  const objective = (sign: number) => {
    const shifted = { ...base };
    floats.forEach((i, k) => {
      const v = base[names[i]!]!;
      shifted[names[i]!] = { ...v, data: v.data.map((x, j) => x + sign * eps * directions[k]![j]!) };
    });
    const y = interpret(g, shifted, { precision: 'float64' }).outputs.output!.data;
    let s = 0;
    y.forEach((v, j) => (s += v * cotangent.data[j]!));
    return s;
  };
  const numeric = (objective(1) - objective(-1)) / (2 * eps);
  const error = Math.abs(analytic - numeric);
  const tolerance = (options.atol ?? 1e-6) + (options.rtol ?? 1e-4) * Math.abs(numeric);
  return { analytic, numeric, error, tolerance };
}

/** Throws if reverse mode and finite differences disagree for `f` at `args`. */
export function checkGrads(f: (...args: Tensor[]) => Tensor, args: readonly Tensor[], options: GradCheckOptions = {}): GradCheckResult {
  const r = gradientError(f, args, options);
  if (!(r.error <= r.tolerance)) {
    throw new KilnError(`checkGrads: reverse mode gives ${r.analytic}, finite differences ${r.numeric} (|error| ${r.error.toExponential(2)} > tolerance ${r.tolerance.toExponential(2)}).`);
  }
  return r;
}
