/**
 * A fast path for the events a log folder is mostly made of: an Event whose
 * Summary holds only scalars. It walks the record's bytes once without making
 * objects (`decodeEvent` makes a field list per message, ~2.5 µs an event; this
 * is what lets `kiln board` read a million points in well under a second).
 * Anything else — a graph, an image, a histogram, an unknown field layout —
 * returns false and the caller uses the general decoder.
 *
 * Event { wall_time = 1 (double), step = 2, summary = 5 { value = 1 { tag = 1,
 * simple_value = 2, metadata = 9 { plugin_data = 1 { plugin_name = 1 } },
 * tensor = 8 { dtype = 1, tensor_content = 4, float_val = 5, double_val = 6 } } } }.
 */

/** Receives each scalar of a scanned event. */
export type ScalarSink = (tag: string, step: number, wallTime: number, value: number) => void;

const utf8 = new TextDecoder();
const scalarsName = [115, 99, 97, 108, 97, 114, 115]; // 'scalars'

/** Reads the record; calls `sink` for each scalar and returns true, or returns false (calling nothing) when the event is not scalars only. */
export function scanScalarEvent(b: Uint8Array, sink: ScalarSink): boolean {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let scale = 1; scale < 2 ** 56; scale *= 128) {
      if (pos >= b.length) return -1;
      const byte = b[pos++]!;
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) return v;
    }
    return -1; // 9+ byte varints (negative steps): the general decoder handles them
  };
  let wallTime = 0, step = 0;
  let summaryStart = -1, summaryEnd = -1;
  while (pos < b.length) {
    const key = varint();
    if (key === 9 && pos + 8 <= b.length) (wallTime = view.getFloat64(pos, true)), (pos += 8);
    else if (key === 16) { if ((step = varint()) < 0) return false; }
    else if (key === 42) {
      const n = varint();
      if (n < 0 || pos + n > b.length) return false;
      (summaryStart = pos), (summaryEnd = pos += n);
    } else return false;
  }
  if (summaryStart < 0) return false;
  // first pass: check every value is a scalar; second: emit (so a mixed event goes wholly to the general decoder)
  const values: { tag: string; value: number }[] = [];
  pos = summaryStart;
  while (pos < summaryEnd) {
    if (varint() !== 10) return false;
    const n = varint();
    if (n < 0 || pos + n > summaryEnd) return false;
    const end = pos + n;
    let tag = '', value = NaN, isScalar = false, hasValue = false;
    while (pos < end) {
      const key = varint();
      if (key === 10) { const m = varint(); tag = utf8.decode(b.subarray(pos, pos + m)); pos += m; }
      else if (key === 21) { value = view.getFloat32(pos, true); pos += 4; hasValue = isScalar = true; }
      else if (key === 74) { const m = varint(); isScalar ||= metadataIsScalars(b, pos, pos + m); pos += m; }
      else if (key === 66) { const m = varint(); const v = tensorScalar(b, view, pos, pos + m); if (v === undefined) return false; (value = v), (hasValue = true), (pos += m); }
      else return false;
    }
    if (pos !== end || !isScalar || !hasValue) return false;
    values.push({ tag, value });
  }
  for (const v of values) sink(v.tag, step, wallTime, v.value);
  return true;
}

/** SummaryMetadata whose plugin_data.plugin_name is 'scalars'. */
function metadataIsScalars(b: Uint8Array, start: number, end: number): boolean {
  // metadata { plugin_data (tag 0x0a) { plugin_name (tag 0x0a) "scalars" } ... }: look for the name right at its start
  if (b[start] !== 10) return false;
  const inner = start + 2;
  if (b[inner] !== 10 || b[inner + 1] !== scalarsName.length || inner + 2 + scalarsName.length > end) return false;
  for (let i = 0; i < scalarsName.length; i++) if (b[inner + 2 + i] !== scalarsName[i]) return false;
  return true;
}

/** A rank-0 DT_FLOAT/DT_DOUBLE TensorProto's value, or undefined for anything else. */
function tensorScalar(b: Uint8Array, view: DataView, start: number, end: number): number | undefined {
  let pos = start, dtype = 0, value: number | undefined;
  while (pos < end) {
    const key = b[pos++]!;
    if (key === 8) dtype = b[pos++]!;
    else if (key === 18 || key === 34) { // tensor_shape (must be rank 0: empty) or tensor_content
      const n = b[pos++]!;
      if (n >= 0x80) return undefined;
      if (key === 18 && n !== 0) return undefined;
      if (key === 34) {
        if (dtype === 1 && n === 4) value = view.getFloat32(pos, true);
        else if (dtype === 2 && n === 8) value = view.getFloat64(pos, true);
        else return undefined;
      }
      pos += n;
    } else if (key === 45) (value = view.getFloat32(pos, true)), (pos += 4); // float_val, unpacked
    else if (key === 42 && b[pos] === 4) (value = view.getFloat32(pos + 1, true)), (pos += 5); // float_val, packed (one)
    else if (key === 49) (value = view.getFloat64(pos, true)), (pos += 8); // double_val, unpacked
    else if (key === 50 && b[pos] === 8) (value = view.getFloat64(pos + 1, true)), (pos += 9); // double_val, packed (one)
    else return undefined;
  }
  return pos === end && (dtype === 1 || dtype === 2) ? value : undefined;
}
