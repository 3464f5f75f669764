/**
 * The tfevents format: records framed as TensorFlow's TFRecord (uint64 length,
 * masked CRC-32C of the length, the data, masked CRC-32C of the data, all
 * little-endian), each holding one `Event` message (tensorflow/core/util/event.proto)
 * whose `summary` is a `Summary` (tensorflow/core/framework/summary.proto) of
 * tagged values, each a `TensorProto` with its plugin's `SummaryMetadata`.
 * Field numbers are the schema's; the first event of a file carries
 * `file_version: "brain.Event:2"`.
 */
import { maskedCrc32c } from './crc32c.js';
import { ProtoWriter } from './proto.js';

/** TensorFlow's DataType numbers for the dtypes summaries use. @example DataType.DT_FLOAT // 1 */
export const DataType = { DT_FLOAT: 1, DT_DOUBLE: 2, DT_INT32: 3, DT_UINT8: 4, DT_STRING: 7, DT_INT64: 9, DT_BOOL: 10 } as const;
export type DataTypeNumber = (typeof DataType)[keyof typeof DataType];

/** SummaryMetadata.data_class: how TensorBoard's data layer stores a tag. @example DataClass.SCALAR // 1 */
export const DataClass = { UNKNOWN: 0, SCALAR: 1, TENSOR: 2, BLOB_SEQUENCE: 3 } as const;

/** The first event's file_version. @example encodeEvent({ wallTime: 0, fileVersion }) */
export const fileVersion = 'brain.Event:2';

/** A TensorProto: numbers travel as little-endian `tensor_content`, strings as `string_val`. */
export interface TensorProtoSpec {
  dtype: DataTypeNumber;
  shape: readonly number[];
  /** The values' bytes, little-endian, row-major (numeric dtypes). */
  content?: Uint8Array;
  /** One entry a element (DT_STRING). */
  strings?: readonly Uint8Array[];
}

export interface SummaryMetadataSpec {
  pluginName: string;
  /** The plugin's own serialized data (empty for version 0 of most plugins). */
  content?: Uint8Array;
  displayName?: string;
  description?: string;
  dataClass?: number;
}

/** One Summary.Value: a tag, its metadata, and a tensor (or nothing, as hparams' values). */
export interface SummaryValueSpec {
  tag: string;
  metadata?: SummaryMetadataSpec;
  tensor?: TensorProtoSpec;
}

export interface EventSpec {
  /** Seconds since the epoch, fractional. */
  wallTime: number;
  step?: number;
  fileVersion?: string;
  /** A serialized GraphDef. */
  graphDef?: Uint8Array;
  summary?: readonly SummaryValueSpec[];
}

/** TensorShapeProto { repeated Dim dim = 2 }, Dim { int64 size = 1 } (-1: unknown). @example encodeShape([-1, 10]) */
export function encodeShape(shape: readonly number[]): Uint8Array {
  const w = new ProtoWriter();
  for (const d of shape) {
    const dim = new ProtoWriter();
    if (d !== 0) dim.varint(1, d);
    w.message(2, dim.finish());
  }
  return w.finish();
}

/** TensorProto { dtype = 1, tensor_shape = 2, tensor_content = 4, string_val = 8 }. @example encodeTensor({ dtype: DataType.DT_FLOAT, shape: [], content: float32Bytes([1]) }) */
export function encodeTensor(t: TensorProtoSpec): Uint8Array {
  const w = new ProtoWriter().varint(1, t.dtype).message(2, encodeShape(t.shape));
  if (t.content && t.content.length > 0) w.bytes(4, t.content);
  for (const s of t.strings ?? []) w.bytes(8, s);
  return w.finish();
}

/**
 * SummaryMetadata { plugin_data = 1 { plugin_name = 1, content = 2 }, display_name = 2, summary_description = 3, data_class = 4 }.
 * @example encodeMetadata({ pluginName: 'scalars', dataClass: DataClass.SCALAR })
 */
export function encodeMetadata(m: SummaryMetadataSpec): Uint8Array {
  const plugin = new ProtoWriter().string(1, m.pluginName);
  if (m.content && m.content.length > 0) plugin.bytes(2, m.content);
  const w = new ProtoWriter().message(1, plugin.finish());
  if (m.displayName) w.string(2, m.displayName);
  if (m.description) w.string(3, m.description);
  if (m.dataClass) w.varint(4, m.dataClass);
  return w.finish();
}

/** Summary { repeated Value value = 1 }, Value { tag = 1, tensor = 8, metadata = 9 }. @example encodeSummary([scalarValue('loss', 0.5)]) */
export function encodeSummary(values: readonly SummaryValueSpec[]): Uint8Array {
  const w = new ProtoWriter();
  for (const v of values) {
    const value = new ProtoWriter().string(1, v.tag);
    if (v.tensor) value.message(8, encodeTensor(v.tensor));
    if (v.metadata) value.message(9, encodeMetadata(v.metadata));
    w.message(1, value.finish());
  }
  return w.finish();
}

/** Event { wall_time = 1, step = 2, oneof { file_version = 3, graph_def = 4, summary = 5 } }. @example encodeEvent({ wallTime: Date.now() / 1000, step: 3, summary: [scalarValue('loss', 0.5)] }) */
export function encodeEvent(e: EventSpec): Uint8Array {
  const w = new ProtoWriter().double(1, e.wallTime);
  if (e.step) w.varint(2, e.step);
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  else if (e.graphDef) w.bytes(4, e.graphDef);
  else if (e.summary) w.message(5, encodeSummary(e.summary));
  return w.finish();
}

/**
 * One TFRecord: length (uint64), masked CRC-32C of those 8 bytes, data, masked CRC-32C of the data.
 * @example const record = frameRecord(encodeEvent({ wallTime: Date.now() / 1000, fileVersion: 'brain.Event:2' }));
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 16);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length >>> 0, true);
  view.setUint32(4, Math.floor(data.length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Little-endian bytes of float32 values (TensorProto.tensor_content for DT_FLOAT). @example float32Bytes([1, NaN]) // 8 bytes */
export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(values);
  return littleEndian(new Uint8Array(f.buffer), 4);
}

/** Little-endian bytes of float64 values (DT_DOUBLE). @example float64Bytes([0.1]) // 8 bytes */
export function float64Bytes(values: ArrayLike<number>): Uint8Array {
  const f = Float64Array.from(values);
  return littleEndian(new Uint8Array(f.buffer), 8);
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndian(bytes: Uint8Array, width: number): Uint8Array {
  if (hostIsLittleEndian) return bytes;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  return bytes;
}
