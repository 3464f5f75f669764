/**
 * @file Reductions over a set of axes (sum, prod, max, min), index reductions
 * over one axis (argmax, argmin) and `nonFinite`, the whole-tensor flag that a
 * training step's update is gated on. mean, logSumExp and variance are composites in
 * `functions/reduce.ts`.
 */
import { reject } from '../errors.js';
import * as F from '../functions/index.js';
import { formatType, type DType, type Dim, type TensorType } from '../types.js';
import { reductionGroups } from './ndarray.js';
import { zeroGradient, type OpDef } from './op.js';

export interface ReduceParams {
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

export interface ReduceOpParams {
  sum: ReduceParams; prod: ReduceParams; max: ReduceParams; min: ReduceParams;
  argmax: { readonly axis: number }; argmin: { readonly axis: number };
  nonFinite: { readonly limit: number };
}

export function reducedShape(shape: readonly Dim[], axes: readonly number[], keepDims: boolean): Dim[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduceInfer(allowed: readonly DType[]) {
  return ([x]: readonly TensorType[], { axes, keepDims }: ReduceParams): TensorType => {
    if (!allowed.includes(x!.dtype)) reject(`expected ${allowed.join(' or ')}, got ${formatType(x!)}`);
    const rank = x!.shape.length;
    for (const a of axes) if (!Number.isInteger(a) || a < 0 || a >= rank) reject(`expected axes in [0, ${rank}) for ${formatType(x!)}, got [${axes.join(',')}]`);
    if (new Set(axes).size !== axes.length) reject(`expected distinct axes, got [${axes.join(',')}]`);
    return { dtype: x!.dtype, shape: reducedShape(x!.shape, axes, keepDims) };
  };
}

function reduce(init: number, combine: (acc: number, x: number) => number): OpDef<ReduceParams>['ref'] {
  return ([x], { axes }) => {
    const { groups } = reductionGroups(x!.shape, axes);
    return groups.map((g) => g.reduce((acc, i) => combine(acc, x!.data[i]!), init));
  };
}

/** dy of a reduction, broadcast back over the reduced axes of `x`. */
function unreduce(dy: F.Tensor, x: F.Tensor, { axes, keepDims }: ReduceParams): F.Tensor {
  const kept = keepDims ? dy : F.reshapeTo(dy, reducedShape(x.type.shape, axes, true));
  return F.broadcastTo(kept, x.type.shape);
}

// max/min: the gradient is shared equally among tied extrema (as PyTorch's amax does)
const extremumVjp: OpDef<ReduceParams>['vjp'] = ({ inputs: [x], output: y, params }, dy) => {
  const mask = F.cast(F.eq(x!, unreduce(y, x!, params)), 'float32');
  const count = F.sum(mask, [...params.axes], true);
  return [F.div(F.mul(mask, unreduce(dy, x!, params)), count)];
};

// prod: d/dx_i = product of the others, computed without dividing by a zero x_i
const prodVjp: OpDef<ReduceParams>['vjp'] = ({ inputs: [x], params }, dy) => {
  const axes = [...params.axes];
  const isZero = F.eq(x!, 0);
  const zeros = F.sum(F.cast(isZero, 'float32'), axes, true);
  const nonZeroProduct = F.prod(F.where(isZero, 1, x!), axes, true);
  const others = F.where(
    F.eq(zeros, 0),
    F.div(nonZeroProduct, F.where(isZero, 1, x!)),
    F.where(F.logicalAnd(F.eq(zeros, 1), isZero), nonZeroProduct, 0),
  );
  return [F.mul(others, unreduce(dy, x!, params))];
};

function argInfer([x]: readonly TensorType[], { axis }: { axis: number }): TensorType {
  if (x!.dtype === 'bool') reject(`expected float32 or int32, got ${formatType(x!)}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x!.shape.length) reject(`expected an axis in [0, ${x!.shape.length}) for ${formatType(x!)}, got ${axis}`);
  return { dtype: 'int32', shape: x!.shape.filter((_, i) => i !== axis) };
}

// first index of the extremum, as NumPy, PyTorch and TensorFlow return
function argRef(better: (a: number, b: number) => boolean): OpDef<{ axis: number }>['ref'] {
  return ([x], { axis }) => {
    const { groups } = reductionGroups(x!.shape, [axis]);
    return groups.map((g) => {
      let best = 0;
      for (let j = 1; j < g.length; j++) if (better(x!.data[g[j]!]!, x!.data[g[best]!]!)) best = j;
      return best;
    });
  };
}

/**
 * nonFinite(x, limit): 0 when every value of x is finite and below `limit` in
 * magnitude (Infinity: finite is enough), NaN otherwise — a flag that poisons
 * whatever it is added to. Its value does not depend on the order the elements
 * are visited in, so the compiled loop runs four lanes at a time.
 */
const nonFiniteOp: OpDef<{ readonly limit: number }> = {
  arity: 1,
  infer: ([x], { limit }) => {
    if (x!.dtype !== 'float32') reject(`expected float32, got ${formatType(x!)}`);
    if (!(limit > 0)) reject(`expected a positive limit, got ${limit}`);
    return { dtype: 'float32', shape: [] };
  },
  ref: ([x], { limit }) => [x!.data.every((v) => Math.abs(v) < limit) ? 0 : NaN],
  vjp: zeroGradient,
  backend: { lower: 'reduce_nonfinite' },
};

export const reduceOps: { readonly [K in keyof ReduceOpParams]: OpDef<ReduceOpParams[K]> } = {
  sum: {
    arity: 1,
    infer: reduceInfer(['float32', 'int32']),
    ref: reduce(0, (a, x) => a + x),
    vjp: ({ inputs: [x], params }, dy) => [unreduce(dy, x!, params)],
    backend: { lower: 'reduce_sum' },
  },
  prod: { arity: 1, infer: reduceInfer(['float32', 'int32']), ref: reduce(1, (a, x) => a * x), vjp: prodVjp, backend: { lower: 'reduce_prod' } },
  max: { arity: 1, infer: reduceInfer(['float32', 'int32']), ref: reduce(-Infinity, (a, x) => (x > a || Number.isNaN(x) ? x : a)), vjp: extremumVjp, backend: { lower: 'reduce_max' } },
  min: { arity: 1, infer: reduceInfer(['float32', 'int32']), ref: reduce(Infinity, (a, x) => (x < a || Number.isNaN(x) ? x : a)), vjp: extremumVjp, backend: { lower: 'reduce_min' } },
  argmax: { arity: 1, infer: argInfer, ref: argRef((a, b) => a > b), vjp: zeroGradient, backend: { lower: 'reduce_argmax' } },
  argmin: { arity: 1, infer: argInfer, ref: argRef((a, b) => a < b), vjp: zeroGradient, backend: { lower: 'reduce_argmin' } },
  nonFinite: nonFiniteOp,
};
