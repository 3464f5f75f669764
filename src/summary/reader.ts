/**
 * Reads event files back: the TFRecord framing (both CRCs checked) and the Event,
 * Summary and TensorProto messages, for tests, `kiln board` and browser pages.
 * Reads what TensorFlow, Keras, PyTorch and kiln write: tensors as
 * `tensor_content` or as typed `*_val` lists, and PyTorch's `simple_value`.
 * A damaged or truncated file gives the events before the damage and says where.
 */
import { maskedCrc32c } from './crc32c.js';
import { readFields, type ProtoField } from './proto.js';

export interface DecodedTensor {
  dtype: number;
  shape: number[];
  /** Numeric values (empty for strings). */
  values: number[];
  /** DT_STRING elements. */
  strings: Uint8Array[];
}

export interface DecodedValue {
  tag: string;
  pluginName?: string;
  /** The plugin's own serialized data. */
  pluginContent?: Uint8Array;
  displayName?: string;
  description?: string;
  dataClass?: number;
  tensor?: DecodedTensor;
  /** The old scalar field (PyTorch's default). */
  simpleValue?: number;
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  graphDef?: Uint8Array;
  summary?: DecodedValue[];
}

export interface EventFileContents {
  events: DecodedEvent[];
  /** Set when the file is damaged or ends inside a record: where, and what is wrong. */
  damage?: { offset: number; reason: string };
  /** Bytes read as whole records (a file still being written may have a partial record after them). */
  bytesRead: number;
}

const utf8 = new TextDecoder();
const num = (f: ProtoField) => (typeof f.value === 'bigint' ? Number(f.value) : (f.value as number));
const bytesOf = (f: ProtoField) => f.value as Uint8Array;
/** A signed int64 varint as a number. */
const int64 = (f: ProtoField) => (typeof f.value === 'bigint' ? Number(BigInt.asIntN(64, f.value)) : (f.value as number));

/** Splits framed records; stops (and says why) at the first damaged or incomplete one. @example const { records, damage } = readRecords(bytes); */
export function readRecords(bytes: Uint8Array): { records: Uint8Array[]; damage?: { offset: number; reason: string }; bytesRead: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) return { records, bytesRead: at, damage: { offset: at, reason: 'truncated record header' } };
    const length = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    if (view.getUint32(at + 8, true) !== maskedCrc32c(bytes.subarray(at, at + 8))) return { records, bytesRead: at, damage: { offset: at, reason: 'bad length checksum' } };
    if (at + 16 + length > bytes.length) return { records, bytesRead: at, damage: { offset: at, reason: 'truncated record' } };
    const data = bytes.subarray(at + 12, at + 12 + length);
    if (view.getUint32(at + 12 + length, true) !== maskedCrc32c(data)) return { records, bytesRead: at, damage: { offset: at, reason: 'bad data checksum' } };
    records.push(data);
    at += 16 + length;
  }
  return { records, bytesRead: at };
}

/** Decodes one TensorProto. @example decodeTensor(encodeTensor({ dtype: 1, shape: [], content: float32Bytes([2]) })).values // [2] */
export function decodeTensor(bytes: Uint8Array): DecodedTensor {
  const t: DecodedTensor = { dtype: 0, shape: [], values: [], strings: [] };
  let content: Uint8Array | undefined;
  for (const f of readFields(bytes)) {
    if (f.field === 1) t.dtype = num(f);
    else if (f.field === 2) t.shape = readFields(bytesOf(f)).filter((d) => d.field === 2).map((d) => { const size = readFields(bytesOf(d)).find((x) => x.field === 1); return size ? int64(size) : 0; });
    else if (f.field === 4) content = bytesOf(f);
    else if (f.field === 8) t.strings.push(bytesOf(f));
    else if (f.field === 5 || f.field === 6 || f.field === 7 || f.field === 10 || f.field === 11 || f.field === 13) t.values.push(...repeated(f));
  }
  if (content) t.values = contentValues(t.dtype, content);
  return t;
}

/** A repeated numeric field, packed (one bytes field) or not. */
function repeated(f: ProtoField): number[] {
  if (f.wire !== 2) return [typeof f.value === 'bigint' ? Number(f.value) : (f.value as number)];
  const b = bytesOf(f);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.field === 5) return Array.from({ length: b.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
  if (f.field === 6) return Array.from({ length: b.length / 8 }, (_, i) => view.getFloat64(i * 8, true));
  const out: number[] = [];
  let v = 0n, shift = 0n;
  for (const byte of b) {
    v |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) (out.push(Number(f.field === 10 ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v))), (v = 0n), (shift = 0n));
  }
  return out;
}

function contentValues(dtype: number, b: Uint8Array): number[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const read: Record<number, [number, (at: number) => number]> = {
    1: [4, (at) => view.getFloat32(at, true)], 2: [8, (at) => view.getFloat64(at, true)], 3: [4, (at) => view.getInt32(at, true)],
    4: [1, (at) => view.getUint8(at)], 9: [8, (at) => Number(view.getBigInt64(at, true))], 10: [1, (at) => view.getUint8(at)],
  };
  const r = read[dtype];
  if (!r) return [];
  return Array.from({ length: b.length / r[0] }, (_, i) => r[1](i * r[0]));
}

/** Summary.Image { height = 1, width = 2, encoded_image_string = 4 } as the images plugin's tensor. */
function decodeOldImage(bytes: Uint8Array): [string, DecodedTensor] {
  let width = 0, height = 0;
  let png: Uint8Array = new Uint8Array(0);
  for (const f of readFields(bytes)) {
    if (f.field === 1) height = num(f);
    else if (f.field === 2) width = num(f);
    else if (f.field === 4) png = bytesOf(f);
  }
  const text = (n: number) => new TextEncoder().encode(String(n));
  return ['images', { dtype: 7, shape: [3], values: [], strings: [text(width), text(height), png] }];
}

/** HistogramProto { min = 1, max = 2, bucket_limit = 6, bucket = 7 } as [k, 3] buckets, as TensorBoard migrates it. */
function decodeOldHistogram(bytes: Uint8Array): [string, DecodedTensor] {
  let min = 0, max = 0;
  const limits: number[] = [], counts: number[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1) min = num(f);
    else if (f.field === 2) max = num(f);
    else if (f.field === 6) limits.push(...repeated({ ...f, field: 6 }));
    else if (f.field === 7) counts.push(...repeated({ ...f, field: 6 }));
  }
  const values = counts.flatMap((c, i) => [i === 0 ? min : limits[i - 1]!, i === counts.length - 1 ? max : limits[i]!, c]);
  return ['histograms', { dtype: 2, shape: [counts.length, 3], values, strings: [] }];
}

/**
 * One Summary.Value. Older forms are migrated as TensorBoard does: `simple_value`
 * becomes a scalars tensor, `histo` a histograms [k, 3] tensor, `image` an images tensor.
 */
function decodeValue(bytes: Uint8Array): DecodedValue {
  const v: DecodedValue = { tag: '' };
  let migrated: [string, DecodedTensor] | undefined;
  for (const f of readFields(bytes)) {
    if (f.field === 1) v.tag = utf8.decode(bytesOf(f));
    else if (f.field === 2) v.simpleValue = num(f);
    else if (f.field === 4) migrated = decodeOldImage(bytesOf(f));
    else if (f.field === 5) migrated = decodeOldHistogram(bytesOf(f));
    else if (f.field === 8) v.tensor = decodeTensor(bytesOf(f));
    else if (f.field === 9) {
      for (const m of readFields(bytesOf(f))) {
        if (m.field === 1) for (const p of readFields(bytesOf(m))) {
          if (p.field === 1) v.pluginName = utf8.decode(bytesOf(p));
          else if (p.field === 2) v.pluginContent = bytesOf(p);
        }
        else if (m.field === 2) v.displayName = utf8.decode(bytesOf(m));
        else if (m.field === 3) v.description = utf8.decode(bytesOf(m));
        else if (m.field === 4) v.dataClass = num(m);
      }
    }
  }
  if (!v.tensor && v.simpleValue !== undefined) migrated = ['scalars', { dtype: 1, shape: [], values: [v.simpleValue], strings: [] }];
  if (!v.tensor && migrated) {
    v.pluginName ??= migrated[0];
    v.tensor = migrated[1];
  }
  return v;
}

/** Decodes one Event message. @example decodeEvent(readRecords(bytes).records[0]).fileVersion // 'brain.Event:2' */
export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  const e: DecodedEvent = { wallTime: 0, step: 0 };
  for (const f of readFields(bytes)) {
    if (f.field === 1) e.wallTime = num(f);
    else if (f.field === 2) e.step = int64(f);
    else if (f.field === 3) e.fileVersion = utf8.decode(bytesOf(f));
    else if (f.field === 4) e.graphDef = bytesOf(f);
    else if (f.field === 5) e.summary = readFields(bytesOf(f)).filter((x) => x.field === 1).map((x) => decodeValue(bytesOf(x)));
  }
  return e;
}

/**
 * Every event of an event file's bytes, stopping at damage.
 * @example const { events, damage } = readEventFile(readFileSync(path));
 */
export function readEventFile(bytes: Uint8Array): EventFileContents {
  const { records, damage, bytesRead } = readRecords(bytes);
  const events: DecodedEvent[] = [];
  for (let i = 0; i < records.length; i++) {
    try {
      events.push(decodeEvent(records[i]!));
    } catch (e) {
      return { events, bytesRead, damage: { offset: -1, reason: `record ${i} is not an Event (${(e as Error).message})` } };
    }
  }
  return { events, bytesRead, ...(damage ? { damage } : {}) };
}

