/**
 * @file Core ops: graph inputs, constants, casts, gradient stops, custom VJPs and
 * the runtime size of a dimension (for means over the dynamic batch).
 */
import { internal, reject } from '../errors.js';
import type { Graph, InputKind } from '../ir.js';
import { inline } from '../inline.js';
import { interpret } from '../interpret.js';
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
  /** A fused elementwise loop: `body` maps the inputs (broadcastable to the output) to the output. */
  fused: { readonly body: Graph };
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
    // float → int32 truncates and saturates (NaN → 0), as wasm's trunc_sat does: defined for every input
    ref: ([x], { dtype }) => (dtype === 'int32' ? Array.from(x!.data, (v) => (Number.isNaN(v) ? 0 : Math.min(2147483647, Math.max(-2147483648, Math.trunc(v))))) : x!.data),
    vjp: ({ inputs: [x], params }, dy) => [x!.dtype === 'float32' && params.dtype === 'float32' ? dy : undefined],
    backend: {
      emit: {
        scalar: ([x], { dtype }) => (dtype === 'float32' ? `<f32>(${x})` : dtype === 'int32' ? `<i32>(${x})` : `(${x} != 0)`),
        simd: ([x], { dtype }, from) =>
          from === 'float32' && dtype === 'float32' ? x! : from === 'bool' && dtype === 'float32' ? `v128.and(${x}, f32x4.splat(1.0))` : from === 'float32' && dtype === 'bool' ? `f32x4.ne(${x}, f32x4.splat(0))` : undefined,
      },
    },
  },
  stopGradient: {
    arity: 1,
    infer: ([x]) => identity(x!),
    ref: ([x]) => x!.data,
    vjp: zeroGradient,
    backend: { lower: 'view' },
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
    backend: { lower: 'view' },
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
  fused: {
    arity: 'variadic',
    infer: (_, { body }) => body.nodes[body.outputs[0]!.id]!.type,
    ref: (inputs, { body }) => interpret(body, Object.fromEntries(body.inputs.map((input, i) => [input.name, inputs[i]!]))).outputs[body.outputs[0]!.name]!.data,
    vjp: () => {
      throw internal('fused nodes are made after autodiff: differentiate a graph before fusing it');
    },
    backend: { lower: 'fused_loop' },
  },
};
