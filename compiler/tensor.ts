/**
 * @file `Tensor`: concrete (holds values; ops on it run the reference semantics
 * at once), symbolic (a node of the builder being traced) or lazy (a node of the
 * pending DAG of `lazy.ts`: an op on a tensor that is lazy or requires grad,
 * realized when read). `apply` is the one door every op goes through: it checks
 * the shape rule, then evaluates, records a node with the user's source line, or
 * records a lazy node.
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
import * as L from './lazy.js';

export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  /** How a lazy tensor is computed (an op, a storage, a gradient); undefined for concrete and symbolic ones. */
  readonly lazy: L.LazyNode | undefined;
  /** Whether gradients flow to this tensor (PyTorch's requires_grad). */
  requiresGrad = false;
  /** The gradient accumulated by `backward()` (a leaf's), or undefined. */
  grad: Tensor | undefined;
  /** Set on the first `backward({ retainGraph: true })`, so a second backward is allowed. */
  retainGraph = false;
  backwardCalls = 0;
  private values: Value | undefined;

  private constructor(
    readonly type: TensorType,
    value: Value | undefined,
    readonly builder: Builder | undefined,
    readonly id: number | undefined,
    lazy?: L.LazyNode,
  ) {
    this.values = value;
    this.lazy = lazy;
  }

  static concrete(value: Value): Tensor {
    return new Tensor({ dtype: value.dtype, shape: value.shape }, value, undefined, undefined);
  }

  static symbolic(type: TensorType, builder: Builder, id: number): Tensor {
    return new Tensor(type, undefined, builder, id);
  }

  /** A lazy tensor (see lazy.ts). */
  static lazyOf(type: TensorType, node: L.LazyNode, requiresGrad: boolean): Tensor {
    const t = new Tensor(type, undefined, undefined, undefined, node);
    t.requiresGrad = requiresGrad;
    return t;
  }

  /** A float32 scalar. */
  static scalarOf(x: number): Tensor {
    return Tensor.concrete({ dtype: 'float32', shape: [], data: new Float32Array([x]) });
  }

  /**
   * Concrete values; a lazy tensor is realized (synchronously: queued steps run in
   * the interpreter if their program is still compiling). Undefined while tracing.
   */
  get value(): Value | undefined {
    if (this.values) return this.values;
    if (this.lazy?.kind === 'storage') return this.lazy.storage.read();
    if (this.lazy) L.realizeSync([this]);
    return this.values;
  }

  /** The values if known without running anything (concrete, or lazy and realized). */
  get realized(): Value | undefined { return this.values; }

  /** Called when a realization computed this lazy tensor. */
  setRealized(v: Value): void {
    if (!this.lazy || this.lazy.kind === 'storage') throw internal('only lazy op tensors are realized');
    this.values = v;
  }

  /**
   * For a concrete tensor whose values are a view of memory that is about to be
   * reused (a compiled module's output, read without copying): takes its own
   * copy now. Internal to kiln's compiled functions.
   */
  ownValues(): void {
    if (this.values && !this.lazy) this.values = { ...this.values, data: this.values.data.slice() };
  }

  get isLazy(): boolean { return this.lazy !== undefined; }

  get shape(): Dim[] { return [...this.type.shape]; }
  get dtype(): DType { return this.type.dtype; }
  get rank(): number { return this.type.shape.length; }
  get size(): number { return this.type.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : NaN), 1); }
  get isSymbolic(): boolean { return this.builder !== undefined; }

  private concreteValue(method: string): Value {
    const v = this.value;
    if (v) return v;
    throw userError(`Tensor.${method}`, `cannot read the values of symbolic tensor ${formatType(this.type)} while tracing; return it from the traced function instead`, captureOrigin());
  }

  /** Values as a typed array (Float32Array, Int32Array or Uint8Array for bool). */
  dataSync(): Value['data'] { return this.concreteValue('dataSync').data.slice(); }
  async data(): Promise<Value['data']> { await this.realizeAsync(); return this.dataSync(); }
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
  async array(): Promise<NestedArray> { await this.realizeAsync(); return this.arraySync(); }
  /** The single value of a one-element tensor. */
  itemSync(): number {
    const v = this.concreteValue('item');
    if (v.data.length !== 1) throw userError('Tensor.item', `expected a tensor with one element, got ${formatType(this.type)}`, captureOrigin());
    return v.data[0]!;
  }
  async item(): Promise<number> { await this.realizeAsync(); return this.itemSync(); }

  /** Waits for queued steps, then computes a lazy tensor (compiled once its graph repeats). */
  private async realizeAsync(): Promise<void> {
    if (this.lazy?.kind === 'storage') await L.flush();
    else if (this.lazy && !this.values) await L.realizeAsync([this]);
  }

  toString(): string {
    return this.isSymbolic ? `Tensor ${formatType(this.type)} (symbolic %${this.id})` : `Tensor ${formatType(this.type)} ${JSON.stringify(this.arraySync())}`;
  }

  /** `console.log(t)` and `util.inspect(t)` in Node show what `String(t)` shows (a registered symbol: nothing to import, browser-safe). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
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
  mod(b: Tensor | number): Tensor { return F.mod(this, b); }
  eq(b: Tensor | number): Tensor { return F.eq(this, b); }
  ne(b: Tensor | number): Tensor { return F.ne(this, b); }
  lt(b: Tensor | number): Tensor { return F.lt(this, b); }
  le(b: Tensor | number): Tensor { return F.le(this, b); }
  gt(b: Tensor | number): Tensor { return F.gt(this, b); }
  ge(b: Tensor | number): Tensor { return F.ge(this, b); }
  logicalAnd(b: Tensor | number): Tensor { return F.logicalAnd(this, b); }
  logicalOr(b: Tensor | number): Tensor { return F.logicalOr(this, b); }
  logicalNot(): Tensor { return F.logicalNot(this); }
  sign(): Tensor { return F.sign(this); }
  expm1(): Tensor { return F.expm1(this); }
  log1p(): Tensor { return F.log1p(this); }
  rsqrt(): Tensor { return F.rsqrt(this); }
  reciprocal(): Tensor { return F.reciprocal(this); }
  sin(): Tensor { return F.sin(this); }
  cos(): Tensor { return F.cos(this); }
  erf(): Tensor { return F.erf(this); }
  floor(): Tensor { return F.floor(this); }
  ceil(): Tensor { return F.ceil(this); }
  round(): Tensor { return F.round(this); }
  relu6(): Tensor { return F.relu6(this); }
  leakyRelu(alpha?: number): Tensor { return F.leakyRelu(this, alpha); }
  elu(alpha?: number): Tensor { return F.elu(this, alpha); }
  selu(): Tensor { return F.selu(this); }
  gelu(options?: { approximate?: 'none' | 'tanh' }): Tensor { return F.gelu(this, options); }
  softplus(): Tensor { return F.softplus(this); }
  silu(): Tensor { return F.silu(this); }
  clip(min: number, max: number): Tensor { return F.clip(this, min, max); }
  where(condition: Tensor, other: Tensor | number): Tensor { return F.where(condition, this, other); }
  logSoftmax(axis?: number): Tensor { return F.logSoftmax(this, axis); }
  prod(axis?: number | number[], keepDims?: boolean): Tensor { return F.prod(this, axis, keepDims); }
  argmin(axis?: number): Tensor { return F.argmin(this, axis); }
  logSumExp(axis?: number | number[], keepDims?: boolean): Tensor { return F.logSumExp(this, axis, keepDims); }
  variance(axis?: number | number[], keepDims?: boolean): Tensor { return F.variance(this, axis, keepDims); }
  dot(b: Tensor): Tensor { return F.dot(this, b); }
  flatten(): Tensor { return F.flatten(this); }
  broadcastTo(shape: readonly (Dim | null)[]): Tensor { return F.broadcastTo(this, shape); }
  slice(begin: readonly number[], size?: readonly number[]): Tensor { return F.slice(this, begin, size); }
  stridedSlice(begin: readonly number[], end: readonly Dim[], strides?: readonly number[]): Tensor { return F.stridedSlice(this, begin, end, strides); }
  pad(paddings: readonly (readonly [number, number])[], value?: number): Tensor { return F.pad(this, paddings, value); }
  tile(reps: readonly number[]): Tensor { return F.tile(this, reps); }
  split(sizes: number | readonly number[], axis?: number): Tensor[] { return F.split(this, sizes, axis); }
  gather(indices: Tensor, axis?: number): Tensor { return F.gather(this, indices, axis); }
  oneHot(depth: number): Tensor { return F.oneHot(this, depth); }
  stopGradient(): Tensor { return F.stopGradient(this); }
  conv1d(filter: Tensor, options?: F.Conv1dOptions): Tensor { return F.conv1d(this, filter, options); }
  conv2d(filter: Tensor, options?: F.Conv2dOptions): Tensor { return F.conv2d(this, filter, options); }
  maxPool2d(options?: F.Pool2dOptions): Tensor { return F.maxPool2d(this, options); }
  avgPool2d(options?: F.Pool2dOptions): Tensor { return F.avgPool2d(this, options); }
  // PyTorch names
  float(): Tensor { return F.cast(this, 'float32'); }
  int(): Tensor { return F.cast(this, 'int32'); }
  bool(): Tensor { return F.cast(this, 'bool'); }
  view(...shape: (number | readonly number[])[]): Tensor { return F.reshape(this, (Array.isArray(shape[0]) ? shape[0] : shape) as number[]); }
  permute(...perm: (number | readonly number[])[]): Tensor { return F.transpose(this, (Array.isArray(perm[0]) ? perm[0] : perm) as number[]); }
  unsqueeze(axis: number): Tensor { return F.expandDims(this, axis); }
  numel(): number { return this.size; }
  dim(): number { return this.rank; }

  /**
   * Computes the gradient of this tensor (a scalar, or with `gradient` its
   * upstream gradient) with respect to every leaf that requires grad, added to
   * the leaves' `.grad`. Lazy: the gradient graph runs when a `.grad` is read or
   * an optimizer steps.
   * @example loss.backward(); w.grad // d loss / d w
   */
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    if (options.retainGraph) this.retainGraph = true;
    L.backward(this, gradient); // the user's line is captured only for an error
  }

  /** The same values, cut from the gradient graph. */
  detach(): Tensor {
    if (!this.lazy && !this.requiresGrad) return this;
    return L.noGrad(() => F.stopGradient(this));
  }

  /** Marks this tensor as a leaf that requires grad (PyTorch's requires_grad_). */
  requiresGrad_(value = true): this {
    if (this.isSymbolic || (this.lazy && this.lazy.kind !== 'storage')) throw userError('requiresGrad_', `only leaf tensors can be marked; this is ${this.isSymbolic ? 'a symbolic' : 'a computed'} tensor ${formatType(this.type)} (use detach() first)`, captureOrigin());
    if (value && this.dtype !== 'float32') throw userError('requiresGrad_', `only float32 tensors can require grad, got ${formatType(this.type)}`, captureOrigin());
    this.requiresGrad = value;
    return this;
  }
}

/** Applies a primitive: checks its rule, then evaluates (all inputs concrete) or records a node. */
export function apply<K extends OpName>(op: K, inputs: readonly Tensor[], params: OpParams[K]): Tensor {
  const def = ops[op];
  if (!def) throw userError('apply', `unknown op "${String(op)}"; known ops are listed in kiln.opNames`, captureOrigin());
  if (def.arity !== 'variadic' && def.arity !== inputs.length) throw internal(`${op} takes ${def.arity} inputs, got ${inputs.length}`);
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw userError(op, `expected a Tensor as input ${i}, got ${t === null ? 'null' : typeof t}`, captureOrigin());
  });
  if (params === null || typeof params !== 'object') throw userError(op, `expected a params object, got ${params === null ? 'null' : typeof params}`, captureOrigin());
  const builder = currentBuilder();
  const symbolic = inputs.some((t) => t.isSymbolic);
  const origin = builder?.originOverride ?? (symbolic ? captureOrigin() : undefined);
  let type: TensorType;
  try {
    type = (def.infer as (i: readonly TensorType[], p: OpParams[K]) => TensorType)(inputs.map((t) => t.type), params);
  } catch (e) {
    // a scan body traced for a lazy step names the body's own line, not the scan's (scan.ts)
    if (e instanceof RuleError) throw userError(op, e.message, builder?.captureLazy ? captureOrigin() : origin ?? captureOrigin());
    throw e;
  }
  if (!symbolic && inputs.some((t) => t.lazy !== undefined || t.requiresGrad)) return L.recordLazy(op, inputs, params as object, type);
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
