/**
 * @file Elementwise binary ops with NumPy broadcasting, comparisons, logical ops,
 * and `where`. A VJP returns the cotangent already summed back to its input's
 * shape (`sumTo`), so broadcasting costs nothing in the rules.
 */
import { reject } from '../errors.js';
import * as F from '../functions/index.js';
import { BATCH, formatType, type Dim, type DType, type Shape, type TensorType } from '../types.js';
import { broadcastIndex } from './ndarray.js';
import { zeroGradient, type OpDef, type Value, type Vjp } from './op.js';

type NoParams = Record<string, never>;

export interface BinaryParams {
  add: NoParams; sub: NoParams; mul: NoParams; div: NoParams; pow: NoParams;
  maximum: NoParams; minimum: NoParams; mod: NoParams;
  eq: NoParams; ne: NoParams; lt: NoParams; le: NoParams; gt: NoParams; ge: NoParams;
  logicalAnd: NoParams; logicalOr: NoParams;
  where: NoParams;
}

/** NumPy broadcasting of two shapes; the batch dimension broadcasts like any other size. */
export function broadcastShapes(a: Shape, b: Shape): Dim[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return undefined;
  }
  if (out.filter((d) => d === BATCH).length > 1) return undefined;
  return out;
}

function broadcastTypes(types: readonly TensorType[]): Dim[] {
  let shape: Shape = [];
  for (const t of types) {
    const next = broadcastShapes(shape, t.shape);
    if (!next) reject(`cannot broadcast ${types.map(formatType).join(' with ')}`);
    shape = next;
  }
  return [...shape];
}

function binaryInfer(allowed: readonly DType[], result?: DType) {
  return ([a, b]: readonly TensorType[]): TensorType => {
    if (a!.dtype !== b!.dtype) reject(`expected operands of one dtype, got ${formatType(a!)} and ${formatType(b!)}; cast one of them`);
    if (!allowed.includes(a!.dtype)) reject(`expected ${allowed.join(' or ')} operands, got ${formatType(a!)} and ${formatType(b!)}`);
    return { dtype: result ?? a!.dtype, shape: broadcastTypes([a!, b!]) };
  };
}

/** Applies `f` elementwise over broadcast inputs. */
export function broadcastMap(inputs: readonly Value[], outShape: readonly number[], f: (...xs: number[]) => number): Float64Array {
  const n = outShape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  // index maps only for inputs that are actually broadcast
  const maps = inputs.map((v) => (v.data.length === n ? undefined : broadcastIndex(v.shape, outShape)));
  const at = (j: number, i: number) => inputs[j]!.data[maps[j] ? maps[j]![i]! : i]!;
  if (inputs.length === 2) for (let i = 0; i < n; i++) out[i] = f(at(0, i), at(1, i));
  else for (let i = 0; i < n; i++) out[i] = f(at(0, i), at(1, i), at(2, i));
  return out;
}

interface BinaryRule {
  ref: (a: number, b: number) => number;
  vjp: Vjp<NoParams>;
  /** Scalar AssemblyScript of operands of type `dtype`. */
  emit: (a: string, b: string, dtype: DType) => string;
  /** f32x4 form for float32 operands (masks for bool ones), where one exists. */
  simd?: (a: string, b: string, dtype: DType) => string | undefined;
  dtypes?: readonly DType[];
  result?: DType;
}

function binary(rule: BinaryRule): OpDef<NoParams> {
  return {
    arity: 2,
    infer: binaryInfer(rule.dtypes ?? ['float32', 'int32'], rule.result),
    ref: (inputs, _, out) => broadcastMap(inputs, out.shape, rule.ref),
    vjp: rule.vjp,
    backend: { emit: { scalar: ([a, b], _, dtype) => rule.emit(a!, b!, dtype), ...(rule.simd ? { simd: ([a, b]: readonly string[], _: NoParams, dtype: DType) => rule.simd!(a!, b!, dtype) } : {}) } },
  };
}

const compare = (ref: (a: number, b: number) => boolean, symbol: string, lane: string): OpDef<NoParams> =>
  binary({
    ref: (a, b) => (ref(a, b) ? 1 : 0), vjp: zeroGradient, emit: (a, b) => `(${a} ${symbol} ${b})`,
    simd: (a, b, t) => (t === 'float32' ? `f32x4.${lane}(${a}, ${b})` : undefined), dtypes: ['float32', 'int32', 'bool'], result: 'bool',
  });

const logical = (ref: (a: boolean, b: boolean) => boolean, symbol: string, lane: string): OpDef<NoParams> =>
  binary({ ref: (a, b) => (ref(a !== 0, b !== 0) ? 1 : 0), vjp: zeroGradient, emit: (a, b) => `(${a} ${symbol} ${b})`, simd: (a, b) => `v128.${lane}(${a}, ${b})`, dtypes: ['bool'] });

const floatSimd = (lane: string) => (a: string, b: string, t: DType) => (t === 'float32' ? `${lane}(${a}, ${b})` : undefined);
const typed = (fn: string) => (a: string, b: string, t: DType) => `${fn}<${t === 'int32' ? 'i32' : 'f32'}>(${a}, ${b})`;

// floored modulo: the result takes the divisor's sign (NumPy, TensorFlow floormod, PyTorch remainder)
const floorMod = (a: number, b: number) => {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};

export const binaryOps: { readonly [K in keyof BinaryParams]: OpDef<BinaryParams[K]> } = {
  add: binary({ ref: (a, b) => a + b, vjp: ({ inputs: [a, b] }, dy) => [F.sumTo(dy, a!.shape), F.sumTo(dy, b!.shape)], emit: (a, b) => `(${a} + ${b})`, simd: floatSimd('f32x4.add') }),
  sub: binary({ ref: (a, b) => a - b, vjp: ({ inputs: [a, b] }, dy) => [F.sumTo(dy, a!.shape), F.sumTo(F.neg(dy), b!.shape)], emit: (a, b) => `(${a} - ${b})`, simd: floatSimd('f32x4.sub') }),
  mul: binary({
    ref: (a, b) => a * b,
    vjp: ({ inputs: [a, b] }, dy) => [F.sumTo(F.mul(dy, b!), a!.shape), F.sumTo(F.mul(dy, a!), b!.shape)],
    emit: (a, b) => `(${a} * ${b})`,
    simd: floatSimd('f32x4.mul'),
  }),
  // y = a / b: dy/db = -y / b
  div: binary({
    ref: (a, b) => a / b,
    vjp: ({ inputs: [a, b], output: y }, dy) => [F.sumTo(F.div(dy, b!), a!.shape), F.sumTo(F.neg(F.mul(dy, F.div(y, b!))), b!.shape)],
    emit: (a, b) => `(${a} / ${b})`,
    simd: floatSimd('f32x4.div'),
    dtypes: ['float32'],
  }),
  // y = a^b: dy/da = b a^(b-1), dy/db = y ln a (taken as 0 where a <= 0, as there it is undefined)
  pow: binary({
    ref: Math.pow,
    vjp: ({ inputs: [a, b], output: y }, dy) => [
      F.sumTo(F.mul(dy, F.mul(b!, F.pow(a!, F.sub(b!, 1)))), a!.shape),
      F.sumTo(F.mul(dy, F.mul(y, F.log(F.where(F.gt(a!, 0), a!, 1)))), b!.shape),
    ],
    emit: (a, b) => `f32_pow(${a}, ${b})`,
    simd: floatSimd('f32x4_pow'),
    dtypes: ['float32'],
  }),
  // ties send the gradient to the first operand, as TensorFlow does
  maximum: binary({
    ref: Math.max,
    vjp: ({ inputs: [a, b] }, dy) => {
      const first = F.ge(a!, b!);
      return [F.sumTo(F.where(first, dy, 0), a!.shape), F.sumTo(F.where(first, 0, dy), b!.shape)];
    },
    emit: typed('max'),
    simd: floatSimd('f32x4.max'),
  }),
  minimum: binary({
    ref: Math.min,
    vjp: ({ inputs: [a, b] }, dy) => {
      const first = F.le(a!, b!);
      return [F.sumTo(F.where(first, dy, 0), a!.shape), F.sumTo(F.where(first, 0, dy), b!.shape)];
    },
    emit: typed('min'),
    simd: floatSimd('f32x4.min'),
  }),
  // a mod b = a - b floor(a / b)
  mod: binary({
    ref: floorMod,
    vjp: ({ inputs: [a, b] }, dy) => [F.sumTo(dy, a!.shape), F.sumTo(F.neg(F.mul(dy, F.floor(F.div(a!, b!)))), b!.shape)],
    emit: (a, b, t) => (t === 'int32' ? `i32_floor_mod(${a}, ${b})` : `f32_floor_mod(${a}, ${b})`),
    simd: floatSimd('f32x4_floor_mod'),
  }),
  eq: compare((a, b) => a === b, '==', 'eq'),
  ne: compare((a, b) => a !== b, '!=', 'ne'),
  lt: compare((a, b) => a < b, '<', 'lt'),
  le: compare((a, b) => a <= b, '<=', 'le'),
  gt: compare((a, b) => a > b, '>', 'gt'),
  ge: compare((a, b) => a >= b, '>=', 'ge'),
  logicalAnd: logical((a, b) => a && b, '&&', 'and'),
  logicalOr: logical((a, b) => a || b, '||', 'or'),
  where: {
    arity: 3,
    infer: ([c, a, b]) => {
      if (c!.dtype !== 'bool') reject(`expected a bool condition, got ${formatType(c!)}`);
      if (a!.dtype !== b!.dtype) reject(`expected branches of one dtype, got ${formatType(a!)} and ${formatType(b!)}`);
      return { dtype: a!.dtype, shape: broadcastTypes([c!, a!, b!]) };
    },
    ref: (inputs, _, out) => broadcastMap(inputs, out.shape, (c, a, b) => (c ? a : b)),
    vjp: ({ inputs: [c, a, b] }, dy) => [undefined, F.sumTo(F.where(c!, dy, 0), a!.shape), F.sumTo(F.where(c!, 0, dy), b!.shape)],
    backend: {
      emit: {
        scalar: ([c, a, b], _, __, t) => `select<${{ float32: 'f32', int32: 'i32', bool: 'bool' }[t]}>(${a}, ${b}, ${c})`,
        simd: ([c, a, b]) => `v128.bitselect(${a}, ${b}, ${c})`,
      },
    },
  },
};
