/**
 * @file `Tensor`: either concrete (holds values; ops on it run the reference
 * semantics at once) or symbolic (a node of the builder being traced). `apply` is
 * the one door every op goes through: it checks the shape rule, then either
 * evaluates or records a node with the user's source line.
 */
import type { Builder } from './builder.js';
import { currentBuilder } from './builder.js';
import { RuleError, internal, userError } from './errors.js';
import { evaluate } from './interpret.js';
import type { Value } from './ops/op.js';
import { ops, type OpName, type OpParams } from './ops/index.js';
import { captureOrigin } from './source.js';
import { formatType, hasBatch, type Dim, type DType, type TensorType } from './types.js';
import * as F from './functions/index.js';

export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  private constructor(
    readonly type: TensorType,
    /** Concrete values, when this tensor is not symbolic. */
    readonly value: Value | undefined,
    readonly builder: Builder | undefined,
    readonly id: number | undefined,
  ) {}

  static concrete(value: Value): Tensor {
    return new Tensor({ dtype: value.dtype, shape: value.shape }, value, undefined, undefined);
  }

  static symbolic(type: TensorType, builder: Builder, id: number): Tensor {
    return new Tensor(type, undefined, builder, id);
  }

  get shape(): Dim[] { return [...this.type.shape]; }
  get dtype(): DType { return this.type.dtype; }
  get rank(): number { return this.type.shape.length; }
  get size(): number { return this.type.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : NaN), 1); }
  get isSymbolic(): boolean { return this.value === undefined; }

  private concreteValue(method: string): Value {
    if (this.value) return this.value;
    throw userError(`Tensor.${method}`, `cannot read the values of symbolic tensor ${formatType(this.type)} while tracing; return it from the traced function instead`, captureOrigin());
  }

  /** Values as a typed array (Float32Array, Int32Array or Uint8Array for bool). */
  dataSync(): Value['data'] { return this.concreteValue('dataSync').data.slice(); }
  async data(): Promise<Value['data']> { return this.dataSync(); }
  /** Values as nested arrays in the tensor's shape. */
  arraySync(): NestedArray {
    const v = this.concreteValue('arraySync');
    const toJs = (x: number) => (v.dtype === 'bool' ? x !== 0 : x);
    const build = (axis: number, offset: number, stride: number): NestedArray => {
      if (axis === v.shape.length) return toJs(v.data[offset]!);
      const inner = stride / v.shape[axis]!;
      return Array.from({ length: v.shape[axis]! }, (_, i) => build(axis + 1, offset + i * inner, inner));
    };
    return build(0, 0, v.data.length);
  }
  async array(): Promise<NestedArray> { return this.arraySync(); }
  /** The single value of a one-element tensor. */
  itemSync(): number {
    const v = this.concreteValue('item');
    if (v.data.length !== 1) throw userError('Tensor.item', `expected a tensor with one element, got ${formatType(this.type)}`, captureOrigin());
    return v.data[0]!;
  }
  async item(): Promise<number> { return this.itemSync(); }

  toString(): string {
    return this.value ? `Tensor ${formatType(this.type)} ${JSON.stringify(this.arraySync())}` : `Tensor ${formatType(this.type)} (symbolic %${this.id})`;
  }

  // Methods that read well chained; each is the function of the same name.
  add(b: Tensor | number): Tensor { return F.add(this, b); }
  sub(b: Tensor | number): Tensor { return F.sub(this, b); }
  mul(b: Tensor | number): Tensor { return F.mul(this, b); }
  div(b: Tensor | number): Tensor { return F.div(this, b); }
  pow(b: Tensor | number): Tensor { return F.pow(this, b); }
  maximum(b: Tensor | number): Tensor { return F.maximum(this, b); }
  minimum(b: Tensor | number): Tensor { return F.minimum(this, b); }
  neg(): Tensor { return F.neg(this); }
  abs(): Tensor { return F.abs(this); }
  exp(): Tensor { return F.exp(this); }
  log(): Tensor { return F.log(this); }
  sqrt(): Tensor { return F.sqrt(this); }
  square(): Tensor { return F.square(this); }
  relu(): Tensor { return F.relu(this); }
  sigmoid(): Tensor { return F.sigmoid(this); }
  tanh(): Tensor { return F.tanh(this); }
  matmul(b: Tensor, options?: F.MatmulOptions): Tensor { return F.matmul(this, b, options); }
  sum(axis?: number | number[], keepDims?: boolean): Tensor { return F.sum(this, axis, keepDims); }
  mean(axis?: number | number[], keepDims?: boolean): Tensor { return F.mean(this, axis, keepDims); }
  max(axis?: number | number[], keepDims?: boolean): Tensor { return F.max(this, axis, keepDims); }
  min(axis?: number | number[], keepDims?: boolean): Tensor { return F.min(this, axis, keepDims); }
  argmax(axis?: number): Tensor { return F.argmax(this, axis); }
  reshape(shape: readonly (number | null)[]): Tensor { return F.reshape(this, shape); }
  transpose(perm?: readonly number[]): Tensor { return F.transpose(this, perm); }
  expandDims(axis?: number): Tensor { return F.expandDims(this, axis); }
  squeeze(axis?: number | number[]): Tensor { return F.squeeze(this, axis); }
  cast(dtype: DType): Tensor { return F.cast(this, dtype); }
  softmax(axis?: number): Tensor { return F.softmax(this, axis); }
}

/** Applies a primitive: checks its rule, then evaluates (all inputs concrete) or records a node. */
export function apply<K extends OpName>(op: K, inputs: readonly Tensor[], params: OpParams[K]): Tensor {
  const def = ops[op];
  if (!def) throw userError('apply', `unknown op "${String(op)}"; known ops are listed in kiln.opNames`, captureOrigin());
  if (def.arity !== 'variadic' && def.arity !== inputs.length) throw internal(`${op} takes ${def.arity} inputs, got ${inputs.length}`);
  const builder = currentBuilder();
  const symbolic = inputs.some((t) => t.isSymbolic);
  const origin = builder?.originOverride ?? (symbolic ? captureOrigin() : undefined);
  let type: TensorType;
  try {
    type = (def.infer as (i: readonly TensorType[], p: OpParams[K]) => TensorType)(inputs.map((t) => t.type), params);
  } catch (e) {
    if (e instanceof RuleError) throw userError(op, e.message, origin ?? captureOrigin());
    throw e;
  }
  // a concrete result cannot have the dynamic batch dimension: such a node is recorded
  if (!symbolic && !hasBatch(type.shape)) {
    try {
      return Tensor.concrete(evaluate(op, inputs.map((t) => t.value!), params, type, 'float32'));
    } catch (e) {
      if (e instanceof RuleError) throw userError(op, e.message, captureOrigin());
      throw e;
    }
  }
  if (!builder) {
    throw userError(op, `got a symbolic tensor ${formatType((inputs.find((t) => t.isSymbolic) ?? { type }).type)} after its trace finished; return it from the traced function instead of keeping it`, origin);
  }
  const ids = inputs.map((t) => builder.lift(t, op));
  return builder.node(op, ids, params, type, origin);
}
