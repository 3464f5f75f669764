/**
 * @file The reference interpreter: runs a graph node by node with each op's `ref`.
 * It is the oracle every compiled result is checked against. Float tensors are
 * stored as float32 (rounded after every op, as compiled code does) or, for
 * gradient checks, as float64.
 */
import { KilnError, RuleError, internal, userError } from './errors.js';
import { checkGraph, type Graph } from './ir.js';
import type { Data, Value } from './ops/op.js';
import { ops, type OpName, type OpParams } from './ops/index.js';
import { BATCH, concreteShape, formatType, hasBatch, sizeOf, type ConcreteType, type DType, type TensorType } from './types.js';

export type Precision = 'float32' | 'float64';

export function allocate(dtype: DType, size: number, precision: Precision = 'float32'): Data {
  if (dtype === 'int32') return new Int32Array(size);
  if (dtype === 'bool') return new Uint8Array(size);
  return precision === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** Stores values in the array type of `dtype`; int32 truncates, bool is 0/1. */
export function store(dtype: DType, values: ArrayLike<number>, precision: Precision = 'float32'): Data {
  const out = allocate(dtype, values.length, precision);
  if (dtype === 'bool') for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  else out.set(values);
  return out;
}

/** Runs one op's reference semantics; data-dependent failures (an index out of range) throw RuleError. */
export function evaluate<K extends OpName>(op: K, inputs: readonly Value[], params: OpParams[K], type: TensorType, precision: Precision, batch?: number): Value {
  const out: ConcreteType = { dtype: type.dtype, shape: concreteShape(type.shape, batch) };
  const ref = ops[op].ref as (i: readonly Value[], p: OpParams[K], o: ConcreteType) => ArrayLike<number>;
  const values = ref(inputs, params, out);
  const n = sizeOf(out.shape);
  if (values.length !== n) throw internal(`${op} produced ${values.length} values for ${formatType(out)}`);
  return { dtype: out.dtype, shape: out.shape, data: store(out.dtype, values, precision) };
}

export interface InterpretOptions {
  precision?: Precision;
}

export interface InterpretResult {
  outputs: Record<string, Value>;
  /** New values of the parameters and state that the graph updates. */
  updates: Record<string, Value>;
}

/** Binds the batch size from the inputs whose declared shape has the batch dimension. */
function bindBatch(g: Graph, inputs: Record<string, Value>): number | undefined {
  let batch: number | undefined;
  for (const input of g.inputs) {
    const node = g.nodes[input.id]!;
    const value = inputs[input.name];
    if (!value) throw new KilnError(`interpret: missing input "${input.name}" (${formatType(node.type)}); got ${Object.keys(inputs).map((k) => `"${k}"`).join(', ') || 'none'}.`);
    const declared = node.type.shape;
    const axis = declared.indexOf(BATCH);
    const okRank = value.shape.length === declared.length;
    const okDims = okRank && declared.every((d, i) => d === BATCH || d === value.shape[i]);
    if (!okDims || value.dtype !== node.type.dtype) {
      throw new KilnError(`interpret: input "${input.name}" expected ${formatType(node.type)}, got ${formatType(value)}.`);
    }
    if (axis >= 0) {
      const b = value.shape[axis]!;
      if (batch !== undefined && b !== batch) throw new KilnError(`interpret: input "${input.name}" has batch size ${b}, but another input has ${batch}.`);
      batch = b;
    }
  }
  return batch;
}

/** Runs `g` on named inputs with the reference semantics. */
export function interpret(g: Graph, inputs: Record<string, Value>, options: InterpretOptions = {}): InterpretResult {
  checkGraph('interpret', g);
  if (inputs === null || typeof inputs !== 'object') throw new KilnError(`interpret: expected the inputs as an object of values by name, got ${inputs === null ? 'null' : typeof inputs}.`);
  const precision = options.precision ?? 'float32';
  const batch = bindBatch(g, inputs);
  const values: Value[] = new Array(g.nodes.length);
  const byId = new Map(g.inputs.map((i) => [i.id, i.name]));
  for (const node of g.nodes) {
    if (node.op === 'input') {
      const v = inputs[byId.get(node.id)!]!;
      values[node.id] = node.type.dtype === 'float32' ? { ...v, data: store('float32', v.data, precision) } : v;
      continue;
    }
    const args = node.inputs.map((i) => values[i]!);
    try {
      values[node.id] = evaluate(node.op, args, node.params as never, node.type, precision, hasBatch(node.type.shape) ? batch : undefined);
    } catch (e) {
      if (e instanceof RuleError) throw userError(node.op, e.message, node.origin);
      throw e;
    }
  }
  const outputs: Record<string, Value> = {};
  for (const o of g.outputs) outputs[o.name] = values[o.id]!;
  const updates: Record<string, Value> = {};
  for (const u of g.updates) updates[u.target] = values[u.id]!;
  return { outputs, updates };
}
