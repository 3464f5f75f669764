/**
 * @file Core ops: graph inputs, constants, casts, gradient stops, custom VJPs and
 * the runtime size of a dimension (for means over the dynamic batch).
 */
import { internal, reject } from '../errors.js';
import type { Graph, InputKind } from '../ir.js';
import { inline } from '../inline.js';
import { BATCH, formatType, type DType } from '../types.js';
import { zeroGradient, type Data, type OpDef } from './op.js';

export interface CoreParams {
  input: { readonly name: string; readonly kind: InputKind };
  constant: { readonly value: Data };
  cast: { readonly dtype: DType };
  stopGradient: Record<string, never>;
  /** inputs: [forward value, ...primal inputs, ...captured tensors]; `backward` maps (dy, ...captures) to the primals' grads. */
  customVjp: { readonly backward: Graph; readonly primals: number };
  dimSize: { readonly axis: number };
}

const identity = (type: { dtype: DType; shape: readonly (number | typeof BATCH)[] }) => type;

export const coreOps: { readonly [K in keyof CoreParams]: OpDef<CoreParams[K]> } = {
  input: {
    arity: 0,
    infer: () => { throw internal('input nodes are made by the builder'); },
    ref: () => { throw internal('input nodes are bound by the interpreter'); },
    vjp: zeroGradient,
    backend: { lower: 'arena' },
  },
  constant: {
    arity: 0,
    infer: () => { throw internal('constant nodes are made by the builder'); },
    ref: (_, { value }) => value,
    vjp: zeroGradient,
    backend: { lower: 'arena' },
  },
  cast: {
    arity: 1,
    infer: ([x], { dtype }) => ({ dtype, shape: x!.shape }),
    ref: ([x], { dtype }) => (dtype === 'int32' ? Array.from(x!.data, Math.trunc) : x!.data),
    vjp: ({ inputs: [x], params }, dy) => [x!.dtype === 'float32' && params.dtype === 'float32' ? dy : undefined],
    backend: { emit: ([x], { dtype }) => (dtype === 'float32' ? `<f32>(${x})` : dtype === 'int32' ? `<i32>(${x})` : `<bool>(${x} != 0)`) },
  },
  stopGradient: {
    arity: 1,
    infer: ([x]) => identity(x!),
    ref: ([x]) => x!.data,
    vjp: zeroGradient,
    backend: { emit: ([x]) => x! },
  },
  customVjp: {
    arity: 'variadic',
    infer: ([value]) => identity(value!),
    ref: ([value]) => value!.data,
    vjp: ({ inputs, params }, dy) => {
      const captures = inputs.slice(1 + params.primals);
      const grads = inline(params.backward, [dy, ...captures]);
      return [undefined, ...grads, ...captures.map(() => undefined)];
    },
    backend: { emit: ([x]) => x! },
  },
  dimSize: {
    arity: 1,
    infer: ([x], { axis }) => {
      if (axis < 0 || axis >= x!.shape.length) reject(`expected an axis of ${formatType(x!)}, got ${axis}`);
      return { dtype: 'float32', shape: [] };
    },
    ref: ([x], { axis }) => [x!.shape[axis]!],
    vjp: zeroGradient,
    backend: { lower: 'dim_size' },
  },
};
