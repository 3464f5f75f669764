/**
 * Reads event files back: the TFRecord framing (both CRCs checked) and the Event,
 * Summary and TensorProto messages, for tests, `kiln board` and browser pages.
 * Reads what TensorFlow, Keras, PyTorch and kiln write: tensors as
 * `tensor_content` or as typed `*_val` lists, and PyTorch's `simple_value`.
 * A damaged or truncated file gives the events before the damage and says where;
 * a file still being written may end inside a record ('truncated record'): read
 * again later from `bytesRead`.
 */
import { maskedCrc32c } from './crc32c.js';

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

/** Short ASCII strings (tags, plugin names) without TextDecoder's call cost; UTF-8 otherwise. */
function text(b: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return utf8.decode(b.subarray(start, end));
  let out = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x80) return utf8.decode(b.subarray(start, end));
    out += String.fromCharCode(c);
  }
  return out;
}

/**
 * A read position in one message's bytes [pos, end): fields without allocating a record per field.
 * @example const c = cursorOf(bytes); while (c.more()) { const key = c.varint(); if (key >>> 3 === 1) name = c.string(); else c.skip(key & 7); }
 */
export class Cursor {
  constructor(readonly b: Uint8Array, readonly view: DataView, public pos: number, readonly end: number) {}

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    const b = this.b;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) { // exact as a number up to 49 bits
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const byte = b[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    let big = BigInt(result);
    for (let shift = 49n; ; shift += 7n) {
      if (shift > 63n) throw new RangeError('varint too long');
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const byte = b[this.pos++]!;
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return Number(BigInt.asIntN(64, big)); // int64: two's complement
    }
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new RangeError('truncated fixed64');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new RangeError('truncated fixed32');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field's [start, end); the cursor moves past it. */
  span(): [number, number] {
    const n = this.varint();
    const start = this.pos;
    if (start + n > this.end) throw new RangeError('truncated length-delimited field');
    this.pos += n;
    return [start, start + n];
  }

  sub(): Cursor {
    const [start, end] = this.span();
    return new Cursor(this.b, this.view, start, end);
  }

  bytes(): Uint8Array {
    const [start, end] = this.span();
    return this.b.subarray(start, end);
  }

  string(): string {
    const [start, end] = this.span();
    return text(this.b, start, end);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.span();
    else if (wire === 5) this.pos += 4;
    else throw new RangeError(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new RangeError('truncated field');
  }

  /** A repeated numeric field: packed (one length-delimited run) or one value. */
  numbers(wire: number, kind: 'float' | 'double' | 'varint', out: number[]): void {
    if (wire !== 2) {
      out.push(wire === 5 ? this.float() : wire === 1 ? this.double() : this.varint());
      return;
    }
    const c = this.sub();
    while (c.more()) out.push(kind === 'float' ? c.float() : kind === 'double' ? c.double() : c.varint());
  }
}

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

/** A cursor over a whole message. @example cursorOf(graphDef).more() */
export const cursorOf = (bytes: Uint8Array): Cursor => new Cursor(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length);

/** Decodes one TensorProto. @example decodeTensor(encodeTensor({ dtype: 1, shape: [], content: float32Bytes([2]) })).values // [2] */
export function decodeTensor(bytes: Uint8Array): DecodedTensor {
  return tensorAt(cursorOf(bytes));
}

const numericFields: Record<number, 'float' | 'double' | 'varint'> = { 5: 'float', 6: 'double', 7: 'varint', 10: 'varint', 11: 'varint', 13: 'varint' };

function tensorAt(c: Cursor): DecodedTensor {
  const t: DecodedTensor = { dtype: 0, shape: [], values: [], strings: [] };
  let content: [number, number] | undefined;
  while (c.more()) {
    const key = c.varint();
    const field = Math.floor(key / 8), wire = key & 7;
    if (field === 1 && wire === 0) t.dtype = c.varint();
    else if (field === 2 && wire === 2) {
      const shape = c.sub();
      while (shape.more()) {
        const k = shape.varint();
        if (k !== 18) { shape.skip(k & 7); continue; } // dim = 2
        const dim = shape.sub();
        let size = 0;
        while (dim.more()) {
          const dk = dim.varint();
          if (dk === 8) size = dim.varint();
          else dim.skip(dk & 7);
        }
        t.shape.push(size);
      }
    } else if (field === 4 && wire === 2) content = c.span();
    else if (field === 8 && wire === 2) t.strings.push(c.bytes());
    else if (numericFields[field]) c.numbers(wire, numericFields[field]!, t.values);
    else c.skip(wire);
  }
  if (content) t.values = contentValues(t.dtype, c.b, content[0], content[1]);
  return t;
}

function contentValues(dtype: number, b: Uint8Array, start: number, end: number): number[] {
  const view = new DataView(b.buffer, b.byteOffset + start, end - start);
  const n = end - start;
  const out: number[] = [];
  if (dtype === 1) for (let at = 0; at + 4 <= n; at += 4) out.push(view.getFloat32(at, true));
  else if (dtype === 2) for (let at = 0; at + 8 <= n; at += 8) out.push(view.getFloat64(at, true));
  else if (dtype === 3) for (let at = 0; at + 4 <= n; at += 4) out.push(view.getInt32(at, true));
  else if (dtype === 4 || dtype === 10) for (let at = 0; at < n; at++) out.push(view.getUint8(at));
  else if (dtype === 9) for (let at = 0; at + 8 <= n; at += 8) out.push(Number(view.getBigInt64(at, true)));
  return out;
}

/** Summary.Image { height = 1, width = 2, encoded_image_string = 4 } as the images plugin's tensor. */
function oldImage(c: Cursor): [string, DecodedTensor] {
  let width = 0, height = 0;
  let png: Uint8Array = new Uint8Array(0);
  while (c.more()) {
    const key = c.varint();
    if (key === 8) height = c.varint();
    else if (key === 16) width = c.varint();
    else if (key === 34) png = c.bytes();
    else c.skip(key & 7);
  }
  const ascii = (n: number) => new TextEncoder().encode(String(n));
  return ['images', { dtype: 7, shape: [3], values: [], strings: [ascii(width), ascii(height), png] }];
}

/** HistogramProto { min = 1, max = 2, bucket_limit = 6, bucket = 7 } as [k, 3] buckets, as TensorBoard migrates it. */
function oldHistogram(c: Cursor): [string, DecodedTensor] {
  let min = 0, max = 0;
  const limits: number[] = [], counts: number[] = [];
  while (c.more()) {
    const key = c.varint();
    const field = Math.floor(key / 8), wire = key & 7;
    if (field === 1 && wire === 1) min = c.double();
    else if (field === 2 && wire === 1) max = c.double();
    else if (field === 6) c.numbers(wire, 'double', limits);
    else if (field === 7) c.numbers(wire, 'double', counts);
    else c.skip(wire);
  }
  const values = counts.flatMap((n, i) => [i === 0 ? min : limits[i - 1]!, i === counts.length - 1 ? max : limits[i]!, n]);
  return ['histograms', { dtype: 2, shape: [counts.length, 3], values, strings: [] }];
}

function metadataInto(c: Cursor, v: DecodedValue): void {
  while (c.more()) {
    const key = c.varint();
    if (key === 10) {
      const plugin = c.sub();
      while (plugin.more()) {
        const k = plugin.varint();
        if (k === 10) v.pluginName = plugin.string();
        else if (k === 18) v.pluginContent = plugin.bytes();
        else plugin.skip(k & 7);
      }
    } else if (key === 18) v.displayName = c.string();
    else if (key === 26) v.description = c.string();
    else if (key === 32) v.dataClass = c.varint();
    else c.skip(key & 7);
  }
}

/**
 * One Summary.Value. Older forms are migrated as TensorBoard does: `simple_value`
 * becomes a scalars tensor, `histo` a histograms [k, 3] tensor, `image` an images tensor.
 */
function valueAt(c: Cursor): DecodedValue {
  const v: DecodedValue = { tag: '' };
  let migrated: [string, DecodedTensor] | undefined;
  while (c.more()) {
    const key = c.varint();
    if (key === 10) v.tag = c.string();
    else if (key === 21) v.simpleValue = c.float();
    else if (key === 34) migrated = oldImage(c.sub());
    else if (key === 42) migrated = oldHistogram(c.sub());
    else if (key === 66) v.tensor = tensorAt(c.sub());
    else if (key === 74) metadataInto(c.sub(), v);
    else c.skip(key & 7);
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
  return eventAt(cursorOf(bytes));
}

function eventAt(c: Cursor): DecodedEvent {
  const e: DecodedEvent = { wallTime: 0, step: 0 };
  while (c.more()) {
    const key = c.varint();
    if (key === 9) e.wallTime = c.double();
    else if (key === 16) e.step = c.varint();
    else if (key === 26) e.fileVersion = c.string();
    else if (key === 34) e.graphDef = c.bytes();
    else if (key === 42) {
      const summary = c.sub();
      e.summary = [];
      while (summary.more()) {
        const k = summary.varint();
        if (k === 10) e.summary.push(valueAt(summary.sub()));
        else summary.skip(k & 7);
      }
    } else c.skip(key & 7);
  }
  return e;
}

/**
 * Every event of an event file's bytes, stopping at damage (records are decoded
 * in place: one view over the file, no copy a record).
 * @example const { events, damage } = readEventFile(readFileSync(path));
 */
export function readEventFile(bytes: Uint8Array): EventFileContents {
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a plain view: a Node Buffer's subarray costs more
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: DecodedEvent[] = [];
  let at = 0;
  const stop = (reason: string): EventFileContents => ({ events, bytesRead: at, damage: { offset: at, reason } });
  while (at < bytes.length) {
    if (at + 12 > bytes.length) return stop('truncated record header');
    const length = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    if (view.getUint32(at + 8, true) !== maskedCrc32c(bytes, at, at + 8)) return stop('bad length checksum');
    const end = at + 12 + length;
    if (end + 4 > bytes.length) return stop('truncated record');
    if (view.getUint32(end, true) !== maskedCrc32c(bytes, at + 12, end)) return stop('bad data checksum');
    try {
      events.push(eventAt(new Cursor(bytes, view, at + 12, end)));
    } catch (e) {
      return stop(`record ${events.length} is not an Event (${(e as Error).message})`);
    }
    at = end + 4;
  }
  return { events, bytesRead: at };
}
