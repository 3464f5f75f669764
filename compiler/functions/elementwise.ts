/**
 * @file Elementwise op functions: one per primitive, plus the activation
 * composites (relu6, leakyRelu, elu, selu, gelu, softplus, silu) built from them.
 */
import { apply, Tensor } from '../tensor.js';
import type { DType } from '../types.js';
import type { UnaryParams } from '../ops/unary.js';
import type { BinaryParams } from '../ops/binary.js';
import { checkOptions } from '../check.js';
import { checkTensor, fail, operands, recordable, scalar, type FunctionalTensor, type TensorLike } from './util.js';

/** A unary op: on a Tensor a Tensor; on a functional-API tensor, that tensor's next layer (see `recordable`). */
export interface UnaryOp {
  (x: Tensor): Tensor;
  <S extends FunctionalTensor>(x: S): S;
}
/** A binary op with broadcasting; numbers become scalars of the other operand's dtype. */
export interface BinaryOp {
  (a: TensorLike, b: TensorLike): Tensor;
  <S extends FunctionalTensor>(a: S | TensorLike, b: S | TensorLike): S;
}

const unary = (op: keyof UnaryParams & string): UnaryOp => recordable(op, (x: Tensor): Tensor => apply(op, [checkTensor(op, x)], {} as never)) as UnaryOp;
const binary = (op: keyof BinaryParams & string): BinaryOp => recordable(op, (a: TensorLike, b: TensorLike): Tensor => apply(op, operands(op, a, b), {} as never)) as BinaryOp;

export const neg = unary('neg');
export const abs = unary('abs');
export const sign = unary('sign');
export const exp = unary('exp');
export const expm1 = unary('expm1');
export const log = unary('log');
export const log1p = unary('log1p');
export const sqrt = unary('sqrt');
export const rsqrt = unary('rsqrt');
export const square = unary('square');
export const reciprocal = unary('reciprocal');
export const sin = unary('sin');
export const cos = unary('cos');
export const tanh = unary('tanh');
export const sigmoid = unary('sigmoid');
export const erf = unary('erf');
export const relu = unary('relu');
export const floor = unary('floor');
export const ceil = unary('ceil');
export const round = unary('round');
export const logicalNot = unary('logicalNot');

export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
export const pow = binary('pow');
export const maximum = binary('maximum');
export const minimum = binary('minimum');
export const mod = binary('mod');
export const eq = binary('eq');
export const ne = binary('ne');
export const lt = binary('lt');
export const le = binary('le');
export const gt = binary('gt');
export const ge = binary('ge');
export const logicalAnd = binary('logicalAnd');
export const logicalOr = binary('logicalOr');

/** Elementwise `condition ? a : b`, with broadcasting. */
function whereOp(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('where', a, b);
  return apply('where', [checkTensor('where', condition, 'condition'), x, y], {});
}

function clipOp(x: Tensor, min: number, max: number): Tensor {
  return apply('clip', [checkTensor('clip', x)], { min, max });
}

function castOp(x: Tensor, dtype: DType): Tensor {
  if (!['float32', 'int32', 'bool'].includes(dtype)) fail('cast', `expected dtype float32, int32 or bool, got ${String(dtype)}`);
  return checkTensor('cast', x).dtype === dtype ? x : apply('cast', [x], { dtype });
}

/** Identity whose gradient is zero. */
export function stopGradient(x: Tensor): Tensor {
  return apply('stopGradient', [checkTensor('stopGradient', x)], {});
}

export const relu6 = (x: Tensor): Tensor => clip(x, 0, 6);

export function leakyRelu(x: Tensor, alpha = 0.2): Tensor {
  if (!Number.isFinite(alpha)) fail('leakyRelu', `expected a finite alpha, got ${alpha}`);
  return where(gt(x, 0), x, mul(x, alpha));
}

// expm1 of min(x, 0): the unselected branch never overflows, so its gradient is never 0·inf
export function elu(x: Tensor, alpha = 1): Tensor {
  if (!Number.isFinite(alpha)) fail('elu', `expected a finite alpha, got ${alpha}`);
  return where(gt(x, 0), x, mul(expm1(minimum(x, 0)), alpha));
}

const seluAlpha = 1.6732632423543772;
const seluScale = 1.0507009873554805;
export const selu = (x: Tensor): Tensor => mul(elu(x, seluAlpha), seluScale);

/** GELU; `approximate: 'tanh'` is the tanh form, 'none' (default) the exact erf form. */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  checkOptions('gelu', options, ['approximate']);
  if (options.approximate === 'tanh') {
    const inner = mul(add(x, mul(mul(square(x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/** log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so it never overflows. */
export const softplus = (x: Tensor): Tensor => add(relu(x), log1p(exp(neg(abs(x)))));

export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));
export const swish = silu;

export function zerosLike(x: Tensor): Tensor {
  checkTensor('zerosLike', x);
  return fullLike(x, 0);
}
export function onesLike(x: Tensor): Tensor {
  checkTensor('onesLike', x);
  return fullLike(x, 1);
}
export function fullLike(x: Tensor, value: number): Tensor {
  checkTensor('fullLike', x);
  if (typeof value !== 'number' && typeof value !== 'boolean') fail('fullLike', `expected a number value, got ${value === null ? 'null' : typeof value}`);
  return apply('broadcastTo', [scalar(value, x.dtype)], { shape: x.type.shape });
}

// recorded as a layer when given a functional-API tensor (see recordable)
export const where = recordable('where', whereOp);
export const clip = recordable('clip', clipOp);
export const cast = recordable('cast', castOp);
