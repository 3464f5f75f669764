/**
 * @file Function transforms: grad, valueAndGrad, vjp and customGrad. Inside a
 * trace they extend the graph being built (so they nest to any order); on
 * concrete tensors they trace, run the autodiff pass and interpret the result.
 */
import { Builder, currentBuilder, withBuilder } from './builder.js';
import { backward } from './autodiff.js';
import { describe } from './check.js';
import { userError } from './errors.js';
import { interpret } from './interpret.js';
import { autodiff } from './passes/autodiff.js';
import { captureOrigin } from './source.js';
import { Tensor } from './tensor.js';
import { spec, trace } from './trace.js';
import { formatType, sameType } from './types.js';
import * as F from './functions/index.js';

type Fn = (...args: Tensor[]) => Tensor;

function checkArgs(subject: string, args: readonly unknown[]): Tensor[] {
  return args.map((a, i) => {
    if (a instanceof Tensor) return a;
    throw userError(subject, `expected Tensor arguments, got ${typeof a} as argument ${i}`, captureOrigin());
  });
}

function normalizeArgnums(subject: string, argnums: number | readonly number[], n: number): number[] {
  const list = typeof argnums === 'number' ? [argnums] : [...argnums];
  for (const k of list) if (!Number.isInteger(k) || k < 0 || k >= n) throw userError(subject, `expected argnums in [0, ${n}), got ${k}`, captureOrigin());
  return list;
}

function scalarOutput(subject: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) throw userError(subject, `expected the function to return a Tensor, got ${typeof y}`, captureOrigin());
  if (y.rank !== 0 || y.dtype !== 'float32') throw userError(subject, `expected the function to return a float32 scalar, got ${formatType(y.type)}; reduce it (e.g. kiln.sum) or use kiln.vjp with a cotangent`, captureOrigin());
  return y;
}

/** Value and gradients of scalar `f` at `args`, inside the current builder. */
function differentiateInTrace(subject: string, b: Builder, f: Fn, args: readonly Tensor[], wrt: readonly number[]): { value: Tensor; grads: Tensor[] } {
  const lifted = args.map((t) => Tensor.symbolic(t.type, b, b.lift(t, subject)));
  const value = scalarOutput(subject, f(...lifted));
  const grads = backward(b, value, wrt.map((k) => lifted[k]!), F.onesLike(value), subject);
  return { value, grads };
}

/** The same on concrete tensors: trace, autodiff pass, reference interpreter. */
function differentiateEagerly(subject: string, f: Fn, args: readonly Tensor[], wrt: readonly number[]): { value: Tensor; grads: Tensor[] } {
  const specs = args.map((t, i) => spec(t.type.shape as number[], t.dtype, { name: `arg_${i}` }));
  const g = trace((...xs: Tensor[]) => scalarOutput(subject, f(...xs)), specs);
  const dg = autodiff(g, { of: 'output', wrt: wrt.map((k) => `arg_${k}`) });
  const inputs = Object.fromEntries(args.map((t, i) => [`arg_${i}`, t.value!]));
  const { outputs } = interpret(dg, inputs);
  return { value: Tensor.concrete(outputs.output!), grads: wrt.map((k) => Tensor.concrete(outputs[`grad_arg_${k}`]!)) };
}

function differentiate(subject: string, f: Fn, rawArgs: readonly unknown[], argnums: number | readonly number[]) {
  const args = checkArgs(subject, rawArgs);
  const wrt = normalizeArgnums(subject, argnums, args.length);
  for (const k of wrt) {
    if (args[k]!.dtype !== 'float32') throw userError(subject, `can only differentiate with respect to float32 tensors, got ${formatType(args[k]!.type)} as argument ${k}`, captureOrigin());
  }
  const b = currentBuilder();
  return b ? differentiateInTrace(subject, b, f, args, wrt) : differentiateEagerly(subject, f, args, wrt);
}

/**
 * Gradient of scalar-valued `f` with respect to argument `argnums` (a Tensor) or
 * arguments `argnums` (an array of Tensors).
 * @example const df = kiln.grad((x) => kiln.sum(kiln.square(x))); df(x) // 2x
 */
export function grad(f: Fn, argnums?: number): (...args: Tensor[]) => Tensor;
export function grad(f: Fn, argnums: readonly number[]): (...args: Tensor[]) => Tensor[];
export function grad(f: Fn, argnums: number | readonly number[] = 0) {
  return (...args: Tensor[]) => {
    const { grads } = differentiate('grad', f, args, argnums);
    return typeof argnums === 'number' ? grads[0]! : grads;
  };
}

/**
 * Value and gradient together, sharing the forward pass.
 * @example const { value, grad } = kiln.valueAndGrad(loss)(w);
 */
export function valueAndGrad(f: Fn, argnums?: number): (...args: Tensor[]) => { value: Tensor; grad: Tensor };
export function valueAndGrad(f: Fn, argnums: readonly number[]): (...args: Tensor[]) => { value: Tensor; grad: Tensor[] };
export function valueAndGrad(f: Fn, argnums: number | readonly number[] = 0) {
  return (...args: Tensor[]) => {
    const { value, grads } = differentiate('valueAndGrad', f, args, argnums);
    return { value, grad: typeof argnums === 'number' ? grads[0]! : grads };
  };
}

/**
 * `f`'s value at `primals` and a function from an output cotangent to the
 * cotangents of every primal (for non-scalar outputs).
 * @example const { value, vjp } = kiln.vjp(f, x); const [dx] = vjp(kiln.onesLike(value));
 */
export function vjp(f: Fn, ...primals: Tensor[]): { value: Tensor; vjp: (cotangent: Tensor) => Tensor[] } {
  if (typeof f !== 'function') throw userError('vjp', `expected a function to differentiate, got ${describe(f)}`, captureOrigin());
  const args = checkArgs('vjp', primals);
  const b = currentBuilder();
  const checkCotangent = (value: Tensor, ct: unknown): Tensor => {
    if (!(ct instanceof Tensor) || !sameType(ct.type, value.type)) {
      throw userError('vjp', `expected a cotangent of type ${formatType(value.type)}, got ${ct instanceof Tensor ? formatType(ct.type) : typeof ct}`, captureOrigin());
    }
    return ct;
  };
  if (b) {
    const lifted = args.map((t) => Tensor.symbolic(t.type, b, b.lift(t, 'vjp')));
    const value = f(...lifted);
    return { value, vjp: (ct) => backward(b, value, lifted, checkCotangent(value, ct), 'vjp') };
  }
  const specs = args.map((t, i) => spec(t.type.shape as number[], t.dtype, { name: `arg_${i}` }));
  const g = trace(f as (...xs: never[]) => Tensor, specs);
  const inputs = Object.fromEntries(args.map((t, i) => [`arg_${i}`, t.value!]));
  const value = Tensor.concrete(interpret(g, inputs).outputs.output!);
  const floats = args.flatMap((t, i) => (t.dtype === 'float32' ? [i] : []));
  const dg = autodiff(g, { of: 'output', wrt: floats.map((i) => `arg_${i}`), cotangent: 'cotangent' });
  return {
    value,
    vjp: (ct) => {
      const { outputs } = interpret(dg, { ...inputs, cotangent: checkCotangent(value, ct).value! });
      return args.map((t, i) => (floats.includes(i) ? Tensor.concrete(outputs[`grad_arg_${i}`]!) : F.zerosLike(t)));
    },
  };
}

export interface CustomGradResult {
  value: Tensor;
  /** Cotangents of each input of `f`, given the cotangent of `value`. */
  gradFunc: (dy: Tensor) => Tensor | Tensor[];
}

/**
 * Wraps `f` so its gradient is `gradFunc` instead of the derivative of its ops
 * (for numerically stable or straight-through gradients). `gradFunc` may use
 * tensors of `f`'s forward pass.
 * @example const clipGrad = kiln.customGrad((x) => ({ value: x, gradFunc: (dy) => kiln.clip(dy, -1, 1) }));
 */
export function customGrad(f: (...xs: Tensor[]) => CustomGradResult): (...xs: Tensor[]) => Tensor {
  return (...rawXs: Tensor[]) => {
    const xs = checkArgs('customGrad', rawXs);
    const b = currentBuilder();
    if (!b) return f(...xs).value;
    const lifted = xs.map((t) => Tensor.symbolic(t.type, b, b.lift(t, 'customGrad')));
    const { value, gradFunc } = f(...lifted);
    if (!(value instanceof Tensor)) throw userError('customGrad', `expected f to return { value, gradFunc } with a Tensor value, got ${typeof value}`, captureOrigin());
    const inner = new Builder(b);
    const backwardGraph = withBuilder(inner, () => {
      const dy = inner.input('dy', 'data', value.type);
      const result = gradFunc(dy);
      const grads = result instanceof Tensor ? [result] : result;
      if (!Array.isArray(grads) || grads.length !== xs.length) {
        throw userError('customGrad', `expected gradFunc to return ${xs.length} gradient(s), got ${Array.isArray(grads) ? grads.length : typeof grads}`, captureOrigin());
      }
      grads.forEach((g, i) => {
        if (!(g instanceof Tensor) || !sameType(g.type, xs[i]!.type)) {
          throw userError('customGrad', `expected gradient ${i} of type ${formatType(xs[i]!.type)}, got ${g instanceof Tensor ? formatType(g.type) : typeof g}`, captureOrigin());
        }
      });
      return inner.finish(grads.map((tensor, i) => ({ name: `grad_${i}`, tensor })));
    });
    const captures = inner.captured.map((t) => Tensor.symbolic(t.type, b, b.lift(t, 'customGrad')));
    const ids = [value, ...lifted, ...captures].map((t) => b.lift(t, 'customGrad'));
    return b.node('customVjp', ids, { backward: backwardGraph, primals: xs.length }, value.type, captureOrigin());
  };
}

