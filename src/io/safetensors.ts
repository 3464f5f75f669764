/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N,
 * N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {…}}`
 * padded with spaces to a multiple of 8, then the tensors' bytes, contiguous.
 * Browser-safe: the runtime decodes weights with it.
 */
import type { Tensor } from '../../compiler/tensor.js';
import {
  arrayFromBytes, asNpyArray, bytesOfArray, elementCount, fail, formatShape, itemSize, setEntry,
  type NpyArray, type NpyArrayLike, type NpyDtype,
} from './npyArray.js';

const codeOf: Record<NpyDtype, string> = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64', uint8: 'U8', bool: 'BOOL' };
const dtypeOf: Record<string, NpyDtype> = { F32: 'float32', F64: 'float64', I32: 'int32', I64: 'int64', U8: 'uint8', BOOL: 'bool' };
/**
 * Order of the reference writer's `Dtype` enum (BOOL < U8 < I8 < … < I32 < U32 <
 * F32 < F64 < I64 < U64, restricted here to kiln's dtypes). The reference sorts
 * tensors by this enum, descending, then by name: note F64 before I64 is not
 * alignment order, it is declaration order.
 */
const enumOrder: Record<NpyDtype, number> = { bool: 0, uint8: 1, int32: 2, float32: 3, float64: 4, int64: 5 };
/** The reference reader's limit on the header. */
const maxHeaderBytes = 100_000_000;

/** A decoded file: arrays in file order, and the `__metadata__` strings when the file has them. */
export interface Safetensors {
  readonly tensors: Record<string, NpyArray>;
  readonly metadata: Record<string, string> | undefined;
}

/**
 * Encodes named tensors or arrays as safetensors, byte for byte as the reference
 * writer does: sorted by dtype (descending, in the reference's enum order) then
 * by name, packed contiguously, compact JSON padded with spaces to a multiple of 8.
 * Metadata keys are written sorted (the reference's order for several keys is
 * its hash map's, so identical bytes are assured for zero or one key).
 * @example encodeSafetensors({ 'dense.kernel': kiln.ones([784, 10]) }, { format: 'pt' });
 */
export function encodeSafetensors(tensors: Record<string, Tensor | NpyArrayLike>, metadata?: Record<string, string>): Uint8Array {
  const subject = 'encodeSafetensors';
  if (typeof tensors !== 'object' || tensors === null) fail(subject, `expected a record of named tensors or arrays, got ${tensors === null ? 'null' : typeof tensors}`);
  const entries = Object.entries(tensors).map(([name, x]) => {
    if (name === '__metadata__') fail(subject, 'expected tensor names other than "__metadata__", which the format reserves for metadata');
    return { name, array: asNpyArray(x, `${subject} "${name}"`) };
  });
  entries.sort((a, b) => enumOrder[b.array.dtype] - enumOrder[a.array.dtype] || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null) fail(subject, `expected metadata to be a record of strings, got ${metadata === null ? 'null' : typeof metadata}`);
    const keys = Object.keys(metadata).sort(compareCodePoints);
    for (const key of keys) {
      if (typeof metadata[key] !== 'string') fail(subject, `expected metadata values to be strings, got ${typeof metadata[key]} for "${key}"`);
    }
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, array } of entries) {
    const size = array.data.length * itemSize[array.dtype];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${codeOf[array.dtype]}","shape":[${array.shape.join(',')}],"data_offsets":[${offset},${offset + size}]}`);
    offset += size;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // spaces align the data to 8 bytes
  let at = 8 + headerLength;
  for (const { array } of entries) {
    out.set(bytesOfArray(array, true), at);
    at += array.data.length * itemSize[array.dtype];
  }
  return out;
}

/** Rust's (and UTF-8 byte) string order: by code point, not by UTF-16 unit as `<` compares. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

interface Entry { name: string; dtype: NpyDtype; shape: number[]; begin: number; end: number }

/**
 * Decodes a safetensors file and checks it as the reference reader does: header
 * length within the file, valid JSON, offsets contiguous from 0 and matching each
 * tensor's dtype and shape, nothing after the last tensor. `name` (the file's
 * path) goes into errors.
 * @example decodeSafetensors(readFileSync('w.safetensors'), 'w.safetensors').tensors['dense.kernel'].shape // [784, 10]
 */
export function decodeSafetensors(bytes: Uint8Array, name = 'decodeSafetensors'): Safetensors {
  const bad = (why: string): never => fail(name, `not a valid safetensors file: ${why}`);
  if (!(bytes instanceof Uint8Array)) bad(`expected the file's bytes as a Uint8Array, got ${typeof bytes}`);
  if (bytes.length < 8) bad(`expected at least the 8-byte header length, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(maxHeaderBytes)) bad(`the header length field says ${declared} bytes, more than the format's limit of ${maxHeaderBytes}`);
  const headerLength = Number(declared);
  if (headerLength > bytes.length - 8) bad(`the header length field says ${headerLength} bytes, but only ${bytes.length - 8} bytes follow it`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    return bad(`expected a JSON header of ${headerLength} bytes, got one that does not parse (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return bad(`expected the header to be a JSON object, got ${JSON.stringify(header)?.slice(0, 40)}`);

  let metadata: Record<string, string> | undefined;
  const entries: Entry[] = [];
  for (const [key, info] of Object.entries(header)) {
    if (key === '__metadata__') metadata = checkMetadata(info, bad);
    else entries.push(checkInfo(key, info, bad));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);

  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor) bad(`expected tensor "${e.name}" to start at data offset ${cursor}, got ${e.begin} (${e.begin > cursor ? 'a gap before it' : 'it overlaps the previous tensor'})`);
    const size = elementCount(e.shape)! * itemSize[e.dtype];
    if (e.end - e.begin !== size) bad(`expected tensor "${e.name}" (${codeOf[e.dtype]}${formatShape(e.shape)}) to span ${size} bytes, got data_offsets [${e.begin}, ${e.end}]`);
    cursor = e.end;
  }
  const dataBytes = bytes.length - 8 - headerLength;
  if (dataBytes !== cursor) {
    bad(`the header describes ${cursor} data bytes, but the file holds ${dataBytes} (${dataBytes < cursor ? 'the file is truncated' : 'extra bytes follow the last tensor'})`);
  }

  const tensors: Record<string, NpyArray> = {};
  const start = 8 + headerLength;
  for (const e of entries) {
    const data = arrayFromBytes(e.dtype, bytes.subarray(start + e.begin, start + e.end), true);
    setEntry(tensors, e.name, { dtype: e.dtype, shape: e.shape, data, fortranOrder: false });
  }
  return { tensors, metadata };
}

function checkMetadata(info: unknown, bad: (why: string) => never): Record<string, string> | undefined {
  if (info === null) return undefined;
  if (typeof info !== 'object' || Array.isArray(info)) return bad(`expected "__metadata__" to be an object of strings, got ${JSON.stringify(info)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== 'string') bad(`expected "__metadata__" values to be strings, got ${JSON.stringify(v)} for "${k}"`);
    setEntry(out, k, v as string);
  }
  return out;
}

function checkInfo(name: string, info: unknown, bad: (why: string) => never): Entry {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) return bad(`expected tensor "${name}" to be described by {dtype, shape, data_offsets}, got ${JSON.stringify(info)}`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  const npyDtype = typeof dtype === 'string' ? dtypeOf[dtype] : undefined;
  if (!npyDtype || !Object.hasOwn(dtypeOf, dtype as string)) {
    return bad(`expected tensor "${name}" to have dtype F32, F64, I32, I64, U8 or BOOL, got ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || elementCount(shape) === undefined) bad(`expected tensor "${name}" to have a shape of non-negative integers, got ${JSON.stringify(shape)}`);
  const valid = Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0) && offsets[0] <= offsets[1];
  if (!valid) bad(`expected tensor "${name}" to have data_offsets [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  const [begin, end] = offsets as number[];
  return { name, dtype: npyDtype, shape: [...(shape as number[])], begin: begin!, end: end! };
}
