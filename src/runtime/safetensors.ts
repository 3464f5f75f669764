/**
 * The runtime's own safetensors reader and writer, for the dtypes artifacts hold
 * (F32, I32, U8). Dependency-free so that `kiln/runtime` imports nothing outside
 * its folder; the front end's `kiln.io` handles every dtype and NumPy formats.
 */
import { KilnRuntimeError } from './errors.js';

export type WeightDType = 'float32' | 'int32' | 'uint8';

export interface NamedArray {
  readonly dtype: WeightDType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
}

const codes: Record<string, WeightDType> = { F32: 'float32', I32: 'int32', U8: 'uint8' };
const codeOf: Record<WeightDType, string> = { float32: 'F32', int32: 'I32', uint8: 'U8' };
const width: Record<WeightDType, number> = { float32: 4, int32: 4, uint8: 1 };
/** Sort rank of the reference writer: dtype (descending in its enum: F32 > I32 > U8), then name. */
const rank: Record<WeightDType, number> = { uint8: 0, int32: 1, float32: 2 };

/** Decodes a safetensors file of F32/I32/U8 tensors; every malformation is a KilnRuntimeError naming `what`. */
export function readSafetensors(bytes: Uint8Array, what: string): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  const bad = (why: string): never => {
    throw new KilnRuntimeError(`kiln runtime: ${what} is not a valid safetensors file: ${why}.`);
  };
  if (bytes.length < 8) bad(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > bytes.length - 8) bad(`the header claims ${n} bytes, the file has ${bytes.length - 8} after the length`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch {
    return bad('the header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('the header is not a JSON object');
  const body = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const tensors: Record<string, NamedArray> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`metadata "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e?.dtype === 'string' ? codes[e.dtype] : undefined;
    if (!dtype) bad(`tensor "${name}" has dtype ${JSON.stringify(e?.dtype)}; artifacts hold F32, I32 and U8`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor "${name}" has shape ${JSON.stringify(shape)}`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1] || offsets[1] > body.length) {
      bad(`tensor "${name}" has data offsets ${JSON.stringify(offsets)} outside the ${body.length} data bytes`);
    }
    const count = (shape as number[]).reduce((a, d) => a * d, 1);
    const [begin, end] = offsets as [number, number];
    if (end - begin !== count * width[dtype!]) bad(`tensor "${name}" spans ${end - begin} bytes; ${dtype} [${(shape as number[]).join(',')}] needs ${count * width[dtype!]}`);
    spans.push([begin, end, name]);
    const raw = new Uint8Array(body.subarray(begin, end)); // a copy with its own, aligned buffer
    const data = dtype === 'float32' ? new Float32Array(raw.buffer) : dtype === 'int32' ? new Int32Array(raw.buffer) : raw;
    tensors[name] = { dtype: dtype!, shape: shape as number[], data };
  }
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) bad(`tensor "${name}" starts at byte ${begin}, expected ${at} (data must be contiguous)`);
    at = end;
  }
  if (at !== body.length) bad(`${body.length - at} bytes follow the last tensor`);
  return { tensors, metadata };
}

/** Encodes F32/I32/U8 tensors as safetensors, in the reference writer's order and padding. */
export function writeSafetensors(tensors: Readonly<Record<string, NamedArray>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const names = Object.keys(tensors).sort((a, b) => rank[tensors[b]!.dtype] - rank[tensors[a]!.dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  const keys = Object.keys(metadata).sort();
  if (keys.length) parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const size = t.data.length * width[t.dtype];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${codeOf[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + size}]}`);
    offset += size;
  }
  let json = `{${parts.join(',')}}`;
  const headerBytes = new TextEncoder().encode(json);
  json += ' '.repeat((8 - ((8 + headerBytes.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}
