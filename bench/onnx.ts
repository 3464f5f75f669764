/**
 * A minimal ONNX model encoder: just enough protobuf (varints and length-delimited
 * fields) to write one-graph float32 models for the benchmarks, with no dependency.
 * Field numbers are onnx/onnx.proto's; only the fields used here are written.
 *
 * @example encodeModel({ nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
 *   inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3, 4] }], outputs: [{ name: 'c', shape: [2, 4] }] })
 */

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer and integer-list attributes (all the benchmark ops need). */
  readonly attributes?: Readonly<Record<string, number | readonly number[]>>;
}

/** A float32 graph input or output. */
export interface OnnxValue {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A float32 constant of the graph (weights). */
export interface OnnxInitializer extends OnnxValue {
  readonly data: Float32Array;
}

export interface OnnxGraph {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
  readonly initializers?: readonly OnnxInitializer[];
  /** Default opset 13 (Gemm without C, MatMul, Conv are all there). */
  readonly opset?: number;
}

// ---- protobuf wire format ----------------------------------------------------------
type Bytes = readonly number[];
const VARINT = 0, LENGTH = 2;

/** Base-128 varint of a non-negative integer below 2^53 (division, since bit ops stop at 2^31). */
function varint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`internal: onnx varint expects a non-negative safe integer, got ${value}`);
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

const key = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, value: number): Bytes => [...key(field, VARINT), ...varint(value)];
const bytes = (field: number, data: Bytes | Uint8Array): Bytes => [...key(field, LENGTH), ...varint(data.length), ...data];
const text = (field: number, value: string): Bytes => bytes(field, new TextEncoder().encode(value));
const message = (field: number, ...parts: Bytes[]): Bytes => bytes(field, parts.flat());

// ---- ONNX messages ----------------------------------------------------------------
const FLOAT = 1; // TensorProto.DataType
const ATTRIBUTE_INT = 2, ATTRIBUTE_INTS = 7; // AttributeProto.AttributeType

// AttributeProto: name 1, i 3, ints 8, type 20
function attribute(name: string, value: number | readonly number[]): Bytes {
  if (typeof value === 'number') return message(5, text(1, name), int(3, value), int(20, ATTRIBUTE_INT));
  return message(5, text(1, name), ...value.map((v) => int(8, v)), int(20, ATTRIBUTE_INTS));
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5
const node = (n: OnnxNode, index: number): Bytes => message(1,
  ...n.inputs.map((i) => text(1, i)), ...n.outputs.map((o) => text(2, o)),
  text(3, `${n.op.toLowerCase()}_${index}`), text(4, n.op),
  ...Object.entries(n.attributes ?? {}).map(([name, value]) => attribute(name, value)));

// ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → { elem_type 1, shape 2 → TensorShapeProto.dim 1 → dim_value 1 }
const valueInfo = (field: number, v: OnnxValue): Bytes => message(field, text(1, v.name),
  message(2, message(1, int(1, FLOAT), message(2, ...v.shape.map((d) => message(1, int(1, d)))))));

// TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian, as wasm and x86 are)
const initializer = (t: OnnxInitializer): Bytes => message(5,
  ...t.shape.map((d) => int(1, d)), int(2, FLOAT), text(8, t.name),
  bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)));

/** ModelProto bytes (IR version 8): ir_version 1, producer_name 2, graph 7, opset_import 8. */
export function encodeModel(g: OnnxGraph): Uint8Array {
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12
  const graph = message(7, ...g.nodes.map(node), text(2, 'bench'), ...(g.initializers ?? []).map(initializer),
    ...g.inputs.map((v) => valueInfo(11, v)), ...g.outputs.map((v) => valueInfo(12, v)));
  // OperatorSetIdProto: domain 1 (empty: the default ONNX domain), version 2
  return Uint8Array.from([...int(1, 8), ...text(2, 'kiln-bench'), ...graph, ...message(8, int(2, g.opset ?? 13))]);
}
