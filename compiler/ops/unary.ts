/**
 * @file Elementwise unary ops. Each row: reference scalar function, VJP written with
 * other ops, and the AssemblyScript scalar expression that fused loops use.
 * Composites (relu6, leakyRelu, elu, selu, gelu, softplus, silu) live in
 * `functions/elementwise.ts`, built from these.
 */
import { reject } from '../errors.js';
import * as F from '../functions/index.js';
import { formatType, type DType, type TensorType } from '../types.js';
import { literal, zeroGradient, type OpDef, type Vjp } from './op.js';

type NoParams = Record<string, never>;

export interface UnaryParams {
  neg: NoParams; abs: NoParams; sign: NoParams;
  exp: NoParams; expm1: NoParams; log: NoParams; log1p: NoParams;
  sqrt: NoParams; rsqrt: NoParams; square: NoParams; reciprocal: NoParams;
  sin: NoParams; cos: NoParams; tanh: NoParams; sigmoid: NoParams; erf: NoParams;
  relu: NoParams; floor: NoParams; ceil: NoParams; round: NoParams;
  logicalNot: NoParams;
  clip: { readonly min: number; readonly max: number };
}

function checkDtype(allowed: readonly DType[]) {
  return ([x]: readonly TensorType[]): TensorType => {
    if (!allowed.includes(x!.dtype)) reject(`expected ${allowed.join(' or ')}, got ${formatType(x!)}`);
    return x!;
  };
}

interface UnaryRule {
  ref: (x: number) => number;
  vjp: Vjp<NoParams>;
  /** Scalar AssemblyScript of operand `x` of type `dtype`. */
  emit: (x: string, dtype: DType) => string;
  /** f32x4 form, where one exists. */
  simd?: (x: string) => string;
  dtypes?: readonly DType[];
}

function unary(rule: UnaryRule): OpDef<NoParams> {
  return {
    arity: 1,
    infer: checkDtype(rule.dtypes ?? ['float32']),
    ref: ([x]) => Array.from(x!.data, rule.ref),
    vjp: rule.vjp,
    backend: { emit: { scalar: ([x], _, dtype) => rule.emit(x!, dtype), ...(rule.simd ? { simd: ([x]: readonly string[], _: NoParams, dtype: DType) => (dtype === 'int32' ? undefined : rule.simd!(x!)) } : {}) } },
  };
}

/** Abramowitz–Stegun 7.1.26 is too coarse for an oracle; this series/continued-fraction pair is exact to ~1e-15. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // continued fraction for erfc, evaluated backwards (Lentz-free, fixed depth)
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

export const unaryOps: { readonly [K in keyof UnaryParams]: OpDef<UnaryParams[K]> } = {
  neg: unary({ ref: (x) => -x, vjp: (_, dy) => [F.neg(dy)], emit: (x) => `(-${x})`, simd: (x) => `f32x4.neg(${x})`, dtypes: ['float32', 'int32'] }),
  abs: unary({ ref: Math.abs, vjp: ({ inputs: [x] }, dy) => [F.mul(dy, F.sign(x!))], emit: (x, t) => (t === 'int32' ? `abs<i32>(${x})` : `Mathf.abs(${x})`), simd: (x) => `f32x4.abs(${x})`, dtypes: ['float32', 'int32'] }),
  sign: unary({ ref: Math.sign, vjp: zeroGradient, emit: (x, t) => (t === 'int32' ? `(<i32>(${x} > 0) - <i32>(${x} < 0))` : `Mathf.sign(${x})`), dtypes: ['float32', 'int32'] }),
  exp: unary({ ref: Math.exp, vjp: ({ output: y }, dy) => [F.mul(dy, y)], emit: (x) => `f32_exp(${x})`, simd: (x) => `f32x4_exp(${x})` }),
  expm1: unary({ ref: Math.expm1, vjp: ({ output: y }, dy) => [F.mul(dy, F.add(y, 1))], emit: (x) => `f32_expm1(${x})`, simd: (x) => `f32x4_expm1(${x})` }),
  log: unary({ ref: Math.log, vjp: ({ inputs: [x] }, dy) => [F.div(dy, x!)], emit: (x) => `f32_log(${x})`, simd: (x) => `f32x4_log(${x})` }),
  log1p: unary({ ref: Math.log1p, vjp: ({ inputs: [x] }, dy) => [F.div(dy, F.add(x!, 1))], emit: (x) => `f32_log1p(${x})`, simd: (x) => `f32x4_log1p(${x})` }),
  sqrt: unary({ ref: Math.sqrt, vjp: ({ output: y }, dy) => [F.div(dy, F.mul(y, 2))], emit: (x) => `Mathf.sqrt(${x})`, simd: (x) => `f32x4.sqrt(${x})` }),
  // d/dx x^(-1/2) = -y^3 / 2
  rsqrt: unary({ ref: (x) => 1 / Math.sqrt(x), vjp: ({ output: y }, dy) => [F.mul(dy, F.mul(F.mul(y, F.square(y)), -0.5))], emit: (x) => `(<f32>1.0 / Mathf.sqrt(${x}))`, simd: (x) => `f32x4.div(f32x4.splat(1.0), f32x4.sqrt(${x}))` }),
  square: unary({ ref: (x) => x * x, vjp: ({ inputs: [x] }, dy) => [F.mul(dy, F.mul(x!, 2))], emit: (x) => `(${x} * ${x})`, simd: (x) => `f32x4.mul(${x}, ${x})`, dtypes: ['float32', 'int32'] }),
  reciprocal: unary({ ref: (x) => 1 / x, vjp: ({ output: y }, dy) => [F.neg(F.mul(dy, F.square(y)))], emit: (x) => `(<f32>1.0 / ${x})`, simd: (x) => `f32x4.div(f32x4.splat(1.0), ${x})` }),
  sin: unary({ ref: Math.sin, vjp: ({ inputs: [x] }, dy) => [F.mul(dy, F.cos(x!))], emit: (x) => `f32_sin(${x})`, simd: (x) => `f32x4_sin(${x})` }),
  cos: unary({ ref: Math.cos, vjp: ({ inputs: [x] }, dy) => [F.neg(F.mul(dy, F.sin(x!)))], emit: (x) => `f32_cos(${x})`, simd: (x) => `f32x4_cos(${x})` }),
  tanh: unary({ ref: Math.tanh, vjp: ({ output: y }, dy) => [F.mul(dy, F.sub(1, F.square(y)))], emit: (x) => `f32_tanh(${x})`, simd: (x) => `f32x4_tanh(${x})` }),
  sigmoid: unary({ ref: sigmoid, vjp: ({ output: y }, dy) => [F.mul(dy, F.mul(y, F.sub(1, y)))], emit: (x) => `f32_sigmoid(${x})`, simd: (x) => `f32x4_sigmoid(${x})` }),
  // d/dx erf x = 2/sqrt(pi) e^(-x^2)
  erf: unary({ ref: erf, vjp: ({ inputs: [x] }, dy) => [F.mul(dy, F.mul(F.exp(F.neg(F.square(x!))), 2 / Math.sqrt(Math.PI)))], emit: (x) => `f32_erf(${x})`, simd: (x) => `f32x4_erf(${x})` }),
  // the mask reads relu's output (y > 0 exactly where x > 0), so the pre-activation need not be kept
  relu: unary({ ref: (x) => (x > 0 ? x : 0), vjp: ({ output: y }, dy) => [F.where(F.gt(y, 0), dy, 0)], emit: (x, t) => `select<${t === 'int32' ? 'i32' : 'f32'}>(${x}, 0, ${x} > 0)`, simd: (x) => `v128.bitselect(${x}, f32x4.splat(0), f32x4.gt(${x}, f32x4.splat(0)))`, dtypes: ['float32', 'int32'] }),
  floor: unary({ ref: Math.floor, vjp: zeroGradient, emit: (x) => `Mathf.floor(${x})`, simd: (x) => `f32x4.floor(${x})` }),
  ceil: unary({ ref: Math.ceil, vjp: zeroGradient, emit: (x) => `Mathf.ceil(${x})`, simd: (x) => `f32x4.ceil(${x})` }),
  // half to even, as NumPy, PyTorch and TensorFlow round
  round: unary({ ref: roundHalfEven, vjp: zeroGradient, emit: (x) => `nearest<f32>(${x})`, simd: (x) => `f32x4.nearest(${x})` }),
  logicalNot: unary({ ref: (x) => (x ? 0 : 1), vjp: zeroGradient, emit: (x) => `!${x}`, simd: (x) => `v128.not(${x})`, dtypes: ['bool'] }),
  clip: {
    arity: 1,
    infer: ([x], { min, max }) => {
      if (x!.dtype === 'bool') reject(`expected float32 or int32, got ${formatType(x!)}`);
      if (Number.isNaN(min) || Number.isNaN(max) || min > max) reject(`expected min <= max, got min=${min} max=${max}`);
      return x!;
    },
    ref: ([x], { min, max }) => Array.from(x!.data, (v) => Math.min(Math.max(v, min), max)),
    vjp: ({ inputs: [x], params: { min, max } }, dy) => [F.where(F.logicalAnd(F.ge(x!, min), F.le(x!, max)), dy, 0)],
    backend: {
      emit: {
        scalar: ([x], { min, max }, dtype) => (dtype === 'int32' ? `min<i32>(max<i32>(${x}, ${literal(min, 'int32')}), ${literal(max, 'int32')})` : `min<f32>(max<f32>(${x}, ${literal(min)}), ${literal(max)})`),
        simd: ([x], { min, max }, dtype) => dtype !== 'float32' ? undefined : `f32x4.min(f32x4.max(${x}, f32x4.splat(${literal(min)})), f32x4.splat(${literal(max)}))`,
      },
    },
  },
};
